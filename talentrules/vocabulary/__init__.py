"""The rulebook's words: rules/*.yaml -> the facts, named values and signals rules read.

The stage before ``facts`` and ``rulebook``, and the one package both read the
vocabulary from (``facts`` computes what it declares, ``rulebook`` checks rules
against it), so data flows one way. It reads:

- ``parameters.yaml``: every threshold, once, with its unit and meaning. Rules,
  fact derivations and texts name a parameter as ``$habit_months``;
- ``signals.yaml``: the signal catalogue (code, plain name, description, heart
  signal or counter-signal, core or supporting, the counter-signal's route) and
  named sets of codes (``$core_signals``);
- ``vocabulary.yaml``: every fact rules may read; the row sets that say which
  rows count for what (``observed``: reported by others, not stale), and for each
  evidence fact the rows and the measure it is derived from; the facts computed by a
  formula from other facts of the person (``performance_trend``); the protected
  attributes rules may never read, and the proxies of them the checker warns about;
  which facts briefs show where (``briefs``: the trend, a signal's line).

The YAML is composed into nodes (never constructed), so every scalar keeps the text
written and every node its line: each problem becomes a ``Diagnostic`` with file and
line, and the rulebook's checker reports them all together.

This package's front door is ``load_vocabulary`` (and ``read_vocabulary``); its modules:
- model:          what the vocabulary holds (FactSpec, Signal, RowSet, Parameter, ...);
- values:         values written in rule files: named values, a family's fields, literals;
- parameters:     parameters.yaml;
- signals:        signals.yaml;
- rowsets:        the row sets of vocabulary.yaml and the columns their tests may read;
- declared_facts: the facts of vocabulary.yaml, their derivations, protected names, proxies;
- formulas:       facts computed from other facts (``formula``), read and checked;
- briefs:         which facts briefs show where (``briefs``), checked against the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from talentrules.errors import RulebookError
from talentrules.rulefiles import Report, RuleFiles, open_rules
from talentrules.vocabulary.declared_facts import VOCABULARY_FILE, Loading, load_facts
from talentrules.vocabulary.formulas import formula_facts, reads_through
from talentrules.vocabulary.model import (
    ALL_SIGNALS,
    MEASURES,
    SIGNAL_FIELDS,
    SIGNAL_LINE_COLUMNS,
    UNKNOWN_WITHOUT_ROWS,
    BriefFacts,
    Derivation,
    FactSpec,
    Formula,
    Parameter,
    Proxy,
    RowSet,
    RowTest,
    Signal,
)
from talentrules.vocabulary.parameters import PARAMETERS_FILE, load_parameters
from talentrules.vocabulary.rowsets import row_columns
from talentrules.vocabulary.signals import SIGNAL_KINDS, SIGNAL_WEIGHTS, SIGNALS_FILE, load_signals
from talentrules.vocabulary.values import NAMED, Names, expand, parse_literal

__all__ = [  # what the other stages use of the rulebook's words
    "MEASURES",
    "NAMED",
    "PARAMETERS_FILE",
    "SIGNALS_FILE",
    "SIGNAL_FIELDS",
    "SIGNAL_KINDS",
    "SIGNAL_LINE_COLUMNS",
    "SIGNAL_WEIGHTS",
    "UNKNOWN_WITHOUT_ROWS",
    "VOCABULARY_FILE",
    "BriefFacts",
    "Derivation",
    "FactSpec",
    "Formula",
    "Names",
    "Parameter",
    "RowSet",
    "RowTest",
    "Signal",
    "Vocabulary",
    "expand",
    "formula_facts",
    "load_vocabulary",
    "parse_literal",
    "read_vocabulary",
    "reads_through",
    "signal_catalogue",
]


@dataclass(frozen=True)
class Vocabulary:
    """Everything rules/ declares that is not a rule or a decision."""

    facts: dict[str, FactSpec]
    names: Names
    signals: dict[str, Signal]
    rows: dict[str, RowSet]
    protected: frozenset[str]  # declared names (normalized) rules may never read
    proxies: tuple[Proxy, ...]
    briefs: BriefFacts  # which facts briefs show where

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self.names.parameters

    @property
    def sets(self) -> dict[str, tuple[str, ...]]:
        return self.names.sets


def load_vocabulary(files: RuleFiles, report: Report) -> Vocabulary | None:
    """Read parameters.yaml, signals.yaml and vocabulary.yaml of a rulebook.

    Problems go to ``report``, each at its file and line (or sheet and cell). None
    when vocabulary.yaml is missing or not YAML (then nothing else can be checked).
    parameters.yaml and signals.yaml are optional: a rulebook without them has no
    named thresholds and no signal facts.
    """
    names = Names()
    signals: dict[str, Signal] = {}
    if files.has(PARAMETERS_FILE):
        label = files.label(PARAMETERS_FILE)
        node = files.node(PARAMETERS_FILE, report)
        if node is not None:
            names.parameters.update(load_parameters(node, label, report))
    if files.has(SIGNALS_FILE):
        label = files.label(SIGNALS_FILE)
        node = files.node(SIGNALS_FILE, report)
        if node is not None:
            signals, sets = load_signals(node, label, report)
            names.sets.update(sets)
    else:
        names.sets[ALL_SIGNALS] = ()
    for signal in signals.values():
        # Texts of the catalogue may name parameters ($stale_months) too.
        interpolated = {
            k: names.text(getattr(signal, k), signal.file, signal.line, report)
            for k in ("description", "why", "route")
        }
        signals[signal.code] = Signal(
            signal.code,
            signal.name,
            signal.kind,
            signal.weight,
            interpolated["description"],
            interpolated["why"],
            interpolated["route"],
            signal.file,
            signal.line,
        )
    label = files.label(VOCABULARY_FILE)
    if not files.has(VOCABULARY_FILE):
        report.error(label, 1, f"missing: a rules folder needs {VOCABULARY_FILE}")
        return None
    node = files.node(VOCABULARY_FILE, report)
    if node is None:
        return None
    at = Loading(label, report, names, signals, {}, row_columns(signals))
    protected, proxies = load_facts(node, at)
    return Vocabulary(at.facts, names, signals, at.rows, protected, proxies, at.briefs)


def read_vocabulary(folder: str | Path | None = None) -> Vocabulary:
    """The vocabulary of a rulebook (a rules folder or a rulebook workbook; default: the
    packaged rules), checked.

    Raises RulebookError listing every error; for callers that need the words
    without the rules (ingest's signal codes, the workbook template).
    """
    files = open_rules(folder)
    report = Report()
    report.diagnostics.extend(files.problems)
    vocabulary = load_vocabulary(files, report)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if errors or vocabulary is None:
        lines = "\n".join(f"  {d}" for d in errors)
        raise RulebookError(
            f"{files.path}: the rulebook's vocabulary has errors (run 'talentrules rules check "
            f"{files.path}'):\n{lines}"
        )
    return vocabulary


def signal_catalogue(folder: str | Path | None = None) -> dict[str, Signal]:
    """The signal catalogue of a rules folder (default: the packaged rules)."""
    return read_vocabulary(folder).signals
