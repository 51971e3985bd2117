"""The rulebook as a workbook a panel owner edits in Excel or LibreOffice.

``export_rulebook`` writes a rulebook (a rules folder) as a workbook: a sheet per
decision as a decision table, the parameters, signals, facts, outcomes' words,
catalogue and rule tests as tables. ``open_workbook_rules`` reads such a workbook as
the rule files it stands for (``talentrules.rulefiles.RuleFiles``), so every command
that takes a rulebook takes the workbook too, and ``import_rulebook`` writes those
files out as a rules folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from talentrules.errors import OutputError, RulebookError
from talentrules.rulefiles import TESTS_FOLDER
from talentrules.rulexlsx.export import export_rulebook
from talentrules.rulexlsx.read import WorkbookFiles

__all__ = ["WorkbookFiles", "export_rulebook", "import_rulebook", "open_workbook_rules"]

_OPENED: dict[tuple[str, int, int], WorkbookFiles] = {}


def open_workbook_rules(path: Path) -> WorkbookFiles:
    """The rulebook workbook at ``path``, read once while the file is unchanged."""
    stat = os.stat(path)
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _OPENED:
        if len(_OPENED) >= 8:
            _OPENED.clear()
        _OPENED[key] = WorkbookFiles(path)
    return _OPENED[key]


def import_rulebook(workbook: str | Path, out: str | Path, force: bool = False) -> list[Path]:
    """Write the rulebook workbook as a rules folder ``out``; the files written.

    Refused (RulebookError listing every error, with its sheet and cell) when the
    workbook breaks the rule language (what ``check_rulebook`` reports: the files would
    be unreadable; what only a run refuses, ``rules check`` says of the files), and
    when ``out`` exists unless ``force``: then its rulebook files (``*.yaml`` and
    ``tests/*.yaml``) are replaced and nothing else is touched. Every file is written
    before any is replaced.
    """
    from talentrules.rulebook import check_rulebook

    source = Path(workbook)
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    if target.exists() and not force:
        raise OutputError(f"{target}: exists; add --force to replace its rulebook files")
    errors = [d for d in check_rulebook(source) if d.severity == "error"]
    if errors:
        lines = "\n".join(f"  {d}" for d in errors)
        raise RulebookError(
            f"{source}: not imported: the rulebook has {len(errors)} "
            f"error{'s' if len(errors) != 1 else ''}:\n{lines}"
        )
    files = open_workbook_rules(source)
    texts = {name: files.data(name) for name in files.names()}
    texts |= {name: files.test_data(name) for name in files.test_names()}
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=target.parent))
    try:
        for name, data in texts.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if not target.exists():
            staging.rename(target)
        else:
            old = [*target.glob("*.yaml"), *target.glob(f"{TESTS_FOLDER}/*.yaml")]
            for path in old:
                path.unlink()
            for name in texts:
                destination = target / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, destination)
    except OSError as error:
        raise OutputError(f"{target}: cannot be written ({error.strerror})") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [target / name for name in texts]
