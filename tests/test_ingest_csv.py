"""A folder of CSV files as the input: the same validation, row account and decisions as
the workbook, provenance as file:line:column, and every way a CSV file breaks named."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result

from talentrules.cli import cli
from talentrules.errors import WorkbookError
from talentrules.ingest import files, load_workbook, validation_report
from talentrules.model import Problem, split_ref
from talentrules.paths import sample_workbook

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


xlsx_to_csv = _module(ROOT / "scripts" / "xlsx_to_csv.py")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def folder(tmp_path: Path, files_: dict[str, str | bytes], name: str = "review") -> Path:
    """A CSV folder: file name -> text (written as UTF-8) or raw bytes."""
    where = tmp_path / name
    where.mkdir()
    for file, body in files_.items():
        path = where / file
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8", newline="")
    return where


EMPLOYEES = "employee_id,full_name\nE1,Ana\nE2,Bo\n"
EVIDENCE_HEAD = "evidence_id,employee_id,signal,observed_on,frequency,source_type\n"


def decisions(outdir: Path) -> list[dict[str, Any]]:
    """recommendations.json's people, with every cell reference masked: the decisions."""
    text = json.dumps(json.loads((outdir / "recommendations.json").read_text())["people"])
    masked = re.sub(r"[\w ]+\.csv:\d+:[\w ]+|[\w ]+![A-Z]+\d+", "REF", text)
    people: list[dict[str, Any]] = json.loads(masked)
    return people


@pytest.mark.parametrize("sample", ["panel_review.xlsx", "panel_review_vendor_export.xlsx"])
def test_csv_folder_of_a_sample_decides_as_the_workbook(tmp_path: Path, sample: str) -> None:
    """The vendor export has other tab names, header aliases, label scales and ids stored as
    numbers: written as CSV files as typed, every decision is the same."""
    csvs = tmp_path / "csv"
    written = xlsx_to_csv.convert(sample_workbook(sample), csvs)
    assert len(written) == 9
    for source, out in ((sample_workbook(sample), "out-xlsx"), (csvs, "out-csv")):
        result = run("evaluate", str(source), "-o", str(tmp_path / out))
        assert result.exit_code == 0, result.output
    from_xlsx, from_csv = decisions(tmp_path / "out-xlsx"), decisions(tmp_path / "out-csv")
    assert len(from_csv) >= 40 and from_csv == from_xlsx
    xlsx_accounts = validation_report(load_workbook(sample_workbook(sample)))["accounts"]
    csv_accounts = validation_report(load_workbook(csvs))["accounts"]
    keys = ("sheet", "read", "loaded", "rejected", "blank", "balanced")
    assert [{k: a[k] for k in keys} for a in csv_accounts] == [
        {k: a[k] for k in keys} for a in xlsx_accounts
    ]
    assert csv_accounts[1]["found_as"].endswith(".csv")


def test_the_script_refuses_a_damaged_workbook_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(sample_workbook().read_bytes()[:5000])  # truncated
    assert xlsx_to_csv.main([str(damaged), str(tmp_path / "csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {damaged}") and "damaged or truncated" in err
    assert "Traceback" not in err and not (tmp_path / "csv").exists()


def test_outputs_cite_file_line_and_column(tmp_path: Path) -> None:
    csvs = tmp_path / "csv"
    xlsx_to_csv.convert(sample_workbook(), csvs)
    out = tmp_path / "out"
    assert run("evaluate", str(csvs), "-o", str(out)).exit_code == 0
    brief = (out / "briefs" / "00001.md").read_text()
    assert "Evidence.csv:2:observation" in brief and "Evidence!" not in brief
    trace = (out / "trace.jsonl").read_text()
    assert '"Employees.csv:2:performance"' in trace and "Employees!" not in trace
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["file"] == "csv"
    verified = run("audit", "verify", str(out), "--workbook", str(csvs))
    assert verified.exit_code == 0, verified.output
    assert "every recommendation and trace line identical" in verified.output
    fairness = run("audit", "fairness", str(csvs))
    people = len(load_workbook(csvs).rows["Employees"])
    assert fairness.exit_code == 0 and f"Fairness monitor: {people} people" in fairness.output
    explained = run("explain", "00004", str(csvs))
    assert explained.exit_code == 0 and "Evidence.csv:" in explained.output


def test_input_hash_is_sha256sum_of_the_csv_files(tmp_path: Path) -> None:
    """What `LC_ALL=C sha256sum *.csv | sha256sum` prints, so an auditor needs no talentrules;
    a file beside the CSV files does not change it."""
    import hashlib

    where = folder(tmp_path, {"Employees.csv": EMPLOYEES, "Cycle.csv": "cycle_id\nC1\n"})
    lines = "".join(
        f"{hashlib.sha256((where / n).read_bytes()).hexdigest()}  {n}\n"
        for n in ("Cycle.csv", "Employees.csv")
    )
    expected = hashlib.sha256(lines.encode()).hexdigest()
    assert load_workbook(where).sha256 == expected
    (where / "README.txt").write_text("notes")
    assert load_workbook(where).sha256 == expected


def test_a_bad_value_is_named_by_file_line_and_column(tmp_path: Path) -> None:
    where = folder(
        tmp_path,
        {
            "Employees.csv": EMPLOYEES,
            "Evidence.csv": EVIDENCE_HEAD
            + "EV1,E1,H-DEV,2026-03-01,Habitual,Peer\nEV2,E2,H-DEV,2026-13-45,Habitualy,Peer\n",
        },
    )
    result = run("validate", str(where))
    assert result.exit_code == 1
    assert f"{where}: Evidence.csv:3:observed_on: '2026-13-45' is not a real date" in result.output
    assert (
        f"{where}: Evidence.csv:3:frequency: 'Habitualy' is not a frequency "
        "(One-off, Occasional, Habitual); did you mean 'Habitual'?"
    ) in result.output
    problem = json.loads(run("validate", str(where), "--format", "json").stdout)["problems"][0]
    assert (problem["file"], problem["sheet"], problem["cell"]) == (
        str(where),
        "Evidence.csv",
        "3:observed_on",
    )


def test_blank_means_unknown_and_text_parses_as_in_a_workbook(tmp_path: Path) -> None:
    where = folder(
        tmp_path,
        {
            "Employees.csv": "Employee ID,Full Name,Performance,Potential,is_people_manager,"
            "hire_date\n00042,Ana,Exceeds,,Y,2019-03-04\n",
            "Teams.csv": "manager_id,team_size,engagement\n00042,3,92%\n",
        },
    )
    panel = load_workbook(where)
    (ana,) = panel.rows["Employees"]
    assert ana.get("employee_id") == "00042" and ana.get("performance") == 4
    assert ana.get("potential") is None and ana.get("is_people_manager") is True
    assert ana.get("hire_date").isoformat() == "2019-03-04"  # type: ignore[union-attr]
    assert ana.ref("potential") == "Employees.csv:2:Potential"
    assert panel.rows["Teams"][0].get("engagement") == 92


def test_names_any_case_bom_semicolons_and_excels_sep_line(tmp_path: Path) -> None:
    where = folder(
        tmp_path,
        {
            "EMPLOYEES.CSV": b"\xef\xbb\xbfemployee_id;full_name\r\nE1;Ana\r\n",
            "evidence.csv": "sep=,\n" + EVIDENCE_HEAD + "EV1,E1,H-DEV,2026-03-01,Habitual,Peer\n",
        },
    )
    panel = load_workbook(where)
    assert not panel.errors, panel.errors
    assert [r.get("full_name") for r in panel.rows["Employees"]] == ["Ana"]
    assert panel.rows["Evidence"][0].ref("signal") == "evidence.csv:3:signal"
    assert panel.found == {"Employees": "EMPLOYEES.CSV", "Evidence": "evidence.csv"}


def test_records_over_several_lines_blank_lines_and_the_row_account(tmp_path: Path) -> None:
    evidence = (
        "evidence_id,employee_id,signal,source_type,observed_on,observation\n"
        'EV1,E1,H-DEV,Peer,2026-03-01,"Coached two people,\nboth now independent"\n'
        "\n"
        "EV2,E2,H-DEV,Peer,2026-03-02,Ran the retro\n"
        "\n\n"
    )
    where = folder(tmp_path, {"Employees.csv": EMPLOYEES, "Evidence.csv": evidence})
    panel = load_workbook(where)
    account = next(a for a in panel.accounts if a.sheet == "Evidence")
    assert (account.read, account.loaded, account.blank) == (3, 2, 1) and account.balanced
    first, second = panel.rows["Evidence"]
    assert first.get("observation") == "Coached two people,\nboth now independent"
    assert (first.number, second.number) == (2, 5)
    assert second.ref("signal") == "Evidence.csv:5:signal"


def test_unknown_files_are_listed_as_ignored(tmp_path: Path) -> None:
    where = folder(
        tmp_path,
        {"Employees.csv": EMPLOYEES, "Pivot.csv": "a,b\n1,2\n", "README.txt": "notes"},
    )
    (where / "old").mkdir()
    report = json.loads(run("validate", str(where), "--format", "json").stdout)
    assert report["usable"] and report["ignored_sheets"] == ["Pivot.csv", "README.txt", "old/"]
    texts = [p["text"] for p in report["problems"]]
    assert f"{where}: Pivot.csv: file is not part of the workbook contract: ignored" in texts
    assert f"{where}: README.txt: not a .csv file: ignored" in texts


def test_two_files_for_one_sheet_and_a_missing_required_one(tmp_path: Path) -> None:
    where = folder(tmp_path, {"Evidence.csv": EVIDENCE_HEAD, "Observations.csv": EVIDENCE_HEAD})
    messages = [str(p) for p in load_workbook(where).errors]
    assert f"{where}: missing Employees.csv (the Employees sheet is required)" in messages
    assert any("files 'Evidence.csv' and 'Observations.csv' both mean" in m for m in messages)


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        (
            EVIDENCE_HEAD + 'EV1,E1,"H-DEV"x,2026-03-01,Habitual,Peer\n',
            "Evidence.csv: line 2, signal: a closing quote is followed by more text",
        ),
        (
            EVIDENCE_HEAD + 'EV1,E1,H-DEV,2026-03-01,Habitual,Peer\nEV2,E2,H-DEV,"2026-03-01,x\n',
            "Evidence.csv: line 3, observed_on: a quoted value is never closed",
        ),
        (
            EVIDENCE_HEAD + "EV1,E1,H-DEV,2026-03-01,Habitual\x00,Peer\n",
            "Evidence.csv: line 2 holds a NUL byte: this is not a text file",
        ),
    ],
    ids=["text after a closing quote", "quote never closed", "NUL byte"],
)
def test_a_broken_csv_names_file_line_and_column(tmp_path: Path, evidence: str, words: str) -> None:
    where = folder(tmp_path, {"Employees.csv": EMPLOYEES, "Evidence.csv": evidence})
    result = run("validate", str(where))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {where}: {words}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_not_utf8_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    where = folder(
        tmp_path, {"Employees.csv": "employee_id,full_name\nE1,Ana\nE2,Jos\xe9\n".encode("latin-1")}
    )
    result = run("validate", str(where))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {where}: Employees.csv: line 3 is not UTF-8 text (byte 0xE9 at byte 7 of the "
        "line); save it as 'CSV UTF-8 (Comma delimited)'\n"
    )


def test_utf16_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    where = folder(tmp_path, {"Employees.csv": "\ufeff" + EMPLOYEES}, name="u16")
    (where / "Employees.csv").write_bytes(("\ufeff" + EMPLOYEES).encode("utf-16-le"))
    with pytest.raises(WorkbookError, match="Employees.csv: is UTF-16 text"):
        load_workbook(where)


def test_a_folder_without_csv_files(tmp_path: Path) -> None:
    where = folder(tmp_path, {"notes.txt": "x"})
    with pytest.raises(WorkbookError, match=r"is a folder with no \.csv file"):
        load_workbook(where)


def test_values_beyond_the_column_limit_are_ignored_with_a_warning(tmp_path: Path) -> None:
    wide = "employee_id,full_name" + "," * 800 + "far\nE1,Ana" + "," * 800 + "away\n"
    panel = load_workbook(folder(tmp_path, {"Employees.csv": wide}))
    (warning,) = [p for p in panel.warnings if "beyond column 702" in p.message]
    assert warning.message == "2 values beyond column 702 are ignored"  # header too
    assert len(panel.rows["Employees"]) == 1


def test_rows_are_weighed_against_memory_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = EMPLOYEES + "".join(f"E{n},P{n}\n" for n in range(3, 5000))
    where = folder(tmp_path, {"Employees.csv": body, "Notes.csv": "x\n" * 100_000})
    monkeypatch.setattr(files, "read_memory_limit", lambda: 10_000_000)
    monkeypatch.setattr("talentrules.ingest.csvdir.csv.reader", pytest.fail)
    with pytest.raises(WorkbookError, match=r"reading its 5,001 rows would take about"):
        load_workbook(where)


def test_refs_split_into_sheet_and_cell() -> None:
    assert split_ref("Evidence!F14") == ("Evidence", "F14")
    assert split_ref("Evidence.csv:14:signal") == ("Evidence.csv", "14:signal")
    assert split_ref("Team Metrics.CSV:3:Engagement %") == ("Team Metrics.CSV", "3:Engagement %")
    where = Problem("error", "review", "Evidence.csv", "14:signal", "bad").where
    assert where == "review: Evidence.csv:14:signal"
    assert (
        Problem("warning", "review", "Teams.csv", "line 6", "x").where == "review: Teams.csv line 6"
    )


def test_a_file_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = folder(tmp_path, {"Employees.csv": EMPLOYEES})

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("talentrules.ingest.csvdir._hash_and_count", refuse)
    with pytest.raises(WorkbookError, match=r"Employees.csv cannot be read \(Permission denied\)"):
        load_workbook(where)
