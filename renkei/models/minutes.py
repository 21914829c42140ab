"""Minutes (議事録) of a session: versions of Markdown sections, approvals and follow-ups.

A session has at most one ``Minutes``; it has numbered versions. Version 1 is the first
draft; once a version is approved it is locked (its content hash is stored), and a correction
is a new version copied from it that goes through approval again. Every version stays
readable. A section belongs either to one of the session's bodies (an agenda item's section,
a body's attendance) or to none (the general sections), and carries a visibility like an
agenda item, so the one policy rule decides who sees it.
"""

from datetime import date, datetime
from typing import Self

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.bodies import Body
from renkei.models.case_numbers import CASE_NUMBER_LENGTH
from renkei.models.labels import LabelledEnum
from renkei.models.materials import Material, MaterialVersion
from renkei.models.organisations import Organisation
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem, MeetingSession, Visibility


class MinutesStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.DRAFT: _l("Draft"),
            cls.SUBMITTED: _l("Awaiting approval"),
            cls.APPROVED: _l("Approved"),
        }


class SectionKind(LabelledEnum):
    HEADER = "header"
    ATTENDANCE = "attendance"  # one per body served
    ITEM = "item"  # one per agenda item
    DECISIONS = "decisions"
    NEXT_SESSION = "next_session"
    CARRIED = "carried"  # 前回からの継続事項: one per body and visibility (services/tasks.py)

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.CARRIED: _l("Carried over from previous sessions"),
            cls.HEADER: _l("Outline"),
            cls.ATTENDANCE: _l("Attendance"),
            cls.ITEM: _l("Agenda item"),
            cls.DECISIONS: _l("Decisions"),
            cls.NEXT_SESSION: _l("Next session"),
        }


class Decision(LabelledEnum):
    APPROVED = "approved"
    RETURNED = "returned"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {cls.APPROVED: _l("Approved"), cls.RETURNED: _l("Returned with comments")}


class Minutes(Base):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[MeetingSession] = relationship()
    versions: Mapped[list["MinutesVersion"]] = relationship(
        back_populates="minutes", order_by="MinutesVersion.number", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> "MinutesVersion":
        return self.versions[-1]


class MinutesVersion(Base):
    """One version of the minutes. ``round`` counts submissions, so that the approvals of a
    returned submission no longer count once it is submitted again."""

    __tablename__ = "minutes_versions"
    __table_args__ = (UniqueConstraint("minutes_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[MinutesStatus] = mapped_column(
        enum_type(MinutesStatus), default=MinutesStatus.DRAFT
    )
    round: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")  # why a correction was made
    # Why it was submitted while the session had no attendance record ("": it had one).
    attendance_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # SHA-256, once approved

    minutes: Mapped[Minutes] = relationship(back_populates="versions")
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[Person | None] = relationship(foreign_keys=[submitted_by_id])
    sections: Mapped[list["MinutesSection"]] = relationship(
        back_populates="version", order_by="MinutesSection.position", cascade="all, delete-orphan"
    )
    approvals: Mapped[list["Approval"]] = relationship(
        back_populates="version", order_by="Approval.id", cascade="all, delete-orphan"
    )
    # The materials its text cites (「[資料2]」), as they were when it was approved.
    material_refs: Mapped[list["MaterialRef"]] = relationship(
        back_populates="version", order_by="MaterialRef.number", cascade="all, delete-orphan"
    )

    @property
    def is_locked(self) -> bool:
        return self.status != MinutesStatus.DRAFT


class MinutesSection(Base):
    """One Markdown section. ``revision`` rises on every save: a save names the revision it
    started from, and is refused if someone saved in between (optimistic locking)."""

    __tablename__ = "minutes_sections"
    __table_args__ = (
        Index("ix_minutes_sections_version", "version_id", "position"),
        # Deleting an agenda item sets its sections' item to NULL: found by index, not scan.
        Index("ix_minutes_sections_agenda_item", "agenda_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[SectionKind] = mapped_column(enum_type(SectionKind))
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility))
    title: Mapped[str] = mapped_column(String(200), default="")
    case_number: Mapped[str | None] = mapped_column(String(CASE_NUMBER_LENGTH))  # its item's
    text: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[MinutesVersion] = relationship(back_populates="sections")
    agenda_item: Mapped[AgendaItem | None] = relationship()
    body: Mapped[Body | None] = relationship()
    updated_by: Mapped[Person | None] = relationship()
    actions: Mapped[list["ActionItem"]] = relationship(
        back_populates="section", order_by="ActionItem.id", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        """What a section is across versions: its kind and item or body."""
        return (self.kind.value, self.agenda_item_id, self.body_id)


class Approval(Base):
    """A chair's decision on one body's part of one submission (round) of a version."""

    __tablename__ = "minutes_approvals"
    __table_args__ = (UniqueConstraint("version_id", "round", "body_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[MinutesVersion] = relationship(back_populates="approvals")
    body: Mapped[Body] = relationship()
    person: Mapped[Person | None] = relationship()


class ActionItem(Base):
    """A follow-up task (役割分担・宿題) of a body, owned by a person or an organisation.

    Either taken from a line of a minutes section (``section_id``), and then as closed as
    that section (the policy asks the section), or created directly for a body, with the
    visibility chosen then (``chosen_visibility``, never wider than the body allows). Its
    open tasks are carried onto the body's next sessions (services/tasks.py)."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_owner", "owner_id", "done_at"),
        Index("ix_action_items_section", "section_id"),
        Index("ix_action_items_body", "body_id", "done_at"),
        CheckConstraint(
            "(owner_id IS NULL AND owner_organisation_id IS NOT NULL)"
            " OR (owner_id IS NOT NULL AND owner_organisation_id IS NULL)",
            name="one_owner",
        ),
        CheckConstraint(
            "(section_id IS NULL AND visibility IS NOT NULL)"
            " OR (section_id IS NOT NULL AND visibility IS NULL)",
            name="one_visibility",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("minutes_sections.id", ondelete="CASCADE")
    )
    # The body whose sessions carry the task: its section's, else its session's host.
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    chosen_visibility: Mapped[Visibility | None] = mapped_column(
        "visibility", enum_type(Visibility)
    )
    text: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    owner_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    section: Mapped[MinutesSection | None] = relationship(back_populates="actions")
    body: Mapped[Body] = relationship()
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])
    owner_organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])

    @property
    def visibility(self) -> Visibility:
        """Who may see it, as an agenda item's (``policy.Closable``): its section's, or the
        one chosen for a task created directly."""
        if self.section is not None:
            return self.section.visibility
        if self.chosen_visibility is None:
            raise ValueError(f"task {self.id} has neither a section nor a visibility")
        return self.chosen_visibility

    @property
    def owner_name(self) -> str:
        owner = self.owner or self.owner_organisation
        return owner.name if owner is not None else ""


class MaterialRef(Base):
    """A material the text of an approved version cites (「[資料2]」), kept as it was at the
    approval: the file version then current and its SHA-256. The approved minutes link to
    that file even after a 差し替え, and the hash of what was approved covers it."""

    __tablename__ = "minutes_material_refs"
    __table_args__ = (
        UniqueConstraint("version_id", "number"),
        # The download of an earlier file asks whether approved minutes cite it.
        Index("ix_minutes_material_refs_material_version", "material_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("minutes_versions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 資料N, as numbered at the approval
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    material_version_id: Mapped[int] = mapped_column(
        ForeignKey("material_versions.id", ondelete="CASCADE")
    )
    sha256: Mapped[str] = mapped_column(String(64))

    version: Mapped[MinutesVersion] = relationship(back_populates="material_refs")
    material: Mapped[Material] = relationship()
    material_version: Mapped[MaterialVersion] = relationship()
