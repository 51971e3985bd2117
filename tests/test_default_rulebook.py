"""The default rulebook over the sample panel: every persona gets the outcome its story
calls for, through the real path (ingest -> facts -> durable_rules engine).

The personas are defined in scripts/make_samples.py (PERSONA_IDS, PERSONAS); each
expectation below carries the reason, in the seed's and shared/domain.md's terms, so a
failure says which part of the thesis the rulebook or the sample stopped encoding.
The rule-by-rule tests are data files in rules/tests/ (``talentrules rules test``);
this file checks that the rules and the sample tell the same story end to end.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from talentrules import engine, facts
from talentrules.cli import cli
from talentrules.ingest import load_workbook
from talentrules.rulebook import Evaluation, check_rulebook, load_rulebook, rule_reads
from talentrules.ruletests import format_report, run_folder

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SAMPLE = ROOT / "sample_inputs" / "panel_review.xlsx"


def _make_samples() -> ModuleType:
    path = ROOT / "scripts" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples_personas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PERSONA_IDS: dict[str, str] = _make_samples().PERSONA_IDS


@dataclass(frozen=True)
class Expect:
    """What the rulebook must conclude for one persona, and why."""

    why: str
    outcomes: dict[str, str] = field(default_factory=dict)  # single-outcome decisions
    includes: tuple[str, ...] = ()  # investments that must be recommended
    excludes: tuple[str, ...] = ()  # investments that must not be


LEADERSHIP_MONEY = ("LEAD-PROG", "LEAD-STRETCH", "LEAD-ROTATE", "LEAD-MENTOR")

EXPECTED: dict[str, Expect] = {
    "balanced_manager": Expect(
        "Habitual H-DEV, H-VIS and H-CRG seen by others, and a team on time (94%, 1 "
        "incident) and engaged (81%): both sides of the seed's balance are present.",
        {
            "heart": "Strong",
            "management": "Compliance and commitment",
            "balance": "Balanced",
            "track": "Leadership",
        },
    ),
    "compliance_not_commitment": Expect(
        "C-CMP and rules-based influence yielding compliance; the team is 98% on time "
        "but 44% engaged: management without leadership. No heart, so a role-fit "
        "conversation, not coaching or a programme (he already completed LEAD-PROG).",
        {
            "heart": "Not evidenced",
            "management": "Compliance without commitment",
            "balance": "Management-heavy",
        },
        includes=("MGMT-ROLEFIT",),
        excludes=(*LEADERSHIP_MONEY, "LEAD-COACH", "LEAD-TASTER"),
    ),
    "rules_unclear_manager": Expect(
        "Strong heart and an engaged team (86%) that is late (72%) with 7 incidents: the "
        "seed's advice is to articulate the rules, so management fundamentals first.",
        {
            "heart": "Strong",
            "management": "Compliance gaps",
            "balance": "Rules unclear",
            "track": "Management skills",
        },
        includes=("MGMT-SKILLS",),
    ),
    "drained_leader": Expect(
        "Every H-DEV and H-RSP episode left the person drained: not done 'comfortably', "
        "so not a heart for leadership; the team is low on both sides (intervene), which "
        "calls for management fundamentals and leadership coaching; a conversation about "
        "what leading costs them; the wish to stay in role is respected.",
        {"heart": "Not evidenced", "balance": "Intervene", "track": "Develop in role"},
        includes=("MGMT-SKILLS", "LEAD-COACH", "MGMT-ROLEFIT"),
        excludes=(*LEADERSHIP_MONEY, "LEAD-TASTER"),
    ),
    "strong_heart_no_title": Expect(
        "An individual contributor who habitually leads with no formal authority and "
        "whom others name as who they want to become: leadership without a title, "
        "recognised, and a sponsor to make it visible.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-MENTOR", "LEAD-STRETCH"),
    ),
    "expert_not_managing": Expect(
        "Influence through expertise only, drained by people work, and the person wants "
        "to grow as an expert: the expert track, never pushed into managing.",
        {"heart": "Not evidenced", "track": "Expert"},
        includes=("EXP-LADDER",),
        excludes=(*LEADERSHIP_MONEY, "LEAD-TASTER"),
    ),
    "wants_the_title": Expect(
        "C-POS from three independent observers and one self-reported H-AFF: wants the "
        "title, not the work. A taster and a career conversation, not the programme.",
        {"heart": "Not evidenced", "track": "Develop in role"},
        includes=("LEAD-TASTER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "knows_not_does": Expect(
        "Completed LEAD-PROG, C-KNO from three sources, no leadership behaviour: the "
        "seed's 'know about leadership but not willing to do it'. Experience, not "
        "another course.",
        {"heart": "Not evidenced"},
        includes=("LEAD-TASTER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "self_reported_only": Expect(
        "Every observation is self-reported: it cannot show that others commit, so the "
        "honest verdict is Insufficient evidence and the route is to gather more; the "
        "person's own 'commitment' rows are no pattern of others committing either.",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "Self-only",
            "track": "Gather evidence",
            "management": "Keeps the rules",
        },
        includes=("LEAD-TASTER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "stale_evidence": Expect(
        "Habitual-looking behaviour, all 26-42 months old: stale, so Insufficient "
        "evidence, whatever it showed then (the panel's override is applied later), and "
        "no current pattern of commitment in others either.",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "Stale",
            "track": "Gather evidence",
            "management": "Keeps the rules",
        },
        excludes=LEADERSHIP_MONEY,
    ),
    "top_performer_no_evidence": Expect(
        "Performance 5 three cycles running, potential High, rated ready now, wants to "
        "lead people, and no evidence at all: a rating never stands in for heart, so not "
        "a leadership candidate and no leadership money; recording nothing is no firmer "
        "'no' than recording a little, so Insufficient evidence and the route to gather "
        "it (a development centre before any costly investment, a taster).",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "None",
            "track": "Gather evidence",
        },
        includes=("DIAG-DC", "LEAD-TASTER"),
        excludes=(*LEADERSHIP_MONEY, "LEAD-COACH"),
    ),
    "strong_heart_flight_risk": Expect(
        "A strong heart at high risk of leaving with high impact of loss: the retention "
        "overlay comes beside the leadership investment.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("RET", "LEAD-STRETCH"),
    ),
    "strong_heart_derailers": Expect(
        "Habitual H-FOL, H-VIS and H-AFF with derailers from three observers: derailers "
        "never exclude (the heart stays Strong) but coaching comes before any stretch.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-COACH",),
        excludes=("LEAD-STRETCH", "LEAD-PROG"),
    ),
    "new_joiner": Expect(
        "Hired two months before as_of and too new to assess: no verdict yet and "
        "support in the new role first.",
        {"heart": "Insufficient evidence", "track": "Develop in role"},
        includes=("PERF-SUPPORT",),
        excludes=LEADERSHIP_MONEY,
    ),
    "emerging": Expect(
        "Recent H-AFF and H-DEV from others, but over 6 months only: signs, not yet a "
        "habit. A small leading role lets the habit grow; no programme.",
        {"heart": "Emerging", "track": "Leadership"},
        includes=("LEAD-TASTER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "lead_without_managing": Expect(
        "Habitual H-DEV, H-NCA and H-FOL, and the person wants to lead without "
        "managing: the personal-leadership track, respecting that wish.",
        {"heart": "Strong", "track": "Personal leadership"},
        includes=("PERS-LEAD",),
        excludes=("LEAD-STRETCH", "LEAD-PROG"),
    ),
    "low_performer": Expect(
        "Performance 2 after 3: the current role comes first.",
        {"track": "Develop in role"},
        includes=("PERF-SUPPORT",),
        excludes=LEADERSHIP_MONEY,
    ),
    "strong_heart_ready_now": Expect(
        "Habitual H-AFF, H-DEV, H-CRG and H-RSP, ready now, wants to lead people: the "
        "seed's wise investment, a stretch role with the programme beside it.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-STRETCH", "LEAD-PROG"),
    ),
    "single_source": Expect(
        "Habitual-looking H-DEV, but every observation from the same manager: one view "
        "cannot show a habit, so Insufficient evidence.",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "Single-source",
            "track": "Gather evidence",
        },
        excludes=LEADERSHIP_MONEY,
    ),
    "avoids_hard_calls": Expect(
        "Habitual H-DEV with C-AFF from the manager and peers: coaching (with an "
        "assignment that asks for courage) builds the missing habit.",
        {"heart": "Strong"},
        includes=("LEAD-COACH",),
    ),
    "expert_with_heart": Expect(
        "Expertise 5, habitual H-DEV through expertise, expertise nominations, and the "
        "person wants to lead without managing: an expert leadership role, not a "
        "management one.",
        {"heart": "Strong", "track": "Personal leadership"},
        includes=("EXP-LEAD",),
        excludes=("LEAD-STRETCH", "LEAD-PROG"),
    ),
    "strong_heart_low_visibility": Expect(
        "Habitual H-DEV and H-RSP with a single nomination and no title: a senior "
        "mentor or sponsor makes the leadership visible.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-MENTOR",),
    ),
    "conflicting_evidence": Expect(
        "Peers report commitment, the manager reports resistance to the same behaviour: "
        "conflicting evidence calls for a development centre, not a guess.",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "Conflicting",
            "track": "Gather evidence",
        },
        includes=("DIAG-DC",),
        excludes=(*LEADERSHIP_MONEY, "LEAD-TASTER"),
    ),
    "strong_heart_ready_now_2": Expect(
        "Habitual H-AFF, H-VIS and H-FOL, ready now, wants to lead people.",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-STRETCH", "LEAD-PROG"),
    ),
    "expert_ladder": Expect(
        "C-RLT and C-EXP, expertise 4, performance 4, wants to grow as an expert: the "
        "expert ladder (the panel's override to EXP-LEAD is applied later).",
        {"track": "Expert"},
        includes=("EXP-LADDER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "strong_heart_mobile": Expect(
        "Habitual H-DEV, H-NCA and H-CRG, ready in 1-2 years: a stretch role. (The "
        "workbook records no mobility, so no rule can prefer a rotation here.)",
        {"heart": "Strong", "track": "Leadership"},
        includes=("LEAD-STRETCH",),
    ),
    "flight_risk_no_heart": Expect(
        "High risk of loss but medium impact, and two observations of disengagement: the "
        "retention overlay needs both high; too little evidence to judge a heart, so no "
        "leadership money.",
        {"heart": "Insufficient evidence"},
        excludes=("RET", *LEADERSHIP_MONEY),
    ),
    "emerging_2": Expect(
        "H-DEV and H-LRN twice each from others, undecided: emerging, a taster.",
        {"heart": "Emerging", "track": "Leadership"},
        includes=("LEAD-TASTER",),
        excludes=LEADERSHIP_MONEY,
    ),
    "poor_performance": Expect(
        "Performance 1 after 2: support in the current role first.",
        {"track": "Develop in role"},
        includes=("PERF-SUPPORT",),
        excludes=LEADERSHIP_MONEY,
    ),
    "own_commitment_rows": Expect(
        "Four self-reported H-DEV rows with 'Commitment' and one peer's row 18 months old "
        "once gave a Strong heart and the programme. Only others show leadership: the "
        "person's own rows count as no observer and no commitment, so there is one "
        "observer, and the route is to gather evidence.",
        {
            "heart": "Insufficient evidence",
            "evidence_quality": "Single-source",
            "habitual": "None",
            "track": "Gather evidence",
        },
        includes=("DIAG-DC", "LEAD-TASTER"),
        excludes=LEADERSHIP_MONEY,
    ),
    "compliance_habit_beside_leadership": Expect(
        "A leadership habit (H-DEV, three team members) beside a compliance-only habit "
        "(C-CMP, two other observers): the compliance habit does not erase the leadership "
        "one; it is coached, not a role-fit conversation.",
        {
            "heart": "Emerging",
            "habitual": "H-DEV",
            "management": "Compliance without commitment",
        },
        includes=("LEAD-COACH",),
        excludes=("MGMT-ROLEFIT", "LEAD-PROG"),
    ),
    "one_tiring_episode": Expect(
        "Seven energised H-DEV episodes and one drained: one tiring episode among many "
        "does not cancel a habit, and others commit: Strong.",
        {"heart": "Strong", "habitual": "H-DEV", "draining": "None", "track": "Leadership"},
        includes=("LEAD-STRETCH",),
    ),
    "drained_manager_balanced_team": Expect(
        "A balanced, committed team whose manager is drained by most of the leading: not "
        "a heart done comfortably, but never 'no action': a conversation about what "
        "leading costs her and whether she would rather do something else.",
        {"heart": "Not evidenced", "balance": "Balanced", "track": "Develop in role"},
        includes=("MGMT-ROLEFIT",),
        excludes=LEADERSHIP_MONEY,
    ),
    "management_heavy_team": Expect(
        "A team on time with no incidents but engagement 55%: management-heavy, so "
        "leadership development for the manager (coaching), beside a taster for the "
        "recent signs of leadership.",
        {"heart": "Emerging", "balance": "Management-heavy"},
        includes=("LEAD-COACH", "LEAD-TASTER"),
        excludes=("LEAD-PROG",),
    ),
}


def test_the_checker_finds_nothing_to_report() -> None:
    """Not even a warning: the default rulebook is the example panels copy."""
    assert [str(d) for d in check_rulebook(RULES)] == []


def test_the_rule_tests_pass_and_cover_every_rule_and_outcome() -> None:
    report = run_folder(RULES, coverage=True)
    assert report.ok, format_report(report)
    assert len(report.evaluators) == 2, report.evaluators  # reference and durable_rules


def test_every_rule_explains_itself() -> None:
    """Briefs quote the title and rationale to the person and the panel."""
    for rule in load_rulebook(RULES).rules:
        assert rule.title.strip(), rule.id
        assert len(rule.rationale.split()) >= 20, f"{rule.id}: rationale too thin to quote"


def test_no_heart_rule_reads_a_rating() -> None:
    """A high performance or potential rating never stands in for leadership evidence.

    The rules that decide the heart verdict, and the decisions they read, may not
    read performance, potential or their history.
    """
    rulebook = load_rulebook(RULES)
    ratings = {"performance", "performance_prior_1", "performance_prior_2", "potential"}
    ratings.add("performance_trend")
    upstream = {"heart"}
    grew = True
    while grew:  # the heart's decision inputs, to any depth
        reads = {
            name
            for rule in rulebook.rules
            if rule.decision in upstream
            for name in rule_reads(rule)
            if name in rulebook.decisions
        }
        grew = not reads <= upstream
        upstream |= reads
    for rule in rulebook.rules:
        if rule.decision in upstream:
            assert not rule_reads(rule) & ratings, rule.id


@pytest.fixture(scope="module")
def evaluations() -> dict[str, Evaluation]:
    """Every sample person's conclusions from the durable_rules engine."""
    rulebook = load_rulebook(RULES)
    panel = load_workbook(SAMPLE)
    assert not panel.errors, [str(p) for p in panel.errors]
    catalogue = facts.load_catalogue(RULES / "catalogue.yaml")
    people = facts.compute_facts(panel, rulebook.vocabulary, catalogue)
    results = engine.run(rulebook, people, jobs=1)
    return {r.employee_id: r.evaluation for r in results}


def test_every_persona_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(PERSONA_IDS)


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_persona(persona: str, evaluations: dict[str, Evaluation]) -> None:
    expect = EXPECTED[persona]
    employee_id = PERSONA_IDS[persona]
    outcomes = evaluations[employee_id].outcomes
    context = f"{persona} ({employee_id}): {expect.why}\nconcluded: {outcomes}"
    for decision, outcome in expect.outcomes.items():
        assert outcomes[decision] == (outcome,), context
    investments = outcomes["investment"]
    for code in expect.includes:
        assert code in investments, context
    for code in expect.excludes:
        assert code not in investments, context


def test_no_leadership_programme_without_a_strong_heart(
    evaluations: dict[str, Evaluation],
) -> None:
    """The seed: invest in those with a heart for leadership, nobody else."""
    for employee_id, evaluation in evaluations.items():
        if "LEAD-PROG" in evaluation.outcomes["investment"]:
            assert evaluation.outcomes["heart"] == ("Strong",), employee_id


def test_a_wish_to_grow_as_an_expert_is_never_turned_into_managing(
    evaluations: dict[str, Evaluation],
) -> None:
    """Someone who wants to grow as an expert is not pushed into managing people."""
    panel = load_workbook(SAMPLE)
    experts = [
        row.get("employee_id")
        for row in panel.rows["Employees"]
        if row.get("career_interest") == "Grow as expert"
    ]
    assert experts
    for employee_id in experts:
        outcomes = evaluations[str(employee_id)].outcomes
        assert outcomes["track"] not in (("Leadership",), ("Management skills",)), employee_id
        assert not {"LEAD-STRETCH", "LEAD-PROG"} & set(outcomes["investment"]), employee_id


# --- the corrections, as a reader of a brief and of `talentrules explain` sees them -----

TRACK_FITS = {  # (stated interest, track) pairs where the track is what was asked for
    ("Lead people", "Leadership"),
    ("Grow as expert", "Expert"),
    ("Lead without managing", "Personal leadership"),
    ("Stay in role", "Develop in role"),
}


def test_the_stated_interest_sentence_is_true_for_every_interest_and_track() -> None:
    """Every combination gets a sentence that states the person's own interest, and only
    a track that is what the person asked for says it matches."""
    rulebook = load_rulebook(RULES)
    track = rulebook.role("development_track")
    assert track is not None and track.interest is not None
    interests = rulebook.vocabulary[track.interest].values
    for outcome in track.outcomes:
        for interest in (*interests, None):
            sentence = track.interest_text(outcome, interest)
            assert sentence and "$" not in sentence, (outcome, interest)
            stated = (interest or "not recorded").casefold()
            assert stated in sentence.casefold(), (outcome, interest, sentence)
            claims_fit = "matches the stated interest" in sentence
            assert claims_fit == ((interest, outcome) in TRACK_FITS), (outcome, interest)
            # Only a track that moves away from managing may speak of not pushing into it.
            if "never push" in sentence:
                assert outcome not in ("Management skills",), sentence


@pytest.fixture(scope="module")
def briefs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample evaluated through the CLI, as a panel would: its briefs folder."""
    out = tmp_path_factory.mktemp("default") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out / "briefs"


BRIEF_SHOWS = {
    "own_commitment_rows": (
        "Heart for leadership: Insufficient evidence. Evidence quality: Single-source.",
        "All recent observations come from a single observer other than the person",
        # seen by others 1, 1 observer, 1 context, over 0 months, 4 own reports
        "| Develops others (H-DEV) | 1 | 1 | 1 | 0 | 4 | No |",
        "**Development centre** (DIAG-DC)",
    ),
    "compliance_habit_beside_leadership": (
        "Heart for leadership: Emerging. Seen habitually by others: Develops others.",
        "heart-habit-with-compliance",
        "**Leadership coaching** (LEAD-COACH)",
    ),
    "one_tiring_episode": (
        "Heart for leadership: Strong. Seen habitually by others: Develops others.",
        "12.5 % of them drained",
    ),
    "drained_manager_balanced_team": (
        "**Team balance:** Balanced: keep it so",
        "invest-mgmt-rolefit-drained",
        "**Role-fit conversation** (MGMT-ROLEFIT)",
    ),
    "management_heavy_team": (
        "**Team balance:** Management-heavy: invest in leadership for the manager",
        "invest-coach-team-balance",
        "**Leadership coaching** (LEAD-COACH)",
    ),
    "top_performer_no_evidence": (
        "Heart for leadership: Insufficient evidence. Evidence quality: None.",
        "No evidence is recorded for this person",
        "heart-no-evidence",
        "**Development centre** (DIAG-DC)",
    ),
    "self_reported_only": ("**Management pattern:** Keeps the rules.",),
    "stale_evidence": ("**Management pattern:** Keeps the rules.",),
    "wants_the_title": (
        "The stated interest is Lead people; this cycle the recommendation is to develop in "
        "the current role first",
    ),
}


@pytest.mark.parametrize("persona", sorted(BRIEF_SHOWS))
def test_each_correction_shows_in_the_persona_brief(persona: str, briefs: Path) -> None:
    text = (briefs / f"{PERSONA_IDS[persona]}.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    for needle in BRIEF_SHOWS[persona]:
        assert " ".join(needle.split()) in flat, (persona, needle)


@pytest.mark.parametrize(
    ("persona", "needles"),
    [
        ("own_commitment_rows", ("Single-source", "own reports 4", "heart-single-source")),
        ("drained_manager_balanced_team", ("MGMT-ROLEFIT", "draining-H-DEV", "Balanced")),
    ],
)
def test_each_correction_shows_in_explain(persona: str, needles: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, ["explain", PERSONA_IDS[persona], str(SAMPLE)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    for needle in needles:
        assert needle in flat, (persona, needle)
