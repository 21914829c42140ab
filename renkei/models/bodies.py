"""Bodies (会議体) and the memberships that make them up."""

from datetime import date, datetime
from typing import Self

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.labels import LabelledEnum
from renkei.models.organisations import Organisation
from renkei.models.people import Person


class BodyKind(LabelledEnum):
    SUPPORT_MEETING = "support_meeting"
    SUPPORT_COORDINATION = "support_coordination"
    CONSULTATIVE_BODY = "consultative_body"
    COMMUNITY_CARE = "community_care"
    MULTI_AGENCY = "multi_agency"  # 重層的支援体制整備事業の支援会議 (社会福祉法第106条の6)
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.SUPPORT_MEETING: _l("Support meeting"),
            cls.SUPPORT_COORDINATION: _l("Support coordination meeting"),
            cls.CONSULTATIVE_BODY: _l("Consultative body"),
            cls.COMMUNITY_CARE: _l("Community care meeting"),
            cls.MULTI_AGENCY: _l("Multi-agency support meeting"),
            cls.OTHER: _l("Other body"),
        }

    @property
    def default_confidentiality(self) -> "Confidentiality":
        return {
            BodyKind.SUPPORT_MEETING: Confidentiality.STATUTORY,
            BodyKind.COMMUNITY_CARE: Confidentiality.STATUTORY,
            BodyKind.MULTI_AGENCY: Confidentiality.STATUTORY,
            BodyKind.SUPPORT_COORDINATION: Confidentiality.CLOSED,
            BodyKind.CONSULTATIVE_BODY: Confidentiality.PUBLIC,
            # Set per body; closed until an administrator decides otherwise.
            BodyKind.OTHER: Confidentiality.CLOSED,
        }[self]

    @property
    def default_programme(self) -> "Programme":
        return {
            BodyKind.SUPPORT_MEETING: Programme.LIVELIHOOD,
            BodyKind.SUPPORT_COORDINATION: Programme.LIVELIHOOD,
            BodyKind.CONSULTATIVE_BODY: Programme.CARE_INSURANCE,
            # 地域ケア会議 are charged to 包括的支援事業, not to 生活支援体制整備事業.
            BodyKind.COMMUNITY_CARE: Programme.COMPREHENSIVE_SUPPORT,
            BodyKind.MULTI_AGENCY: Programme.MULTI_AGENCY,
            BodyKind.OTHER: Programme.OTHER,
        }[self]


class Confidentiality(LabelledEnum):
    STATUTORY = "statutory"  # statutory duty of secrecy, with a criminal penalty
    CLOSED = "closed"  # closed under municipal rules
    PUBLIC = "public"  # meetings and minutes may be public

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.STATUTORY: _l("Statutory duty of secrecy"),
            cls.CLOSED: _l("Closed under municipal rules"),
            cls.PUBLIC: _l("Public"),
        }


class Programme(LabelledEnum):
    """What a body's meeting hours are charged to (apportionment). The order is the order
    of the report's columns."""

    LIVELIHOOD = "livelihood"
    CARE_INSURANCE = "care_insurance"  # 生活支援体制整備事業 (the 協議体 and its SC)
    COMPREHENSIVE_SUPPORT = "comprehensive_support"  # 包括的支援事業 (地域ケア会議)
    # 重層的支援体制整備事業 (社会福祉法第106条の4): funded by a grant of its own.
    MULTI_AGENCY = "multi_agency"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.LIVELIHOOD: _l("Livelihood support for needy persons"),
            cls.CARE_INSURANCE: _l("Care insurance: community life-support system"),
            cls.COMPREHENSIVE_SUPPORT: _l("Care insurance: comprehensive support services"),
            cls.MULTI_AGENCY: _l("Multi-agency support system"),
            cls.OTHER: _l("Other programme"),
        }


class QuorumRule(LabelledEnum):
    """How many members must be present for a body's meeting to be valid (定足数)."""

    MAJORITY = "majority"  # more than half of the current voting members
    FIXED = "fixed"  # a number set by the body's own rules

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.MAJORITY: _l("A majority of the current members"),
            cls.FIXED: _l("A fixed number of members"),
        }


class Authority(LabelledEnum):
    """Who set the body up (設置主体): the municipality; the prefecture, which runs the
    支援会議 of towns without a welfare office; or a 広域連合 / 一部事務組合."""

    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    WIDE_AREA_UNION = "wide_area_union"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.MUNICIPALITY: _l("Municipality"),
            cls.PREFECTURE: _l("Prefecture"),
            cls.WIDE_AREA_UNION: _l("Wide-area union or partial affairs association"),
        }


class Layer(LabelledEnum):
    """A 協議体's layer: the whole municipality (第1層) or a junior-high-school district
    (第2層). Only 協議体 have one."""

    FIRST = "first"
    SECOND = "second"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.FIRST: _l("Layer 1 (whole municipality)"),
            cls.SECOND: _l("Layer 2 (junior-high-school district)"),
        }


class Role(LabelledEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    SECRETARY = "secretary"
    MEMBER = "member"
    OBSERVER = "observer"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.CHAIR: _l("Chair"),
            cls.VICE_CHAIR: _l("Vice-chair"),
            cls.SECRETARY: _l("Secretariat"),
            cls.MEMBER: _l("Member"),
            cls.OBSERVER: _l("Observer"),
        }


class Body(Base):
    """A body. A subcommittee (分科会) is a body whose parent is another body."""

    __tablename__ = "bodies"
    __table_args__ = (
        CheckConstraint(
            "rules_amended_on IS NULL OR rules_enacted_on IS NULL "
            "OR rules_amended_on >= rules_enacted_on",
            name="rules_order",
        ),
        CheckConstraint("layer IS NULL OR kind = 'consultative_body'", name="layer_of_kyogitai"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[BodyKind] = mapped_column(enum_type(BodyKind))
    area: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    programme: Mapped[Programme] = mapped_column(enum_type(Programme))
    confidentiality: Mapped[Confidentiality] = mapped_column(enum_type(Confidentiality))
    description: Mapped[str] = mapped_column(Text, default="")
    quorum_rule: Mapped[QuorumRule] = mapped_column(
        enum_type(QuorumRule), default=QuorumRule.MAJORITY, server_default="majority"
    )
    quorum_number: Mapped[int | None] = mapped_column(Integer)  # for QuorumRule.FIXED
    # Whether a member attending by proxy (代理出席) counts towards the quorum.
    quorum_counts_proxy: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # 協議体 only: 第1層 or 第2層 (None: not stated, or not a 協議体).
    layer: Mapped[Layer | None] = mapped_column(enum_type(Layer))
    authority: Mapped[Authority] = mapped_column(
        enum_type(Authority), default=Authority.MUNICIPALITY, server_default="municipality"
    )
    # The 設置要綱 the body rests on: its title, and when it was enacted and last amended.
    rules_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    rules_enacted_on: Mapped[date | None] = mapped_column(Date)
    rules_amended_on: Mapped[date | None] = mapped_column(Date)
    # 保存年限: years a session's materials are kept after its date; None: for ever.
    retention_years: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a session this body serves last changed (models/calendar_stamps.py).
    calendar_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped["Body | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Body"]] = relationship(back_populates="parent", order_by="Body.name")
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="body", order_by="Membership.term_start"
    )

    @property
    def has_duty_of_secrecy(self) -> bool:
        return self.confidentiality == Confidentiality.STATUTORY

    def __repr__(self) -> str:
        return f"<Body {self.id} {self.name}>"


class Membership(Base):
    """One term of one person on one body. Ended terms are kept as the body's record."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("term_end IS NULL OR term_end >= term_start", name="term_order"),
        Index("ix_memberships_body_person", "body_id", "person_id"),
        Index("ix_memberships_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    body: Mapped[Body] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation | None] = relationship()

    def is_current(self, on: date) -> bool:
        return self.term_start <= on and (self.term_end is None or self.term_end >= on)

    def __repr__(self) -> str:
        return f"<Membership {self.person_id}@{self.body_id} {self.role}>"
