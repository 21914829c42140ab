"""Where the files of meeting materials live: content-addressed, outside every static path.

A file is stored once under its SHA-256 (two sessions handing out the same paper share it)
and read back by that hash; the database keeps its name, type and size. The store is a small
interface (``MaterialStore``) so that a multi-server install can put the files in an
S3-compatible bucket instead of on a disk (docs/architecture.md, "Meeting materials"); the
disk is the one implementation.
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

CHUNK = 64 * 1024  # what is read and written at a time: memory stays flat
_HASH = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    """The stream went on past the limit given to ``put``: nothing was kept."""


class MaterialStore(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Store what ``stream`` holds (read to its end, in chunks); return its SHA-256
        (hex) and size. Content already stored is kept once."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored content, as a binary file object the caller closes."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Remove the content (nothing happens if it is not there)."""
        ...


class DiskStore:
    """Files under ``root``/ab/cd/<sha256>, written to a temporary file in ``root`` and
    renamed into place, so that a reader never sees half a file and a crash leaves none."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _HASH.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        try:
            with os.fdopen(handle, "wb") as file:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge
                    digest.update(chunk)
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            sha256 = digest.hexdigest()
            target = self.path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)  # the same content again: the same file
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256, size

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


def store_of(app: Flask | None = None) -> MaterialStore:
    """The app's material store (MATERIALS_DIR)."""
    app = app or current_app
    return DiskStore(Path(app.config["MATERIALS_DIR"]))
