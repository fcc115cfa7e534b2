"""The one rule for spreadsheet cells we write: text that a spreadsheet would run as a formula gets a leading `'`."""

from __future__ import annotations

# Excel, LibreOffice and Sheets read a cell starting with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def needs_quote(text: str) -> bool:
    """True when `text` would be run; apostrophes before a formula start count, so a reader drops exactly ours."""
    return text.lstrip("'")[:1] in FORMULA_STARTS


def neutral_text(text: str) -> str:
    """`text` as a cell that is shown, never run."""
    return "'" + text if needs_quote(text) else text
