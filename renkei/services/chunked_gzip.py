"""gzip for a text made of named parts of which few change between one compression and the
next (a feed: a thousand event texts, one changed). Compressing a city member's whole feed
(~900 KB) at level 9 was a quarter of its rebuild.

The parts are cut into chunks where a part's key says so (so that a part added or removed
moves no other chunk's edges). Each chunk is compressed on its own as raw deflate, primed
with the 32 KiB that come before it — the window a single pass would have had — and ended on
a byte boundary (a sync flush): the chunks' outputs, between a gzip header and trailer, are
one gzip member, within a fraction of a percent of a single pass's size (how pigz compresses
in parallel). A chunk's output is a function of its parts and the window before it, and is
kept in memory by those: the next compression recompresses only the chunks whose parts, or
whose window, changed — one or two.
"""

import hashlib
import struct
import zlib
from collections.abc import Sequence

LEVEL = 9  # gzip.compress's default: a feed's copy is what calendar apps download at each poll
WINDOW = 32 * 1024  # deflate's window
# A chunk is at least a window long, so that a change reaches into the next chunk's window
# at most, never further; then a part whose key's CRC-32 ends in a byte below this ends it:
# about 70 parts of a feed (60 KB), so that one change recompresses a tenth of a city
# member's feed.
_CUT_BELOW = 8
MAX_PARTS = 256  # a chunk's parts at most, past the window, however the keys fall

# gzip's header (RFC 1952): deflate, no name, no time, best compression, any system.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
_LAST_BLOCK = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS).flush()

# Chunks' outputs by what they are made of. Cleared when full: simpler than an LRU, and
# the next compressions fill it again.
_KEPT: dict[bytes, bytes] = {}
KEPT_CHUNKS = 5_000  # a few KB each: about 15 MB of a worker's memory at most


def compress(parts: Sequence[tuple[str, bytes]]) -> bytes:
    """One gzip member holding the parts' bytes in order. Each key must name its bytes: no
    key may stand for other bytes at another call (a digest of what they are made of), and
    none holds NUL."""
    out = [_HEADER]
    crc = size = 0
    window = b""
    for keys, raw in _chunks(parts):
        seen = hashlib.blake2b(window, digest_size=20).digest()
        key = hashlib.blake2b(b"\x00".join([seen, *keys]), digest_size=20).digest()
        deflated = _KEPT.get(key)
        if deflated is None:
            deflated = _deflate(raw, window)
            if len(_KEPT) >= KEPT_CHUNKS:
                _KEPT.clear()
            _KEPT[key] = deflated
        out.append(deflated)
        crc = zlib.crc32(raw, crc)
        size += len(raw)
        window = (window + raw)[-WINDOW:]
    out += [_LAST_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
    return b"".join(out)


def _chunks(parts: Sequence[tuple[str, bytes]]) -> list[tuple[list[bytes], bytes]]:
    """(the parts' keys, their bytes joined) for each chunk."""
    chunks = []
    keys: list[bytes] = []
    texts: list[bytes] = []
    size = 0
    for key, text in parts:
        name = key.encode()
        keys.append(name)
        texts.append(text)
        size += len(text)
        # CRC-32 spreads any key's bits evenly enough, for less than a digest costs.
        if size >= WINDOW and (zlib.crc32(name) & 0xFF < _CUT_BELOW or len(keys) >= MAX_PARTS):
            chunks.append((keys, b"".join(texts)))
            keys, texts, size = [], [], 0
    if keys:
        chunks.append((keys, b"".join(texts)))
    return chunks


def _deflate(raw: bytes, window: bytes) -> bytes:
    """``raw`` as raw deflate, its back-references free to reach into ``window`` (the bytes
    before it in the stream), ending on a byte boundary and not as the last block."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=window)
    return compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)


def forget() -> None:
    _KEPT.clear()
