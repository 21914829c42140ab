"""CSV files people open in Excel: the one encoder every CSV the app serves goes through.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one)
as a formula: a referral note "=HYPERLINK(...)" typed by anyone would become a link, or worse,
in the secretary's Excel. Such a text cell gets a leading apostrophe, which Excel and
LibreOffice show as text; numbers (a negative one too) are written as they are.
"""

import csv
import io
from collections.abc import Iterable

UTF8, CP932 = "utf-8", "cp932"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet will not run it: text that looks like a formula as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def encode_csv(rows: Iterable[Iterable[object]], encoding: str = UTF8) -> bytes:
    """The CSV file, lines ending in CRLF: UTF-8 with a BOM (without it, Excel on Japanese
    Windows reads the file as Shift_JIS), or CP932 for older systems, where a character CP932
    lacks becomes "?" rather than an error. None is an empty cell, a date its ISO form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    if encoding == CP932:
        return buffer.getvalue().encode(CP932, errors="replace")
    return buffer.getvalue().encode("utf-8-sig")
