"""Rules' messages, and whom the rulebook's exceptions ask the panel to look at.

A stage of its own between the engine and the report: it reads the rulebook, a
person's facts and their evaluation; ``run`` hands it to the engine and ``report``
reads it. A person's exception notes need the rules that set them with the values
their conditions read, so the person's facts: ``ExceptionNotes`` is handed to the
engine (``engine.run(note=...)``, from ``run.evaluate_workbook``), which makes each
person's notes in its workers where the facts are derived anyway; the summary reads
them from the results (``Result.noted``) instead of deriving everyone's facts again
(about 2 CPU s of the run's own process at 10,000 people, while the briefs render).
Briefs render rules' messages with ``Messages`` too (``report.view``). Nothing here
imports the report stage, so the engine's workers never load it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from talentrules.facts import PersonFacts
from talentrules.model import Value
from talentrules.reference import fired as reference_fired
from talentrules.rulebook import Evaluation, Rule, Rulebook, expr_facts
from talentrules.trace import Fired, Leaf

# Rendered messages remembered by what they read (``Messages``): a few thousand short
# texts, well under a megabyte full.
MESSAGES_LIMIT = 4096
_ABSENT = object()  # a fact the person's values lack


def typed(value: object) -> object:
    """``value`` with its type, and its items' in a tuple, as a memo key: 1, 1.0 and
    True are equal keys but different words."""
    if type(value) is tuple:
        return (tuple, tuple([typed(v) for v in value]))
    return (type(value), value)


class Messages:
    """Rules' messages, each compiled once in a sandbox, each rendering remembered by the
    values it reads (when it reads nothing else: ``facts_read``)."""

    def __init__(self) -> None:
        self._sandbox = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        self._templates: dict[str, jinja2.Template] = {}  # by the message's words
        # per rule and message: the conditions' variables it uses and the facts it names
        self._reads: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]] | None] = {}
        self._said: dict[tuple[object, ...], str] = {}

    def __call__(
        self, rule: Rule, conditions: Sequence[Leaf], values: Mapping[str, Value] | None = None
    ) -> str:
        """The rule's message, rendered with the values its conditions read (by their
        last name part: ``episodes``), and every fact of the person as ``facts``."""
        if not rule.message:
            return ""
        variables: dict[str, Any] = {}
        for c in conditions:
            variables.setdefault(c.fact.rsplit(".", 1)[-1].replace("-", "_"), c.actual)
        facts = {c.fact: c.actual for c in conditions}
        reads = self._read_by(rule)
        key: tuple[object, ...] | None = None
        if reads is not None:
            used, named = reads
            given = values or {}
            key = (
                rule.id,
                rule.message,
                tuple([typed(variables.get(name, _ABSENT)) for name in used]),
                tuple([typed(facts.get(n, given.get(n, _ABSENT))) for n in named]),
            )
            try:
                found = self._said.get(key)
            except TypeError:  # a value that is no key (a list): rendered
                found, key = None, None
            if found is not None:
                return found
        variables["facts"] = {**(values or {}), **facts}
        try:
            template = self._templates.get(rule.message)
            if template is None:
                template = self._templates[rule.message] = self._sandbox.from_string(rule.message)
            text = template.render(variables)
        except jinja2.TemplateError as error:
            text = f"(message of rule {rule.id} could not be rendered: {error})"
        if key is not None and len(self._said) < MESSAGES_LIMIT:
            self._said[key] = text
        return text

    def facts_read(self, rule: Rule) -> tuple[str, ...] | None:
        """What the rule's message reads besides its conditions' values: the facts it
        names as ``facts.NAME`` or ``facts['NAME']``, when it reads nothing else (no
        other use of ``facts``, no global such as ``lipsum``, no ``random`` filter);
        None when it does. The same values of both then give the same message."""
        reads = self._read_by(rule)
        return None if reads is None else reads[1]

    def _read_by(self, rule: Rule) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        key = (rule.id, rule.message or "")
        if key not in self._reads:
            self._reads[key] = self._what_it_reads(rule)
        return self._reads[key]

    def _what_it_reads(self, rule: Rule) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The conditions' variables the message uses and the facts it names; None when
        it reads anything else."""
        names = {c.fact.rsplit(".", 1)[-1].replace("-", "_") for c in expr_facts(rule.when)}
        try:
            parsed = self._sandbox.parse(rule.message or "")
        except jinja2.TemplateError:  # rendered (to its error) every time
            return None
        undeclared = meta.find_undeclared_variables(parsed)
        if (
            not undeclared <= names | {"facts"}
            or any(n.name == "lipsum" for n in parsed.find_all(nodes.Name))
            or any(f.name == "random" for f in parsed.find_all(nodes.Filter))
        ):
            return None
        # Every use of ``facts`` must be a lookup of a name written in the message.
        read: dict[str, None] = {}
        lookups = 0
        for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
            if not isinstance(node, nodes.Getattr | nodes.Getitem):
                continue
            inner = node.node
            if not (isinstance(inner, nodes.Name) and inner.name == "facts"):
                continue
            lookups += 1
            name: str | None = (
                node.attr if isinstance(node, nodes.Getattr) else _constant_text(node.arg)
            )
            # A name that is also a dict's attribute (facts.items) reads that, not a fact.
            if name is None or hasattr(dict, name):
                return None
            read[name] = None
        used = sum(1 for n in parsed.find_all(nodes.Name) if n.name == "facts" and n.ctx == "load")
        if used != lookups:  # ``facts`` read whole somewhere (a loop, a filter)
            return None
        return tuple(sorted(undeclared - {"facts"})), tuple(read)


def _constant_text(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


class ExceptionNotes:
    """A person's exception outcomes (the ``panel_exceptions`` decision's, bar its
    default), each with the message of the rule that set it (its title when it has no
    message). Called with a person's facts and evaluation (``engine.run``'s note)."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.decision = rulebook.role("panel_exceptions")
        self.rules = {rule.id: rule for rule in rulebook.rules}
        self.messages = Messages()

    def __getstate__(self) -> dict[str, Any]:  # a spawned worker compiles its own
        return {"rulebook": self.rulebook}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["rulebook"])  # type: ignore[misc]

    def __call__(self, person: PersonFacts, evaluation: Evaluation) -> dict[str, str]:
        return self.notes(
            evaluation,
            lambda: reference_fired(self.rulebook, person, evaluation),
            lambda: person.values,
        )

    def notes(
        self,
        evaluation: Evaluation,
        fired: Callable[[], Sequence[Mapping[str, Any]]],
        values: Callable[[], Mapping[str, Value]],
    ) -> dict[str, str]:
        """The notes, by outcome; ``fired`` gives the trace's fired rules and ``values``
        the person's facts (asked for only when the person has an exception)."""
        decision = self.decision
        if decision is None:
            return {}
        wanted = [o for o in evaluation.outcomes.get(decision.name, ()) if o != decision.default]
        if not wanted:
            return {}
        notes: dict[str, str] = {}
        facts = values()
        for found in fired():
            rule = self.rules.get(found.get("rule"))  # type: ignore[arg-type]
            if rule is None or rule.decision != decision.name or rule.then not in wanted:
                continue  # read in full only the entries that set an exception
            entry = Fired.read(found, "trace.fired")
            note = self.messages(rule, entry.conditions, facts) or rule.title
            notes[rule.then] = f"{notes[rule.then]}; {note}" if rule.then in notes else note
        return {outcome: notes.get(outcome, "") for outcome in wanted}
