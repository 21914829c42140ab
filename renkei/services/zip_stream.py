"""A ZIP of files written as it is sent: a generator of byte chunks that a Flask response can
stream, so that memory stays the same whatever the files add up to.

zipfile writes to a sink that cannot seek; it then puts each entry's sizes and checksum in a
data descriptor after its data instead of going back to its header, and nothing but the
chunk being sent (and a line of the central directory per entry) is held. Entries are opened
one at a time, when their turn comes, and closed before the next.

Names are flagged as UTF-8 (zipfile sets the flag for any name that is not ASCII), which
Windows Explorer (10 and later), macOS and Info-ZIP read as such; they are made safe to
extract anywhere (no folders, no characters Windows refuses) and unique in the archive.
"""

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import BinaryIO

from renkei.services.dates import TOKYO

Opener = Callable[[], BinaryIO]

CHUNK = 64 * 1024
# Room to spare under Windows' 260 characters for a path, with the folder it is unpacked in.
MAX_NAME = 120
# Already compressed inside: deflating them again costs time and saves next to nothing.
STORED = {
    ".pdf", ".docx", ".xlsx", ".pptx", ".jpg", ".jpeg", ".png", ".gif", ".webp",
    ".zip", ".gz", ".mp4", ".mp3", ".m4a", ".heic",
}  # fmt: skip
# What Windows refuses in a file name, besides the separators and control characters.
WINDOWS_REFUSED = re.compile(r'[<>:"|?*]')
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in range(10)
}


def stream_zip(
    entries: Iterable[tuple[str, Opener]], when: datetime | None = None
) -> Iterator[bytes]:
    """The ZIP of ``entries``, (name in the archive, function opening the file) pairs, in
    chunks of about ``CHUNK`` bytes. ``when`` (default: now) is the entries' time, in Tokyo
    time as ZIP has no time zones. Each file's size is read before it is written if it can
    be seeked, so that a file over 2 GiB gets its ZIP64 header; files that cannot be seeked
    are taken to be under that."""
    stamp = (when or datetime.now(TOKYO)).astimezone(TOKYO).timetuple()[:6]
    sink = _Sink()
    names = UniqueNames()
    archive = zipfile.ZipFile(sink, "w")
    for name, opener in entries:
        info = zipfile.ZipInfo(names.add(name), date_time=stamp)
        info.compress_type = (
            zipfile.ZIP_STORED
            if PurePosixPath(info.filename).suffix.lower() in STORED
            else zipfile.ZIP_DEFLATED
        )
        with opener() as source:
            info.file_size = _size(source)
            with archive.open(info, "w") as target:
                while block := source.read(CHUNK):
                    target.write(block)
                    if sink.size >= CHUNK:
                        yield sink.take()
    archive.close()
    yield sink.take()


def _size(source: BinaryIO) -> int:
    """The bytes left to read in ``source`` if it can tell, else 0 (taken to be small)."""
    try:
        if not source.seekable():
            return 0
        here = source.tell()
        end = source.seek(0, io.SEEK_END)
        source.seek(here)
    except (OSError, AttributeError):
        return 0
    return end - here


class _Sink(io.RawIOBase):
    """Where zipfile writes: keeps what was written until it is taken. It cannot seek, which
    is what makes zipfile write data descriptors instead of going back."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: "bytes | bytearray | memoryview") -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


class UniqueNames:
    """Safe names, each new one made different from those before it: 「計画.pdf」 then
    「計画 (2).pdf」. Compared as Windows and macOS compare them, without case."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def add(self, name: str) -> str:
        name = safe_name(name)
        stem, suffix = _split(name)
        candidate, number = name, 1
        while candidate.casefold() in self.taken:
            number += 1
            candidate = f"{stem} ({number}){suffix}"
        self.taken.add(candidate.casefold())
        return candidate


def safe_name(name: str) -> str:
    """``name`` as a plain file name that unpacks where it is unpacked: the parts of a path
    joined by "_" (no folders, no "." or ".."), in NFC (as macOS writes names in NFD), with
    no control characters, no characters Windows refuses, no dots or spaces at either end,
    no device name (CON, NUL …), and at most ``MAX_NAME`` characters, the extension kept."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in name)
    parts = [part.strip(" .") for part in re.split(r"[/\\]", name)]
    name = "_".join(part for part in parts if part)
    name = WINDOWS_REFUSED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .") or "_"
    stem, suffix = _split(name)
    if stem.upper() in WINDOWS_DEVICES:
        stem = f"_{stem}"
    if len(suffix) > 16:  # not an extension: a long name with a dot in it
        stem, suffix = stem + suffix, ""
    return stem[: MAX_NAME - len(suffix)].rstrip(" .") + suffix


def _split(name: str) -> tuple[str, str]:
    """``name`` as its stem and its extension (with the dot; empty if none)."""
    suffix = PurePosixPath(name).suffix
    return name[: len(name) - len(suffix)], suffix
