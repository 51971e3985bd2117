"""Print every brief and the panel summary of an output folder to A4 PDF through headless
Chromium, and check how they print.

Usage: python scripts/print_check.py OUTDIR [--keep DIR] [--briefs N] [--summary-pages N]

For each brief: pages in all, pages of the manager-facing part (everything before the
audit appendix, whose first heading carries ``id="appendix"``), headings left last
on a page (a heading whose section starts on the next page), and empty pages. Each
page must carry the person's name, the confidentiality line and "page X of Y" (the
print stylesheet's @page margin boxes). Fails (exit 1) when a brief's manager part
runs past 2 pages, when any heading is stranded or any page is empty or unmarked,
or when the summary runs past --summary-pages (default 14).

Chromium comes from the distribution (Debian: ``apt-get install -y chromium``); it
starts with a fresh, throwaway profile and every network feature off. PDFs are read
with pypdf (the test extra): text per page, which needs each font's ToUnicode map.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
MANAGER_PAGES = 2  # a brief's manager-facing part fits two A4 pages
SUMMARY_PAGES = 14
CONFIDENTIAL = "Confidential"
_HEADING = re.compile(r"<(h[1-3]|caption)\b([^>]*)>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium")


def print_pdfs(browser: str, pages: Sequence[Path], into: Path) -> list[Path]:
    """Each HTML page printed to ``into/<stem>.pdf`` (A4 comes from the page's CSS)."""
    written = []
    with tempfile.TemporaryDirectory(prefix="talentrules-chromium-") as profile:
        for page in pages:
            pdf = into / f"{page.stem}.pdf"
            command = [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf}",
                page.resolve().as_uri(),
            ]
            done = subprocess.run(command, capture_output=True, text=True, timeout=180)
            if done.returncode != 0 or not pdf.is_file():
                sys.exit(f"chromium failed on {page}:\n{done.stderr[-2000:]}")
            written.append(pdf)
    return written


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


@dataclass
class Heading:
    text: str
    appendix: bool  # the first heading of the audit appendix


@dataclass
class Printed:
    """What one document looks like on paper."""

    name: str
    pages: list[str]  # each page's text, lines joined by newlines
    manager_pages: int  # pages before the audit appendix starts (all, when it has none)
    stranded: list[tuple[int, str]] = field(default_factory=list)  # (page, heading)
    empty: list[int] = field(default_factory=list)
    unmarked: list[tuple[int, str]] = field(default_factory=list)  # (page, what is missing)


def headings_of(page_html: str) -> list[Heading]:
    found = []
    for match in _HEADING.finditer(page_html):
        text = _plain(match.group(3))
        if text:
            found.append(Heading(text, 'id="appendix"' in match.group(2)))
    return found


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _is_margin(line: str, marks: Sequence[str]) -> bool:
    """A line of the page's margin boxes (name, confidentiality, page x of y)."""
    folded = line.casefold()
    return bool(re.search(r"\bpage \d+ of \d+", folded)) or any(
        m and m[:40].casefold() in folded for m in marks
    )


def _is_footer(line: str) -> bool:
    """The document's closing note (how it was produced): not content on its own."""
    return line.startswith(("Produced by talentrules", "document recommends; the panel"))


def inspect(pdf: Path, page_html: str, marks: Sequence[str], name: str) -> Printed:
    from pypdf import PdfReader

    texts = [page.extract_text() or "" for page in PdfReader(pdf).pages]
    headings = headings_of(page_html)
    appendix = next((h.text for h in headings if h.appendix), None)
    printed = Printed(name, texts, len(texts))
    for number, text in enumerate(texts, 1):
        lines = _lines(text)
        body = [line for line in lines if not _is_margin(line, marks)]
        if not [line for line in body if not _is_footer(line)]:
            printed.empty.append(number)
        folded = [line.casefold() for line in lines]
        for mark in marks:
            if not any(mark[:40].casefold() in line for line in folded):
                printed.unmarked.append((number, mark[:40]))
        if not any(re.search(rf"\bpage {number} of {len(texts)}(?!\d)", line) for line in folded):
            printed.unmarked.append((number, f"page {number} of {len(texts)}"))
        if appendix is not None and printed.manager_pages == len(texts):
            if any(line.startswith(appendix) for line in body):
                printed.manager_pages = number - 1
    # Headings in document order: each found on the first line, after the one before it,
    # that reads as it (or, wrapped, two lines that do); stranded when that line is the
    # last of its page's content and the page is not the last.
    contents = [
        [line for line in _lines(t) if not _is_margin(line, marks) and not _is_footer(line)]
        for t in texts
    ]
    flat = [(n, i, line) for n, lines in enumerate(contents, 1) for i, line in enumerate(lines)]
    at = 0
    for heading in headings:
        for k in range(at, len(flat)):
            n, i, line = flat[k]
            pair = f"{line} {flat[k + 1][2]}" if k + 1 < len(flat) else line
            if line == heading.text or pair == heading.text:
                end = k + 1 if line == heading.text else k + 2
                page, last = flat[end - 1][0], flat[end - 1][1]
                if page < len(texts) and last == len(contents[page - 1]) - 1:
                    printed.stranded.append((page, heading.text))
                at = end
                break
    return printed


def check(outdir: Path, keep: Path | None, limit: int | None, summary_pages: int) -> int:
    data = json.loads((outdir / "recommendations.json").read_text(encoding="utf-8"))
    people = data["people"][:limit] if limit else data["people"]
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="talentrules-print-") as scratch:
        into = keep or Path(scratch)
        into.mkdir(parents=True, exist_ok=True)
        pages = [outdir / p["brief"]["html"] for p in people] + [outdir / "summary.html"]
        pdfs = print_pdfs(browser, pages, into)
        failures = 0
        rows = []
        for person, pdf, page in zip([*people, None], pdfs, pages, strict=True):
            source = page.read_text(encoding="utf-8")
            if person is None:
                marks: tuple[str, ...] = (CONFIDENTIAL,)
                name = "summary"
            else:
                marks = (person["full_name"], CONFIDENTIAL)
                name = f"{person['employee_id']} {person['full_name']}"
            printed = inspect(pdf, source, marks, name)
            problems = []
            if person is not None and printed.manager_pages > MANAGER_PAGES:
                problems.append(f"manager part {printed.manager_pages} pages > {MANAGER_PAGES}")
            if person is None and len(printed.pages) > summary_pages:
                problems.append(f"{len(printed.pages)} pages > {summary_pages}")
            problems += [f"heading '{h}' last on page {n}" for n, h in printed.stranded]
            problems += [f"page {n} is empty" for n in printed.empty]
            problems += [f"page {n} lacks '{m}'" for n, m in printed.unmarked]
            failures += bool(problems)
            rows.append((printed, problems))
    for printed, problems in rows:
        status = "FAIL " + "; ".join(problems) if problems else "ok"
        print(
            f"{printed.name}: {len(printed.pages)} pages, manager part "
            f"{printed.manager_pages}: {status}"
        )
    briefs = [p for p, _ in rows[:-1]]
    if briefs:
        totals = sorted(len(p.pages) for p in briefs)
        managers = sorted(p.manager_pages for p in briefs)
        print(
            f"{len(briefs)} briefs: {totals[0]}-{totals[-1]} pages "
            f"(manager part {managers[0]}-{managers[-1]}); summary {len(rows[-1][0].pages)} "
            f"pages; {failures} document{'s' if failures != 1 else ''} failing"
        )
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="a folder written by talentrules evaluate")
    parser.add_argument("--keep", type=Path, help="keep the PDFs in this folder")
    parser.add_argument("--briefs", type=int, help="only the first N briefs")
    parser.add_argument("--summary-pages", type=int, default=SUMMARY_PAGES)
    args = parser.parse_args(argv)
    return check(args.outdir, args.keep, args.briefs, args.summary_pages)


if __name__ == "__main__":
    sys.exit(main())
