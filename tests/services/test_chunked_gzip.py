"""gzip by chunks of named parts (services/chunked_gzip.py): one standard gzip member as
small as a single pass's, and a change recompresses only its chunk."""

import gzip
import hashlib
import zlib

import pytest

from renkei.services import chunked_gzip


def _part(i: int, version: int = 0) -> tuple[str, bytes]:
    """An event text of about 800 bytes, alike but not equal to its neighbours, as in a
    feed; its key a digest of what it is made of."""
    text = (
        f"BEGIN:VEVENT\r\nSUMMARY:第{i}回 支援調整会議（版{version}）\r\nDTSTART;TZID=Asia/Tokyo:"
        f"2026{1 + i % 12:02d}{1 + i % 28:02d}T140000\r\nLOCATION:市役所 {i % 7}階 会議室\r\n"
        f"UID:session-{i}@renkei.example.jp\r\nDESCRIPTION:"
        + "".join(f"{n}. 議題{(i * 7 + n) % 50}（{10 + n} 分）\\n" for n in range(25))
        + "\r\nEND:VEVENT\r\n"
    ).encode()
    return hashlib.sha256(text).hexdigest(), text


@pytest.fixture(autouse=True)
def empty_memory():
    chunked_gzip.forget()
    yield
    chunked_gzip.forget()


@pytest.fixture
def deflated(monkeypatch) -> list[int]:
    """The sizes of the chunks compressed anew."""
    sizes: list[int] = []
    deflate = chunked_gzip._deflate

    def counting(raw: bytes, window: bytes) -> bytes:
        sizes.append(len(raw))
        return deflate(raw, window)

    monkeypatch.setattr(chunked_gzip, "_deflate", counting)
    return sizes


def _one_member(data: bytes) -> bytes:
    """The bytes of ``data``'s single gzip member, and nothing after it."""
    unpacking = zlib.decompressobj(16 + zlib.MAX_WBITS)
    raw = unpacking.decompress(data)
    assert unpacking.eof and not unpacking.unused_data
    return raw


def test_one_gzip_member_as_small_as_one_pass(deflated):
    parts = [_part(i) for i in range(1000)]
    raw = b"".join(text for _key, text in parts)
    data = chunked_gzip.compress(parts)
    assert _one_member(data) == raw == gzip.decompress(data)
    assert data[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no name or comment
    whole = gzip.compress(raw, compresslevel=9, mtime=0)
    assert len(data) <= len(whole) * 1.01, (len(data), len(whole))
    assert len(deflated) > 4  # cut into chunks


@pytest.mark.parametrize("count", [0, 1, 3])
def test_few_parts(count):
    parts = [_part(i) for i in range(count)]
    assert _one_member(chunked_gzip.compress(parts)) == b"".join(t for _k, t in parts)


def test_a_changed_part_recompresses_its_chunk_and_at_most_the_next(deflated):
    parts = [_part(i) for i in range(1000)]
    chunked_gzip.compress(parts)
    everything = sum(deflated)
    for i in range(0, 1000, 37):
        changed = [*parts[:i], _part(i, version=1), *parts[i + 1 :]]
        deflated.clear()
        data = chunked_gzip.compress(changed)
        # The chunk after the change is primed with the bytes before it: it is recompressed
        # when the change reaches into its window, and must then be, or it would decompress
        # to other bytes.
        assert _one_member(data) == b"".join(t for _k, t in changed)
        assert 1 <= len(deflated) <= 2 and sum(deflated) < everything / 4, (i, deflated)


def test_a_part_added_or_removed_moves_no_other_chunk(deflated):
    parts = [_part(i) for i in range(1, 1000)]
    chunked_gzip.compress(parts)
    for changed in ([_part(0), *parts], parts[1:], [*parts, _part(1000)]):
        deflated.clear()
        assert _one_member(chunked_gzip.compress(changed)) == b"".join(t for _k, t in changed)
        assert len(deflated) <= 2, deflated


def test_kept_chunks_are_bounded(monkeypatch):
    monkeypatch.setattr(chunked_gzip, "KEPT_CHUNKS", 3)
    for version in range(5):
        parts = [_part(i, version) for i in range(300)]
        assert _one_member(chunked_gzip.compress(parts)) == b"".join(t for _k, t in parts)
        assert len(chunked_gzip._KEPT) <= 3
