"""The search index (検索): one entry per thing a search can find, with the text it shows
and the scope the policy reads at query time (docs/architecture.md, "Search").

The entry holds content and scope only; who may see it is decided when searching
(``policy.search_reach``), so a pledge, a term ending or a new selection needs no
reindexing. ``tokens`` is the token string of ``services/search_text.py`` and ``scope`` the
policy's scope tokens; SQLite indexes both in the FTS5 table ``search_fts`` and PostgreSQL
in the generated ``tsv`` column (made by migrations 0026 and 0028, outside these models).
"""

from datetime import date
from typing import Self

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base, enum_type
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.labels import LabelledEnum
from renkei.models.sessions import Visibility


class SearchKind(LabelledEnum):
    SESSION = "session"
    ITEM = "item"
    SECTION = "section"
    MATERIAL = "material"
    REFERRAL = "referral"
    ISSUE = "issue"
    BODY = "body"
    PERSON = "persons"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.SESSION: _l("Session"),
            cls.ITEM: _l("Agenda item"),
            cls.SECTION: _l("Minutes"),
            cls.MATERIAL: _l("Material"),
            cls.REFERRAL: _l("Referral"),
            cls.ISSUE: _l("Local issue"),
            cls.BODY: _l("Body"),
            cls.PERSON: _l("Person"),
        }


class SearchEntry(Base):
    __tablename__ = "search_entries"
    __table_args__ = (
        Index("ix_search_entries_object", "kind", "object_id"),
        Index("ix_search_entries_session", "session_id"),
        Index("ix_search_entries_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SearchKind] = mapped_column(enum_type(SearchKind))
    object_id: Mapped[int] = mapped_column(Integer)
    # The session it belongs to (a session, an item, a minutes section, a material).
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # The owning body (an item's, a section's; a session's host; an issue's 協議体).
    body_id: Mapped[int | None] = mapped_column(Integer)
    # As closed as an agenda item: its visibility, and the item a participant may be
    # assigned (an item, a material of it, a minutes section of it).
    visibility: Mapped[Visibility | None] = mapped_column(enum_type(Visibility))
    item_id: Mapped[int | None] = mapped_column(Integer)
    # A material narrowed below its item's visibility must pass this one too.
    narrowed_to: Mapped[Visibility | None] = mapped_column(enum_type(Visibility))
    # Who raised a local issue (they see it whatever their bodies).
    raised_by_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    tokens: Mapped[str] = mapped_column(Text, default="")
    # Who could possibly see it and its day, as tokens the match requires (policy.py,
    # "The search's scope tokens"; search_dates.day_tokens).
    scope: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<SearchEntry {self.kind} {self.object_id}>"


_OUTSIDE_MODEL = (
    "tsv",
    "ix_search_entries_tsv",
    "ix_search_entries_reach",
    "ix_search_entries_terms",
)


def in_models(
    obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's ``include_object``: the search index's own database objects (SQLite's FTS5
    table and its shadow tables, PostgreSQL's ``tsv`` column and its terms index) are made by
    migrations 0026, 0028, 0029 and 0033 and described by no model; comparing the schema leaves
    them out."""
    del obj
    if type_ == "table" and name is not None and name.startswith("search_fts"):
        return False
    return not (type_ in ("column", "index") and name in _OUTSIDE_MODEL)
