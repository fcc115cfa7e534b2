"""The dataset registry of the Data studio: validate, register, version, dedup, preview and export datasets."""

from .encoding import looks_chinese
from .export import safe_cell, to_csv_text, write_csv
from .formats import (
    FORMAT_CHOICES,
    FORMATS,
    SUFFIXES,
    Shape,
    detect,
    entry_for,
    shape_of_entry,
)
from .records import DEFAULT_CSV_FIELD_LIMIT
from .registry import DatasetRegistry
from .results import DatasetRow, DedupResult, Preview
from .stats import DatasetStats
from .validate import DEFAULT_MAX_BYTES, ValidationReport, inspect
from .versions import DatasetVersion

__all__ = [
    "DEFAULT_CSV_FIELD_LIMIT",
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "FORMAT_CHOICES",
    "SUFFIXES",
    "DatasetRegistry",
    "DatasetRow",
    "DatasetStats",
    "DatasetVersion",
    "DedupResult",
    "Preview",
    "Shape",
    "ValidationReport",
    "detect",
    "entry_for",
    "inspect",
    "looks_chinese",
    "safe_cell",
    "shape_of_entry",
    "to_csv_text",
    "write_csv",
]
