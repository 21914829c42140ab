"""The fiscal-year report (年度実績) as an Excel workbook and as CSV files, from its tables.

The workbook has a cover sheet (表紙: the title, the period and when it was made) and one
sheet per table: the title in the first row, bold Japanese headings frozen above the figures
with a filter on them, numbers as numbers formatted by their Kind, the total row bold, and a
print setup of A4 pages one page wide that repeat the headings.

Dates are real dates in the Western calendar (yyyy/mm/dd) with the 和暦 as text in the column
beside them. A 和暦 number format (Excel's [$-ja-JP-x-gannen]ggge) shows the era only where the
spreadsheet has the Japanese calendar — Excel on a Japanese Windows, not LibreOffice or Excel
elsewhere — and has no test we can run here; text reads the same everywhere, and the real date
beside it still sorts and filters.

Text is always written as text: a title starting with "=" is never a formula.
"""

import io
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from renkei.i18n import gettext as _
from renkei.services import spreadsheets
from renkei.services.dates import WAREKI, in_tokyo, japanese_date
from renkei.services.report_tables import Cell, Kind, Table

NUMBER_FORMATS = {Kind.COUNT: "#,##0", Kind.PERCENT: "0.0%", Kind.HOURS: "0.0", Kind.DAYS: "0.0"}
DATE_FORMAT = "yyyy/mm/dd"
SHEET_NAME_MAX = 31  # Excel's limit, in UTF-16 units
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MIN_WIDTH, MAX_WIDTH = 6, 60  # column widths, in Excel's units of one half-width character
HEADING_ROW, FIRST_ROW = 2, 3  # the table's title is row 1
BOLD, TITLE_FONT = Font(bold=True), Font(bold=True, size=14)
HEADING_FILL = PatternFill("solid", fgColor="DDDDDD")
RULE = Border(top=Side(style="thin"), bottom=Side(style="thin"))


def workbook(
    tables: Sequence[Table], *, title: str, period: tuple[date, date], made_at: datetime
) -> bytes:
    """The .xlsx file: the same tables give the same bytes, made_at aside."""
    book = Workbook()
    cover = book.active
    assert cover is not None  # a new workbook has its first sheet
    cover.title = _("Cover")
    names = sheet_names(tables, taken=[cover.title])
    _cover(cover, title, period, made_at, list(zip(names, tables, strict=True)))
    for name, table in zip(names, tables, strict=True):
        _table_sheet(book.create_sheet(name), table)
    book.properties.title = _text(title)
    book.properties.creator = "Renkei"
    stamp = _utc(made_at).replace(tzinfo=None)  # the properties are naive UTC
    book.properties.created = book.properties.modified = stamp
    return _save(book, made_at)


def csv_file(table: Table) -> bytes:
    """The table as CSV (services/spreadsheets.py: UTF-8 with a BOM, CRLF, no formulas): the
    headings, the rows, the total last; numbers plain, dates ISO."""
    rows: list[list[Cell]] = [[c.heading for c in table.columns], *table.rows]
    if table.total is not None:
        rows.append(table.total)
    return spreadsheets.encode_csv(rows)


def sheet_names(tables: Sequence[Table], taken: Sequence[str] = ()) -> list[str]:
    """A sheet name per table from its title: without the characters Excel refuses, at most
    31 characters, unique (Excel compares them ignoring case), never empty."""
    used = {name.casefold() for name in taken} | {"history"}  # Excel reserves History
    names = []
    for table in tables:
        base = _sheet_name_from(table.title) or _sheet_name_from(table.key) or "Sheet"
        name, number = base, 1
        while name.casefold() in used:
            number += 1
            suffix = f"({number})"
            name = _cut_utf16(base, SHEET_NAME_MAX - len(suffix)) + suffix
        used.add(name.casefold())
        names.append(name)
    return names


def _sheet_name_from(text: str) -> str:
    name = re.sub(r"\s+", " ", SHEET_NAME_FORBIDDEN.sub("", _text(text))).strip()
    name = _cut_utf16(name, SHEET_NAME_MAX).strip()
    return name.strip("'")  # Excel refuses a name that starts or ends with an apostrophe


def _cut_utf16(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units (a character outside the BMP takes two)."""
    kept, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(char)
    return "".join(kept)


# --- The cover sheet ------------------------------------------------------------------------


def _cover(
    sheet: Worksheet,
    title: str,
    period: tuple[date, date],
    made_at: datetime,
    contents: list[tuple[str, Table]],
) -> None:
    first, last = period
    moment = in_tokyo(_utc(made_at))
    clock = f"{moment.hour}:{moment.minute:02d}"
    wareki = _("%(moment)s (Japan time)", moment=f"{_wareki(moment.date())} {clock}")
    seireki = _("%(moment)s (Japan time)", moment=f"{_seireki(moment.date())} {clock}")
    lines = [
        (_("Period (Japanese era)"), f"{_wareki(first)}～{_wareki(last)}"),
        (_("Period (Western calendar)"), f"{_seireki(first)}～{_seireki(last)}"),
        (_("Made at (Japanese era)"), wareki),
        (_("Made at (Western calendar)"), seireki),
    ]
    _put(sheet.cell(1, 1), title).font = TITLE_FONT
    for row, (label, value) in enumerate(lines, start=3):
        _put(sheet.cell(row, 1), label).font = BOLD
        _put(sheet.cell(row, 2), value)
    row = 3 + len(lines) + 1
    for column, heading in enumerate((_("Sheet"), _("Note")), start=1):
        _put(sheet.cell(row, column), heading).font = BOLD
    for offset, (name, table) in enumerate(contents, start=1):
        _put(sheet.cell(row + offset, 1), name)
        _put(sheet.cell(row + offset, 2), table.note)
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = MAX_WIDTH
    _print_setup(sheet, landscape=False)


def _wareki(day: date) -> str:
    if isinstance(day, datetime):  # a moment: the day it is in Tokyo
        day = (in_tokyo(day) if day.tzinfo else day).date()
    return japanese_date(day, WAREKI, weekday=False)


def _seireki(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken as UTC, as the database stores times."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- A table's sheet --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Out:
    """A column of the sheet: a table's column, or the 和暦 text beside a date column."""

    heading: str
    kind: Kind
    source: int
    era: bool = False


def _layout(table: Table) -> list[_Out]:
    columns = []
    for index, column in enumerate(table.columns):
        columns.append(_Out(column.heading, column.kind, index))
        if column.kind is Kind.DATE:
            era = _("%(heading)s (Japanese era)", heading=column.heading)
            columns.append(_Out(era, Kind.TEXT, index, era=True))
    return columns


def _table_sheet(sheet: Worksheet, table: Table) -> None:
    layout = _layout(table)
    widths = [_width(str(c.heading)) + 2 for c in layout]  # bold headings run wider
    _put(sheet.cell(1, 1), table.title).font = TITLE_FONT
    for number, column in enumerate(layout, start=1):
        heading = _put(sheet.cell(HEADING_ROW, number), column.heading)
        heading.font, heading.fill, heading.border = BOLD, HEADING_FILL, RULE
        heading.alignment = Alignment(wrap_text=True, vertical="center")
    row = FIRST_ROW
    for values in table.rows:
        _row(sheet, row, layout, values, widths)
        row += 1
    if layout:  # a table without columns has nothing to filter
        last_column = get_column_letter(len(layout))
        sheet.auto_filter.ref = f"A{HEADING_ROW}:{last_column}{max(row - 1, HEADING_ROW)}"
    if table.total is not None:
        for cell in _row(sheet, row, layout, table.total, widths):
            cell.font, cell.border = BOLD, RULE
        row += 1
    if table.note:
        _put(sheet.cell(row + 1, 1), table.note)
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width)
        )
    sheet.freeze_panes = f"A{FIRST_ROW}"
    sheet.print_title_rows = f"{HEADING_ROW}:{HEADING_ROW}"
    _print_setup(sheet, landscape=sum(min(w, MAX_WIDTH) for w in widths) > 100)


def _row(
    sheet: Worksheet, row: int, layout: list[_Out], values: Sequence[Cell], widths: list[int]
) -> list[Any]:
    cells = []
    for number, column in enumerate(layout, start=1):
        value = values[column.source] if column.source < len(values) else None
        if column.era:
            value = _wareki(value) if isinstance(value, date) else value
        cell = _put(sheet.cell(row, number), value, column.kind)
        widths[number - 1] = max(widths[number - 1], _width(_shown(value, column.kind)) + 2)
        cells.append(cell)
    return cells


def _put(cell: Any, value: Cell, kind: Kind = Kind.TEXT) -> Any:
    """Write ``value`` into ``cell`` as what it is: text as text (even "=SUM(A1)"), numbers
    with their Kind's format, dates as dates. Returns the cell."""
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"  # openpyxl takes text starting with "=" for a formula
        if _width(value) > MAX_WIDTH:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif isinstance(value, datetime):  # Excel has no time zones: Tokyo time, as people read it
        local = in_tokyo(value).replace(tzinfo=None) if value.tzinfo else value
        cell.value, cell.number_format = local, f"{DATE_FORMAT} hh:mm"
    elif isinstance(value, date):
        cell.value, cell.number_format = value, DATE_FORMAT
    elif isinstance(value, int | float) and math.isfinite(value):
        cell.value = value
        cell.number_format = NUMBER_FORMATS.get(kind, "General")
    return cell


def _text(value: str) -> str:
    """Text an .xlsx can hold: the control characters XML refuses are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _shown(value: Cell, kind: Kind) -> str:
    """Roughly what the spreadsheet shows for ``value``, to size its column."""
    if isinstance(value, date):
        return "0000/00/00"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind is Kind.PERCENT:
            return f"{value * 100:.1f}%"
        return f"{value:,.1f}" if kind in (Kind.HOURS, Kind.DAYS) else f"{value:,}"
    return "" if value is None else str(value)


def _width(text: str) -> int:
    """Width in half-width characters of the longest line: East-Asian wide ones count two."""
    return max(
        (
            sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
            for line in text.splitlines()
        ),
        default=0,
    )


def _print_setup(sheet: Worksheet, *, landscape: bool) -> None:
    """A4, as many pages long as needed but one page wide."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


# --- Saving -------------------------------------------------------------------------------


class _StampedZip(zipfile.ZipFile):
    """A zip whose entries all carry one time (the report's), not the time of writing: the
    same report is the same file."""

    def __init__(self, file: io.BytesIO, stamp: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self.stamp = stamp

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.stamp)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: str | os.PathLike[str],
        arcname: str | os.PathLike[str] | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """A file (openpyxl writes each worksheet through a temporary one), without its mtime."""
        with open(filename, "rb") as handle:
            data = handle.read()
        name = os.fspath(arcname if arcname is not None else os.path.basename(filename))
        self.writestr(name, data, compress_type, compresslevel)


def _save(book: Workbook, made_at: datetime) -> bytes:
    """The file's bytes, written without openpyxl's save(), which stamps the time of saving
    over the workbook's "modified"."""
    buffer = io.BytesIO()
    local = in_tokyo(_utc(made_at))
    stamp = (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)
    ExcelWriter(book, _StampedZip(buffer, stamp)).save()  # save() closes the archive
    return buffer.getvalue()
