"""The PDF tools for meeting materials: the watermark naming the reader on every page, upright
however the page is turned, and the numbered 資料一式; read back with pypdf's text extraction."""

import hashlib
import io
import re
import unicodedata

import pytest
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import RectangleObject
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.pdfgen.canvas import Canvas

from renkei.services import pdf_tools
from renkei.services.errors import DomainError

READER = "閲覧者: 山田 花子 2026年12月3日 14:05 出力"
LINES = [READER, "秘"]


def flat(text: str) -> str:
    """Extracted text without the spaces and line breaks of layout, in NFKC (CJK fonts may map
    a kanji to its Kangxi radical, ⽉ for 月)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def sample_pdf(rotations: tuple[int, ...] = (0, 0, 90, 180, 270), crop: bool = True) -> bytes:
    """A material of several pages: A4 portrait, A3 landscape, then pages shown turned by
    /Rotate, and (with ``crop``) a last page whose crop box does not start at (0, 0)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    sizes = [A4, landscape(A3)] + [A4] * (len(rotations) - 2) + ([A4] if crop else [])
    for number, size in enumerate(sizes, start=1):
        canvas.setPageSize(size)
        canvas.setFont(pdf_tools.FONT, 12)  # each page starts again in Helvetica
        canvas.drawString(72, 400, f"本文 {number} ページ目")
        canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    for page, rotation in zip(writer.pages, rotations, strict=False):
        page.rotation = rotation
    if crop:
        writer.pages[-1].cropbox = RectangleObject((100, 150, 400, 600))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def watermarked(original: bytes, lines: list[str] = LINES) -> PdfReader:
    out = io.BytesIO()
    pdf_tools.watermark(io.BytesIO(original), out, lines)
    return PdfReader(io.BytesIO(out.getvalue()))


def shown(page: PageObject, x: float, y: float) -> tuple[float, float]:
    """Where the point (x, y) of the page's space appears on screen, from the crop box's
    bottom left corner: viewers turn the page clockwise by /Rotate."""
    box = page.cropbox
    x, y = x - float(box.left), y - float(box.bottom)
    width, height = float(box.width), float(box.height)
    return {
        0: (x, y),
        90: (y, width - x),
        180: (width - x, height - y),
        270: (height - y, x),
    }[page.rotation % 360]


def reader_lines_on_screen(page: PageObject) -> list[tuple[float, float, float, float]]:
    """For each piece of text naming the reader: where it starts on screen, and the screen
    direction of its baseline (as a unit vector)."""
    found = []

    def visit(text, cm, tm, _font, _size):
        if "山田" not in text:
            return
        a, b, _c, _d, e, f = _product(tm, cm)
        start = shown(page, e, f)
        ahead = shown(page, e + a, f + b)
        dx, dy = ahead[0] - start[0], ahead[1] - start[1]
        length = (dx * dx + dy * dy) ** 0.5
        found.append((*start, dx / length, dy / length))

    page.extract_text(visitor_text=visit)
    return found


def _product(m, n):
    """The matrix product m × n of two PDF matrices [a b c d e f]."""
    return (
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    )


def shown_size(page: PageObject) -> tuple[float, float]:
    box = page.cropbox
    width, height = float(box.width), float(box.height)
    return (height, width) if page.rotation % 180 else (width, height)


def test_the_watermark_names_the_reader_on_every_page():
    original = sample_pdf()
    pages = watermarked(original).pages

    assert len(pages) == 6
    for number, page in enumerate(pages, start=1):
        text = flat(page.extract_text())
        assert flat(READER) in text, number
        assert "秘" in text
        assert f"本文{number}ページ目" in text  # the page's own content is still there


def test_the_watermark_reads_left_to_right_at_the_foot_of_each_page_as_shown():
    pages = watermarked(sample_pdf()).pages

    for page in pages:
        width, height = shown_size(page)
        pieces = reader_lines_on_screen(page)
        horizontal = [(x, y) for x, y, dx, dy in pieces if dx > 0.999 and abs(dy) < 0.01]
        # One piece runs level along the foot, inside the page as shown...
        assert any(0 <= x < width / 2 and 0 < y < height * 0.1 for x, y in horizontal), (
            page.rotation,
            pieces,
        )
        # ...and one rises diagonally from left to right across it.
        assert any(dx > 0.3 and dy > 0.3 for _, _, dx, dy in pieces), (page.rotation, pieces)


def test_the_pages_keep_their_size_turn_and_crop():
    original = sample_pdf()
    before = PdfReader(io.BytesIO(original)).pages
    after = watermarked(original).pages

    for old, new in zip(before, after, strict=True):
        assert new.rotation == old.rotation
        assert list(new.mediabox) == list(old.mediabox)
        assert list(new.cropbox) == list(old.cropbox)


def test_the_bookmarks_of_a_long_material_are_kept():
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for number, title in enumerate(["Plan", "Budget"]):
        canvas.bookmarkPage(f"part{number}")
        canvas.addOutlineEntry(title, f"part{number}")
        canvas.drawString(72, 400, title)
        canvas.showPage()
    canvas.save()

    marked = watermarked(buffer.getvalue())

    assert [entry.title for entry in marked.outline] == ["Plan", "Budget"]
    assert marked.get_destination_page_number(marked.outline[1]) == 1


def test_the_original_is_left_as_it_was(tmp_path):
    path = tmp_path / "計画案.pdf"
    path.write_bytes(sample_pdf())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    with path.open("rb") as source:
        pdf_tools.watermark(source, io.BytesIO(), LINES)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_the_pages_share_one_copy_of_the_stamps_fonts():
    """A long material does not carry a copy of the stamp's fonts per page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for number in range(200):
        canvas.drawString(72, 400, f"page {number}")
        canvas.showPage()
    canvas.save()
    original = buffer.getvalue()
    out = io.BytesIO()

    pdf_tools.watermark(io.BytesIO(original), out, LINES)

    pages = PdfReader(io.BytesIO(out.getvalue())).pages
    assert len(pages) == 200
    fonts = {
        font.indirect_reference.idnum
        for page in pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert len(fonts) <= 3
    assert len(out.getvalue()) < len(original) + 200 * 1000


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"This is plain text, not a PDF.",
        b"MZ\x90\x00 an executable",
        b"<html><body>disguised</body></html>",
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF",
    ],
    ids=["empty", "text", "executable", "html", "no-pages"],
)
def test_a_file_that_is_not_a_readable_pdf_is_refused_in_japanese(ctx, content):
    out = io.BytesIO()

    with pytest.raises(DomainError) as refused:
        pdf_tools.watermark(io.BytesIO(content), out, LINES)

    assert str(refused.value.message) == "PDFファイルとして読み取れません。"


def test_a_truncated_pdf_is_refused(ctx):
    whole = sample_pdf()

    with pytest.raises(DomainError):
        pdf_tools.watermark(io.BytesIO(whole[: len(whole) // 2]), io.BytesIO(), LINES)


def encrypted_pdf(password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample_pdf())))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_pdf_is_refused_in_japanese(ctx):
    with pytest.raises(DomainError) as refused:
        pdf_tools.watermark(io.BytesIO(encrypted_pdf()), io.BytesIO(), LINES)

    assert "パスワード" in str(refused.value.message)


def test_the_merged_pdf_numbers_each_part_on_its_first_page():
    parts = [
        ("資料1", io.BytesIO(sample_pdf((0, 0)))),  # 3 pages
        ("資料2", io.BytesIO(sample_pdf((90, 0), crop=False))),  # 2 pages, the first turned
        ("資料3", io.BytesIO(sample_pdf((0, 270), crop=False))),
    ]
    out = io.BytesIO()

    pdf_tools.merge_numbered(parts, out, None)

    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(out.getvalue())).pages]
    assert len(pages) == 7
    labelled = {i: label for i, text in enumerate(pages) for label in re.findall(r"資料\d", text)}
    assert labelled == {0: "資料1", 3: "資料2", 5: "資料3"}
    assert "本文1ページ目" in pages[3]  # each part starts from its own first page


def test_the_label_sits_in_the_top_right_corner_as_shown():
    parts = [("資料2", io.BytesIO(sample_pdf((90, 0), crop=False)))]
    out = io.BytesIO()
    pdf_tools.merge_numbered(parts, out, None)
    page = PdfReader(io.BytesIO(out.getvalue())).pages[0]
    width, height = shown_size(page)
    places = []

    def visit(text, cm, tm, _font, _size):
        if "資料2" in text:
            a, b, _c, _d, e, f = _product(tm, cm)
            places.append(shown(page, e, f))

    page.extract_text(visitor_text=visit)

    assert places
    assert all(x > width * 0.7 and y > height * 0.9 for x, y in places), places


def test_every_page_can_carry_its_label():
    parts = [("資料1", io.BytesIO(sample_pdf((0, 0)))), ("資料2", io.BytesIO(sample_pdf((0, 0))))]
    out = io.BytesIO()

    pdf_tools.merge_numbered(parts, out, None, every_page=True)

    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(out.getvalue())).pages]
    assert ["資料1" in text for text in pages] == [True] * 3 + [False] * 3
    assert ["資料2" in text for text in pages] == [False] * 3 + [True] * 3


def test_the_cover_lists_the_materials_before_them():
    parts = [("資料1", io.BytesIO(sample_pdf((0, 0))))]
    title = ["資料一式", "資料1 地域福祉計画（案）", "資料2 予算書"]
    out = io.BytesIO()

    pdf_tools.merge_numbered(parts, out, title)

    pages = PdfReader(io.BytesIO(out.getvalue())).pages
    assert len(pages) == 4
    cover = flat(pages[0].extract_text())
    assert "資料一式" in cover
    assert "資料1地域福祉計画(案)" in cover
    assert "資料2予算書" in cover
    assert "本文1ページ目" in flat(pages[1].extract_text())


def test_a_long_list_goes_on_over_further_cover_pages():
    title = ["資料一式"] + [f"資料{number} 会議資料" for number in range(1, 61)]
    out = io.BytesIO()

    pdf_tools.merge_numbered([("資料1", io.BytesIO(sample_pdf((0, 0))))], out, title)

    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(out.getvalue())).pages]
    covers = "".join(pages[:-3])
    assert all(f"資料{number}会議資料" in covers for number in range(1, 61))


def test_a_broken_part_is_refused_by_its_label(ctx):
    parts = [
        ("資料1", io.BytesIO(sample_pdf((0, 0)))),
        ("資料2", io.BytesIO(b"not a pdf")),
    ]

    with pytest.raises(DomainError) as refused:
        pdf_tools.merge_numbered(parts, io.BytesIO(), None)

    assert str(refused.value.message) == "資料2はPDFファイルとして読み取れません。"


def test_an_encrypted_part_is_refused_by_its_label(ctx):
    parts = [("資料3", io.BytesIO(encrypted_pdf()))]

    with pytest.raises(DomainError) as refused:
        pdf_tools.merge_numbered(parts, io.BytesIO(), None)

    assert str(refused.value.message).startswith("資料3は")
    assert "パスワード" in str(refused.value.message)
