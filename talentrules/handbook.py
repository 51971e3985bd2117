"""The rulebook as a document for panels and auditors (``talentrules rules book``).

Every decision's rules as a table in plain words ("at least 3", never ">="), with the
parameter behind each number, each rule's rationale, the parameters, the signal
catalogue, which rows count for what, the rule tests as worked examples with what
they conclude now, and the tests' coverage. One self-contained HTML file (styles
inline, no scripts, no images) that prints on A4. The words come from the rulebook;
this module only arranges them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from talentrules import __version__
from talentrules.errors import OutputError, RuleConflictError
from talentrules.paths import default_templates_dir
from talentrules.reference import evaluate
from talentrules.rulebook import (
    AllOf,
    Compare,
    Decision,
    Expr,
    Not,
    Rule,
    Rulebook,
    load_rulebook,
)
from talentrules.rulefiles import Report, RuleFiles, line_of, open_rules, show, where
from talentrules.ruletests import RuleTest, check_test, load_rule_tests
from talentrules.vocabulary import (
    NAMED,
    SIGNAL_FIELDS,
    BriefFacts,
    FactSpec,
    formula_facts,
    reads_through,
)
from talentrules.vocabulary.briefs import PLACES
from talentrules.vocabulary.model import SIGNAL_LINE_COLUMNS

TEMPLATE = "handbook.html.j2"
SIGNAL = "SIGNAL"  # stands for each member's code in a rule declared for each signal


# --------------------------------------------------------------------------------------
# What the template shows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """A condition in plain words; ``parts`` for all of / any of / not."""

    text: str
    parts: tuple[Words, ...] = ()


@dataclass(frozen=True)
class RuleView:
    """One rule (or a family of rules declared for each signal) in plain words."""

    id: str
    title: str
    when: tuple[Words, ...]  # every one must hold
    then: str
    priority: int | None  # priority decisions only
    rationale: str
    message: str
    where: str  # its file and line, or sheet and cell
    members: tuple[str, ...]  # a family: the signals it is declared for
    tests: int  # rule tests in which it fired (a family: any member)


@dataclass(frozen=True)
class OutcomeView:
    name: str
    meaning: str
    default: bool
    reached: int  # rule tests that concluded it


@dataclass(frozen=True)
class DecisionView:
    name: str
    heading: str
    meaning: str
    policy: str  # in words
    outcomes: tuple[OutcomeView, ...]
    rules: tuple[RuleView, ...]
    reads: tuple[str, ...]  # the decisions its rules read
    level: int


@dataclass(frozen=True)
class ParameterView:
    name: str
    value: str
    unit: str
    meaning: str
    where: str


@dataclass(frozen=True)
class TestView:
    """A rule test as a worked example: who, what is expected, what the rules conclude."""

    name: str
    where: str
    given: tuple[tuple[str, str], ...]  # facts, or the person's values, as written
    rows: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...]  # kind, header, rows
    expect: tuple[tuple[str, str], ...]
    absent: tuple[tuple[str, str], ...]
    fired: tuple[str, ...]
    not_fired: tuple[str, ...]
    concluded: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]  # empty: the test passes


@dataclass(frozen=True)
class Coverage:
    tests: int
    failed: int
    rules: int
    unfired: tuple[str, ...]
    outcomes: int
    unreached: tuple[str, ...]


@dataclass(frozen=True)
class HandbookContext:
    """Everything the handbook template shows."""

    title: str
    tool: str
    source: str
    sha256: str
    decisions: tuple[DecisionView, ...]
    parameters: tuple[ParameterView, ...]
    signals: tuple[tuple[str, str, str, str, str], ...]  # code, name, kind, description, why/route
    rows: tuple[tuple[str, str, str, str], ...]  # name, sheet, tests, meaning
    # every fact a rule reads (or a formula of one reads): its meaning, how it is computed
    facts: tuple[tuple[str, str, str], ...]
    # what briefs show where (vocabulary.yaml briefs): key, the place, the facts it shows
    briefs: tuple[tuple[str, str, str], ...]
    tests: tuple[TestView, ...]
    coverage: Coverage


# --------------------------------------------------------------------------------------
# Conditions in plain words
# --------------------------------------------------------------------------------------

_OPERATOR_WORDS = {
    "==": "is",
    "!=": "is not",
    "<": "is below",
    "<=": "is at most",
    ">": "is above",
    ">=": "is at least",
}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return show(value)


def _compare_words(compare: Compare, decisions: Mapping[str, Decision], named: str | None) -> str:
    fact = compare.fact
    decision = decisions.get(fact)
    collect = decision is not None and decision.policy == "collect"
    if compare.op == "known":
        return f"{fact} is recorded"
    if compare.op == "unknown":
        return f"{fact} is not recorded (blank)"
    value = compare.value
    if isinstance(value, tuple):
        listed = ", ".join(_value(v) for v in value)
        if named is not None:
            listed = f"{named} ({listed})"
        if compare.op == "in":
            verb = "includes any of" if collect else "is one of"
        else:
            verb = "includes none of" if collect else "is none of"
        return f"{fact} {verb} {listed}"
    shown = _value(value)
    if named is not None:
        shown = f"{shown} ({named})"
    if collect and compare.op in ("==", "!="):
        return f"{fact} {'includes' if compare.op == '==' else 'does not include'} {shown}"
    return f"{fact} {_OPERATOR_WORDS[compare.op]} {shown}"


def _words(expr: Expr, decisions: Mapping[str, Decision], named: dict[int, str]) -> Words:
    if isinstance(expr, Compare):
        return Words(_compare_words(expr, decisions, named.get(id(expr))))
    if isinstance(expr, Not):
        inner = expr.part
        if isinstance(inner, AllOf):
            parts = tuple(_words(p, decisions, named) for p in inner.parts)
            return Words("not all of these hold:", parts)
        return Words("this does not hold:", (_words(inner, decisions, named),))
    parts = tuple(_words(p, decisions, named) for p in expr.parts)
    return Words("all of these hold:" if isinstance(expr, AllOf) else "any of these holds:", parts)


def _top(expr: Expr, decisions: Mapping[str, Decision], named: dict[int, str]) -> tuple[Words, ...]:
    """A rule's condition as the lines that must all hold."""
    if isinstance(expr, AllOf):
        return tuple(_words(p, decisions, named) for p in expr.parts)
    return (_words(expr, decisions, named),)


def _compares(expr: Expr) -> list[Compare]:
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, Not):
        return _compares(expr.part)
    return [c for p in expr.parts for c in _compares(p)]


def _scalars(node: yaml.Node | None) -> list[str]:
    """A rule file's condition texts, depth first: the order of the Compares."""
    if node is None:
        return []
    if isinstance(node, yaml.ScalarNode):
        return [str(node.value)]
    if isinstance(node, yaml.SequenceNode):
        return [t for item in node.value for t in _scalars(item)]
    if isinstance(node, yaml.MappingNode):
        return [t for _, value in node.value for t in _scalars(value)]
    return []


def _raw_rules(files: RuleFiles) -> dict[tuple[str, int], yaml.MappingNode]:
    """Each rule as written, by its file and line (a family's members share one)."""
    found: dict[tuple[str, int], yaml.MappingNode] = {}
    report = Report()
    for name in files.names():
        node = files.node(name, report)
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "rules":
                for item in value.value if isinstance(value, yaml.SequenceNode) else []:
                    if isinstance(item, yaml.MappingNode):
                        found[(files.label(name), line_of(item))] = item
    return found


def _get(node: yaml.MappingNode | None, key: str) -> yaml.Node | None:
    for k, v in node.value if node is not None else ():
        if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.Node):
            return v
    return None


def _named(rule: Rule, raw: yaml.MappingNode | None) -> dict[int, str]:
    """Compare -> the named value ($habit_months) its condition was written with."""
    texts = _scalars(_get(raw, "when"))
    compares = _compares(rule.when)
    if len(texts) != len(compares):
        return {}
    found: dict[int, str] = {}
    for compare, text in zip(compares, texts, strict=True):
        value = re.split(r"==|!=|<=|>=|<|>|\bnot\s+in\b|\bin\b", text, maxsplit=1)[-1]
        names = [m.group(1) for m in NAMED.finditer(value) if m.group(1) not in SIGNAL_FIELDS]
        if names:
            found[id(compare)] = ", ".join(names)
    return found


def _family_text(text: str, parameters: Mapping[str, object]) -> str:
    """A family's text as written, parameters filled in, each signal's fields named."""

    def named(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in parameters:
            return _value(parameters[name])
        if name == "code":
            return SIGNAL
        if name in SIGNAL_FIELDS:
            return f"[the signal's {name}]"
        return match.group(0)

    return NAMED.sub(named, " ".join(text.split()))


# --------------------------------------------------------------------------------------
# Building the context
# --------------------------------------------------------------------------------------


def _policy_words(decision: Decision) -> str:
    if decision.policy == "priority":
        return (
            "Of the rules that fire, the one with the highest priority decides; when none "
            f"fires, the outcome is {decision.default}."
        )
    if decision.policy == "collect":
        return (
            "Every rule that fires adds its outcome; when none fires, the outcome is "
            f"{decision.default}."
        )
    return (
        "At most one rule may fire for a person (two firing is an error); when none fires, "
        f"the outcome is {decision.default}."
    )


@dataclass
class _Results:
    """The rule tests run through the reference evaluator."""

    fired: Counter[str] = field(default_factory=Counter)
    reached: Counter[tuple[str, str]] = field(default_factory=Counter)
    views: list[TestView] = field(default_factory=list)
    failed: int = 0


def _given(node: yaml.Node | None) -> list[tuple[str, str]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [
        (str(k.value), "unknown" if v.tag.endswith(":null") else str(v.value))
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
    ]


def _outcomes_text(node: yaml.Node | None) -> list[tuple[str, str]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    found = []
    for key, value in node.value:
        items = value.value if isinstance(value, yaml.SequenceNode) else [value]
        found.append((str(key.value), ", ".join(str(i.value) for i in items)))
    return found


def _ids(node: yaml.Node | None) -> tuple[str, ...]:
    if node is None:
        return ()
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    return tuple(str(i.value) for i in items if isinstance(i, yaml.ScalarNode))


def _raw_tests(files: RuleFiles) -> list[yaml.MappingNode]:
    found: list[yaml.MappingNode] = []
    for name in files.test_names():
        root = files.test_node(name)
        tests = _get(root, "tests") if isinstance(root, yaml.MappingNode) else None
        if isinstance(tests, yaml.SequenceNode):
            found += [t for t in tests.value if isinstance(t, yaml.MappingNode)]
    return found


def _test_view(
    raw: yaml.MappingNode, test: RuleTest, rulebook: Rulebook, results: _Results
) -> None:
    problems: tuple[str, ...]
    try:
        evaluation = evaluate(rulebook, test.person)
    except RuleConflictError as error:
        concluded: list[tuple[str, str]] = []
        problems = (str(error),)
    else:
        results.fired.update(evaluation.fired)
        results.reached.update((d, o) for d, outs in evaluation.outcomes.items() for o in outs)
        concluded = [
            (rulebook.decisions[d].heading, ", ".join(outs))
            for d, outs in evaluation.outcomes.items()
            if d in test.expect or d in test.absent
        ]
        problems = tuple(check_test(rulebook, test, evaluation))
    if problems:
        results.failed += 1
    person = _get(raw, "person")
    given = _given(_get(raw, "facts"))
    rows: list[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]] = []
    if isinstance(person, yaml.MappingNode):
        values = []
        for key, value in person.value:
            name = str(key.value)
            if isinstance(value, yaml.ScalarNode):
                values.append((name, str(value.value)))
            elif isinstance(value, yaml.MappingNode):
                values += [(f"{name}: {k}", v) for k, v in _given(value)]
            elif isinstance(value, yaml.SequenceNode):
                items = [dict(_given(item)) for item in value.value]
                header = tuple(dict.fromkeys(k for item in items for k in item))
                rows.append(
                    (name, header, tuple(tuple(item.get(h, "") for h in header) for item in items))
                )
        given = values + given
    results.views.append(
        TestView(
            name=test.name,
            where=test.where,
            given=tuple(given),
            rows=tuple(rows),
            expect=tuple(_outcomes_text(_get(raw, "expect"))),
            absent=tuple(_outcomes_text(_get(raw, "absent"))),
            fired=_ids(_get(raw, "fired")),
            not_fired=_ids(_get(raw, "not_fired")),
            concluded=tuple(concluded),
            problems=problems,
        )
    )


def _generic(words: Words, code: str) -> Words:
    """A family member's condition in words, its code replaced by SIGNAL."""
    return Words(
        re.sub(rf"(?<![\w-]){re.escape(code)}(?![\w-])", SIGNAL, words.text),
        tuple(_generic(p, code) for p in words.parts),
    )


def _rule_views(
    rulebook: Rulebook,
    decision: Decision,
    raw: Mapping[tuple[str, int], yaml.MappingNode],
    fired: Counter[str],
) -> list[RuleView]:
    """The decision's rules in words; a family declared for each signal as one view."""
    families: dict[tuple[str, int], list[Rule]] = {}
    for rule in rulebook.rules:
        if rule.decision == decision.name:
            families.setdefault((rule.file, rule.line), []).append(rule)
    parameters = {n: p.value for n, p in rulebook.parameters.items()}
    views: list[RuleView] = []
    for (file, line), members in families.items():
        first, written = members[0], raw.get((file, line))
        when = _top(first.when, rulebook.decisions, _named(first, written))
        rule_id, title, then = first.id, first.title, first.then
        rationale, message = first.rationale, first.message or ""
        codes: tuple[str, ...] = ()
        for_each = _get(written, "for_each")
        if isinstance(for_each, yaml.ScalarNode):
            codes = rulebook.sets.get(str(for_each.value).lstrip("$"), ())
            when = tuple(_generic(w, codes[0]) for w in when) if codes else when

            def text(key: str, written: yaml.MappingNode | None = written) -> str:
                node = _get(written, key)
                return _family_text(str(node.value), parameters) if node is not None else ""

            rule_id, title, then = text("id"), text("title"), text("then")
            rationale, message = text("rationale"), text("message")
        views.append(
            RuleView(
                id=rule_id,
                title=title,
                when=when,
                then=then,
                priority=first.priority if decision.policy == "priority" else None,
                rationale=" ".join(rationale.split()),
                message=" ".join(message.split()),
                where=where(file, line),
                members=codes,
                tests=sum(fired[r.id] for r in members),
            )
        )
    if decision.policy == "priority":
        views.sort(key=lambda v: -(v.priority or 0))
    return views


def _outcome_meaning(rulebook: Rulebook, decision: Decision, outcome: str) -> str:
    """The outcome's words; a signal code (the habits) is the signal's plain name."""
    meaning = decision.text(outcome, "meaning")
    signal = rulebook.signals.get(outcome)
    if not meaning and signal is not None:
        return f"{signal.name}: {signal.description}"
    return meaning


def _kind(kind: str, weight: str) -> str:
    return "counter-signal" if kind == "counter" else f"{weight} signal"


def build_handbook(rules: str | Path | None = None) -> HandbookContext:
    """The handbook of the rulebook at ``rules`` (a folder or a workbook; default: the
    packaged rules): its rule tests are run through the reference evaluator."""
    files = open_rules(rules)
    rulebook = load_rulebook(files.path)
    raw_rules = _raw_rules(files)
    tests = load_rule_tests(rulebook, files)
    results = _Results()
    for raw, test in zip(_raw_tests(files), tests, strict=True):
        _test_view(raw, test, rulebook, results)
    decisions: list[DecisionView] = []
    for level, names in enumerate(rulebook.levels):
        for name in names:
            decision = rulebook.decisions[name]
            reads = sorted(
                {c.fact for r in rulebook.rules if r.decision == name for c in _compares(r.when)}
                & set(rulebook.decisions)
            )
            decisions.append(
                DecisionView(
                    name=name,
                    heading=decision.heading,
                    meaning=decision.meaning,
                    policy=_policy_words(decision),
                    outcomes=tuple(
                        OutcomeView(
                            o,
                            _outcome_meaning(rulebook, decision, o),
                            o == decision.default,
                            results.reached[(name, o)],
                        )
                        for o in decision.outcomes
                    ),
                    rules=tuple(_rule_views(rulebook, decision, raw_rules, results.fired)),
                    reads=tuple(reads),
                    level=level,
                )
            )
    read = sorted(
        reads_through(
            formula_facts(rulebook.vocabulary),
            {c.fact for r in rulebook.rules for c in _compares(r.when)} - set(rulebook.decisions),
        )
    )
    unfired = tuple(r.id for r in rulebook.rules if not results.fired[r.id])
    unreached = tuple(
        f"{name}: {o}"
        for name, decision in rulebook.decisions.items()
        for o in decision.outcomes
        if not results.reached[(name, o)]
    )
    return HandbookContext(
        title="Rulebook handbook",
        tool=f"talentrules {__version__}",
        source=str(files.path),
        sha256=rulebook.sha256,
        decisions=tuple(decisions),
        parameters=tuple(
            ParameterView(n, _value(p.value), p.unit, p.meaning, where(p.file, p.line))
            for n, p in rulebook.parameters.items()
        ),
        signals=tuple(
            (
                s.code,
                s.name,
                _kind(s.kind, s.weight),
                s.description,
                s.route or s.why,
            )
            for s in rulebook.signals.values()
        ),
        rows=tuple(
            (r.name, r.sheet, "; ".join(t.text for t in r.where) or "every row", r.meaning)
            for r in rulebook.rows.values()
        ),
        facts=tuple(
            (f, rulebook.vocabulary[f].meaning, _computed(rulebook.vocabulary[f]))
            for f in read
            if f in rulebook.vocabulary
        ),
        briefs=_brief_places(rulebook.briefs),
        tests=tuple(results.views),
        coverage=Coverage(
            tests=len(tests),
            failed=results.failed,
            rules=len(rulebook.rules),
            unfired=unfired,
            outcomes=sum(len(d.outcomes) for d in rulebook.decisions.values()),
            unreached=unreached,
        ),
    )


def _brief_places(briefs: BriefFacts) -> tuple[tuple[str, str, str], ...]:
    """Each place a brief shows a fact, and which facts the rulebook names for it."""
    places = []
    for key, place in PLACES.items():
        named = getattr(briefs, key)
        if named is None:
            shown = "not declared: the brief says so"
        elif key == "signal_line":
            shown = "; ".join(
                f"{column}: SIGNAL.{fact}"
                for column, fact in zip(SIGNAL_LINE_COLUMNS, named, strict=True)
            )
        elif isinstance(named, tuple):
            shown = "; ".join(f"{value}: {fact}" for value, fact in named)
        else:
            shown = named
        places.append((key, place, shown))
    return tuple(places)


def _computed(spec: FactSpec) -> str:
    """How a fact is computed, in words: its formula, its measure of rows, or the cells."""
    if spec.formula is not None:
        return spec.formula.text
    if spec.derivation is not None:
        return spec.derivation.describe()
    return "from the person's Employees (or Teams) row"


def render_handbook(context: HandbookContext, templates_dir: Path | None = None) -> str:
    """The handbook as one HTML document."""
    folders = [str(templates_dir)] if templates_dir is not None else []
    folders.append(str(default_templates_dir()))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    variables = {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    try:
        return environment.get_template(TEMPLATE).render(variables)
    except jinja2.TemplateError as error:
        raise OutputError(f"{TEMPLATE}: {error}") from error


def write_handbook(rules: str | Path | None, out: str | Path, force: bool = False) -> Path:
    """Write the handbook of ``rules`` to ``out`` (refused if it exists, unless ``force``)."""
    target = Path(out)
    if target.exists() and not force:
        raise OutputError(f"{target}: exists; add --force to replace it")
    html = render_handbook(build_handbook(rules))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed into place: a failure leaves no half a file.
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot be written ({error.strerror})") from error
    return target
