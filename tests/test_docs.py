"""The documentation written from the code is current: the README's command table
and exit statuses, docs/cli.md, docs/workbook.md and docs/schemas/ (all from
scripts/gen_docs.py, as sqlite-utils keeps its docs with cog)."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import click
import pytest

from talentrules.cli import cli
from talentrules.paths import default_rules_dir
from talentrules.vocabulary import signal_catalogue

ROOT = Path(__file__).resolve().parent.parent


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_docs = _gen_docs()


def test_generated_docs_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p in gen_docs.stale()]
    assert stale == [], f"{stale}: stale; run python scripts/gen_docs.py"


def test_a_changed_command_makes_the_readme_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    option = click.Option(["--brand-new"], is_flag=True, help="New.")
    monkeypatch.setattr(
        cli.commands["validate"], "params", [*cli.commands["validate"].params, option]
    )
    assert ROOT / "README.md" in gen_docs.stale()
    assert ROOT / "docs" / "cli.md" in gen_docs.stale()


def _readme_rows() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- generated: commands -->")[1].split("<!-- end: commands -->")[0]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\| `talentrules ([a-z -]+?) [A-Z\[-]", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_the_readme_table_has_every_command_and_every_option() -> None:
    rows = _readme_rows()
    for path, command in gen_docs.commands():
        if isinstance(command, click.Group):
            continue
        row = rows[" ".join(path)]
        for param in command.params:
            if isinstance(param, click.Option):
                assert max(param.opts, key=len) in row or min(param.opts, key=len) in row, (
                    path,
                    param.opts,
                )
    assert "[--no-names]" in rows["evaluate"]
    assert "[--junit FILE]" in rows["rules test"]


def test_the_readme_points_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_the_workbook_contract_page_has_every_sheet_and_column() -> None:
    from talentrules.contract import SHEETS

    page = (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8")
    for sheet in SHEETS:
        assert f"## `{sheet.name}`" in page
        for column in sheet.columns:
            assert f"| `{column.name}` |" in page


def test_the_workbook_page_lists_the_default_rulebooks_signal_codes() -> None:
    # The codes are the rulebook's (issue 10): the page says so and lists the
    # default catalogue's, each with its plain name.
    page = (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8")
    section = page.split("## Signal codes (`Evidence.signal`)")[1].split("\n## ")[0]
    assert "The codes come from the rulebook" in section
    catalogue = signal_catalogue()
    assert catalogue
    for signal in catalogue.values():
        assert f"| `{signal.code}` | {signal.name} |" in section
    assert section.count("| `") == len(catalogue)


def test_a_changed_signal_catalogue_makes_the_workbook_page_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rules = Path(shutil.copytree(default_rules_dir(), tmp_path / "rules"))
    signals = rules / "signals.yaml"
    text = signals.read_text(encoding="utf-8")
    assert "name: Develops others\n" in text
    signals.write_text(text.replace("name: Develops others\n", "name: Grows people\n"), "utf-8")
    monkeypatch.setattr(gen_docs, "signal_catalogue", lambda: signal_catalogue(rules))
    assert gen_docs.stale() == [ROOT / "docs" / "workbook.md"]


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)\n```", readme, re.DOTALL)
    main_job, tests = blocks[0], blocks[1]
    assert "talentrules evaluate sample_inputs/panel_review.xlsx" in main_job
    assert tests.endswith("python -m pytest -q")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"\n{tests}\n" in ci


def test_ci_installs_chromium_before_the_suites_so_the_browser_test_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = ci.index("apt-get install -y -qq chromium")
    required = ci.index("export TALENTRULES_REQUIRE_BROWSER=1")
    first_suite = ci.index(".venv/bin/python -m pytest -q")
    assert install < required < first_suite
