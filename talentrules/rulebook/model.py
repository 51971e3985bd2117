"""The compiled rulebook: conditions, rules, decisions and the Rulebook every evaluator
works from (the reference evaluator and the durable_rules engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from talentrules.rulefiles import Literal_
from talentrules.vocabulary import BriefFacts, FactSpec, Parameter, RowSet, Signal

Policy = Literal["unique", "priority", "collect"]

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "known", "unknown"]


@dataclass(frozen=True)
class Compare:
    """``fact op value``; for ``known``/``unknown`` the value is None."""

    fact: str  # a fact name or a decision name
    op: Op
    value: Literal_ | tuple[Literal_, ...] | None
    file: str
    line: int

    def __str__(self) -> str:
        if self.op in ("known", "unknown"):
            return f"{self.fact} is {self.op}"
        if isinstance(self.value, tuple):
            return f"{self.fact} {self.op} ({', '.join(map(str, self.value))})"
        return f"{self.fact} {self.op} {self.value}"


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    part: Expr


Expr = Compare | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Rule:
    """One rule: when ``when`` holds for a person, ``decision`` gets ``then``."""

    id: str
    decision: str
    title: str
    rationale: str  # plain language, quoted in briefs
    when: Expr
    then: str  # one outcome of the decision
    priority: int  # higher wins under the ``priority`` policy
    message: str | None  # Jinja2 text rendered with the values the rule read
    file: str
    line: int


@dataclass(frozen=True)
class OutcomeTexts:
    """What briefs and the summary say about one outcome (decisions.yaml ``texts``)."""

    texts: dict[str, str]  # meaning, advice, gap, risk: each a sentence or two
    interest: dict[str, str] = field(default_factory=dict)  # interest value -> sentence
    line: int = 0  # where the outcome's texts start in decisions.yaml

    def get(self, key: str) -> str:
        return self.texts.get(key, "")


# The parts a decision may play in briefs and the summary (decisions.yaml ``role``),
# and the texts every outcome of a decision in that part needs. Python finds the
# decision behind each part through these roles, never through a decision's name.
ROLES: dict[str, tuple[str, ...]] = {
    "verdict": ("meaning",),  # the headline verdict (the heart for leadership)
    "habits": (),  # signal codes shown habitually (its outcomes are catalogue codes)
    "evidence": ("meaning",),  # whether the evidence is enough to judge, and why not
    "inspiration_profile": ("meaning",),  # how others are inspired by the person
    "management_pattern": ("meaning",),  # the compliance side
    "team_balance": ("meaning", "advice"),  # a people manager's team, and what to do
    "development_track": ("meaning",),  # the track, and how it fits the stated interest
    "investments": (),  # catalogue codes (the catalogue describes them)
    "panel_exceptions": ("meaning",),  # the people the summary asks the panel to look at
}

TEXT_KEYS = ("meaning", "advice", "gap", "risk")

# The interest sentences of the development track may name the person's stated
# interest, filled in when the brief is written.
INTEREST_PLACEHOLDER = "interest"

OTHERWISE = "otherwise"

UNKNOWN_INTEREST = "unknown"


@dataclass(frozen=True)
class Decision:
    """A question every person gets an answer to."""

    name: str
    policy: Policy
    outcomes: tuple[str, ...]
    default: str  # the outcome when no rule fires; never nothing
    meaning: str
    file: str
    line: int
    role: str | None = None  # the part it plays in briefs and the summary (ROLES)
    label: str = ""  # how briefs head it ("Heart for leadership"); default: the name
    texts: dict[str, OutcomeTexts] = field(default_factory=dict)  # outcome -> texts
    interest: str | None = None  # development_track: the fact holding the stated interest
    # The fairness monitor: outcome -> "advantage" (rates compared, low ratios flagged)
    # or "neutral" (rates shown, never flagged); empty: the decision is not monitored.
    fairness: dict[str, str] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def text(self, outcome: str, key: str) -> str:
        """One text of one outcome ('' when the rulebook gives none)."""
        texts = self.texts.get(outcome)
        return texts.get(key) if texts is not None else ""

    def interest_text(self, outcome: str, interest: str | None) -> str:
        """The development track's sentence for a stated interest (None: not recorded)."""
        texts = self.texts.get(outcome)
        if texts is None:
            return ""
        key = UNKNOWN_INTEREST if interest is None else interest
        sentence = texts.interest.get(key) or texts.interest.get(OTHERWISE, "")
        return sentence.replace(f"${INTEREST_PLACEHOLDER}", interest or "")


@dataclass(frozen=True)
class Rulebook:
    """A checked rulebook, ready to evaluate."""

    vocabulary: dict[str, FactSpec]
    decisions: dict[str, Decision]
    rules: tuple[Rule, ...]  # in file order (files sorted by name)
    levels: tuple[tuple[str, ...], ...]  # decision names by dependency level
    source: str  # the rules folder
    sha256: str  # hash of every rule file's bytes, in order
    parameters: dict[str, Parameter] = field(default_factory=dict)
    signals: dict[str, Signal] = field(default_factory=dict)  # the signal catalogue
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # named sets of codes
    rows: dict[str, RowSet] = field(default_factory=dict)  # which rows count for what
    briefs: BriefFacts = field(default_factory=BriefFacts)  # which facts briefs show where

    def role(self, role: str) -> Decision | None:
        """The decision that plays ``role`` (ROLES), or None when none does."""
        for decision in self.decisions.values():
            if decision.role == role:
                return decision
        return None

    def outcome_of(self, role: str, outcomes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        """A person's outcome(s) of the decision playing ``role`` (() when none does)."""
        decision = self.role(role)
        return outcomes.get(decision.name, ()) if decision is not None else ()
