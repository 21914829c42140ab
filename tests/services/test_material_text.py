"""The text of materials' files for the search (services/material_text.py): real PDF, Word
and Excel files built here, and broken, oversized and hostile ones, which give "" (with a
warning in the log) and never an exception."""

import io
import logging
import re
import time
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from renkei.services import material_text, pdf_tools
from renkei.services.material_text import extract
from tests.materials_helpers import PNG, ooxml, zip_bomb

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def pdf(*pages: list[str]) -> bytes:
    """A PDF with a page per list of lines, set in the Japanese CID font the watermark uses."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for lines in pages:
        canvas.setFont(pdf_tools.FONT, 12)
        for number, line in enumerate(lines):
            canvas.drawString(72, 760 - 20 * number, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def docx(body: str, prolog: str = "") -> bytes:
    """A Word package whose document.xml has ``body`` (WordprocessingML) in its w:body."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    )
    return _package({"word/document.xml": document.encode()})


def _package(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        for name, content in parts.items():
            package.writestr(name, content)
    return buffer.getvalue()


def paragraph(*runs: str) -> str:
    return "<w:p>" + "".join(f"<w:r><w:t>{run}</w:t></w:r>" for run in runs) + "</w:p>"


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def warnings_logged(caplog):
    caplog.set_level(logging.WARNING, logger=material_text.__name__)
    return caplog


# --- PDF -----------------------------------------------------------------------------------


def test_a_pdf_gives_its_japanese_text_page_by_page():
    content = pdf(["買い物支援の取組報告", "令和8年5月 第1回"], ["見守りネットワークの見直し"])
    text = extract(content, "報告.PDF")
    assert "買い物支援の取組報告" in flat(text)
    assert "令和8年5月第1回" in flat(text)
    assert flat(text).index("取組報告") < flat(text).index("見守り")


def test_only_the_first_pages_of_a_long_pdf_are_read(monkeypatch):
    monkeypatch.setattr(material_text, "MAX_PAGES", 2)
    text = flat(extract(pdf(["一頁目"], ["二頁目"], ["三頁目"]), "a.pdf"))
    assert "一頁目" in text and "二頁目" in text
    assert "三頁目" not in text


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(["秘密の議題"]))))
    writer.encrypt(user_password, "owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_locked_with_a_password_gives_nothing(warnings_logged):
    assert extract(_encrypted("secret"), "a.pdf") == ""
    assert "a.pdf not read" in warnings_logged.text


def test_a_pdf_encrypted_only_against_changes_is_read():
    assert "秘密の議題" in flat(extract(_encrypted(""), "a.pdf"))


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + b"garbage " * 200,
        pdf(["途中で切れた"])[:400],
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    ],
    ids=["garbage", "truncated", "no pages"],
)
def test_a_broken_pdf_gives_nothing(content):
    assert extract(content, "a.pdf") == ""


# --- Word ----------------------------------------------------------------------------------


def test_a_word_file_gives_its_paragraphs_as_lines():
    body = (
        paragraph("第1回 ", "買い物支援") + "<w:p><w:r><w:t>項目</w:t><w:tab/><w:t>内容 &amp; 備考"
        "</w:t></w:r></w:p><w:tbl><w:tr><w:tc>" + paragraph("表のセル") + "</w:tc></w:tr></w:tbl>"
        "<w:p><w:del><w:r><w:delText>削除した文</w:delText></w:r></w:del></w:p>"
        "<w:p><w:r><w:t>改行の</w:t><w:br/><w:t>あと</w:t></w:r></w:p>"
    )
    assert extract(docx(body), "議事.docx") == (
        "第1回 買い物支援\n項目\t内容 & 備考\n表のセル\n\n改行の\nあと"
    )


def test_a_word_file_with_an_entity_bomb_gives_nothing_at_once(warnings_logged):
    entities = '<!ENTITY a0 "ああああああああああ">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    content = docx(paragraph("&a9;"), prolog=f"<!DOCTYPE w:document [{entities}]>")
    start = time.perf_counter()
    assert extract(content, "a.docx") == ""
    assert time.perf_counter() - start < 5
    assert "a.docx not read" in warnings_logged.text


def test_a_word_file_referring_to_an_outside_entity_gives_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("外部の秘密")
    prolog = f'<!DOCTYPE w:document [<!ENTITY x SYSTEM "file://{secret}">]>'
    assert "秘密" not in extract(docx(paragraph("&x;"), prolog=prolog), "a.docx")


def test_a_zip_bomb_is_read_no_further_than_the_limits(monkeypatch):
    """A part of 20 MB of XML (a few KB in the ZIP): with the limit on what is read at 1 MB,
    the text after it is never reached; and a part claiming 4 GB is refused."""
    monkeypatch.setattr(material_text, "MAX_PART_BYTES", 1024 * 1024)
    filler = "<w:p/>" * (20 * 1024 * 1024 // 6)
    content = docx(paragraph("冒頭") + filler + paragraph("末尾"))
    assert len(content) < 200_000
    start = time.perf_counter()
    text = extract(content, "a.docx")
    assert time.perf_counter() - start < 10
    assert text == "冒頭"
    assert extract(zip_bomb(), "a.docx") == ""


def test_a_word_file_stops_at_the_limit_on_characters():
    content = docx(paragraph("字" * 1000) * 300)  # 300,000 characters
    text = extract(content, "a.docx")
    assert len(text) == material_text.MAX_CHARS
    assert set(text) == {"字", "\n"}


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04" + b"\x00" * 100, ooxml("xl/"), docx("<w:p><w:r><w:t>閉じない")],
    ids=["not a zip", "no document.xml", "broken xml"],
)
def test_a_broken_word_file_gives_nothing(content):
    assert extract(content, "a.docx") == ""


# --- Excel ---------------------------------------------------------------------------------


def test_an_excel_file_gives_its_sheets_rows_and_cells():
    content = xlsx(
        {
            "名簿": [["氏名", "所属"], ["山田 花子", "地域包括支援センター"], [None, None]],
            "予算": [["事業", "金額", "開始日"], ["買い物支援", 120000, date(2026, 4, 1)], [1.5]],
        }
    )
    assert extract(content, "資料.xlsx") == (
        "名簿\n氏名\t所属\n山田 花子\t地域包括支援センター\n"
        "予算\n事業\t金額\t開始日\n買い物支援\t120000\t2026-04-01 00:00:00\n1.5"
    )


def test_a_huge_sheet_is_read_no_further_than_the_limit_on_cells(monkeypatch):
    monkeypatch.setattr(material_text, "MAX_CELLS", 100)
    content = xlsx({"表": [[f"行{n}", n] for n in range(1000)]})
    lines = extract(content, "a.xlsx").splitlines()
    assert lines[:2] == ["表", "行0\t0"]
    assert 45 <= len(lines) <= 51


def test_an_excel_file_with_a_part_that_would_expand_too_far_gives_nothing(monkeypatch):
    monkeypatch.setattr(material_text, "MAX_PART_BYTES", 10_000)
    content = xlsx({"表": [["ひとこと" * 100 + str(n)] for n in range(100)]})  # shared strings
    assert extract(content, "a.xlsx") == ""


def test_a_broken_excel_file_gives_nothing():
    assert extract(ooxml("xl/"), "a.xlsx") == ""
    assert extract(zip_bomb(), "a.xlsx") == ""


# --- Plain text, other kinds, the limits ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("会議の記録\r\n買い物支援".encode(), "メモ.txt"),
        ("\ufeff会議の記録\n買い物支援".encode(), "メモ.txt"),
        ("会議の記録\r\n買い物支援".encode("cp932"), "メモ.txt"),
        ("会議の記録\n買い物支援".encode("cp932"), "一覧.CSV"),
    ],
    ids=["utf-8", "utf-8 with a BOM", "cp932", "cp932 csv"],
)
def test_plain_text_in_either_encoding(content, name):
    assert extract(content, name) == "会議の記録\n買い物支援"


def test_text_is_normalised_and_capped():
    content = ("あ\x00い\x1b[31m\u3099う\n" * 100_000).encode()
    text = extract(content, "a.txt")
    assert len(text) == material_text.MAX_CHARS
    assert text.startswith("あい[31m\u3099う\nあい")  # controls gone; NFC left alone
    assert "\x00" not in text and "\x1b" not in text


def test_kangxi_radicals_become_the_ideographs_they_stand_for():
    """CJK fonts in PDFs may map 月 to the radical ⽉ (U+2F49): the search is for 月."""
    assert extract("令和8年5\u2f49\u2f47".encode(), "a.txt") == "令和8年5月日"


def test_undecodable_text_gives_nothing():
    assert extract(b"\xff\xfe\x80\x81" * 10, "a.txt") == ""


@pytest.mark.parametrize(
    ("content", "name"),
    [(PNG, "図.png"), (ooxml("ppt/"), "a.pptx"), (b"\xd0\xcf\x11\xe0", "a.doc"), (b"", "a.txt")],
)
def test_other_kinds_have_no_text(content, name):
    assert extract(content, name) == ""


def test_a_file_over_the_limit_on_bytes_is_not_read(monkeypatch, warnings_logged):
    monkeypatch.setattr(material_text, "MAX_BYTES", 100)
    assert extract("議事".encode() * 100, "a.txt") == ""
    assert "a.txt not read: 600 bytes" in warnings_logged.text
