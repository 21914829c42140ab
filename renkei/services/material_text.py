"""The plain text of a material's file, for the search (issue 25): PDF, Word (.docx), Excel
(.xlsx) and plain text or CSV; anything else has none.

A material is anyone's upload, so reading it must never fail the caller nor run away with
the machine: the bytes looked at, the pages, the cells, the XML read out of a ZIP and the
time spent are all bounded, and a file that cannot be read (broken, encrypted, a ZIP bomb,
XML with an entity bomb) gives "" and a warning in the log. What is returned is capped at
``MAX_CHARS`` characters, normalised as every text Renkei keeps (``textnorm.multi_line``).

pypdf bounds what a compressed PDF stream may inflate to itself (its LimitReachedError is a
failure like any other here).

Pure functions over bytes: no request, no database, no store. The file's type was checked at
upload (services/material_types.py: the extension agrees with the content), so the name's
extension says which reader to use.
"""

import codecs
import io
import logging
import os
import re
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, cast
from xml.etree.ElementTree import Element, XMLPullParser

from openpyxl import load_workbook
from pypdf import PdfReader

from renkei.textnorm import multi_line

log = logging.getLogger(__name__)

MAX_CHARS = 200_000  # what is returned, at most
MAX_BYTES = 64 * 1024 * 1024  # a larger file is not read (uploads are 20 MB by default)
MAX_PAGES = 300  # of a PDF
MAX_CELLS = 500_000  # of a workbook, empty ones padded by openpyxl included
MAX_PART_BYTES = 64 * 1024 * 1024  # decompressed, of one part of a ZIP package
MAX_ZIP_ENTRIES = 10_000
MAX_SECONDS = 10.0  # a PDF's pages stop being read after this (an upload waits for it)
CHUNK = 64 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# CJK fonts in PDFs often map a kanji to its Kangxi radical (⽉ for 月, ⽇ for 日): the
# radicals are made the ideographs they stand for, or 「令和8年5月」 would not be found.
_RADICALS = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x2F00, 0x2FD6)}
_TRAILING_SPACE = re.compile(r"[ \t\u3000]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Full(Exception):
    """Enough characters: reading stops."""


class _Unreadable(Exception):
    """Not to be read: encrypted, undecodable, or past a limit before anything came of it."""


def extract(data: bytes, filename: str) -> str:
    """The plain text of the file ``data`` named ``filename``; "" for a kind without text,
    and for a file that cannot be read (logged as a warning)."""
    reader = _READERS.get(os.path.splitext(filename)[1].lower())
    if reader is None or not data:
        return ""
    if len(data) > MAX_BYTES:
        log.warning("material text: %s not read: %d bytes", filename, len(data))
        return ""
    text = _Text()
    try:
        reader(data, text)
    except _Full:
        pass
    except Exception as error:  # anyone's file: whatever goes wrong, the caller goes on
        log.warning("material text: %s not read: %r", filename, error)
        return ""
    return _tidy(text.value())


class _Text:
    """Text gathered piece by piece, up to ``MAX_CHARS`` (then ``_Full`` is raised)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.size += len(piece)
        if self.size >= MAX_CHARS:
            raise _Full

    def value(self) -> str:
        return "".join(self.parts)


def _tidy(text: str) -> str:
    text = multi_line(text).translate(_RADICALS)
    text = _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text))
    return text.strip()[:MAX_CHARS]


# --- PDF -----------------------------------------------------------------------------------


def _pdf(data: bytes, text: _Text) -> None:
    reader = PdfReader(io.BytesIO(data))
    # Encrypted only against changes (an empty password opens it) is common; otherwise
    # the text cannot be had and decrypt raises or returns NOT_DECRYPTED (0).
    if reader.is_encrypted and not reader.decrypt(""):
        raise _Unreadable("encrypted")
    deadline = time.monotonic() + MAX_SECONDS
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or time.monotonic() > deadline:
            break
        text.add(page.extract_text() + "\n")


# --- Word ----------------------------------------------------------------------------------


def _docx(data: bytes, text: _Text) -> None:
    """The paragraphs of word/document.xml as lines (tables' cells each a paragraph), read
    as a stream: at most ``MAX_PART_BYTES`` of XML, whatever the part claims."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        _check_entries(package)
        with package.open("word/document.xml") as part:
            for element in _ended(part):
                tag = element.tag
                if tag == f"{_W}t":
                    text.add(element.text or "")
                elif tag == f"{_W}tab":
                    text.add("\t")
                elif tag in (f"{_W}br", f"{_W}cr"):
                    text.add("\n")
                elif tag == f"{_W}p":
                    text.add("\n")
                    element.clear()  # what is read is not kept


def _ended(stream: IO[bytes]) -> Iterator[Element]:
    """The elements of the XML in ``stream`` as each ends, fed in chunks; stops quietly after
    ``MAX_PART_BYTES`` (the text read so far is kept). Entities are expat's: no external
    ones are fetched, and expat refuses an exponential expansion (a "billion laughs")."""
    parser: XMLPullParser[Element] = XMLPullParser(events=("end",))
    read = 0
    while read < MAX_PART_BYTES and (chunk := stream.read(CHUNK)):
        read += len(chunk)
        parser.feed(chunk)
        for event in parser.read_events():
            _kind, element = cast(tuple[str, Element], event)
            yield element


# --- Excel ---------------------------------------------------------------------------------


def _xlsx(data: bytes, text: _Text) -> None:
    """Sheet by sheet (its name as a heading), a row per line, cells joined by tabs: the
    values as last calculated (data_only), read as a stream (read_only)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        _check_entries(package)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of every extension it skips
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            cells = 0
            for sheet in workbook.worksheets:
                text.add(f"{sheet.title}\n")
                for row in sheet.iter_rows(values_only=True):
                    cells += max(1, len(row))
                    if cells > MAX_CELLS:
                        return
                    line = "\t".join(_cell(value) for value in row).rstrip("\t")
                    if line:
                        text.add(line + "\n")
        finally:
            workbook.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_entries(package: zipfile.ZipFile) -> None:
    """Refuse a package of too many parts or a part that would expand past the limit
    (openpyxl reads some parts whole). zipfile yields no more than a part's declared size,
    so the directory bounds what reading can produce."""
    entries = package.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _Unreadable(f"{len(entries)} parts")
    for entry in entries:
        if entry.file_size > MAX_PART_BYTES and not entry.filename.startswith("word/"):
            raise _Unreadable(f"{entry.filename}: {entry.file_size} bytes")


# --- Plain text and CSV --------------------------------------------------------------------


def _plain(data: bytes, text: _Text) -> None:
    """UTF-8 (with or without a BOM), else Shift_JIS (CP932): as material_types accepts."""
    head = data[: MAX_CHARS * 4]  # enough bytes for MAX_CHARS characters in either
    for encoding in ("utf-8-sig", "cp932"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # Not final: a character cut at the end of ``head`` is dropped, not an error.
            text.add(decoder.decode(head, final=len(head) == len(data)))
            return
        except UnicodeDecodeError:
            continue
    raise _Unreadable("neither UTF-8 nor CP932")


_READERS: dict[str, Callable[[bytes, _Text], None]] = {
    ".pdf": _pdf,
    ".docx": _docx,
    ".xlsx": _xlsx,
    ".txt": _plain,
    ".csv": _plain,
}
