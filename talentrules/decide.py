"""From conclusions to recommendations: investments allocated within seats and budget,
and the panel's overrides recorded beside the recommendation.

Pure functions over plain data. The catalogue comes from the workbook's Investments
sheet, else ``rules/catalogue.yaml``; the allocation policy (strength-of-case order,
tie break, code order, eligibility) is declared in ``rules/catalogue.yaml`` too, so a
panel can read and argue with it. Nothing here reads Excel or runs rules.

Statuses of one recommended investment for one person:

- ``allocated``: a seat and its cost committed against the budget;
- ``waitlisted``: eligible, but the seats or the money ran out for stronger cases
  (or its cost is unknown while the cycle has a budget);
- ``refused``: the person's case does not justify it ("invest wisely"), even with
  seats left; a sound rulebook never recommends one, so it is also a warning;
- ``unavailable``: the code is not in this cycle's catalogue.

Choices made here, and why:

- Codes are allocated one at a time, in the policy's code order (free overlays and
  diagnostics, then experience, relationship, courses last), so when money runs
  out it is the course that waits; within a code the strongest case goes first.
- A cost that is unknown (blank, or the default catalogue's costs in another
  currency than the budget's) is never committed against a budget: spending an
  unknown amount is not "within budget". Without a budget, seats alone decide.
- Overrides are applied after allocation and recorded beside the recommendation.
  An ``investment`` or ``allocation`` override does not re-run allocation for
  anyone else: the panel decides with the allocation in front of it, and a panel
  decision that goes past seats or budget is reported, not silently absorbed.
- Override directions: ``confirm`` (the panel agrees), ``upgrade``/``downgrade``
  where the values are ranked (heart by the policy's order; allocation by
  allocated > waitlisted > refused > unavailable > not recommended), ``add``/
  ``remove`` for the set-valued ``investment`` and ``inspiration`` (``change``
  when some are added and some removed), ``change`` for everything else.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from talentrules.contract import (
    ALLOCATION_FIELD,
    INVESTMENT_FIELD,
    INVESTMENT_TRACKS,
    INVESTMENTS,
    OVERRIDE_FIELDS,
    OVERRIDE_ROLES,
)
from talentrules.errors import RulebookError
from talentrules.model import Panel, Problem, Row, split_ref
from talentrules.money import money
from talentrules.paths import default_rules_dir
from talentrules.rulebook import Decision, Evaluation, Rulebook
from talentrules.rulefiles import Report, RuleFiles, line_of, open_rules
from talentrules.rulefiles import where as place

Status = Literal["allocated", "waitlisted", "refused", "unavailable"]
Direction = Literal["confirm", "upgrade", "downgrade", "add", "remove", "change"]

CATALOGUE_FILE = "catalogue.yaml"
# Allocation statuses from best to worst, for the direction of an allocation override.
STATUS_RANK: tuple[str, ...] = ("allocated", "waitlisted", "refused", "unavailable")
NOT_RECOMMENDED = "not recommended"
_MODES = tuple(INVESTMENTS.column("mode").values)
# The keys catalogue.yaml's mappings take (docs/schemas/rulebook-catalogue.schema.json);
# any other is refused, never ignored.
CATALOGUE_KEYS = ("currency", "investments", "allocation")
INVESTMENT_KEYS = (
    "code",
    "name",
    "track",
    "mode",
    "seats",
    "cost_per_person",
    "duration_months",
    "fits",
    "measure",
)
ALLOCATION_KEYS = (
    "decision",
    "not_investments",
    "order",
    "tie_break",
    "codes",
    "eligible",
    "fallback",
    "advantage",
)


# --- catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class Investment:
    """One development investment the organisation offers this cycle."""

    code: str
    name: str | None
    track: str | None  # one of contract.INVESTMENT_TRACKS
    mode: str | None  # 70, 20, 10, 70/20, 70/10, overlay, -
    seats: int | None  # None: no seat limit (still bound by the budget)
    cost_per_person: float | None  # None: unknown, never committed against a budget
    duration_months: float | None
    source: str  # Investments!A5 or rules/catalogue.yaml:27
    refs: dict[str, str] = field(default_factory=dict)  # column -> cell ref (workbook only)
    fits: str | None = None  # whom it fits, in words (default catalogue only)
    measure: str | None = None  # how success is measured, in words (default catalogue only)

    def where(self, column: str) -> str:
        """Provenance of one column's value, for reasons and messages."""
        return self.refs.get(column, self.source)


@dataclass(frozen=True)
class Catalogue:
    """The investments of this cycle, in catalogue order, and where they came from."""

    investments: dict[str, Investment]
    origin: Literal["workbook", "rules"]
    source: str  # "Investments sheet" or "rules/catalogue.yaml"
    currency: str | None  # the default catalogue's currency; None for the workbook's
    problems: tuple[Problem, ...] = ()

    def get(self, code: str) -> Investment | None:
        return self.investments.get(code)


# --- allocation policy -----------------------------------------------------------------


@dataclass(frozen=True)
class OrderKey:
    """One criterion of the strength-of-case order: a decision or fact, values ranked."""

    name: str
    ranking: tuple[str, ...]  # first = strongest case
    line: int

    def rank(self, values: tuple[str, ...]) -> int:
        """Best rank among the person's values; unknown or unlisted values rank last."""
        ranks = [self.ranking.index(v) for v in values if v in self.ranking]
        return min(ranks) if ranks else len(self.ranking)


@dataclass(frozen=True)
class Eligibility:
    """Who may ever receive an investment: every condition of one of the options holds."""

    options: tuple[dict[str, tuple[str, ...]], ...]  # each: decision or fact -> values
    source: str  # rules/catalogue.yaml:LINE

    def describe(self) -> str:
        return " (or) ".join(
            "; ".join(f"{k} {' or '.join(v)}" for k, v in option.items()) for option in self.options
        )

    def failed(self, values: Callable[[str], tuple[str, ...]]) -> list[str]:
        """What keeps a case out ('heart Not evidenced'), or [] when an option holds."""
        misses: list[str] = []
        for option in self.options:
            missed = [
                f"{name} {', '.join(values(name)) or 'unknown'}"
                for name, allowed in option.items()
                if not set(values(name)) & set(allowed)
            ]
            if not missed:
                return []
            misses.extend(m for m in missed if m not in misses)
        return misses


@dataclass(frozen=True)
class AllocationPolicy:
    """The rulebook's declaration of how scarce investments are shared out."""

    decision: str  # the decision whose outcomes are recommended codes
    not_investments: tuple[str, ...]  # its outcomes that mean "nothing" (None)
    order: tuple[OrderKey, ...]
    tie_break: Literal["draw", "employee_id"]
    codes: tuple[str, ...]  # processing order; others follow in catalogue order
    by_track: dict[str, Eligibility]
    by_code: dict[str, Eligibility]
    source: str  # rules/catalogue.yaml
    # A waitlisted code's alternatives, in order (talentrules.plan offers the first one
    # with a seat and the money left).
    fallback: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Catalogue tracks whose investments confer an advantage: the fairness monitor
    # compares allocation rates for them (talentrules.fairness).
    advantage: tuple[str, ...] = ()

    def eligibility(self, investment: Investment) -> Eligibility | None:
        """The code's own rule, else its track's, else None (open to anyone recommended)."""
        if investment.code in self.by_code:
            return self.by_code[investment.code]
        if investment.track is not None:
            return self.by_track.get(investment.track)
        return None

    def recommended(self, outcomes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        """The investment codes among a person's outcomes."""
        return tuple(c for c in outcomes.get(self.decision, ()) if c not in self.not_investments)

    def ranking(self, name: str) -> tuple[str, ...]:
        """The declared ranking of a decision's values (for override directions)."""
        for key in self.order:
            if key.name == name:
                return key.ranking
        return ()


@dataclass(frozen=True)
class Budget:
    """The cycle's development money (Cycle sheet); None amount means no budget given."""

    amount: float | None
    currency: str | None
    ref: str | None = None  # Cycle!D2
    cycle_id: str = ""  # seeds the tie-break draw

    def money(self, value: float) -> str:
        """An amount in the budget's currency, worded as every output words money."""
        return money(value, self.currency)


def budget_from_panel(panel: Panel) -> Budget:
    """Read budget, currency and cycle id from the Cycle sheet (all optional)."""
    row = panel.cycle
    if row is None:
        return Budget(None, None)
    amount = row.get("budget")
    currency = row.get("currency")
    cycle_id = row.get("cycle_id")
    return Budget(
        float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None,
        str(currency) if currency is not None else None,
        row.ref("budget") if "budget" in row.cells else None,
        str(cycle_id) if cycle_id is not None else "",
    )


# --- loading the catalogue and the policy ----------------------------------------------


def _rules_files(rules_dir: Path | None) -> RuleFiles:
    """The rulebook holding the catalogue: ``rules_dir`` (a folder or a rulebook
    workbook) when it has one, else the packaged rules."""
    if rules_dir is not None:
        files = open_rules(rules_dir)
        if files.has(CATALOGUE_FILE):
            return files
    return open_rules(default_rules_dir())


def _compose(files: RuleFiles) -> yaml.MappingNode:
    report = Report()
    node = files.node(CATALOGUE_FILE, report)
    if report.diagnostics:
        problem = report.diagnostics[0]
        raise RulebookError(f"{problem}")
    label = files.label(CATALOGUE_FILE)
    if not isinstance(node, yaml.MappingNode):
        raise RulebookError(f"{label}: expected a mapping with investments and allocation")
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.value not in CATALOGUE_KEYS:
            name = repr(key.value) if isinstance(key, yaml.ScalarNode) else "(not a name)"
            raise RulebookError(
                f"{place(label, line_of(key))}: unknown key {name} "
                f"({CATALOGUE_FILE} has {', '.join(CATALOGUE_KEYS)})"
            )
    return node


def _get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
            return v
    return None


def _plain(node: yaml.Node | None) -> object:
    """A node's Python value, with the safe loader's types; None for a missing node."""
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _strings(value: object, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulebookError(f"{where}: {what} must be a list of values, e.g. [Strong, Emerging]")
    return tuple(value)


def _number_or_none(value: object, where: str, what: str, whole: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RulebookError(f"{where}: {what} must be a number of at least 0, or null")
    if whole and not float(value).is_integer():
        raise RulebookError(f"{where}: {what} must be a whole number, or null")
    return float(value)


def _catalogue_from_yaml(files: RuleFiles) -> Catalogue:
    label = files.label(CATALOGUE_FILE)
    root = _compose(files)
    currency = _plain(_get(root, "currency"))
    entries = _get(root, "investments")
    if not isinstance(entries, yaml.SequenceNode):
        raise RulebookError(f"{label}: 'investments' must be a list of investments")
    found: dict[str, Investment] = {}
    for node in entries.value:
        where = f"{place(label, line_of(node))}"
        data = _plain(node)
        if not isinstance(data, dict):
            raise RulebookError(f"{where}: an investment must be a mapping with a code")
        code = data.get("code")
        if not isinstance(code, str) or not code.strip():
            raise RulebookError(f"{where}: an investment needs a code, e.g. LEAD-PROG")
        if code in found:
            raise RulebookError(f"{where}: code {code} is already at {found[code].source}")
        track, mode = data.get("track"), data.get("mode")
        if track is not None and track not in INVESTMENT_TRACKS:
            raise RulebookError(
                f"{where}: track {track!r} is not one of {', '.join(INVESTMENT_TRACKS)}"
            )
        if mode is not None and str(mode) not in _MODES:
            raise RulebookError(f"{where}: mode {mode!r} is not one of {', '.join(_MODES)}")
        seats = _number_or_none(data.get("seats"), where, "seats", whole=True)
        unknown = set(data) - set(INVESTMENT_KEYS)
        if unknown:
            raise RulebookError(
                f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                f"(an investment has {', '.join(INVESTMENT_KEYS)})"
            )
        found[code] = Investment(
            code=code,
            name=_text(data.get("name")),
            track=_text(track),
            mode=_text(mode),
            seats=None if seats is None else int(seats),
            cost_per_person=_number_or_none(data.get("cost_per_person"), where, "cost_per_person"),
            duration_months=_number_or_none(data.get("duration_months"), where, "duration_months"),
            source=where,
            fits=_text(data.get("fits")),
            measure=_text(data.get("measure")),
        )
    return Catalogue(found, "rules", label, _text(currency))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _catalogue_from_rows(rows: Sequence[Row], tab: str) -> Catalogue:
    found: dict[str, Investment] = {}
    for row in rows:
        code = str(row.get("investment_code"))
        seats, cost, months = (
            row.get("seats"),
            row.get("cost_per_person"),
            row.get("duration_months"),
        )
        found.setdefault(
            code,  # ingest refuses duplicate codes; the first row wins if one slips through
            Investment(
                code=code,
                name=_text(row.get("name")),
                track=_text(row.get("track")),
                mode=_text(row.get("mode")),
                seats=int(seats) if isinstance(seats, int | float) else None,
                cost_per_person=float(cost) if isinstance(cost, int | float) else None,
                duration_months=float(months) if isinstance(months, int | float) else None,
                source=row.ref("investment_code"),
                refs={column: cell.ref for column, cell in row.cells.items()},
            ),
        )
    return Catalogue(found, "workbook", f"{tab} sheet", None)


def _fill_tracks(catalogue: Catalogue, default: Catalogue, panel: Panel) -> Catalogue:
    """A blank track in the workbook takes the default catalogue's track for that code.

    The invest-wisely table is keyed by track: a LEAD-PROG row with a blank track
    must not slip past it. Each fill is a warning naming both places.
    """
    problems: list[Problem] = list(catalogue.problems)
    filled: dict[str, Investment] = {}
    for code, investment in catalogue.investments.items():
        known = default.get(code)
        if investment.track is not None:
            filled[code] = investment
        elif known is not None and known.track is not None:
            refs = dict(investment.refs, track=known.source)
            filled[code] = replace(investment, track=known.track, refs=refs)
            problems.append(
                _problem(
                    panel,
                    "warning",
                    investment.refs.get("track", investment.source),
                    f"{code} has no track; the default catalogue's '{known.track}' "
                    f"({known.source}) is used, so the allocation policy applies to it",
                )
            )
        else:
            filled[code] = investment
            problems.append(
                _problem(
                    panel,
                    "warning",
                    investment.refs.get("track", investment.source),
                    f"{code} has no track, so no track's allocation policy applies to it",
                )
            )
    return replace(catalogue, investments=filled, problems=tuple(problems))


def default_catalogue(rules_dir: Path | None = None) -> Catalogue:
    """The rulebook's own catalogue (``catalogue.yaml``), whatever the workbook holds."""
    return _catalogue_from_yaml(_rules_files(rules_dir))


def load_catalogue(panel: Panel, rules_dir: Path | None = None) -> Catalogue:
    """This cycle's catalogue: the workbook's Investments sheet, else rules/catalogue.yaml.

    A present sheet with no usable rows falls back to the default, with a warning:
    an empty catalogue would make every recommendation unavailable.
    """
    rows = panel.rows.get("Investments", [])
    tab = panel.found.get("Investments")
    default = _catalogue_from_yaml(_rules_files(rules_dir))
    if rows:
        return _fill_tracks(_catalogue_from_rows(rows, tab or "Investments"), default, panel)
    catalogue = default
    if tab is not None:
        warning = Problem(
            "warning",
            panel.path.name,
            tab,
            None,
            f"the Investments sheet has no usable rows; the default catalogue "
            f"{catalogue.source} is used instead",
        )
        catalogue = replace(catalogue, problems=(warning,))
    return catalogue


def load_policy(rules_dir: Path | None = None) -> AllocationPolicy:
    """The ``allocation`` section of rules/catalogue.yaml, checked."""
    files = _rules_files(rules_dir)
    label = files.label(CATALOGUE_FILE)
    root = _compose(files)
    section = _get(root, "allocation")
    if not isinstance(section, yaml.MappingNode):
        raise RulebookError(f"{label}: an 'allocation' section is required")
    where = f"{place(label, line_of(section))}"
    for key, _ in section.value:
        if key.value not in ALLOCATION_KEYS:
            raise RulebookError(
                f"{place(label, line_of(key))}: unknown allocation key {key.value!r} "
                f"(allocation has {', '.join(ALLOCATION_KEYS)})"
            )
    decision = _plain(_get(section, "decision"))
    if not isinstance(decision, str) or not decision:
        raise RulebookError(f"{where}: allocation.decision must name the investment decision")
    order: list[OrderKey] = []
    order_node = _get(section, "order")
    if not isinstance(order_node, yaml.SequenceNode) or not order_node.value:
        raise RulebookError(f"{where}: allocation.order must list at least one criterion")
    for item in order_node.value:
        data = _plain(item)
        at = f"{place(label, line_of(item))}"
        if not isinstance(data, dict) or len(data) != 1:
            raise RulebookError(f"{at}: each order entry is one 'name: [values, best first]'")
        ((name, values),) = data.items()
        order.append(OrderKey(str(name), _strings(values, at, f"order of {name}"), line_of(item)))
    tie = _plain(_get(section, "tie_break")) or "draw"
    if tie not in ("draw", "employee_id"):
        raise RulebookError(f"{where}: tie_break must be draw or employee_id, not {tie!r}")
    nothing_node = _get(section, "not_investments")
    nothing = _strings(_plain(nothing_node), where, "not_investments") if nothing_node else ()
    codes_node = _get(section, "codes")
    codes = _strings(_plain(codes_node), where, "codes") if codes_node is not None else ()
    by_track: dict[str, Eligibility] = {}
    by_code: dict[str, Eligibility] = {}
    eligible = _get(section, "eligible")
    if eligible is not None:
        if not isinstance(eligible, yaml.MappingNode):
            raise RulebookError(
                f"{place(label, line_of(eligible))}: eligible holds tracks and codes"
            )
        for key, table in eligible.value:
            if key.value not in ("tracks", "codes") or not isinstance(table, yaml.MappingNode):
                unknown = (
                    f"unknown key {key.value!r}: " if key.value not in ("tracks", "codes") else ""
                )
                raise RulebookError(
                    f"{place(label, line_of(key))}: {unknown}eligible holds 'tracks:' and "
                    "'codes:' mappings"
                )
            target = by_track if key.value == "tracks" else by_code
            for name_node, rule_node in table.value:
                at = f"{place(label, line_of(name_node))}"
                rule = _plain(rule_node)
                # One mapping (all must hold), or a list of them (any one may hold).
                options = rule if isinstance(rule, list) else [rule]
                mappings = [o for o in options if isinstance(o, dict) and o]
                if not mappings or len(mappings) != len(options):
                    raise RulebookError(
                        f"{at}: {name_node.value}: give 'decision: [values]', or a list of "
                        "such mappings (any one of them qualifies)"
                    )
                if key.value == "tracks" and name_node.value not in INVESTMENT_TRACKS:
                    raise RulebookError(f"{at}: {name_node.value!r} is not a catalogue track")
                target[str(name_node.value)] = Eligibility(
                    tuple(
                        {str(k): _strings(v, at, str(k)) for k, v in o.items()} for o in mappings
                    ),
                    at,
                )
    fallback: dict[str, tuple[str, ...]] = {}
    fallback_node = _get(section, "fallback")
    if fallback_node is not None:
        table = _plain(fallback_node)
        at = place(label, line_of(fallback_node))
        if not isinstance(table, dict):
            raise RulebookError(
                f"{at}: fallback maps a code to its alternatives, "
                "e.g. LEAD-STRETCH: [LEAD-ROTATE, LEAD-TASTER]"
            )
        for code, alternatives in table.items():
            fallback[str(code)] = _strings(alternatives, at, f"fallback of {code}")
    advantage_node = _get(section, "advantage")
    advantage: tuple[str, ...] = ()
    if advantage_node is not None:
        at = place(label, line_of(advantage_node))
        advantage = _strings(_plain(advantage_node), at, "advantage")
        for track in advantage:
            if track not in INVESTMENT_TRACKS:
                raise RulebookError(f"{at}: advantage: {track!r} is not a catalogue track")
    return AllocationPolicy(
        decision,
        nothing,
        tuple(order),
        "draw" if tie == "draw" else "employee_id",
        codes,
        by_track,
        by_code,
        label,
        fallback,
        advantage,
    )


def check_policy(policy: AllocationPolicy, rulebook: Rulebook) -> list[str]:
    """What in the policy the rulebook does not know, as ``file:line: message``.

    A misspelt value would silently rank a case last or refuse everyone, so every
    name must be a decision or an enum fact, and every value one it can take.
    """

    def values(name: str) -> tuple[str, ...] | None:
        if name in rulebook.decisions:
            decision = rulebook.decisions[name]
            return tuple(dict.fromkeys((*decision.outcomes, decision.default)))
        spec = rulebook.vocabulary.get(name)
        return spec.values if spec is not None and spec.type == "enum" else None

    messages: list[str] = []

    def check(where: str, name: str, given: tuple[str, ...]) -> None:
        allowed = values(name)
        if allowed is None:
            messages.append(f"{where}: '{name}' is not a decision or an enum fact of the rulebook")
            return
        for value in given:
            if value not in allowed:
                messages.append(
                    f"{where}: '{value}' is not a value of {name} ({', '.join(allowed)})"
                )

    if policy.decision not in rulebook.decisions:
        messages.append(f"{policy.source}: allocation.decision '{policy.decision}' is unknown")
    else:
        check(policy.source, policy.decision, policy.not_investments)
    for key in policy.order:
        check(place(policy.source, key.line), key.name, key.ranking)
    for rule in (*policy.by_track.values(), *policy.by_code.values()):
        for option in rule.options:
            for name, given in option.items():
                check(rule.source, name, given)
    return messages


def catalogue_problems(rulebook: Rulebook) -> list[str]:
    """What ``evaluate`` would refuse in the rulebook's catalogue and allocation policy,
    as ``file:line: message`` (``talentrules rules check`` reports them): the catalogue
    or policy unreadable, a name or value the rulebook does not know, or an investment
    the rules can recommend that the default catalogue does not describe."""
    rules_dir = Path(rulebook.source)
    try:
        catalogue = _catalogue_from_yaml(_rules_files(rules_dir))
        policy = load_policy(rules_dir)
    except RulebookError as error:
        return [str(error)]
    problems = check_policy(policy, rulebook)
    if problems and not open_rules(rules_dir).has(CATALOGUE_FILE):
        # The packaged catalogue stands in for a folder without one: say so, or the
        # panel owner reads errors about a file they never wrote.
        problems.insert(
            0,
            f"{rules_dir}: has no {CATALOGUE_FILE}, so a run allocates with the packaged "
            f"one ({default_rules_dir() / CATALOGUE_FILE}), which names decisions and values this "
            f"rulebook lacks; add a {CATALOGUE_FILE} to the folder",
        )
    for code, alternatives in policy.fallback.items():
        for named in (code, *alternatives):
            if catalogue.get(named) is None:
                problems.append(
                    f"{policy.source}: allocation.fallback names '{named}', which is not an "
                    f"investment in {catalogue.source}"
                )
    decision = rulebook.decisions.get(policy.decision)
    if decision is not None:
        for code in decision.outcomes:
            if code not in policy.not_investments and catalogue.get(code) is None:
                problems.append(
                    f"{place(decision.file, decision.line)}: investment '{code}' (an outcome of "
                    f"decision '{decision.name}') has no entry in {catalogue.source}; add it "
                    "there (code, name, track, mode, cost), or list it under "
                    "allocation.not_investments if it is not one"
                )
    return problems


# --- allocation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # one or more a person, kept for the run
class Case:
    """How strong one person's case is, as the allocation policy ranks it."""

    values: tuple[tuple[str, str], ...]  # (order key, the person's value(s)), in order
    ranks: tuple[int, ...]  # per key: 0 = the strongest value; unknown ranks last
    tie: str  # the tie-break value: the draw's SHA-256 hex digest, or the employee_id
    labels: tuple[str, ...] = ()  # how people read each key ('Heart for leadership')

    @property
    def key(self) -> tuple[tuple[int, ...], str]:
        return self.ranks, self.tie

    def label(self, n: int) -> str:
        return self.labels[n] if n < len(self.labels) else self.values[n][0]

    def words(self) -> str:
        """'Heart for leadership Strong, readiness Ready now, risk of loss Low'."""
        return ", ".join(f"{self.label(n)} {v}" for n, (_, v) in enumerate(self.values))


@dataclass(frozen=True, slots=True)  # one or more a person, kept for the run
class Allotment:
    """One recommended investment for one person, and what became of it."""

    employee_id: str
    code: str
    status: Status
    reason: str
    position: int | None  # place in the code's queue (1 = strongest case); None if refused
    cost: float  # committed against the budget; 0 unless allocated
    case: tuple[str, ...] = ()  # the values that ranked the case, e.g. "heart Strong"
    # What decided the status: "seat" (allocated within seats and budget), "rank" (a
    # stronger case took the last seat), "draw" (an equal case won the tie-break),
    # "budget", "cost" (unknown cost against a budget), "eligibility", "catalogue".
    decided_by: str = ""
    ranking: Case | None = None  # the case as ranked (None for codes not in the catalogue)
    short: str = ""  # what decided it, in a few words, for lists (the reason says it all)


@dataclass(frozen=True)
class CodeTotal:
    """Seats and money per investment code."""

    code: str
    seats: int | None
    allocated: int
    waitlisted: int
    refused: int
    unavailable: int
    committed: float


@dataclass(frozen=True)
class Allocation:
    """Who gets which investment, with totals against seats and budget."""

    allotments: tuple[Allotment, ...]  # by processing order of codes, then queue position
    totals: tuple[CodeTotal, ...]
    budget: Budget
    committed: float
    problems: tuple[Problem, ...]

    @property
    def remaining(self) -> float | None:
        return None if self.budget.amount is None else self.budget.amount - self.committed

    def of(self, employee_id: str) -> tuple[Allotment, ...]:
        return tuple(a for a in self.allotments if a.employee_id == employee_id)


# Person facts: employee_id -> fact name -> value (None is unknown), e.g.
# ``{p.employee_id: p.values for p in facts.compute_facts(...)}``; a value that
# carries ``.value`` (a Cell) is read through it.
FactsByPerson = Mapping[str, Mapping[str, object]]


def value_of(name: str, evaluation: Evaluation, facts: Mapping[str, object]) -> tuple[str, ...]:
    """A person's values for a decision (its outcomes) or a fact (one value, or none)."""
    if name in evaluation.outcomes:
        return evaluation.outcomes[name]
    raw = facts.get(name)
    value = getattr(raw, "value", raw)
    return () if value is None else (str(value),)


def _draw(cycle_id: str, employee_id: str) -> str:
    return hashlib.sha256(f"{cycle_id}|{employee_id}".encode()).hexdigest()


def _code_order(catalogue: Catalogue, policy: AllocationPolicy, wanted: set[str]) -> list[str]:
    """Declared codes first, then the catalogue's others, then unknown codes by name."""
    first = [c for c in policy.codes if c in wanted]
    rest = [c for c in catalogue.investments if c in wanted and c not in first]
    unknown = sorted(wanted - set(first) - set(rest))
    return first + rest + unknown


def _warning(file: str, message: str) -> Problem:
    return Problem("warning", file, None, None, message)


def comparable_cost(investment: Investment, catalogue: Catalogue, budget: Budget) -> float | None:
    """The cost to commit, or None when unknown or in another currency than the budget."""
    cost = investment.cost_per_person
    if (
        catalogue.currency is not None
        and budget.currency is not None
        and catalogue.currency.casefold() != budget.currency.casefold()
    ):
        return None  # the default catalogue's costs are in its own currency
    return cost


@dataclass
class _Ledger:
    """Money committed so far, across codes (codes are allocated one after another)."""

    budget: Budget
    committed: float = 0.0


def tie_break_words(policy: AllocationPolicy, budget: Budget) -> str:
    """How equal cases are ordered, in words, with the draw's seed (docs/outputs.md)."""
    if policy.tie_break == "draw":
        return (
            f"the cycle's draw (SHA-256 of cycle_id and employee_id, seed "
            f"'{budget.cycle_id}'; {policy.source} tie_break)"
        )
    return f"employee_id order ({policy.source} tie_break)"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _seats_full(
    investment: Investment,
    case: Case,
    last: Case,
    position: int,
    queued: int,
    policy: AllocationPolicy,
    budget: Budget,
) -> tuple[str, str, str]:
    """Why a case found the seats full: a stronger case, or the tie-break among equals
    (what decided, the reason, and the reason in a few words)."""
    seats = investment.seats
    full = f"seats full ({seats} of {seats}, {investment.where('seats')})"
    if last.ranks == case.ranks:
        return (
            "draw",
            f"{full}: the last seat went to a case equal on every ranking key "
            f"({case.words()}); the tie was broken by {tie_break_words(policy, budget)}, "
            f"which placed this case {_ordinal(position)} of {queued} in the queue",
            f"seats full; an equal case won the draw ({_ordinal(position)} of {queued})",
        )
    n = next(i for i, (a, b) in enumerate(zip(last.ranks, case.ranks, strict=True)) if a != b)
    return (
        "rank",
        f"{full}: the last seat went to a case ranked higher on {case.label(n)} "
        f"({last.values[n][1]} against {case.values[n][1]}); this case is "
        f"{_ordinal(position)} of {queued} in the queue",
        f"seats full; the last seat went to a case with {case.label(n)} "
        f"{last.values[n][1]}, this one {case.values[n][1]} ({_ordinal(position)} of {queued})",
    )


def _allocate_code(
    investment: Investment,
    queue: list[tuple[Evaluation, Case, Mapping[str, object]]],
    rule: Eligibility | None,
    cost: float | None,
    ledger: _Ledger,
    policy: AllocationPolicy,
) -> list[Allotment]:
    """One code's queue, strongest case first: refused, allocated or waitlisted; each
    reason names what decided it (the seat, a stronger case, the draw, the money)."""
    code, seats, budget = investment.code, investment.seats, ledger.budget
    rows: list[Allotment] = []
    taken = position = 0
    misses = [
        rule.failed(functools.partial(value_of, evaluation=p, facts=f)) if rule else []
        for p, _, f in queue
    ]
    eligible = sum(1 for missed in misses if not missed)
    last: Case | None = None  # the weakest case given a seat so far
    said: dict[tuple[tuple[str, str], ...], tuple[str, ...]] = {}  # one per distinct case
    for (person, case, _), failed in zip(queue, misses, strict=True):
        if case.values not in said:
            said[case.values] = tuple(f"{name} {value}" for name, value in case.values)
        shown = said[case.values]
        if rule is not None and failed:
            reason = (
                f"invest wisely: {code} is only for {rule.describe()} ({rule.source}); "
                f"this case has {'; '.join(failed)}"
            )
            rows.append(
                Allotment(
                    person.employee_id,
                    code,
                    "refused",
                    reason,
                    None,
                    0.0,
                    shown,
                    "eligibility",
                    case,
                )  # fmt: skip
            )
            continue
        position += 1
        price = cost or 0.0
        status: Status = "waitlisted"
        short = ""
        if seats is not None and taken >= seats:
            decided_by, reason, short = (
                _seats_full(investment, case, last, position, eligible, policy, budget)
                if last is not None
                else (
                    "rank",
                    f"no seats this cycle ({investment.where('seats')})",
                    "no seats this cycle",
                )
            )
        elif budget.amount is not None and cost is None:
            decided_by = "cost"
            short = "no known cost against the budget"
            reason = (
                f"no known cost in {budget.currency or 'the budget currency'} "
                f"({investment.where('cost_per_person')}), so it cannot be committed "
                f"against the budget of {budget.money(budget.amount)}"
            )
        elif budget.amount is not None and ledger.committed + price > budget.amount + 1e-9:
            decided_by = "budget"
            short = f"budget ran out ({_ordinal(position)} of {eligible})"
            reason = (
                f"budget exhausted: {budget.money(ledger.committed)} of "
                f"{budget.money(budget.amount)} already committed, too little left for its "
                f"{budget.money(price)}, when it came up in the policy's order of "
                f"investments ({policy.source}); {_ordinal(position)} of {eligible} in its queue"
            )
        else:
            status = "allocated"
            decided_by = "seat"
            short = "allocated"
            taken += 1
            ledger.committed += price
            last = case
            limit = "no seat limit" if seats is None else f"seat {taken} of {seats}"
            spend = (
                f"cost unknown ({investment.where('cost_per_person')}), no budget to commit to"
                if cost is None
                else f"{budget.money(price)} committed"
            )
            reason = f"{limit}; {spend}"
            if seats is not None or budget.amount is not None:  # the queue mattered
                reason += f"; {_ordinal(position)} in the queue ({case.words()})"
        cost_now = price if status == "allocated" else 0.0
        rows.append(
            Allotment(
                person.employee_id,
                code,
                status,
                reason,
                position,
                cost_now,
                shown,
                decided_by,
                case,
                short,
            )
        )
    return _drawn_seats(rows, policy, budget)


def _drawn_seats(
    rows: list[Allotment], policy: AllocationPolicy, budget: Budget
) -> list[Allotment]:
    """An allocated case that won its seat by the tie-break over an equal waitlisted case
    says so: the draw, not a stronger case, decided it."""
    lost = [a.ranking.ranks for a in rows if a.decided_by == "draw" and a.ranking is not None]
    if not lost:
        return rows
    marked = []
    for a in rows:
        if a.status == "allocated" and a.ranking is not None and a.ranking.ranks in lost:
            equal = sum(1 for r in lost if r == a.ranking.ranks)
            a = replace(
                a,
                decided_by="draw",
                reason=f"{a.reason}; equal on every ranking key with {equal} waitlisted "
                f"case{'s' if equal != 1 else ''}, so the seat was won by "
                f"{tie_break_words(policy, budget)}",
            )
        marked.append(a)
    return marked


def case_of(
    policy: AllocationPolicy,
    evaluation: Evaluation,
    facts: Mapping[str, object],
    cycle_id: str,
    labels: Mapping[str, str] | None = None,
) -> Case:
    """The strength of one person's case under the policy's order and tie-break;
    ``labels`` names the keys for people (a decision's label; else the fact's name)."""
    pairs = [(key, value_of(key.name, evaluation, facts)) for key in policy.order]
    tie = evaluation.employee_id
    if policy.tie_break == "draw":
        tie = _draw(cycle_id, evaluation.employee_id)
    return Case(
        tuple((key.name, ", ".join(v) if v else "unknown") for key, v in pairs),
        tuple(key.rank(v) for key, v in pairs),
        tie,
        tuple((labels or {}).get(key.name, key.name.replace("_", " ")) for key in policy.order),
    )


def allocate(
    evaluations: Iterable[Evaluation],
    persons_facts: FactsByPerson,
    catalogue: Catalogue,
    budget: Budget,
    policy: AllocationPolicy,
    file: str = "",
    labels: Mapping[str, str] | None = None,
) -> Allocation:
    """Share out the recommended investments within seats and budget.

    Codes are taken one at a time in the policy's code order; for each, eligible
    candidates are queued by strength of case (the policy's order, then its tie
    break) and given a seat while seats remain and the budget covers the cost.
    The result does not depend on the order of ``evaluations``. ``file`` names the
    workbook in problems.
    """
    people = sorted(evaluations, key=lambda e: e.employee_id)
    cases: dict[str, Case] = {}
    wanted: dict[str, list[Evaluation]] = {}
    # Everyone's case is kept for the run: equal parts are one object, not one a person.
    shared: dict[tuple[Any, ...], Any] = {}
    for person in people:
        facts = persons_facts.get(person.employee_id, {})
        case = case_of(policy, person, facts, budget.cycle_id, labels)
        cases[person.employee_id] = Case(
            shared.setdefault(case.values, case.values),
            shared.setdefault(case.ranks, case.ranks),
            case.tie,
            shared.setdefault(case.labels, case.labels),
        )
        for code in policy.recommended(person.outcomes):
            wanted.setdefault(code, []).append(person)

    problems: list[Problem] = []
    allotments: list[Allotment] = []
    totals: list[CodeTotal] = []
    ledger = _Ledger(budget)
    for code in _code_order(catalogue, policy, set(wanted)):
        queue = [
            (p, cases[p.employee_id], persons_facts.get(p.employee_id, {}))
            for p in sorted(wanted[code], key=lambda p: cases[p.employee_id].key)
        ]
        investment = catalogue.get(code)
        if investment is None:
            problems.append(
                _warning(
                    file,
                    f"{code} is recommended for {len(queue)} people but is not in the "
                    f"catalogue ({catalogue.source}); add it or change the rule",
                )
            )
            reason = f"{code} is not in this cycle's catalogue ({catalogue.source})"
            rows = [
                Allotment(
                    p.employee_id,
                    code,
                    "unavailable",
                    reason,
                    None,
                    0.0,
                    tuple(f"{n} {v}" for n, v in c.values),
                    "catalogue",
                    c,
                )  # fmt: skip
                for p, c, _ in queue
            ]
        else:
            rule = policy.eligibility(investment)
            cost = comparable_cost(investment, catalogue, budget)
            rows = _allocate_code(investment, queue, rule, cost, ledger, policy)
            refused = [a.employee_id for a in rows if a.status == "refused"]
            if refused:
                problems.append(
                    _warning(
                        file,
                        f"{code} was recommended for {', '.join(refused)} although the "
                        f"allocation policy ({rule.source if rule else policy.source}) does "
                        f"not allow it; refused (the rulebook should not recommend it)",
                    )
                )
            if budget.amount is not None and cost is None and len(refused) < len(rows):
                problems.append(
                    _warning(
                        file,
                        f"{code} has no cost per person comparable with the budget "
                        f"({investment.where('cost_per_person')}); its candidates are "
                        f"waitlisted",
                    )
                )
        allotments.extend(rows)
        count = Counter(a.status for a in rows)
        totals.append(
            CodeTotal(
                code,
                investment.seats if investment else None,
                count["allocated"],
                count["waitlisted"],
                count["refused"],
                count["unavailable"],
                sum(a.cost for a in rows),
            )
        )
    if (
        catalogue.origin == "rules"
        and budget.amount is not None
        and any(a.status == "allocated" and a.cost for a in allotments)
    ):
        problems.append(
            _warning(
                file,
                f"costs come from the default catalogue ({catalogue.source}) and are "
                f"indicative; add an Investments sheet with your own costs and seats",
            )
        )
    return Allocation(tuple(allotments), tuple(totals), budget, ledger.committed, tuple(problems))


# --- recommendations and the panel's overrides -----------------------------------------


@dataclass(frozen=True)
class Override:
    """One panel decision, kept beside the recommendation it departs from."""

    employee_id: str
    field: str  # heart, track, investment, inspiration, management, allocation
    target: str | None  # the investment code, for an allocation override
    recommended: tuple[str, ...]  # what the system recommended
    decision: tuple[str, ...]  # what the panel decided
    direction: Direction
    reason: str
    decided_by: str
    decided_on: dt.date | None
    refs: dict[str, str]  # column -> Overrides!D5
    superseded_by: str | None = None  # the cell of a later override of the same thing

    @property
    def applies(self) -> bool:
        return self.superseded_by is None

    def as_dict(self) -> dict[str, object]:
        """The JSON form, shared by recommendations.json and the trace."""
        return {
            "field": self.field,
            "target": self.target,
            "recommended": list(self.recommended),
            "decision": list(self.decision),
            "direction": self.direction,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "applies": self.applies,
            "superseded_by": self.superseded_by,
            "cells": dict(self.refs),
        }


@dataclass(frozen=True, slots=True)  # one or more a person, kept for the run
class Recommendation:
    """What the system recommends for one person, and beside it what the panel decided."""

    employee_id: str
    outcomes: dict[str, tuple[str, ...]]  # decision -> outcomes, as evaluated
    allocation: tuple[Allotment, ...]  # one per recommended investment
    overrides: tuple[Override, ...] = ()  # in the order the panel decided them

    def recommended(
        self, field: str, target: str | None = None, decision: str | None = None
    ) -> tuple[str, ...]:
        """The system's value for an override field (allocation: one code's status);
        ``decision`` is the decision the field stands for (``_field_decision``)."""
        if field == ALLOCATION_FIELD:
            for allotment in self.allocation:
                if allotment.code == target:
                    return (allotment.status,)
            return (NOT_RECOMMENDED,)
        if field == INVESTMENT_FIELD:  # the recommended codes, without the "None" outcome
            return tuple(allotment.code for allotment in self.allocation)
        return self.outcomes.get(decision or field, ())

    def decided(self, field: str, target: str | None = None) -> tuple[str, ...]:
        """The panel's value where it overrode the field, else the recommendation."""
        for override in self.overrides:
            if override.applies and override.field == field and override.target == target:
                return override.decision
        return self.recommended(field, target)


def recommend(
    evaluations: Iterable[Evaluation], allocation: Allocation
) -> dict[str, Recommendation]:
    """One Recommendation per person, by employee_id, with their allotments."""
    mine: dict[str, list[Allotment]] = {}
    for allotment in allocation.allotments:
        mine.setdefault(allotment.employee_id, []).append(allotment)
    return {
        e.employee_id: Recommendation(e.employee_id, e.outcomes, tuple(mine.get(e.employee_id, ())))
        for e in sorted(evaluations, key=lambda e: e.employee_id)
    }


_SPLIT = ";"
_PANEL_STATUSES = ("allocated", "waitlisted", "refused")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", _SPLIT).split(_SPLIT) if part.strip()]


def _pick(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value ``value`` means, matched case- and space-insensitively."""
    key = " ".join(value.split()).casefold()
    for candidate in allowed:
        if candidate.casefold() == key:
            return candidate
    return None


def _pick_each(parts: list[str], allowed: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """Each part matched to an allowed value (first-seen order, no repeats), and the
    parts that matched nothing, quoted for a message ('nothing' when there were none)."""
    picked = {p: _pick(p, allowed) for p in parts}
    misses = [repr(p) for p, value in picked.items() if value is None]
    if not parts:
        misses = ["nothing"]
    found = tuple(dict.fromkeys(v for v in picked.values() if v is not None))
    return found, ", ".join(misses)


def _field_decision(field: str, decisions: Mapping[str, Decision]) -> Decision | None:
    """The decision an override field stands for: the one playing the field's role."""
    role = OVERRIDE_ROLES.get(field)
    return next((d for d in decisions.values() if d.role == role), None) if role else None


def _direction(
    sets: bool, recommended: tuple[str, ...], decision: tuple[str, ...], ranking: tuple[str, ...]
) -> Direction:
    """confirm when equal; upgrade/downgrade on a declared ranking; add/remove for sets."""
    if set(recommended) == set(decision):
        return "confirm"
    if sets:
        if set(decision) > set(recommended):
            return "add"
        if set(decision) < set(recommended):
            return "remove"
        return "change"
    if len(recommended) == 1 and len(decision) == 1:
        before, after = recommended[0], decision[0]
        if before in ranking and after in ranking:
            return "upgrade" if ranking.index(after) < ranking.index(before) else "downgrade"
    return "change"


def _parse_decision(
    field: str,
    text: str,
    decisions: Mapping[str, Decision],
    catalogue: Catalogue,
) -> tuple[tuple[str, ...], str | None, str | None]:
    """(the panel's value, the allocation target code, or an error message)."""
    codes = list(catalogue.investments)
    if field == ALLOCATION_FIELD:
        words = text.replace(":", " ").replace("=", " ").split()
        code = _pick(words[0], codes) if words else None
        status = _pick(" ".join(words[1:]), _PANEL_STATUSES) if len(words) > 1 else None
        if code is None or status is None:
            return (
                (),
                None,
                (
                    f"'{text}' is not an allocation decision; write CODE: STATUS, with CODE "
                    f"in the catalogue ({catalogue.source}) and STATUS one of "
                    f"{', '.join(_PANEL_STATUSES)}, e.g. 'LEAD-PROG: allocated'"
                ),
            )
        return (status,), code, None
    if field == INVESTMENT_FIELD:
        parts = _split(text)
        if len(parts) == 1 and parts[0].casefold() == "none":
            return (), None, None
        picked, bad = _pick_each(parts, codes)
        if bad:
            return (
                (),
                None,
                (
                    f"{bad} is not an investment in the catalogue ({catalogue.source}); "
                    "write codes separated by ';' (e.g. LEAD-TASTER; RET) or 'none'"
                ),
            )
        return picked, None, None
    spec = _field_decision(field, decisions)
    if spec is None:
        return (), None, f"the rulebook has no decision playing the part of '{field}' to override"
    allowed = tuple(dict.fromkeys((*spec.outcomes, spec.default)))
    parts = _split(text) if spec.policy == "collect" else [text]
    picked, bad = _pick_each(parts, allowed)
    if bad:
        return (), None, f"{bad} is not a value of {field} ({', '.join(allowed)})"
    return tuple(o for o in allowed if o in picked), None, None


def _problem(panel: Panel, severity: Literal["error", "warning"], ref: str, text: str) -> Problem:
    sheet, cell = split_ref(ref)
    return Problem(severity, panel.path.name, sheet or None, cell or None, text)


# read_override's answer for one row: the Override, or each (ref, what is wrong).
ReadOverride = Override | list[tuple[str, str]]


def read_override(
    row: Row,
    recommendations: Mapping[str, Recommendation],
    decisions: Mapping[str, Decision],
    catalogue: Catalogue,
    policy: AllocationPolicy,
) -> ReadOverride:
    """One Overrides row (from the sheet, or a decision taken in ``talentrules serve``)
    validated against the recommendations: the Override, or each (ref, what is wrong):
    an unknown person, a field that cannot be overridden, no reason or no decider, a
    value the field cannot take."""
    refs = {column: cell.ref for column, cell in row.cells.items()}
    employee = str(row.get("employee_id") or "")
    field_ = str(row.get("field") or "")
    text = str(row.get("decision") or "").strip()
    reason = str(row.get("reason") or "").strip()
    decider = str(row.get("decided_by") or "").strip()
    when = row.get("decided_on")
    errors: list[tuple[str, str]] = []
    if employee not in recommendations:
        errors.append((refs["employee_id"], f"'{employee}' is not a person under review"))
    if field_ not in OVERRIDE_FIELDS:
        errors.append(
            (refs["field"], f"'{field_}' cannot be overridden ({', '.join(OVERRIDE_FIELDS)})")
        )
    if not reason:
        errors.append((refs["reason"], "an override needs a reason"))
    if not decider:
        errors.append((refs["decided_by"], "an override needs the named panel member"))
    value: tuple[str, ...] = ()
    target: str | None = None
    if field_ in OVERRIDE_FIELDS:
        if not text:
            errors.append((refs["decision"], "an override needs the panel's decision"))
        else:
            value, target, error = _parse_decision(field_, text, decisions, catalogue)
            if error:
                errors.append((refs["decision"], error))
    if errors:
        return errors
    spec = _field_decision(field_, decisions)
    recommended = recommendations[employee].recommended(field_, target, spec.name if spec else None)
    ranking = (
        STATUS_RANK + (NOT_RECOMMENDED,)
        if field_ == ALLOCATION_FIELD
        else policy.ranking(spec.name)
        if spec
        else ()
    )
    sets = field_ == INVESTMENT_FIELD or (spec is not None and spec.policy == "collect")
    return Override(
        employee,
        field_,
        target,
        recommended,
        value,
        _direction(sets, recommended, value, ranking),
        reason,
        decider,
        when if isinstance(when, dt.date) else None,
        refs,
    )


def apply_overrides(
    recommendations: Mapping[str, Recommendation],
    panel: Panel,
    decisions: Mapping[str, Decision],
    catalogue: Catalogue,
    policy: AllocationPolicy,
    session: Sequence[Row] = (),
    read: Callable[[Row], ReadOverride] | None = None,
) -> tuple[dict[str, Recommendation], tuple[Problem, ...]]:
    """Validate the Overrides sheet and record each valid one beside its recommendation.

    Invalid rows (unknown person, a value the field cannot take, no reason or no
    decider) are problems naming the cell, and are not applied. Of several overrides
    of the same thing, the latest decided_on applies and the others are kept as
    superseded; two on the same (or no) date that disagree apply neither.
    ``session`` holds the decisions of a ``talentrules serve`` session as rows, in the
    order they were taken: each is later than every row of the sheet and than the
    session's decisions before it (each has its number, where a sheet's row has only a
    day), so the last one of a thing applies and never clashes. ``read`` stands
    in for ``read_override`` against these recommendations (``talentrules serve`` reads
    each row once for the whole meeting).
    Allocation is not re-run for anyone else: the panel decides with the allocation
    in front of it; ``talentrules.plan`` counts its decisions against seats and budget
    and reports what goes past them.
    """
    problems: list[Problem] = []
    # (employee, field, target) -> [(order, from the session, override)]
    found: dict[tuple[str, str, str | None], list[tuple[tuple[object, ...], bool, Override]]] = {}
    rows = [(row, False) for row in panel.rows.get("Overrides", [])]
    rows += [(row, True) for row in session]
    for row, live in rows:
        if read is None:
            answer = read_override(row, recommendations, decisions, catalogue, policy)
        else:
            answer = read(row)
        if isinstance(answer, list):
            problems.extend(
                _problem(panel, "error", ref, f"override not applied: {message}")
                for ref, message in answer
            )
            continue
        when = dt.date.min if live else answer.decided_on or dt.date.min
        order = (int(live), when, row.number)
        found.setdefault((answer.employee_id, answer.field, answer.target), []).append(
            (order, live, answer)
        )

    kept: dict[str, list[tuple[tuple[object, ...], Override]]] = {}
    for (employee, _, _), group in found.items():
        group.sort(key=lambda item: item[0])
        last = group[-1][2]
        if len(group) > 1:
            before = group[-2][2]
            clash = not group[-1][1] and before.decided_on == last.decided_on
            if clash and before.decision != last.decision:
                for _, _, clashing in group:
                    problems.append(
                        _problem(
                            panel,
                            "error",
                            clashing.refs["decision"],
                            f"override not applied: {len(group)} overrides of {employee}'s "
                            f"{clashing.field} disagree and none is dated later than the others",
                        )
                    )
                continue
            for _, _, older in group[:-1]:
                problems.append(
                    _problem(
                        panel,
                        "warning",
                        older.refs["decision"],
                        f"superseded by the later override at {last.refs['decision']}",
                    )
                )
        kept.setdefault(employee, []).extend(
            (order, replace(o, superseded_by=last.refs["decision"]) if o is not last else o)
            for order, _, o in group
        )

    updated = dict(recommendations)
    for employee, overrides in kept.items():
        # By date; a sheet's rows of one day by their cell, then the session's in order.
        overrides.sort(
            key=lambda item: (
                item[1].decided_on or dt.date.min,
                item[0][0],
                "" if item[0][0] else item[1].refs["decision"],
                item[0][2],
            )
        )
        updated[employee] = replace(
            recommendations[employee], overrides=tuple(o for _, o in overrides)
        )
    return updated, tuple(problems)


@dataclass(frozen=True)
class Decisions:
    """Everything the report stages render: per-person recommendations, the allocation
    totals, and every problem found on the way (catalogue, allocation, overrides)."""

    recommendations: dict[str, Recommendation]  # by employee_id
    allocation: Allocation
    catalogue: Catalogue
    policy: AllocationPolicy
    problems: tuple[Problem, ...]

    @property
    def overrides(self) -> tuple[Override, ...]:
        return tuple(o for r in self.recommendations.values() for o in r.overrides)

    def override_counts(self) -> dict[str, Counter[str]]:
        """Applied overrides counted by field and direction, and by decider."""
        applied = [o for o in self.overrides if o.applies]
        return {
            "direction": Counter(f"{o.field} {o.direction}" for o in applied),
            "decider": Counter(o.decided_by for o in applied),
        }


def facts_read(rulebook: Rulebook) -> tuple[str, ...]:
    """The facts the allocation and the plan read of every person (its order and its
    eligibility rules name them), so that a run keeps only these of each person's."""
    policy = load_policy(Path(rulebook.source))
    names = [key.name for key in policy.order]
    for rule in (*policy.by_track.values(), *policy.by_code.values()):
        names.extend(name for option in rule.options for name in option)
    return tuple(n for n in dict.fromkeys(names) if n in rulebook.vocabulary)


def decide(
    panel: Panel,
    evaluations: Iterable[Evaluation],
    persons_facts: FactsByPerson,
    rulebook: Rulebook,
) -> Decisions:
    """Catalogue, allocation, recommendations and overrides in one call.

    The rulebook's folder holds the catalogue and allocation policy; its decisions
    say which values an override may take.
    """
    rules_dir = Path(rulebook.source)
    policy = load_policy(rules_dir)
    wrong = check_policy(policy, rulebook)
    if wrong:
        raise RulebookError("\n".join(wrong))
    people = list(evaluations)
    catalogue = load_catalogue(panel, rules_dir)
    labels = {name: d.heading for name, d in rulebook.decisions.items()}
    allocation = allocate(
        people, persons_facts, catalogue, budget_from_panel(panel), policy, panel.path.name, labels
    )
    recommendations, override_problems = apply_overrides(
        recommend(people, allocation), panel, rulebook.decisions, catalogue, policy
    )
    return Decisions(
        recommendations,
        allocation,
        catalogue,
        policy,
        catalogue.problems + allocation.problems + override_problems,
    )
