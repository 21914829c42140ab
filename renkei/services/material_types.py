"""What a material's file is, read from its content, and whether its name may be kept.

Only papers a meeting hands out are taken: PDF, Word, Excel and PowerPoint (the OOXML
formats and the old binary ones), PNG, JPEG, GIF and plain text or CSV. The type is read
from the bytes; the name's extension must agree with it, so an executable or an HTML page
named ``.pdf`` is refused, as is a script named ``.txt``. Each refusal is a ``DomainError``
with a sentence for the uploader; nothing here writes anything.
"""

import codecs
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from renkei.i18n import lazy_gettext as _l
from renkei.models.materials import FILENAME_LENGTH
from renkei.services.errors import DomainError
from renkei.textnorm import has_controls

CHUNK = 64 * 1024
# An OOXML file is a ZIP: its directory is read (never its content) and refused beyond these,
# so that a small file claiming gigabytes (a zip bomb) goes no further.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 500 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
PNG, JPEG, GIF = "image/png", "image/jpeg", "image/gif"
TEXT, CSV = "text/plain", "text/csv"

# The extensions each type may carry.
EXTENSIONS = {
    PDF: (".pdf",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    DOC: (".doc",),
    XLS: (".xls",),
    PPT: (".ppt",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    GIF: (".gif",),
    TEXT: (".txt",),
    CSV: (".csv",),
}
ACCEPTED = ",".join(ext for exts in EXTENSIONS.values() for ext in exts)  # for <input accept>

_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# The folder of each OOXML application inside the package.
_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
# Text that a browser or a shell would run: not a paper, whatever it is called.
_ACTIVE_TEXT = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<head", b"<body", b"#!")

NOT_ACCEPTED = _l(
    "This kind of file cannot be uploaded. Upload a PDF, Word, Excel or PowerPoint file, an "
    "image (PNG, JPEG, GIF) or a text or CSV file."
)


@dataclass(frozen=True)
class Checked:
    filename: str
    media_type: str


def check_name(raw: str | None) -> str:
    """The file name to keep (NFC), or a DomainError: none, a path, a control character or
    more than ``FILENAME_LENGTH`` characters."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise DomainError(_l("Choose a file to upload."), "file")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise DomainError(_l("The file name must not contain / or \\."), "file")
    if has_controls(name):
        raise DomainError(_l("The file name contains characters that cannot be used."), "file")
    if len(name) > FILENAME_LENGTH:
        raise DomainError(
            _l(
                "The file name is too long: at most %(max)d characters. Rename the file and "
                "upload it again.",
                max=FILENAME_LENGTH,
            ),
            "file",
        )
    return name


def check_file(stream: BinaryIO, raw_name: str | None) -> Checked:
    """The name and the media type of the file in ``stream`` (seekable; left at its start),
    or a DomainError saying why it is refused."""
    name = check_name(raw_name)
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if not head:
        raise DomainError(_l("The file is empty."), "file")
    media_type = _detect(stream, head, name)
    stream.seek(0)
    if not name.lower().endswith(EXTENSIONS[media_type]):
        raise DomainError(
            _l(
                "The file's name does not match its content. Upload it with its proper "
                "extension (such as .pdf or .xlsx)."
            ),
            "file",
        )
    return Checked(name, media_type)


def _detect(stream: BinaryIO, head: bytes, name: str) -> str:
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head.startswith(_OLE2):
        return _ole2_type(name)
    if head.startswith(_ZIP):
        return _ooxml_type(stream)
    return _text_type(stream, name)


def _ole2_type(name: str) -> str:
    """An old Office file: the container does not say which application's, the name does."""
    extension = os.path.splitext(name)[1].lower()
    for media_type in (DOC, XLS, PPT):
        if extension in EXTENSIONS[media_type]:
            return media_type
    raise DomainError(NOT_ACCEPTED, "file")


def _ooxml_type(stream: BinaryIO) -> str:
    """A Word, Excel or PowerPoint file: a ZIP holding [Content_Types].xml and its
    application's folder. Only the central directory is read."""
    try:
        entries = zipfile.ZipFile(stream).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise DomainError(NOT_ACCEPTED, "file") from None
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_ZIP_UNCOMPRESSED:
        raise DomainError(
            _l("The file expands to far more than its size and cannot be accepted."), "file"
        )
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" in names:
        for folder, media_type in _OOXML_PARTS:
            if any(name.startswith(folder) for name in names):
                return media_type
    raise DomainError(NOT_ACCEPTED, "file")


def _text_type(stream: BinaryIO, name: str) -> str:
    """Plain text or CSV: UTF-8 (with or without a BOM) or Shift_JIS (CP932) throughout, no
    NUL, and nothing a browser or shell would run."""
    start = stream.read(1024).lstrip(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith(_ACTIVE_TEXT):
        raise DomainError(NOT_ACCEPTED, "file")
    if not any(_decodes(stream, encoding) for encoding in ("utf-8", "cp932")):
        raise DomainError(NOT_ACCEPTED, "file")
    return CSV if name.lower().endswith(".csv") else TEXT


def _decodes(stream: BinaryIO, encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
