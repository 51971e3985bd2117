"""Ingestion: the panel's workbook (or a folder of CSV files) -> a validated ``Panel``; the
only stage that reads Excel or CSV.

``load_workbook(path)`` returns every row typed, with its cell, and every problem
found (all of them, in one pass); ``validation_report(panel)`` is the same as
plain data for ``validate --format json``.
"""

from __future__ import annotations

from talentrules.ingest.csvdir import folder_sha256
from talentrules.ingest.files import (
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_FILE_BYTES,
    MAX_TEXT_EXPANSION,
    MAX_UNCOMPRESSED_BYTES,
)
from talentrules.ingest.load import load_workbook
from talentrules.ingest.report import validation_report

__all__ = [
    "MAX_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_TEXT_EXPANSION",
    "MAX_UNCOMPRESSED_BYTES",
    "folder_sha256",
    "load_workbook",
    "validation_report",
]
