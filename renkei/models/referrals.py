"""Referrals (つなぎ): a case passed from one organisation to another, by case number only.

Renkei holds no name of the person referred: the case number (services/case_numbers.py) is
the only link to the agencies' own case files. Who sees a referral is decided by
services/policy.py (``referral_filter``), which reads ``consent`` and ``agenda_item_id``.
"""

from datetime import date, datetime
from typing import Self

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.case_numbers import CASE_NUMBER_LENGTH
from renkei.models.labels import LabelledEnum
from renkei.models.organisations import Organisation
from renkei.models.people import Person
from renkei.models.sessions import AgendaItem

NOTE_LENGTH = 500
REASON_LENGTH = 500
TOPIC_LENGTH = 40


class Consent(LabelledEnum):
    """本人同意: whether the person agreed that the organisations share their case."""

    GIVEN = "given"  # 有
    REFUSED = "refused"  # 無
    ASKING = "asking"  # 確認中

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.GIVEN: _l("Consent given"),
            cls.REFUSED: _l("No consent"),
            cls.ASKING: _l("Consent being asked"),
        }


class ReferralStatus(LabelledEnum):
    """受付 → 接触済 → 支援開始 / 終了, or 未接触 (never reached)."""

    RECEIVED = "received"  # 受付
    CONTACTED = "contacted"  # 接触済
    SUPPORTING = "supporting"  # 支援開始
    CLOSED = "closed"  # 終了
    UNREACHED = "unreached"  # 未接触

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.RECEIVED: _l("Received"),
            cls.CONTACTED: _l("Contacted"),
            cls.SUPPORTING: _l("Support started"),
            cls.CLOSED: _l("Closed"),
            cls.UNREACHED: _l("Not reached"),
        }

    @property
    def stage(self) -> int:
        """How far along: a change to a lower stage goes backwards (and needs a reason)."""
        return {
            ReferralStatus.RECEIVED: 0,
            ReferralStatus.CONTACTED: 1,
            ReferralStatus.UNREACHED: 1,
            ReferralStatus.SUPPORTING: 2,
            ReferralStatus.CLOSED: 3,
        }[self]


class Topic(Base):
    """A topic a referral is about (家計, 住まい, …): a list the administrators keep."""

    __tablename__ = "referral_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TOPIC_LENGTH), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


referral_topics = Table(
    "referral_topic_links",
    Base.metadata,
    Column("referral_id", ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("referral_topics.id", ondelete="RESTRICT"), primary_key=True),
)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_case_number", "case_number"),
        Index("ix_referrals_from", "from_organisation_id", "status"),
        Index("ix_referrals_to", "to_organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referred_on: Mapped[date] = mapped_column(Date)
    from_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    to_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    case_number: Mapped[str] = mapped_column(String(CASE_NUMBER_LENGTH))
    consent: Mapped[Consent] = mapped_column(enum_type(Consent))
    status: Mapped[ReferralStatus] = mapped_column(enum_type(ReferralStatus))
    status_on: Mapped[date] = mapped_column(Date)  # the day of the last status change
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH), default="")
    # The 支援会議 item the case was taken to (「支援会議で検討する」): its entitled
    # members see the referral through it, whatever the consent.
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])
    responsible: Mapped[Person | None] = relationship(foreign_keys=[responsible_id])
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    agenda_item: Mapped[AgendaItem | None] = relationship()
    topics: Mapped[list[Topic]] = relationship(
        secondary=referral_topics, order_by=(Topic.position, Topic.id)
    )
    events: Mapped[list["ReferralEvent"]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )


class ReferralEvent(Base):
    """One line of a referral's history: created, edited, a status change (from → to, the
    day it took effect, a reason when going back), taken to a 支援会議."""

    __tablename__ = "referral_events"
    __table_args__ = (Index("ix_referral_events_referral", "referral_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # created, edited, status, meeting
    on: Mapped[date | None] = mapped_column(Date)  # the day a status change took effect
    from_status: Mapped[ReferralStatus | None] = mapped_column(enum_type(ReferralStatus))
    to_status: Mapped[ReferralStatus | None] = mapped_column(enum_type(ReferralStatus))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # changed fields, never their old text

    referral: Mapped[Referral] = relationship(back_populates="events")
    person: Mapped[Person | None] = relationship()
