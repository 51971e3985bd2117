"""The JSON Schemas of the rule files (talentrules/schemas/rulebook-*.schema.json)
against the rulebooks the loaders read.

What an editor sees is what is validated: the YAML read as YAML 1.2 (the YAML editors'
language server reads, where ``No`` is text and ``12`` a number), converted to JSON.
The schemas are the structural part of ``talentrules rules check``: every file the
loaders accept validates (the default rulebook, the accepted rulebooks under
tests/rulebooks/, a rulebook through ``rules export`` and ``rules import``), and what
the loaders refuse for a structural reason (an unknown key, a missing key, a wrong
type, a condition that is no condition) the schema rejects too. What only the whole
rulebook can tell (an unknown fact, a type against another file's declaration, an
overlap, a cycle) stays the checker's, and is listed below case by case.

The editors' language server implements draft 7, so every check also runs under
draft 7, and must agree: the schemas use only keywords both drafts read alike.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError

from talentrules.changes import changes_problems
from talentrules.cli import cli
from talentrules.decide import CATALOGUE_FILE, catalogue_problems
from talentrules.errors import RulebookError
from talentrules.paths import (
    RULE_FILE_SCHEMA,
    RULE_TESTS_SCHEMA,
    RULEBOOK_SCHEMAS,
    default_rules_dir,
    rulebook_schema,
    schema_file,
)
from talentrules.rulebook import CHANGES_FILE, DECISIONS_FILE, check_rulebook, load_rulebook
from talentrules.rulefiles import compose_text
from talentrules.ruletests import load_rule_tests
from talentrules.vocabulary import PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE

ROOT = Path(__file__).resolve().parent.parent
BAD_RULEBOOKS = Path(__file__).parent / "rulebooks"
RULE_SCHEMAS = (*RULEBOOK_SCHEMAS.values(), RULE_FILE_SCHEMA, RULE_TESTS_SCHEMA)


# --- what an editor sees: the YAML as YAML 1.2, as JSON -----------------------------------

# The YAML 1.2 core schema's plain scalars (yaml.org/spec/1.2.2, 10.3.2); everything
# else, and every quoted or block scalar, is text.
_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")


def editor_view(node: yaml.Node | None) -> Any:
    """A composed YAML node tree as JSON data, read by the YAML 1.2 core schema."""
    if node is None:  # an empty file
        return None
    if isinstance(node, yaml.MappingNode):
        return {str(editor_view(key)): editor_view(value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [editor_view(item) for item in node.value]
    text = str(node.value)
    if node.style:  # quoted, literal or folded
        return text
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text)
    if re.fullmatch(r"0o[0-7]+", text):
        return int(text[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if re.fullmatch(r"[-+]?\.(?:inf|Inf|INF)", text):
        return float("-inf") if text.startswith("-") else float("inf")
    if re.fullmatch(r"\.(?:nan|NaN|NAN)", text):
        return float("nan")
    return text


def read_instance(path: Path) -> Any:
    return editor_view(compose_text(path.read_text(encoding="utf-8")))


def files_of(folder: Path) -> list[str]:
    """A rules folder's YAML files, as paths in the folder (``tests/heart.yaml``)."""
    found = [p.name for p in sorted(folder.glob("*.yaml"))]
    return found + [f"tests/{p.name}" for p in sorted(folder.glob("tests/*.yaml"))]


# --- validating, under draft 2020-12 and draft 7 ------------------------------------------


@cache
def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return data


@cache
def validators(name: str) -> tuple[Draft202012Validator, Draft7Validator]:
    return Draft202012Validator(schema(name)), Draft7Validator(schema(name))


def errors_of(name: str, instance: object) -> list[ValidationError]:
    """The draft 2020-12 errors; draft 7 (what editors implement) must agree."""
    latest, draft7 = validators(name)
    found = list(latest.iter_errors(instance))
    valid7 = draft7.is_valid(instance)
    assert valid7 == (not found), f"{name}: draft 7 says valid={valid7}, draft 2020-12 {found}"
    return found


def problems(folder: Path, file: str, instance: object | None = None) -> list[str]:
    """What the file's schema says of ``file`` of ``folder`` (or of ``instance``)."""
    if instance is None:
        instance = read_instance(folder / file)
    name = rulebook_schema(file)
    found = errors_of(name, instance)
    return [f"{file}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def loader_refusals(folder: Path) -> list[str]:
    """Every error the loaders give for ``folder``: the language, the catalogue and
    allocation policy, the rule tests."""
    messages = [str(d) for d in check_rulebook(folder) if d.severity == "error"]
    if messages:
        return messages
    rulebook = load_rulebook(folder)
    messages += catalogue_problems(rulebook)
    messages += changes_problems(rulebook)
    try:
        load_rule_tests(rulebook, folder)
    except RulebookError as error:
        messages.append(str(error))
    return messages


# --- the schemas themselves ---------------------------------------------------------------

# Keywords that mean the same under draft 7 and draft 2020-12 (the editors' language
# server implements draft 7): no prefixItems, dependentRequired, unevaluated*, ...
PORTABLE = {
    *("$schema", "$id", "$ref", "$defs", "$comment", "title", "description"),
    *("type", "enum", "const", "properties", "additionalProperties", "required"),
    *("propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems"),
    *("uniqueItems", "pattern", "minLength", "minimum", "exclusiveMinimum"),
    *("exclusiveMaximum", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"),
}
ANNOTATIONS = {"description", "title", "$comment"}


def subschemas(node: object, at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``node`` (properties' and $defs' values, items, ...)."""
    if isinstance(node, list):
        for n, item in enumerate(node):
            yield from subschemas(item, f"{at}/{n}")
    elif isinstance(node, dict):
        yield at, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from subschemas(sub, f"{at}/{key}/{name}")
            elif key in ("enum", "const", "required"):
                continue
            elif isinstance(value, dict | list):
                yield from subschemas(value, f"{at}/{key}")


@pytest.mark.parametrize("name", RULE_SCHEMAS)
def test_each_rule_schema_reads_alike_in_draft_7_and_draft_2020_12(name: str) -> None:
    data = schema(name)
    Draft202012Validator.check_schema(data)
    Draft7Validator.check_schema(data)
    for at, node in subschemas(data):
        assert set(node) <= PORTABLE, f"{name}{at}: {set(node) - PORTABLE}"
        if "$ref" in node:  # draft 7 ignores a $ref's siblings: only words may stand there
            assert set(node) - {"$ref"} <= ANNOTATIONS, f"{name}{at}: beside $ref"
        if "pattern" in node:  # Python's re and an editor's JavaScript read it alike
            re.compile(node["pattern"])
            plain = node["pattern"].replace("(?=", "").replace("(?!", "")
            assert "(?" not in plain, f"{name}{at}: {node['pattern']}"  # no (?P<..>, (?i)


def test_the_rule_schemas_share_their_common_definitions() -> None:
    """A definition of the same name (text, comparison, condition, ...) says the same in
    every rule schema that has it, so a change to one is made to all."""
    seen: dict[str, tuple[str, object]] = {}
    for name in RULE_SCHEMAS:
        for key, definition in schema(name)["$defs"].items():
            if key in seen:
                assert definition == seen[key][1], f"$defs/{key}: {name} and {seen[key][0]}"
            else:
                seen[key] = (name, definition)


def test_every_kind_of_rules_folder_file_has_its_schema() -> None:
    named = {PARAMETERS_FILE, SIGNALS_FILE, VOCABULARY_FILE, DECISIONS_FILE, CATALOGUE_FILE}
    named.add(CHANGES_FILE)
    assert set(RULEBOOK_SCHEMAS) == named
    assert rulebook_schema("decisions.yaml") == "rulebook-decisions"
    assert rulebook_schema("20-heart.yaml") == RULE_FILE_SCHEMA
    assert rulebook_schema("tests/heart.yaml") == RULE_TESTS_SCHEMA
    for name in RULE_SCHEMAS:
        assert schema(name)["$id"] == f"urn:talentrules:schema:{name}:1"


# --- the default rulebook -----------------------------------------------------------------


@pytest.mark.parametrize("file", files_of(default_rules_dir()))
def test_every_file_of_the_default_rulebook_validates(file: str) -> None:
    assert problems(default_rules_dir(), file) == []


MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")
REPOSITORY_RULES = ROOT / "rules"  # the packaged copy (a wheel's) has no docs/ beside it


@pytest.mark.parametrize("file", files_of(REPOSITORY_RULES))
def test_every_default_file_names_its_schema_for_editors(file: str) -> None:
    """Its first line is the modeline of its kind's schema: a path from the file to the
    copy in docs/schemas/ (scripts/gen_docs.py writes it), so an editor with the YAML
    language server checks the file and explains every key on hover."""
    path = REPOSITORY_RULES / file
    match = MODELINE.match(path.read_text(encoding="utf-8"))
    assert match is not None, f"{file}: no '# yaml-language-server: $schema=' first line"
    target = (path.parent / match[1]).resolve()
    assert target == ROOT / "docs" / "schemas" / f"{rulebook_schema(file)}.schema.json"
    assert target.read_text(encoding="utf-8") == schema_file(rulebook_schema(file)).read_text(
        encoding="utf-8"
    )


def test_the_default_rulebook_is_what_the_editor_sees(tmp_path: Path) -> None:
    """Rewritten from the JSON the schemas validate, the default rulebook loads with no
    error and its rule tests pass: that view of the YAML (YAML 1.2) is faithful, so a
    schema verdict on it is a verdict on the file."""
    rewritten = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    for file in files_of(rewritten):
        data = read_instance(rewritten / file)
        (rewritten / file).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert loader_refusals(rewritten) == []
    result = CliRunner().invoke(cli, ["rules", "test", str(rewritten)])
    assert result.exit_code == 0, result.output


# --- the rulebooks under tests/rulebooks/ -------------------------------------------------

# Refused by the loaders for a reason one file's schema states too: the file it rejects.
SCHEMA_REJECTS = {
    "bad-condition": "rules.yaml",  # 'performance is at least 3': no FACT OP VALUE
    "control-character": "rules.yaml",  # a control character in a condition
    "empty-condition-list": "rules.yaml",  # when: []
    "empty-file": "more.yaml",  # nothing: not a mapping with rules:
    "formula-with-rows": "vocabulary.yaml",  # a fact computed by a formula and from rows
    "list-without-parentheses": "rules.yaml",  # readiness in Ready now
    "missing-key": "rules.yaml",  # a rule without title
    "unknown-fact-type": "vocabulary.yaml",  # type: integer
    "unknown-key": "rules.yaml",  # a rule with weight:
    "wrong-type": "rules.yaml",  # a title that is a list
}
# Refused by the loaders for what no schema of one file can state; every file validates.
SEMANTIC = {
    "yaml-syntax": "not YAML: the editor's YAML parser reports it, there is nothing to validate",
    "missing-vocabulary": "a file that is missing from the folder",
    "boolean-value": "a value of the type another file (vocabulary.yaml) declares",
    "date-value": "a date that does not exist (2024-13-01), of a fact vocabulary.yaml types",
    "enum-value": "a value among the ones vocabulary.yaml declares",
    "number-vs-text": "a value of the type vocabulary.yaml declares",
    "ordering-on-boolean": "an operator against the fact type vocabulary.yaml declares",
    "ordering-on-enum": "an operator against the fact type vocabulary.yaml declares",
    "ordering-on-text": "an operator against the fact type vocabulary.yaml declares",
    "out-of-range": "a literal against the range vocabulary.yaml declares",
    "huge-number": "the size of a number written inside a condition's text",
    "non-finite-number": "inf written inside a condition's text, for a number fact",
    "unknown-fact": "a name among the facts vocabulary.yaml declares",
    "unknown-decision": "a name among the decisions decisions.yaml declares",
    "then-not-outcome": "an outcome among the ones decisions.yaml declares",
    "decision-is-unknown": "'is unknown' on a name decisions.yaml makes a decision",
    "default-not-outcome": "a value among a sibling list's values",
    "duplicate-id": "ids unique across the rulebook",
    "cycle": "decisions reading each other across rules",
    "never-produced": "an outcome read that no rule concludes",
    "never-fires-bound": "conditions that no value satisfies",
    "never-fires-enum": "conditions that no value satisfies",
    "never-fires-range": "conditions that no value satisfies",
    "never-fires-unknown": "conditions that no value satisfies",
    "overlap-unique": "two rules that can both fire",
    "priority-tie-overlap": "two rules that can both fire",
    "protected-attribute": "a protected attribute (the contract's list, normalized)",
    "protected-in-vocabulary": "a protected attribute (the contract's list, normalized)",
    "protected-proxy": "a name the file's own protected: list declares",
    "briefs-unknown-fact": "a name among the facts vocabulary.yaml declares",
    "briefs-signal-fact": "a name among the facts a family declares for every signal code",
    "briefs-tally-prefix": "a prefix some declared fact PREFIX.VALUE has, for a column's value",
}
# Accepted by the loaders (warnings only): every file validates.
ACCEPTED = ("only-unknown", "priority-tie-disjoint")


def test_every_rulebook_under_tests_is_classified() -> None:
    cases = {p.name for p in BAD_RULEBOOKS.iterdir() if p.is_dir()}
    assert cases == {*SCHEMA_REJECTS, *SEMANTIC, *ACCEPTED}
    for case in cases:
        expected = (BAD_RULEBOOKS / case / "expected.txt").read_text(encoding="utf-8")
        refused = any(": warning: " not in line for line in expected.splitlines())
        assert refused == (case not in ACCEPTED), case


@pytest.mark.parametrize("case", sorted([*SCHEMA_REJECTS, *SEMANTIC, *ACCEPTED]))
def test_the_rulebooks_under_tests(case: str) -> None:
    folder = BAD_RULEBOOKS / case
    rejected: dict[str, list[str]] = {}
    for file in files_of(folder):
        if case == "yaml-syntax" and file == "rules.yaml":
            with pytest.raises(yaml.YAMLError):
                read_instance(folder / file)
            continue
        found = problems(folder, file)
        if found:
            rejected[file] = found
    if case in SCHEMA_REJECTS:
        assert list(rejected) == [SCHEMA_REJECTS[case]], rejected
    else:
        assert rejected == {}


# --- a rulebook through the workbook: rules export, then rules import ---------------------


def test_a_rulebook_exported_and_imported_still_validates(tmp_path: Path) -> None:
    runner = CliRunner()
    book = tmp_path / "rulebook.xlsx"
    result = runner.invoke(cli, ["rules", "export", str(default_rules_dir()), "-o", str(book)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "imported"
    result = runner.invoke(cli, ["rules", "import", str(book), "-o", str(folder)])
    assert result.exit_code == 0, result.output
    files = files_of(folder)
    assert set(files) >= {*RULEBOOK_SCHEMAS, "20-heart.yaml", "tests/personas.yaml"}
    for file in files:
        assert problems(folder, file) == [], file


# --- drift: a key added or removed is caught, by the schema and by the loader -------------

# (file of the default rulebook, path to an object in it, what is done to it). A step
# "[a.b]" picks the first item of a list that has a.b.
DRIFTS = [
    ("20-heart.yaml", (), "add"),
    ("20-heart.yaml", ("rules", 0), "add"),
    ("20-heart.yaml", ("rules", 0), "remove:rationale"),
    ("20-heart.yaml", ("rules", 0, "when", 0), "add"),  # an any: mapping
    ("10-habitual.yaml", ("rules", "[for_each]"), "add"),
    ("decisions.yaml", (), "add"),
    ("decisions.yaml", ("decisions", "heart"), "add"),
    ("decisions.yaml", ("decisions", "heart"), "remove:outcomes"),
    ("decisions.yaml", ("decisions", "track", "texts", "Leadership"), "add"),
    ("decisions.yaml", ("decisions", "track"), "remove:interest"),
    ("parameters.yaml", (), "add"),
    ("parameters.yaml", ("parameters", "habit_months"), "add"),
    ("parameters.yaml", ("parameters", "habit_months"), "remove:value"),
    ("signals.yaml", (), "add"),
    ("signals.yaml", ("signals", "H-DEV"), "add"),
    ("signals.yaml", ("signals", "H-DEV"), "remove:kind"),
    ("signals.yaml", ("signals", "H-DEV"), "remove:weight"),
    ("signals.yaml", ("signals", "C-DER"), "remove:route"),
    ("signals.yaml", ("sets", "core_signals"), "add"),
    ("vocabulary.yaml", (), "add"),
    ("vocabulary.yaml", ("facts", "performance"), "add"),
    ("vocabulary.yaml", ("facts", "performance"), "remove:type"),
    ("vocabulary.yaml", ("facts", "readiness"), "remove:values"),
    ("vocabulary.yaml", ("rows", "observed"), "add"),
    ("vocabulary.yaml", ("rows", "observed"), "remove:meaning"),
    ("vocabulary.yaml", ("families", "signal"), "add"),
    ("vocabulary.yaml", ("families", "signal", "facts", "episodes"), "add"),
    ("vocabulary.yaml", ("families", "signal", "facts", "episodes"), "remove:measure"),
    ("vocabulary.yaml", ("families", "signal", "facts", "contexts"), "remove:column"),
    ("vocabulary.yaml", ("proxies", 0), "add"),
    ("vocabulary.yaml", ("briefs",), "add"),
    ("vocabulary.yaml", ("briefs", "signal_line"), "add"),
    ("vocabulary.yaml", ("briefs", "signal_line"), "remove:contexts"),
    ("catalogue.yaml", (), "add"),
    ("catalogue.yaml", ("investments", 0), "add"),
    ("catalogue.yaml", ("investments", 0), "remove:code"),
    ("catalogue.yaml", ("allocation",), "add"),
    ("catalogue.yaml", ("allocation",), "remove:order"),
    ("catalogue.yaml", ("allocation", "eligible"), "add"),
    ("changes.yaml", (), "add"),
    ("changes.yaml", ("changes", 0), "add"),
    ("changes.yaml", ("changes", 0), "remove:says"),
    ("changes.yaml", ("changes", 1), "add"),
    ("changes.yaml", ("changes", 3), "add"),
    ("tests/heart.yaml", (), "add"),
    ("tests/heart.yaml", ("tests", 0), "add"),
    ("tests/heart.yaml", ("tests", 0), "remove:name"),
    ("tests/personas.yaml", ("tests", "[person]", "person"), "add"),
    ("tests/personas.yaml", ("tests", "[person.team]", "person", "team"), "add"),
    ("tests/personas.yaml", ("tests", "[person.evidence]", "person", "evidence", 0), "add"),
    (
        "tests/personas.yaml",
        ("tests", "[person.evidence]", "person", "evidence", 0),
        "remove:source_type",
    ),
    ("tests/personas.yaml", ("tests", "[person.nominations]", "person", "nominations", 0), "add"),
    ("tests/personas.yaml", ("tests", "[person.development]", "person", "development", 0), "add"),
]


def _has(item: object, dotted: str) -> bool:
    for key in dotted.split("."):
        if not isinstance(item, dict) or key not in item:
            return False
        item = item[key]
    return True


def locate(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, str) and step.startswith("["):
            step = next(n for n, item in enumerate(data) if _has(item, step[1:-1]))
        data = data[step]
    return data


def _drifted(file: str, path: tuple[str | int, ...], change: str) -> tuple[Any, Any]:
    """The default file's JSON with the change made, and the object changed."""
    data = read_instance(default_rules_dir() / file)
    assert problems(default_rules_dir(), file, data) == []
    target = locate(data, path)
    assert isinstance(target, dict), f"{file}: {path} is not a mapping"
    if change == "add":
        target["new_key"] = "x"
    else:
        key = change.split(":", 1)[1]
        assert key in target, f"{file}: {path} has no {key}"
        del target[key]
    return data, target


def _written(tmp_path: Path, file: str, data: Any) -> Path:
    folder = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    (folder / file).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("file", "path", "change"),
    DRIFTS,
    ids=[f"{f}:{'/'.join(map(str, p))}:{c}" for f, p, c in DRIFTS],
)
def test_a_key_added_or_removed_is_caught(
    tmp_path: Path, file: str, path: tuple[str | int, ...], change: str
) -> None:
    data, _ = _drifted(file, path, change)
    assert problems(default_rules_dir(), file, data), f"the schema took {change} at {path}"
    refused = loader_refusals(_written(tmp_path, file, data))
    key = "new_key" if change == "add" else change.split(":", 1)[1]
    assert any(key in message for message in refused), refused


# How each loader says which keys a mapping takes, beside the unknown one.
ALLOWED = (
    r"\(allowed: ([^)]*)\)",  # the rule language (talentrules.rulefiles.keys)
    r"\((?:a test|a rule-test file|an investment|allocation|catalogue\.yaml) has ([^)]*)\)",
    r"\((?:changes\.yaml|an? \w+ change) has ([^)]*)\)",  # changes.yaml
    r"\(it takes ([^)]*)\)",  # a test's person, team and rows
    r"takes exactly one key: ([^(]*)",  # all, any or not
    r"eligible holds ('\w+:' and '\w+:')",
)


def _loader_allows(messages: list[str]) -> set[str]:
    for message in messages:
        if "new_key" not in message:
            continue
        for pattern in ALLOWED:
            match = re.search(pattern, message)
            if match:
                return set(re.findall(r"[\w-]+", match[1])) - {"or", "and"}
    raise AssertionError(f"no list of allowed keys in {messages}")


def _schema_allows(errors: list[ValidationError], target: object) -> set[str]:
    for error in errors:
        if error.validator == "additionalProperties" and error.instance is target:
            return set(error.schema["properties"])
        if error.context:
            try:
                return _schema_allows(list(error.context), target)
            except AssertionError:
                continue
    raise AssertionError(f"no additionalProperties error for the changed object: {errors}")


ADDED = [(f, p, c) for f, p, c in DRIFTS if c == "add"]


@pytest.mark.parametrize(
    ("file", "path", "change"), ADDED, ids=[f"{f}:{'/'.join(map(str, p))}" for f, p, _ in ADDED]
)
def test_the_schema_and_the_loader_allow_the_same_keys(
    tmp_path: Path, file: str, path: tuple[str | int, ...], change: str
) -> None:
    """Where a key is added, the loader's message lists the keys it takes: the schema's
    properties there are exactly those, so a key one of them learns and the other not
    fails here."""
    data, target = _drifted(file, path, change)
    schema_keys = _schema_allows(errors_of(rulebook_schema(file), data), target)
    loader_keys = _loader_allows(loader_refusals(_written(tmp_path, file, data)))
    assert schema_keys == loader_keys


# --- the enums and the required keys the loaders check, against the schemas ---------------


def _definition(name: str, *path: str) -> Any:
    return locate(schema(name), path)


def test_the_enums_are_the_loaders() -> None:
    from talentrules.contract import INVESTMENT_TRACKS
    from talentrules.decide import _MODES
    from talentrules.rulebook import ROLES
    from talentrules.rulebook.decisions import _POLICIES
    from talentrules.vocabulary import MEASURES, SIGNAL_KINDS, SIGNAL_LINE_COLUMNS, SIGNAL_WEIGHTS
    from talentrules.vocabulary.declared_facts import _FACT_TYPES

    decision = _definition("rulebook-decisions", "$defs", "decision", "properties")
    assert tuple(decision["policy"]["enum"]) == _POLICIES
    assert tuple(decision["role"]["enum"]) == tuple(ROLES)
    fact = _definition("rulebook-vocabulary", "$defs", "fact", "properties")
    assert tuple(fact["type"]["enum"]) == _FACT_TYPES
    assert tuple(fact["measure"]["enum"]) == MEASURES
    briefs = _definition("rulebook-vocabulary", "properties", "briefs", "properties")
    assert tuple(briefs["signal_line"]["required"]) == SIGNAL_LINE_COLUMNS
    signal = _definition("rulebook-signals", "$defs", "signal", "properties")
    assert tuple(signal["kind"]["enum"]) == SIGNAL_KINDS
    assert tuple(signal["weight"]["enum"]) == SIGNAL_WEIGHTS
    investment = _definition("rulebook-catalogue", "$defs", "investment", "properties")
    assert investment["track"]["enum"] == [*INVESTMENT_TRACKS, None]
    assert {str(m) for m in investment["mode"]["enum"] if m is not None} == set(_MODES)


def test_the_persons_columns_are_the_contracts() -> None:
    """A test's person: the keys persons.py takes, rows needing what a workbook row needs."""
    from talentrules.contract import DEVELOPMENT, EVIDENCE, NOMINATIONS
    from talentrules.persons import PERSON_KEYS, ROW_FIELDS, TEAM_FIELDS

    defs = schema(RULE_TESTS_SCHEMA)["$defs"]
    assert tuple(defs["person"]["properties"]) == PERSON_KEYS
    assert tuple(defs["person"]["properties"]["team"]["properties"]) == TEAM_FIELDS
    filled = {"evidence_id", "employee_id", "nominee_id", "nominator_id", "observed_on"}
    for key, sheet in (("evidence", EVIDENCE), ("nominations", NOMINATIONS)):
        row = defs[f"{key}-row"]
        assert tuple(row["properties"]) == ROW_FIELDS[key]
        needed = [c.name for c in sheet.columns if c.needed and c.name not in filled]
        assert row["required"] == needed
    row = defs["development-row"]
    assert tuple(row["properties"]) == ROW_FIELDS["development"]
    assert row["required"] == [c.name for c in DEVELOPMENT.columns if c.needed][1:]


# --- values the loaders refuse, that the schemas reject too -------------------------------

EVIDENCE_ROW = ("tests", "[person.evidence]", "person", "evidence", 0)
WRONG_VALUES = [
    ("20-heart.yaml", ("rules", 0), "when", "performance is at least 3"),
    ("20-heart.yaml", ("rules", 0), "when", ["performance >="]),
    ("20-heart.yaml", ("rules", 0), "when", {"any": "performance >= 3"}),
    ("20-heart.yaml", ("rules", 0), "when", {"any": ["performance >= 3"] * 101}),
    ("20-heart.yaml", ("rules", 0), "id", "heart too new"),
    ("20-heart.yaml", ("rules", 0), "priority", "high"),
    ("20-heart.yaml", ("rules", 0), "priority", 1.5),
    ("20-heart.yaml", ("rules", 0), "title", None),
    ("20-heart.yaml", ("rules", 0), "then", ["Strong"]),
    ("10-habitual.yaml", ("rules", "[for_each]"), "for_each", "heart_signals"),
    ("decisions.yaml", ("decisions", "heart"), "policy", "first"),
    ("decisions.yaml", ("decisions", "heart"), "role", "headline"),
    ("decisions.yaml", ("decisions", "heart"), "outcomes", []),
    ("decisions.yaml", ("decisions", "heart"), "outcomes", ["Strong", "Strong"]),
    ("decisions.yaml", ("decisions", "heart", "texts", "Strong"), "interest", {"x": "y"}),
    ("parameters.yaml", ("parameters", "habit_months"), "value", "twelve"),
    ("parameters.yaml", ("parameters", "habit_months"), "value", 1e16),
    ("parameters.yaml", ("parameters",), "habit-months", {"value": 1, "meaning": "m"}),
    ("parameters.yaml", ("parameters",), "code", {"value": 1, "meaning": "m"}),
    ("signals.yaml", ("signals", "H-DEV"), "kind", "heart"),
    ("signals.yaml", ("signals", "H-DEV"), "weight", "major"),
    ("signals.yaml", ("signals",), "1-X", {"name": "n", "kind": "counter", "description": "d"}),
    ("signals.yaml", ("sets",), "mine", {"kind": "both"}),
    ("vocabulary.yaml", ("facts", "performance"), "range", [1]),
    ("vocabulary.yaml", ("facts", "performance"), "values", ["Low", "High"]),
    ("vocabulary.yaml", ("facts", "readiness"), "range", [1, 5]),
    ("vocabulary.yaml", ("facts", "readiness"), "rows", "observed"),
    ("vocabulary.yaml", ("facts",), "person name", {"type": "text", "meaning": "m"}),
    ("vocabulary.yaml", ("rows", "observed"), "sheet", "Employees"),
    ("vocabulary.yaml", ("families", "signal", "facts", "episodes"), "measure", "sum"),
    ("vocabulary.yaml", ("families", "signal", "facts", "episodes"), "column", "context"),
    ("vocabulary.yaml", ("families", "signal", "facts", "episodes"), "where", []),
    ("vocabulary.yaml", ("briefs",), "trend", ["performance_trend"]),
    ("vocabulary.yaml", ("briefs",), "signal_line", "episodes"),
    ("vocabulary.yaml", ("briefs", "signal_line"), "episodes", None),
    ("vocabulary.yaml", ("briefs",), "influence", ["influence"]),
    ("vocabulary.yaml", ("briefs",), "aspiration_statement", {"fact": "x"}),
    ("vocabulary.yaml", ("proxies", 0), "contains", "birth"),
    ("catalogue.yaml", ("investments", 0), "seats", -1),
    ("catalogue.yaml", ("investments", 0), "cost_per_person", "1500"),
    ("catalogue.yaml", ("investments", 0), "track", "Management"),
    ("catalogue.yaml", ("investments", 0), "mode", "50"),
    ("catalogue.yaml", ("allocation",), "tie_break", "seniority"),
    ("catalogue.yaml", ("allocation",), "order", []),
    ("catalogue.yaml", ("allocation", "eligible", "tracks"), "Leaders", {"heart": ["Strong"]}),
    ("catalogue.yaml", ("allocation",), "advantage", ["Management"]),
    ("catalogue.yaml", ("allocation",), "fallback", ["LEAD-ROTATE"]),
    ("decisions.yaml", ("decisions", "heart", "fairness"), "Strong", "good"),
    ("changes.yaml", (), "show", 0),
    ("changes.yaml", ("changes", 0), "up_to", "three"),
    ("changes.yaml", ("changes", 0), "observe", 3),
    ("changes.yaml", ("changes", 1), "raise", "yes"),
    ("changes.yaml", ("changes", 3), "record", []),
    ("changes.yaml", ("explain",), "verdict", "Strong"),
    ("tests/heart.yaml", ("tests", 0), "facts", ["performance"]),
    ("tests/heart.yaml", ("tests", 0), "expect", "Strong"),
    ("tests/personas.yaml", EVIDENCE_ROW, "months_ago", None),  # no date then
    ("tests/personas.yaml", EVIDENCE_ROW, "observed_on", "2025-01-01"),  # two dates
]  # fmt: skip


@pytest.mark.parametrize(
    ("file", "path", "key", "value"),
    WRONG_VALUES,
    ids=[f"{f}:{'/'.join(map(str, p))}/{k}={str(v)[:20]}" for f, p, k, v in WRONG_VALUES],
)
def test_a_wrong_value_is_caught_by_the_schema_and_the_loader(
    tmp_path: Path, file: str, path: tuple[str | int, ...], key: str, value: object
) -> None:
    data = read_instance(default_rules_dir() / file)
    target = locate(data, path)
    target[key] = copy.deepcopy(value)
    assert problems(default_rules_dir(), file, data), f"the schema took {key}: {value!r}"
    assert loader_refusals(_written(tmp_path, file, data)), f"the loader took {key}: {value!r}"
