"""renkei/db.py's helpers."""

from sqlalchemy import select

from renkei.db import insert_new
from renkei.models import FeedFragment


def _row(key: str, text: bytes) -> dict[str, object]:
    return {"key": key, "unit": "session-1", "variant": "v", "text": text}


def test_insert_new_leaves_out_a_row_already_there_without_an_error(db):
    """Two requests storing the same feed text at once: the second's insert finds the
    first's row and leaves it, and its transaction goes on (PostgreSQL logs no error)."""
    insert_new(db, FeedFragment, [_row("a", b"first")])
    db.commit()
    insert_new(db, FeedFragment, [_row("a", b"second"), _row("b", b"other")])
    db.commit()
    stored = {key: text for key, text in db.execute(select(FeedFragment.key, FeedFragment.text))}
    assert stored == {"a": b"first", "b": b"other"}
    assert db.scalar(select(FeedFragment.built_at).where(FeedFragment.key == "b")) is not None
