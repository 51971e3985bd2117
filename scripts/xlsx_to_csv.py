"""Write a review workbook as a folder of CSV files that talentrules reads the same way.

    python scripts/xlsx_to_csv.py review.xlsx review-csv/

One UTF-8 file per sheet, named after the tab (``Evidence.csv``), every cell as the
text a panel would type for the value talentrules reads from the workbook: dates
as ISO 8601, percentages with a ``%`` where the cell was formatted as one, ids
with the leading zeros their number format shows, booleans as TRUE/FALSE, Excel
errors as their code, a formula never calculated as blank. Rows keep their
places: blank rows stay blank lines, so the account of rows read is the same.
For a workbook past Excel's row limit, write the CSV files directly instead.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from talentrules.errors import TalentRulesError  # noqa: E402
from talentrules.ingest.files import MAX_COLUMNS, scan_file  # noqa: E402
from talentrules.ingest.sheetrows import read_rows  # noqa: E402
from talentrules.ingest.sources import READ_ERRORS  # noqa: E402
from talentrules.ingest.xlsx import RawCell, read_book  # noqa: E402

_ZEROS = re.compile(r"0+")  # an id format such as 00000: the number padded with zeros


def cell_text(cell: RawCell | None) -> str:
    """The text that reads back as the value talentrules reads from the cell."""
    if cell is None or cell.value is None:
        return ""
    value = cell.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, int | float):
        shown = cell.number_format.split(";")[0]
        if "%" in shown:
            return _number(round(value * 100, 9)) + "%"
        if _ZEROS.fullmatch(shown) and float(value).is_integer() and value >= 0:
            return str(int(value)).zfill(len(shown))
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def convert(workbook: Path, folder: Path) -> list[Path]:
    """Write one CSV per worksheet of ``workbook`` into ``folder``; return the files."""
    scan = scan_file(workbook, str(workbook))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(workbook) as archive:
        book = read_book(archive, scan.strings, scan.styles, "xl/workbook.xml")
        for sheet in scan.sheets:
            path = folder / f"{sheet.tab}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                out = csv.writer(fh, lineterminator="\n")
                line = 0
                for number, cells in read_rows(archive, sheet.member, book, MAX_COLUMNS):
                    while line < number - 1:  # rows the sheet does not hold are blank
                        out.writerow([])
                        line += 1
                    out.writerow([cell_text(c) for c in cells])
                    line += 1
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path, help="the .xlsx to read")
    parser.add_argument("folder", type=Path, help="the folder to write the CSV files into")
    args = parser.parse_args(argv)
    try:
        written = convert(args.workbook, args.folder)
    except TalentRulesError as error:  # the workbook refused by the same scan evaluate uses
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except READ_ERRORS as error:  # damage the scan cannot see: a sheet's XML
        print(f"Error: {args.workbook}: a sheet cannot be read ({error})", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Error: {error.filename or args.folder}: {error.strerror}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
