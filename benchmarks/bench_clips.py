"""The same rules and facts in CLIPS (clipspy): identical decisions, and persons per second
beside talentrules' engine with and without its trace.

    pip install -e '.[bench]'                                  # clipspy, benchmark only
    .venv/bin/python benchmarks/bench_clips.py                 # 10,000 people
    .venv/bin/python benchmarks/bench_clips.py --people 2000 --show-clips | less

The rulebook (rules/, as talentrules compiles it: docs/rules.md, talentrules/rulebook/) is
translated here, not in the package, into one CLIPS program:

- ``person``: one fact a person, a slot per fact the rules read; an unknown value is
  the symbol ``nil``, booleans ``TRUE``/``FALSE``, dates day ordinals.
- one ``defrule`` per rule (salience 10): the person pattern binds the slots the rule
  reads, a ``decided`` pattern per decision it reads (so it waits for them: forward
  chaining through decisions, levels without a hand-written order), and one ``test``
  of the condition in Kleene logic made two-valued: a rule fires when its condition
  is TRUE, so ``T(c)`` is "c is true" and ``F(c)`` "c is false", with
  ``T(not c) = F(c)``, ``T(all) = and T``, ``F(all) = or F``, ... and a comparison
  true or false only when its fact is known (``nil`` makes both fail). Its action
  asserts ``held``.
- one ``defrule`` per decision (salience 0, after every rule that could hold): the
  hit policy of ``rulebook.resolve`` in CLIPS: ``unique`` (two held is a conflict),
  ``priority`` (highest priority wins, then rulebook order; the rest overruled),
  ``collect`` (every held outcome, in the decision's outcome order); none held is
  the default. It asserts ``decided``, which the next level's rules wait for.

Per person: ``reset``, assert the person, ``run``, read ``held``/``decided``/
``overruled`` back (one ``report`` call) into an Evaluation; these must equal
talentrules' Evaluations (outcomes, rules fired, overruled, defaulted) for every
person, and every rule test (rules/tests) must pass through CLIPS, or the script
exits 1. Persons per second are CPU seconds of this one process, measured in one
run, best of ``--repeat`` rounds (the machine is shared): (a) ``engine.run`` and
each person's trace line as trace.jsonl records it (trace_version 3, canonical JSON,
made by ``Result.record_text`` as the run makes trace.jsonl's lines),
(a2) ``engine.run`` and each person's full trace (why-not and counterfactuals, which
briefs and ``explain --trace`` derive from the line) as canonical JSON, (a1)
``Engine.evaluate`` without a trace, (c) CLIPS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import clips

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from talentrules import engine, reference  # noqa: E402
from talentrules.errors import RuleConflictError  # noqa: E402
from talentrules.facts import PersonFacts, compute_facts, load_catalogue  # noqa: E402
from talentrules.ingest import load_workbook  # noqa: E402
from talentrules.paths import default_rules_dir  # noqa: E402
from talentrules.record import canonical  # noqa: E402
from talentrules.rulebook import (  # noqa: E402
    AllOf,
    Compare,
    Evaluation,
    Expr,
    Not,
    Rulebook,
    load_rulebook,
)
from talentrules.ruletests import load_rule_tests, run_rule_tests  # noqa: E402

NIL = clips.Symbol("nil")
TRUE, FALSE = clips.Symbol("TRUE"), clips.Symbol("FALSE")


# --- translation -----------------------------------------------------------------------


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: object) -> str:
    if isinstance(value, dt.date):
        return str(value.toordinal())
    return repr(value) if isinstance(value, float) else str(value)


class Translation:
    """The rulebook as one CLIPS program, and how a person's facts fill its slots."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.slots: dict[str, str] = {}  # fact -> slot name
        self.level_of = {d: n for n, level in enumerate(rulebook.levels) for d in level}
        self.index = {rule.id: n for n, rule in enumerate(rulebook.rules)}
        for rule in rulebook.rules:
            for compare in _compares(rule.when):
                if compare.fact not in rulebook.decisions and compare.fact not in self.slots:
                    slot = re.sub(r"[^A-Za-z0-9_.-]", "_", compare.fact)
                    assert slot not in self.slots.values(), slot
                    self.slots[compare.fact] = slot
        self.kinds = {fact: rulebook.vocabulary[fact].type for fact in self.slots}
        self.decision_names = [name for level in rulebook.levels for name in level]
        self.constructs = self._templates() + self._rules() + self._resolutions() + [self._report()]

    @property
    def program(self) -> str:
        return "\n\n".join(self.constructs) + "\n"

    def _templates(self) -> list[str]:
        person = "\n".join(f"  (slot {slot})" for slot in self.slots.values())
        return [
            f"(deftemplate person\n{person})",
            "(deftemplate held (slot rule) (slot index) (slot decision) (slot priority)"
            " (slot then))",
            "(deftemplate decided (slot decision) (multislot value) (slot defaulted))",
            "(deftemplate overruled (slot decision) (slot rule) (slot index))",
            "(deftemplate conflict (slot decision) (multislot rules))",
        ]

    # A rule: patterns binding what it reads, one test of its condition being TRUE.

    def _rules(self) -> list[str]:
        out = []
        for n, rule in enumerate(self.rulebook.rules):
            facts = sorted({c.fact for c in _compares(rule.when)})
            reads = [f for f in facts if f not in self.rulebook.decisions]
            decisions = [f for f in facts if f in self.rulebook.decisions]
            patterns = []
            if reads or not decisions:
                binds = " ".join(f"({self.slots[f]} ?{self._var(f)})" for f in reads)
                patterns.append(f"(person {binds})".replace("person )", "person)"))
            for name in decisions:
                patterns.append(f"(decided (decision {_string(name)}) (value $?{self._var(name)}))")
            test = self._true(rule.when)
            lhs = "\n  ".join([*patterns, f"(test {test})"])
            out.append(
                f"(defrule rule-{n} ; {rule.id} ({rule.file}:{rule.line})\n"
                f"  (declare (salience 10))\n  {lhs}\n  =>\n"
                f"  (assert (held (rule {_string(rule.id)}) (index {n}) "
                f"(decision {_string(rule.decision)}) (priority {rule.priority}) "
                f"(then {_string(rule.then)}))))"
            )
        return out

    def _var(self, name: str) -> str:
        return "v" + re.sub(r"[^A-Za-z0-9]", "_", name)

    def _true(self, expr: Expr) -> str:
        if isinstance(expr, Compare):
            return self._leaf(expr, want=True)
        if isinstance(expr, Not):
            return self._false(expr.part)
        return _join(
            "and" if isinstance(expr, AllOf) else "or", [self._true(p) for p in expr.parts]
        )

    def _false(self, expr: Expr) -> str:
        if isinstance(expr, Compare):
            return self._leaf(expr, want=False)
        if isinstance(expr, Not):
            return self._true(expr.part)
        return _join(
            "or" if isinstance(expr, AllOf) else "and", [self._false(p) for p in expr.parts]
        )

    def _leaf(self, c: Compare, want: bool) -> str:
        """``c`` is true (want) or false (not want); never either for an unknown fact."""
        op, value = c.op, c.value
        if c.fact in self.rulebook.decisions:  # never unknown: plain two-valued logic
            var = f"$?{self._var(c.fact)}"
            if op in ("known", "unknown"):
                held = op == "known"
                return "TRUE" if held == want else "FALSE"
            wanted = value if isinstance(value, tuple) else (value,)
            includes = _join("or", [f"(member$ {_string(str(v))} {var})" for v in wanted])
            positive = op in ("==", "in")
            return includes if positive == want else f"(not {includes})"
        var = f"?{self._var(c.fact)}"
        if op in ("known", "unknown"):
            known = (op == "known") == want
            return f"(neq {var} nil)" if known else f"(eq {var} nil)"
        negate = {"!=": "==", "not in": "in", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
        if not want:  # false: known, and the opposite comparison holds
            op = {**negate, **{v: k for k, v in negate.items()}}[op]
        kind = self.kinds[c.fact]
        if op in ("==", "!=", "in", "not in"):
            wanted = value if isinstance(value, tuple) else (value,)
            if kind in ("number", "date"):
                tests = [f"(= {var} {_number(v)})" for v in wanted]
                guard = f"(numberp {var})"
            else:
                tests = [f"(eq {var} {self._literal(v, kind)})" for v in wanted]
                guard = f"(neq {var} nil)"
            any_of = _join("or", tests)
            if op in ("==", "in"):
                return any_of if kind not in ("number", "date") else f"(and {guard} {any_of})"
            return f"(and {guard} (not {any_of}))"
        symbol = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}[op]
        return f"(and (numberp {var}) ({symbol} {var} {_number(value)}))"

    @staticmethod
    def _literal(value: object, kind: str) -> str:
        if kind == "boolean":
            return "TRUE" if value is True else "FALSE"
        return _string(str(value))

    # A decision: its hit policy, once every rule that reads what it reads has run.

    def _resolutions(self) -> list[str]:
        out = []
        for level in self.rulebook.levels:
            for name in level:
                decision = self.rulebook.decisions[name]
                rules = [r for r in self.rulebook.rules if r.decision == name]
                deps = sorted(
                    {
                        c.fact
                        for r in rules
                        for c in _compares(r.when)
                        if c.fact in self.rulebook.decisions
                    }
                )
                waits = "".join(f"\n  (decided (decision {_string(d)}))" for d in deps)
                me = _string(name)
                hits = f"(find-all-facts ((?h held)) (eq ?h:decision {me}))"
                if decision.policy == "collect":
                    picks = "".join(
                        f"\n      (if (member$ {_string(o)} ?thens) then "
                        f"(bind ?value (create$ ?value {_string(o)})))"
                        for o in decision.outcomes
                    )
                    choose = (
                        "(bind ?thens (create$))\n"
                        "      (progn$ (?h ?hits) (bind ?thens (create$ ?thens "
                        "(fact-slot-value ?h then))))\n"
                        f"      (bind ?value (create$)){picks}"
                    )
                elif decision.policy == "priority":
                    choose = (
                        "(bind ?win (nth$ 1 ?hits))\n"
                        "      (progn$ (?h ?hits)\n"
                        "        (bind ?p (fact-slot-value ?h priority))\n"
                        "        (bind ?q (fact-slot-value ?win priority))\n"
                        "        (if (or (> ?p ?q) (and (= ?p ?q) (< (fact-slot-value ?h index)"
                        " (fact-slot-value ?win index)))) then (bind ?win ?h)))\n"
                        "      (progn$ (?h ?hits) (if (neq ?h ?win) then (assert (overruled "
                        f"(decision {me}) (rule (fact-slot-value ?h rule)) "
                        "(index (fact-slot-value ?h index))))))\n"
                        "      (bind ?value (create$ (fact-slot-value ?win then)))"
                    )
                else:  # unique
                    choose = (
                        "(if (> (length$ ?hits) 1) then (assert (conflict "
                        f"(decision {me}) (rules (length$ ?hits)))))\n"
                        "      (bind ?value (create$ (fact-slot-value (nth$ 1 ?hits) then)))"
                    )
                out.append(
                    f"(defrule decide-{re.sub(r'[^A-Za-z0-9_-]', '_', name)} ; {decision.policy}\n"
                    f"  (person){waits}\n  (not (decided (decision {me})))\n  =>\n"
                    f"  (bind ?hits {hits})\n"
                    "  (if (= (length$ ?hits) 0) then\n"
                    f"      (assert (decided (decision {me}) (value {_string(decision.default)})"
                    " (defaulted TRUE)))\n"
                    f"    else\n      {choose}\n"
                    f"      (assert (decided (decision {me}) (value ?value) (defaulted FALSE)))))"
                )
        return out

    def _report(self) -> str:
        """What the run concluded, as one multifield (one call back to Python, not one per
        slot): 1 RULE for each rule held, 2 RULE for each overruled, 3 DECISION DEFAULTED
        N OUTCOME... for each decision (indices into the rulebook's rules and decisions)."""
        numbers = " ".join(
            f"(case {_string(name)} then {n})" for n, name in enumerate(self.decision_names)
        )
        return (
            "(deffunction report ()\n"
            "  (bind ?out (create$))\n"
            "  (do-for-all-facts ((?h held)) TRUE (bind ?out (create$ ?out 1 ?h:index)))\n"
            "  (do-for-all-facts ((?o overruled)) TRUE (bind ?out (create$ ?out 2 ?o:index)))\n"
            "  (do-for-all-facts ((?d decided)) TRUE\n"
            f"    (bind ?n (switch ?d:decision {numbers}))\n"
            "    (bind ?out (create$ ?out 3 ?n (if (eq ?d:defaulted TRUE) then 1 else 0)"
            " (length$ ?d:value) ?d:value)))\n"
            "  (do-for-all-facts ((?c conflict)) TRUE (bind ?out (create$ ?out 4 ?c:decision)))\n"
            "  ?out)"
        )

    # A person in, an Evaluation out.

    def slot_values(self, person: PersonFacts) -> dict[str, object]:
        """The person's slots for clipspy's assert_fact (CLIPS' own assert-string parses
        113 slots at about 2 ms a person, the fact builder at a fifth of that)."""
        values = person.values
        out: dict[str, object] = {}
        for fact, slot in self.slots.items():
            value = values.get(fact)
            if value is None:
                out[slot] = NIL
            elif isinstance(value, bool):
                out[slot] = TRUE if value else FALSE
            elif isinstance(value, dt.date):
                out[slot] = value.toordinal()
            else:
                out[slot] = value
        return out


def _join(op: str, parts: list[str]) -> str:
    """``(op a b ...)``; one part is itself (CLIPS' and/or want two or more)."""
    return parts[0] if len(parts) == 1 else f"({op} {' '.join(parts)})"


def _compares(expr: Expr) -> list[Compare]:
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, Not):
        return _compares(expr.part)
    return [c for part in expr.parts for c in _compares(part)]


class ClipsEvaluator:
    """One CLIPS environment holding the translated rulebook; one person at a time.

    Asserting through clipspy leaves about 1 KB a person in the environment that
    ``reset`` never frees (``(mem-used)`` grows; measured), and CLIPS slows down as it
    grows: 2,400 persons/s over the first thousand, 700/s by the tenth; ``clear``
    does not free it either. So a fresh environment takes over every ``RENEW``
    persons, loading the program as a binary image (``bload``: 2 ms, against 62 ms to
    build it from text), which keeps CLIPS at its own speed.
    """

    RENEW = 500

    def __init__(self, translation: Translation) -> None:
        self.t = translation
        builder = clips.Environment()
        for construct in translation.constructs:
            builder.build(construct)
        # The templates hold no constraints; checking on keeps bsave from warning so.
        builder.eval("(set-dynamic-constraint-checking TRUE)")
        self.image = tempfile.NamedTemporaryFile(suffix=".bin")  # noqa: SIM115 (kept open)
        builder.save(self.image.name, binary=True)
        builder.clear()
        self._build()

    def _build(self) -> None:
        self.env = clips.Environment()
        self.env.load(self.image.name, binary=True)
        self.person = self.env.find_template("person")
        self.done = 0

    def evaluate(self, person: PersonFacts) -> Evaluation:
        if self.done == self.RENEW:
            self.close()
            self._build()
        self.done += 1
        env, t = self.env, self.t
        env.reset()
        self.person.assert_fact(**t.slot_values(person))
        env.run()
        # eval, not find_function's object: clipspy leaves a called function "in use",
        # and the environment could never be cleared (14 us a person).
        report = self.env.eval("(report)")
        rules, names = t.rulebook.rules, t.decision_names
        held: list[int] = []
        lost: dict[str, list[int]] = {}
        outcomes: dict[str, tuple[str, ...]] = {}
        defaulted: set[str] = set()
        i = 0
        while i < len(report):
            tag = report[i]
            if tag == 1:
                held.append(report[i + 1])
                i += 2
            elif tag == 2:
                lost.setdefault(rules[report[i + 1]].decision, []).append(report[i + 1])
                i += 2
            elif tag == 3:
                name, count = names[report[i + 1]], report[i + 3]
                if report[i + 2]:
                    defaulted.add(name)
                outcomes[name] = tuple(report[i + 4 : i + 4 + count])
                i += 4 + count
            else:
                raise RuleConflictError(
                    f"{person.employee_id}: decision '{report[i + 1]}' is unique, but more "
                    "than one of its rules held"
                )
        held.sort(key=lambda n: (t.level_of[rules[n].decision], n))
        return Evaluation(
            employee_id=person.employee_id,
            outcomes={name: outcomes[name] for name in names},
            fired=tuple(rules[n].id for n in held),
            overruled={
                name: tuple(rules[n].id for n in sorted(lost[name]))
                for name in names
                if name in lost
            },
            defaulted=tuple(name for name in names if name in defaulted),
        )

    def close(self) -> None:
        self.env.reset()
        self.env.clear()


# --- the benchmark -----------------------------------------------------------------------


def timed(label: str, persons: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``work``; persons per CPU second of this process (the wall clock also counts
    waiting for a core on a shared machine)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    rate = persons / cpu_seconds
    print(
        f"  {label:<48} {rate:>8,.0f} persons/s cpu  ({cpu_seconds:6.2f} s cpu, "
        f"{seconds:6.2f} s wall)",
        flush=True,
    )
    return rate, result


def _same(mine: Sequence[Evaluation], theirs: Sequence[Evaluation]) -> list[str]:
    """Where two lists of Evaluations differ, person by person (empty when identical)."""
    differences = []
    for a, b in zip(mine, theirs, strict=True):
        if a != b:
            fields = [
                f
                for f in ("outcomes", "fired", "overruled", "defaulted")
                if getattr(a, f) != getattr(b, f)
            ]
            differences.append(f"{a.employee_id}: {', '.join(fields)} differ")
    return differences


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--workbook", type=Path, help="default: /tmp/talentrules-bench-N.xlsx")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best of each row")
    parser.add_argument("--show-clips", action="store_true", help="print the CLIPS program")
    args = parser.parse_args(argv)
    rulebook = load_rulebook(default_rules_dir())
    translation = Translation(rulebook)
    if args.show_clips:
        print(translation.program)
        return 0
    # First the rule tests: made-up persons with unknowns and edge values, each through
    # the reference evaluator and CLIPS, which must agree and meet every expectation.
    clips_engine = ClipsEvaluator(translation)
    tests = load_rule_tests(rulebook, default_rules_dir())
    checked = run_rule_tests(rulebook, tests, engine=clips_engine.evaluate)
    print(
        f"rule tests through CLIPS and the reference evaluator: {len(tests)} tests, "
        f"{len(checked.failures)} failures",
        flush=True,
    )
    for failure in checked.failures[:5]:
        print(f"  {failure.test.where}: {failure.test.name}: {'; '.join(failure.problems)}")
    path = args.workbook or Path(f"/tmp/talentrules-bench-{args.people}.xlsx")
    if not path.exists():
        import make_workbook

        make_workbook.make_workbook(path, args.people, seed=1)
    catalogue = load_catalogue(default_rules_dir() / "catalogue.yaml")
    persons = sorted(
        compute_facts(load_workbook(path), rulebook.vocabulary, catalogue),
        key=lambda p: p.employee_id,
    )
    n = len(persons)
    print(
        f"{path.name}: {n:,} persons, {len(rulebook.rules)} rules in {len(rulebook.levels)} "
        f"decision levels, {len(translation.slots)} facts read; clipspy "
        f"{getattr(clips, '__version__', '?')}, one process, CPU time",
        flush=True,
    )

    def fresh() -> Rulebook:
        """As bench_engine.py: a rulebook loaded anew, its reference closures compiled
        outside the timing, explain's memos empty (so no round starts warm)."""
        loaded = load_rulebook(default_rules_dir())
        reference.compile_rulebook(loaded)
        return loaded

    def with_trace_line(rb: Rulebook) -> list[Evaluation]:
        """What a run records: the engine, then each person's trace line as trace.jsonl
        holds it (facts read, cells, rules fired and overruled; canonical JSON), made by
        the function that makes trace.jsonl's lines (``Result.record_text``, which
        record.unchained_line calls with the recommendation and chain added): the bytes
        of ``canonical(Result.record)``, checked below outside the timing."""
        results = engine.run(rb, persons, jobs=1)
        for r in results:
            r.record_text()
        return [r.evaluation for r in results]

    def full_trace(rb: Rulebook) -> list[Evaluation]:
        """The engine, then each person's full trace (each fired rule's conditions with
        the values read, why-not, counterfactuals: what briefs and explain --trace
        derive again from the trace line), as canonical JSON (``Result.trace_text``:
        the bytes of ``canonical(Result.trace)``, checked below outside the timing)."""
        results = engine.run(rb, persons, jobs=1)
        for r in results:
            r.trace_text()
        return [r.evaluation for r in results]

    def no_trace(rb: Rulebook) -> list[Evaluation]:
        with engine.Engine(rb) as compiled:
            return [compiled.evaluate(p) for p in persons]

    def in_clips(rb: Rulebook) -> list[Evaluation]:
        return [clips_engine.evaluate(p) for p in persons]

    best: dict[str, float] = {}
    results: dict[str, list[Evaluation]] = {}
    rows = (
        ("(a) talentrules engine.run + trace line", with_trace_line),
        ("(a2) talentrules engine.run + full trace", full_trace),
        ("(a1) talentrules Engine.evaluate, no trace", no_trace),
        ("(c) CLIPS (clipspy), translated rulebook", in_clips),
    )
    for _round in range(args.repeat):
        for label, work in rows:
            rb = fresh()
            rate, results[label] = timed(label, n, lambda work=work, rb=rb: work(rb))
            best[label] = max(best.get(label, 0.0), rate)
    checked_results = engine.run(rulebook, persons, jobs=1)
    texts_differ = [r.employee_id for r in checked_results if r.trace_text() != canonical(r.trace)]
    lines_differ = [
        r.employee_id for r in checked_results if r.record_text() != canonical(r.record)
    ]
    clips_engine.close()
    (a, with_trace), (a2, full), (a1, without), (c, from_clips) = (
        (best[label], results[label]) for label, _ in rows
    )
    if args.repeat > 1:
        print(
            f"  best of {args.repeat} rounds, persons/s cpu: "
            + ", ".join(f"{label.split()[0]} {best[label]:,.0f}" for label, _ in rows)
        )
    differences = (
        _same(from_clips, with_trace) + _same(without, with_trace) + _same(full, with_trace)
    )
    print(f"  (a)'s text is canonical(record), byte for byte, for all {n:,}: {not lines_differ}")
    print(f"  (a2)'s text is canonical(trace), byte for byte, for all {n:,}: {not texts_differ}")
    print(
        f"  identical decisions (outcomes, fired, overruled, defaulted) for all {n:,}: "
        f"{not differences}"
    )
    for line in differences[:10]:
        print(f"    {line}")
    print(f"  (a) / (c)  = {a / c:.2f} : 1   talentrules with the trace it records against CLIPS")
    print(f"  (a2) / (c) = {a2 / c:.2f} : 1   talentrules with the full trace against CLIPS")
    print(f"  (a1) / (c) = {a1 / c:.2f} : 1   talentrules without a trace against CLIPS")
    print(f"  (a1) / (a) = {a1 / a:.2f} : 1   what the recorded trace costs")
    return 1 if differences or texts_differ or lines_differ or checked.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
