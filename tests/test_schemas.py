"""The JSON Schemas of the outputs (talentrules/schemas/) against real outputs of
``evaluate``: the clean sample, the broken sample with --allow-rejects, a run
with every kind of panel override, one with the rulebook as a workbook (rules
export) and one with a rulebook whose management pattern collects its outcomes. The
schemas are exact (no unlisted key, every listed key required), so an output that
changes shape fails here until its schema, and docs/outputs.md, docs/trace.md or
docs/audit.md, change with it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from talentrules.cli import cli
from talentrules.paths import SCHEMAS, default_rules_dir, sample_workbook, schema_file
from talentrules.rulebook import load_rulebook
from talentrules.rulexlsx import export_rulebook


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return data


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=FormatChecker())


def errors(name: str, instance: object) -> list[str]:
    found = validator(name).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def _more_overrides(path: Path) -> Path:
    """The sample with an allocation override and a superseded one beside its own two."""
    book = openpyxl.load_workbook(sample_workbook())
    sheet = book["Overrides"]
    rows = [
        ("00001", "allocation", "LEAD-STRETCH: allocated", "Seat freed.", "A. Moreau",
         dt.date(2026, 11, 5)),
        ("00002", "track", "Expert", "First view.", "K. Osei", dt.date(2026, 11, 4)),
        ("00002", "track", "Leadership", "Second view.", "K. Osei", dt.date(2026, 11, 6)),
    ]  # fmt: skip
    for n, values in enumerate(rows, sheet.max_row + 1):
        for c, value in enumerate(values, 1):
            sheet.cell(n, c).value = value
    book.save(path)
    return path


def _management_collects(folder: Path) -> Path:
    """The default rulebook with the management pattern collecting its outcomes: a
    field's JSON type must not follow a decision's hit policy (schema v1)."""
    rules = Path(shutil.copytree(default_rules_dir(), folder))
    decisions = rules / "decisions.yaml"
    text = decisions.read_text(encoding="utf-8")
    start = text.index("\n  management:\n")
    at = text.index("policy: priority", start)
    decisions.write_text(
        text[:at] + "policy: collect" + text[at + len("policy: priority") :], encoding="utf-8"
    )
    management = load_rulebook(rules).role("management_pattern")
    assert management is not None and management.policy == "collect"
    return rules


RUNS = {
    "sample": lambda tmp: [str(sample_workbook())],
    "broken-allow-rejects": lambda tmp: [
        str(sample_workbook("panel_review_broken.xlsx")),
        "--allow-rejects",
    ],
    "overrides": lambda tmp: [str(_more_overrides(tmp / "overrides.xlsx"))],
    "rulebook-workbook": lambda tmp: [
        str(sample_workbook()),
        "--rules",
        str(export_rulebook(None, tmp / "rulebook.xlsx")),
    ],
    "management-collects": lambda tmp: [
        str(sample_workbook()),
        "--rules",
        str(_management_collects(tmp / "rules")),
    ],
}


@pytest.fixture(scope="module", params=list(RUNS))
def outdir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "out"
    result = CliRunner().invoke(cli, ["evaluate", *RUNS[request.param](tmp), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def trace_lines(outdir: Path) -> Iterator[dict[str, Any]]:
    with open(outdir / "trace.jsonl", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    data = schema(name)
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(data)


def test_recommendations_json(outdir: Path) -> None:
    data = json.loads((outdir / "recommendations.json").read_text(encoding="utf-8"))
    assert errors("recommendations", data) == []


def test_every_trace_line(outdir: Path) -> None:
    check = validator("trace-line")
    for number, line in enumerate(trace_lines(outdir), 1):
        problems = [e.message for e in check.iter_errors(line)]
        assert problems == [], f"trace.jsonl line {number}: {problems[:5]}"


def test_manifest_json(outdir: Path) -> None:
    data = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    assert errors("manifest", data) == []


def test_the_runs_reach_the_schemas_optional_branches(outdir: Path) -> None:
    """What the runs hold between them, so the tests above are not vacuous."""
    data = json.loads((outdir / "recommendations.json").read_text(encoding="utf-8"))
    overrides = [o for p in data["people"] for o in p["override"]]
    if outdir.parent.name.startswith("broken"):
        assert data["rejected"] and all(r["reasons"] for r in data["rejected"])
    elif outdir.parent.name.startswith("rulebook"):
        manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["rulebook"]["path"].endswith("rulebook.xlsx")
        line = next(trace_lines(outdir))
        assert line["fired"] and line["decisions"]  # the rules' places are the rulebook's
    elif outdir.parent.name.startswith("management"):
        assert any(len(p["outcomes"]["management"]) > 1 for p in data["people"])
        assert any(", " in p["management"] for p in data["people"])  # one string still
    elif outdir.parent.name.startswith("overrides"):
        assert any(o["target"] for o in overrides)  # an allocation override
        assert any(o["superseded_by"] for o in overrides) and any(o["applies"] for o in overrides)
    else:
        assert overrides and data["waitlist"] and not data["rejected"]


# --- strictness: a changed output fails ---------------------------------------------------


@pytest.fixture(scope="module")
def sample_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("strict") / "out"
    result = CliRunner().invoke(cli, ["evaluate", str(sample_workbook()), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return {
        "recommendations": json.loads((out / "recommendations.json").read_text("utf-8")),
        "trace-line": next(trace_lines(out)),
        "manifest": json.loads((out / "manifest.json").read_text("utf-8")),
    }


# (schema, path to an object in the output, what is done to it)
DRIFTS = [
    ("recommendations", (), "add"),
    ("recommendations", ("people", 0), "add"),
    ("recommendations", ("people", 0), "remove:track"),
    ("recommendations", ("people", 0, "brief"), "add"),
    ("recommendations", ("budget",), "remove:remaining"),
    ("trace-line", (), "add"),
    ("trace-line", (), "remove:chain"),
    ("trace-line", ("cells",), "add"),
    ("trace-line", ("decisions", "heart"), "remove:policy"),
    ("trace-line", ("engine",), "add"),
    ("trace-line", ("recommendation",), "add"),
    ("trace-line", ("recommendation", "fields"), "add"),
    ("trace-line", ("recommendation", "fields"), "remove:balance"),
    ("manifest", (), "add"),
    ("manifest", ("rulebook",), "remove:parameters"),
    ("manifest", ("options",), "add"),
    ("manifest", ("counts",), "remove:overrides"),
    ("manifest", ("trace",), "add"),
]


@pytest.mark.parametrize(
    ("name", "path", "change"),
    DRIFTS,
    ids=[f"{n}:{'/'.join(map(str, p))}:{c}" for n, p, c in DRIFTS],
)
def test_a_key_added_or_removed_is_caught(
    sample_outputs: dict[str, Any], name: str, path: tuple[str | int, ...], change: str
) -> None:
    data = copy.deepcopy(sample_outputs[name])
    assert errors(name, data) == []
    target = data
    for step in path:
        target = target[step]
    if change == "add":
        target["new_key"] = 1
    else:
        del target[change.split(":", 1)[1]]
    assert errors(name, data), f"{name}: {path} {change} was not caught"


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("recommendations", ("people", 0, "allocation"), {"X": {"status": "pending"}}),
        ("trace-line", ("chain", "prev"), "not a hash"),
        ("trace-line", ("trace_version",), 2),
        ("manifest", ("started",), "yesterday"),
        ("recommendations", ("cycle", "as_of"), "2026-13-45"),
        ("manifest", ("counts", "problems"), {"fatal": 1}),
        ("manifest", ("rulebook", "parameters", "habit_months"), "12"),
        ("manifest", ("rulebook", "parameters"), {"habit-months": 12}),
        ("trace-line", ("recommendation", "fields", "heart"), "Strong"),
    ],
    ids=[
        "unknown-status",
        "bad-hash",
        "trace-version",
        "time",
        "date",
        "severity",
        "parameter-not-a-number",
        "parameter-name",
        "field-not-a-list",
    ],
)
def test_a_wrong_value_is_caught(
    sample_outputs: dict[str, Any], name: str, path: tuple[str | int, ...], value: object
) -> None:
    data = copy.deepcopy(sample_outputs[name])
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        validator(name).validate(data)


def test_explain_json_is_a_trace_line_without_the_chain() -> None:
    result = CliRunner().invoke(
        cli, ["explain", "00010", str(sample_workbook()), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "chain" not in data and data["recommendation"]["overrides"]
    trace = schema("trace-line")
    record = {"$defs": trace["$defs"], **trace["$defs"]["record"]}
    assert list(Draft202012Validator(record).iter_errors(data)) == []
    assert errors("trace-line", data)  # the chain is what a line adds


def test_the_schemas_share_one_override() -> None:
    assert (
        schema("recommendations")["$defs"]["override"] == schema("trace-line")["$defs"]["override"]
    )
