"""PDF tools for meeting materials: a watermark naming the reader, and one numbered PDF of
several (the 資料一式). Pure functions over file objects: no request, no database.

Text is set in a CID font that PDF viewers carry (HeiseiKakuGo-W5), so nothing is embedded
and no font file ships with Renkei; its predefined CMap maps the glyphs back to Unicode, so
the text can be searched and extracted (the tests read the reader's name back that way).

Each stamp is drawn upright as the page is shown (its /Rotate and crop box taken into
account) and laid over the page's content without rewriting it; the source is only read.
pypdf keeps the output document in memory until it is written, so memory grows with the
output's pages, not with the number of stamps: one stamp is made per page size and reused.
"""

import math
from collections.abc import Callable
from functools import partial
from io import BytesIO
from typing import BinaryIO

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from renkei.i18n import lazy_gettext as _l
from renkei.services.errors import DomainError

FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# What pypdf raises on a damaged file is not only its own errors: a broken cross-reference or
# object often surfaces as a lookup or type error deep inside it. These are read as "not a
# readable PDF"; anything else is a fault of ours and propagates.
BROKEN = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError)

GREY = 0.55
# A watermark that hides the text under it would make the material unreadable.
WATERMARK_ALPHA = 0.3
A4 = (595.28, 841.89)

Draw = Callable[[Canvas, float, float], None]


def watermark(source: BinaryIO, out: BinaryIO, lines: list[str]) -> None:
    """Write to ``out`` the PDF ``source`` with ``lines`` on every page: large and diagonal
    across the middle, and small in a band along the foot. Raises ``DomainError`` for a file
    that is not a readable PDF or is encrypted; ``out`` is then to be discarded.

    The document is copied whole (its bookmarks and links too) and written anew: an
    incremental update would leave the original in front of it, to be had back by cutting
    the file at its first end."""
    stamps: dict[tuple[float, float], PageObject] = {}
    with _reading(source) as reader:
        writer = PdfWriter(clone_from=reader)
        for page in writer.pages:
            width, height = _shown_size(page)
            key = (round(width, 2), round(height, 2))
            if key not in stamps:
                stamps[key] = _drawn(width, height, partial(_draw_watermark, lines=lines))
            _overlay(page, stamps[key])
        writer.write(out)


def merge_numbered(
    parts: list[tuple[str, BinaryIO]],
    out: BinaryIO,
    title_lines: list[str] | None = None,
    every_page: bool = False,
) -> None:
    """Write to ``out`` one PDF of ``parts`` in order, each a (label, PDF) pair: the label
    (資料1, 資料2 …) boxed in the top right corner of the part's first page, or of each of its
    pages with ``every_page``. With ``title_lines`` a cover page comes first: the first line
    as its heading (資料一式), the others listed below it (e.g. 「資料1 計画案」).
    Raises ``DomainError`` if a part is not a readable PDF or is encrypted."""
    writer = PdfWriter()
    if title_lines:
        for cover in _drawn_pages(*A4, partial(_draw_cover, lines=title_lines)):
            writer.add_page(cover)
    for label, source in parts:
        stamps: dict[tuple[float, float], PageObject] = {}
        with _reading(source, label) as reader:
            for number, page in enumerate(reader.pages):
                added = writer.add_page(page)
                if number == 0 or every_page:
                    size = _shown_size(page)
                    if size not in stamps:
                        stamps[size] = _drawn(*size, partial(_draw_label, label=label))
                    _overlay(added, stamps[size])
    writer.write(out)


class _reading:
    """A reader of ``source``; any failure to read it, on opening or later while its pages are
    copied, becomes one DomainError naming the part (its label) if there is one."""

    def __init__(self, source: BinaryIO, label: str | None = None):
        self.source = source
        self.label = label

    def __enter__(self) -> PdfReader:
        try:
            reader = PdfReader(self.source)
            if reader.is_encrypted:
                raise self._error(encrypted=True)
            if len(reader.pages) == 0:
                raise self._error()
        except BROKEN as error:
            raise self._error() from error
        return reader

    def __exit__(self, kind: object, error: BaseException | None, _traceback: object) -> None:
        if isinstance(error, BROKEN):
            raise self._error() from error

    def _error(self, encrypted: bool = False) -> DomainError:
        if self.label is None and encrypted:
            return DomainError(_l("The PDF is password-protected: save it without a password."))
        if self.label is None:
            return DomainError(_l("The file is not a readable PDF."))
        if encrypted:
            return DomainError(
                _l(
                    "%(label)s is a password-protected PDF: save it without a password.",
                    label=self.label,
                )
            )
        return DomainError(_l("%(label)s is not a readable PDF.", label=self.label))


def _shown_size(page: PageObject) -> tuple[float, float]:
    """Width and height of the page as a viewer shows it: its crop box, turned by /Rotate."""
    box = page.cropbox
    width, height = float(box.width), float(box.height)
    return (height, width) if page.rotation % 180 else (width, height)


def _drawn(width: float, height: float, draw: Draw) -> PageObject:
    """The first page of a PDF of the given size with what ``draw`` puts on it."""
    return _drawn_pages(width, height, draw)[0]


def _drawn_pages(width: float, height: float, draw: Draw) -> list[PageObject]:
    """The pages of a PDF of the given size with what ``draw`` puts on it, as pypdf pages."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height))
    draw(canvas, width, height)
    canvas.showPage()
    canvas.save()
    buffer.seek(0)
    return list(PdfReader(buffer).pages)


def _overlay(page: PageObject, stamp: PageObject) -> None:
    """Lay ``stamp`` (drawn upright at the page's shown size) over ``page``: turned back by the
    page's /Rotate about the crop box's centre, so that it is upright where the viewer turns
    the page, and moved onto the crop box, which need not start at (0, 0)."""
    box = page.cropbox
    width, height = _shown_size(page)
    centre_x = float(box.left) + float(box.width) / 2
    centre_y = float(box.bottom) + float(box.height) / 2
    placed = (
        Transformation()
        .translate(-width / 2, -height / 2)
        .rotate(page.rotation % 360)
        .translate(centre_x, centre_y)
    )
    page.merge_transformed_page(stamp, placed, over=True, expand=False)
    # Merging leaves the page's content uncompressed; a long material would double in size.
    page.compress_content_streams()


def _draw_watermark(canvas: Canvas, width: float, height: float, lines: list[str]) -> None:
    canvas.setFillGray(GREY)
    canvas.setFillAlpha(WATERMARK_ALPHA)
    diagonal = math.hypot(width, height)
    widest = max((pdfmetrics.stringWidth(line, FONT, 1) for line in lines), default=1) or 1
    size = max(8.0, min(48.0, diagonal * 0.7 / widest))
    canvas.saveState()
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    canvas.setFont(FONT, size)
    top = (len(lines) - 1) * size * 1.3 / 2
    for number, line in enumerate(lines):
        canvas.drawCentredString(0, top - number * size * 1.3 - size / 3, line)
    canvas.restoreState()
    # The foot band is what remains legible on a photocopy; the diagonal, what is hard to cut.
    canvas.setFillAlpha(0.8)
    foot = 8.0
    canvas.setFont(FONT, foot)
    canvas.drawCentredString(width / 2, foot * 1.5, "　".join(lines))


def _draw_label(canvas: Canvas, width: float, height: float, label: str) -> None:
    size = 14.0
    margin = 18.0
    text_width = pdfmetrics.stringWidth(label, FONT, size)
    box_width, box_height = text_width + size, size * 1.8
    left, bottom = width - margin - box_width, height - margin - box_height
    # White under the label: it sits on whatever the page has in its corner.
    canvas.setFillGray(1)
    canvas.setStrokeGray(0)
    canvas.rect(left, bottom, box_width, box_height, stroke=1, fill=1)
    canvas.setFillGray(0)
    canvas.setFont(FONT, size)
    canvas.drawString(left + size / 2, bottom + size * 0.55, label)


def _draw_cover(canvas: Canvas, width: float, height: float, lines: list[str]) -> None:
    heading, *entries = lines
    canvas.setFont(FONT, 24)
    canvas.drawCentredString(width / 2, height - 160, heading)
    left, top, step = 90.0, height - 230, 24.0
    y = top
    for entry in entries:
        if y < 72:  # a long list goes on over further cover pages
            canvas.showPage()
            y = height - 90
        # A long title is set smaller rather than run off the page.
        size = min(12.0, (width - 2 * left) / max(pdfmetrics.stringWidth(entry, FONT, 1), 1))
        canvas.setFont(FONT, size)
        canvas.drawString(left, y, entry)
        y -= step
