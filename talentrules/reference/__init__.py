"""The pure-Python reference evaluator: the rulebook's meaning, stated plainly.

It evaluates a compiled Rulebook for one person exactly as docs/rules.md says:
decisions level by level, each rule's condition in Kleene three-valued logic (a
comparison that reads an unknown fact is unknown; a rule fires only when its
whole condition is true), hit policies by ``rulebook.resolve``. The durable_rules
engine must agree with it for every person (a test cross-checks them), and both
use ``explain`` for the per-person trace: every fact with its cells, the rules
that fired with the values they compared, why the others did not fire, and the
single changes that would have made them fire (docs/trace.md).

Each rule's condition is compiled once per rulebook into Python closures
(``compile_rulebook``, cached), because the benchmark runs it for 10,000 people.
``explain`` runs for every person too and costs more than evaluating: what it says
about a rule depends only on the values the rule reads, so it remembers that per
rule (bounded memos, shared JSON pieces that every trace gets fresh copies of).

Its modules: compiled (conditions as closures, and their shapes), evaluation
(evaluate), explanation (explain, trace_facts), counterfactuals (the single changes
that would make a rule fire), values (candidate values, and values as the trace
shows them) and traceline (what trace.jsonl keeps of a trace, and the full trace
worked out again from a line).
"""

from __future__ import annotations

from talentrules.reference.compiled import CompiledReference, CompiledRule, compile_rulebook
from talentrules.reference.evaluation import (
    Reevaluation,
    evaluate,
    evaluate_many,
    evaluation_from_fired,
)
from talentrules.reference.explanation import (
    TRACE_VERSION,
    UNSHARED,
    appendix,
    explain,
    explain_text,
    fired,
    near_misses,
    trace_facts,
)
from talentrules.reference.traceline import record, record_text, replay

__all__ = [
    "TRACE_VERSION",
    "UNSHARED",
    "CompiledReference",
    "CompiledRule",
    "Reevaluation",
    "appendix",
    "compile_rulebook",
    "evaluate",
    "evaluate_many",
    "evaluation_from_fired",
    "explain",
    "explain_text",
    "fired",
    "near_misses",
    "record",
    "record_text",
    "replay",
    "trace_facts",
]
