"""Tables and charts as the fiscal-year report (年度実績) hands them to its outputs.

The report's figures (services/annual_report.py) become a list of ``Table`` and ``Chart``;
the page, the SVG charts (services/charts.py), the Excel workbook and the CSV files
(services/report_workbook.py) only read these, so every output shows the same numbers.
Headings are already translated text; cells are plain values, never markup.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class Kind(Enum):
    """How a column's cells are written: the workbook sets number formats from it."""

    TEXT = "text"
    COUNT = "count"  # a whole number
    PERCENT = "percent"  # a fraction 0..1, shown as 87.5%
    HOURS = "hours"  # a decimal number of hours, shown with one decimal
    DAYS = "days"  # a (possibly half) number of days, e.g. a median
    DATE = "date"  # a datetime.date, shown in 和暦 and 西暦


Cell = str | int | float | date | None


@dataclass(frozen=True)
class Column:
    heading: str
    kind: Kind = Kind.TEXT

    @property
    def numeric(self) -> bool:
        """Set right-aligned, as figures are."""
        return self.kind is not Kind.TEXT and self.kind is not Kind.DATE


@dataclass(frozen=True)
class Table:
    """One table of the report: a page section, a workbook sheet and a CSV file.

    ``key`` is ASCII (file and sheet names are made from it); ``title`` is the heading
    people read; ``total`` is an optional last row (合計) kept apart so charts skip it."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    total: list[Cell] | None = None
    note: str = ""


class ChartKind(Enum):
    STACKED_BARS = "stacked_bars"  # categories along x, one stacked segment per series
    BARS = "bars"  # one series, horizontal bars (e.g. a rate per body)
    FUNNEL = "funnel"  # one series in order, each bar narrower (e.g. referrals by status)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]


@dataclass(frozen=True)
class Chart:
    """A chart drawn from one table: ``table_key`` names the table beside it that holds the
    same figures (the accessible alternative); ``description`` says in a sentence what it
    shows. ``percent``: values are fractions 0..1 and the axis reads in %."""

    key: str
    kind: ChartKind
    title: str
    description: str
    categories: list[str]
    series: list[Series] = field(default_factory=list)
    table_key: str = ""
    percent: bool = False
