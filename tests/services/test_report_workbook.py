"""The report's workbook and CSV files, read back: openpyxl for the .xlsx (names, headings,
values and their types and formats, dates in both calendars, the cover, widths, print setup,
text that looks like a formula), csv for the CSV; LibreOffice, when installed, opens it."""

import csv
import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from renkei.services import report_workbook
from renkei.services.report_tables import Column, Kind, Table

MADE_AT = datetime(2025, 12, 3, 8, 34, tzinfo=UTC)  # 17:34 in Tokyo
PERIOD = (date(2025, 4, 1), date(2026, 3, 31))
FORMULA = '=HYPERLINK("http://example.com","x")'


def figures() -> Table:
    return Table(
        key="bodies",
        title="会議体別の開催回数",
        columns=[
            Column("会議体"),
            Column("開催回数", Kind.COUNT),
            Column("出席率", Kind.PERCENT),
            Column("会議時間", Kind.HOURS),
            Column("日数の中央値", Kind.DAYS),
        ],
        rows=[
            ["みどり町 地域ケア推進会議", 1200, 0.875, 10.5, 3.5],
            ["支援会議", 3, 0.5, 2.0, 4],
        ],
        total=["合計", 1203, 0.8, 12.5, None],
        note="書面開催を含みます。",
    )


def dated() -> Table:
    return Table(
        key="dated",
        title="受付日つき",
        columns=[Column("受付日", Kind.DATE), Column("備考")],
        rows=[[date(2026, 4, 1), FORMULA], [date(2019, 5, 1), "+1"], [None, None]],
    )


def build(*tables: Table, title: str = "令和7年度 年度実績", made_at=MADE_AT) -> bytes:
    return report_workbook.workbook(list(tables), title=title, period=PERIOD, made_at=made_at)


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def row_values(sheet, row: int) -> list:
    return [c.value for c in sheet[row]]


def test_a_cover_and_a_sheet_per_table_named_from_its_title(ctx):
    book = read(build(figures(), dated()))
    assert book.sheetnames == ["表紙", "会議体別の開催回数", "受付日つき"]


def test_sheet_names_are_what_excel_accepts(ctx):
    titles = [
        "会議体別/月別[集計]: *?\\ の表",
        "あ" * 40,
        "あ" * 40,
        "表紙",
        "'引用'",
        "",
        "History",
    ]
    tables = [
        Table(key=f"t{i}", title=t, columns=[Column("a")], rows=[]) for i, t in enumerate(titles)
    ]
    names = read(build(*tables)).sheetnames
    assert names == [
        "表紙",
        "会議体別月別集計 の表",
        "あ" * 31,
        "あ" * 28 + "(2)",
        "表紙(2)",
        "引用",
        "t5",
        "History(2)",
    ]
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)


def test_title_headings_and_numbers_as_numbers_with_their_formats(ctx):
    sheet = read(build(figures()))["会議体別の開催回数"]
    assert sheet["A1"].value == "会議体別の開催回数" and sheet["A1"].font.b
    assert row_values(sheet, 2) == ["会議体", "開催回数", "出席率", "会議時間", "日数の中央値"]
    assert all(c.font.b for c in sheet[2])
    count, rate, hours, days = sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"]
    assert count.value == 1200 and type(count.value) is int and count.number_format == "#,##0"
    assert rate.value == 0.875 and isinstance(rate.value, float) and rate.number_format == "0.0%"
    assert hours.value == 10.5 and hours.number_format == "0.0"
    assert days.value == 3.5 and days.number_format == "0.0"
    assert sheet["E4"].value == 4 and sheet["E4"].data_type == "n"
    assert sheet["A3"].data_type == "s" and sheet["A3"].number_format == "General"


def test_the_total_row_is_last_and_bold_and_the_note_below_it(ctx):
    sheet = read(build(figures()))["会議体別の開催回数"]
    assert row_values(sheet, 5) == ["合計", 1203, 0.8, 12.5, None]
    assert all(c.font.b for c in sheet[5])
    assert not any(c.font.b for c in sheet[4])
    assert sheet["A7"].value == "書面開催を含みます。"


def test_headings_frozen_filtered_and_repeated_on_every_printed_a4_page(ctx):
    sheet = read(build(figures()))["会議体別の開催回数"]
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:E4"  # the rows, not the total
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.page_setup.paperSize == 9  # A4 in SpreadsheetML
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_dates_are_real_dates_with_the_wareki_beside_them(ctx):
    sheet = read(build(dated()))["受付日つき"]
    assert row_values(sheet, 2) == ["受付日", "受付日（和暦）", "備考"]
    assert sheet["A3"].value == datetime(2026, 4, 1) and sheet["A3"].is_date
    assert sheet["A3"].number_format == "yyyy/mm/dd"
    assert sheet["B3"].value == "令和8年4月1日" and sheet["B3"].data_type == "s"
    assert sheet["B4"].value == "令和元年5月1日"
    assert row_values(sheet, 5) == [None, None, None]


def test_a_moment_is_written_in_tokyo_time(ctx):
    table = Table(key="m", title="時刻", columns=[Column("日時", Kind.DATE)], rows=[[MADE_AT]])
    sheet = read(build(table))["時刻"]
    assert sheet["A3"].value == datetime(2025, 12, 3, 17, 34)
    assert sheet["A3"].number_format == "yyyy/mm/dd hh:mm"
    assert sheet["B3"].value == "令和7年12月3日"


def test_text_that_looks_like_a_formula_stays_text(ctx):
    data = build(dated(), Table(key="f", title="=SUM(A1)", columns=[Column("=1+1")], rows=[]))
    book = read(data)
    sheet = book["受付日つき"]
    assert sheet["C3"].value == FORMULA and sheet["C3"].data_type == "s"
    assert sheet["C4"].value == "+1" and sheet["C4"].data_type == "s"
    titled = book["=SUM(A1)"]
    assert titled["A1"].value == "=SUM(A1)" and titled["A1"].data_type == "s"
    assert titled["A2"].value == "=1+1" and titled["A2"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in archive.read(n).decode() for n in sheets)


def test_column_widths_follow_the_content_wide_characters_counting_double(ctx):
    table = Table(
        key="w",
        title="幅",
        columns=[Column("名"), Column("ascii"), Column("長い"), Column("数", Kind.COUNT)],
        rows=[["社会福祉協議会", "abcdefghijklmn", "長" * 100, 1234567]],
    )
    sheet = read(build(table))["幅"]
    width = {letter: sheet.column_dimensions[letter].width for letter in "ABCD"}
    assert width["A"] == 7 * 2 + 2  # seven wide characters
    assert width["B"] == 14 + 2
    assert width["C"] == 60  # capped; the cell wraps
    assert sheet["C3"].alignment.wrap_text
    assert width["D"] == len("1,234,567") + 2


def test_the_cover_gives_the_period_in_both_calendars_and_when_it_was_made(ctx):
    cover = read(build(figures(), dated(), title=FORMULA))["表紙"]
    assert cover["A1"].value == FORMULA and cover["A1"].data_type == "s"
    lines = {cover.cell(r, 1).value: cover.cell(r, 2).value for r in range(3, 7)}
    assert lines == {
        "期間（和暦）": "令和7年4月1日～令和8年3月31日",
        "期間（西暦）": "2025年4月1日～2026年3月31日",
        "作成日時（和暦）": "令和7年12月3日 17:34（日本時間）",
        "作成日時（西暦）": "2025年12月3日 17:34（日本時間）",
    }
    assert row_values(cover, 8) == ["シート", "備考"]
    assert row_values(cover, 9) == ["会議体別の開催回数", "書面開催を含みます。"]
    assert row_values(cover, 10) == ["受付日つき", None]


def test_the_same_report_is_the_same_file_stamped_with_when_it_was_made(ctx):
    assert build(figures(), dated()) == build(figures(), dated())
    later = datetime(2025, 12, 4, 1, 0, tzinfo=UTC)
    other = build(figures(), dated(), made_at=later)
    assert other != build(figures(), dated())
    properties = read(other).properties
    assert properties.created == properties.modified == datetime(2025, 12, 4, 1, 0)
    with zipfile.ZipFile(io.BytesIO(other)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2025, 12, 4, 10, 0, 0)}  # Tokyo


def test_control_characters_are_dropped_not_fatal(ctx):
    table = Table(key="c", title="制御\x01文字", columns=[Column("a\x0b")], rows=[["x\x00y"]])
    sheet = read(build(table))["制御文字"]
    assert (
        sheet["A1"].value == "制御文字" and sheet["A2"].value == "a" and sheet["A3"].value == "xy"
    )


def test_a_thousand_rows(ctx):
    rows = [[f"会議体{i}", i, i / 1000, i / 10, i / 2] for i in range(1000)]
    table = Table(
        key="big",
        title="大きな表",
        columns=figures().columns,
        rows=rows,
        total=["合計", 1, 1, 1, 1],
    )
    sheet = read(build(table))["大きな表"]
    assert sheet.max_row == 2 + 1000 + 1
    assert row_values(sheet, 1002) == ["会議体999", 999, 0.999, 99.9, 499.5]
    assert sheet.auto_filter.ref == "A2:E1002"


def test_an_empty_table_still_makes_a_sheet(ctx):
    sheet = read(build(Table(key="e", title="空", columns=[Column("a"), Column("b")], rows=[])))[
        "空"
    ]
    assert row_values(sheet, 2) == ["a", "b"] and sheet.auto_filter.ref == "A2:B2"
    bare = read(build(Table(key="n", title="列なし", columns=[], rows=[])))["列なし"]
    assert bare["A1"].value == "列なし" and bare.auto_filter.ref is None


def test_csv_has_a_bom_crlf_headings_rows_and_the_total_last(ctx):
    data = report_workbook.csv_file(figures())
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and data.count(b"\n") == 4
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["会議体", "開催回数", "出席率", "会議時間", "日数の中央値"],
        ["みどり町 地域ケア推進会議", "1200", "0.875", "10.5", "3.5"],
        ["支援会議", "3", "0.5", "2.0", "4"],
        ["合計", "1203", "0.8", "12.5", ""],
    ]


def test_csv_dates_are_iso_and_formulas_neutralised(ctx):
    rows = list(csv.reader(io.StringIO(report_workbook.csv_file(dated()).decode("utf-8-sig"))))
    assert rows == [
        ["受付日", "備考"],
        ["2026-04-01", "'" + FORMULA],
        ["2019-05-01", "'+1"],
        ["", ""],
    ]


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_opens_the_workbook(ctx, tmp_path):
    source = tmp_path / "report.xlsx"
    source.write_bytes(build(figures(), dated()))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(source)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert "令和7年度 年度実績" in (tmp_path / "report.csv").read_text("utf-8", errors="replace")
