"""Organisations (機関) that people belong to and represent on bodies."""

from datetime import datetime
from typing import Self

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base, UTCDateTime, enum_type, utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models.labels import LabelledEnum

MUNICIPALITY_LENGTH = 50  # 「北海道虻田郡洞爺湖町」 is ten characters


class OrganisationKind(LabelledEnum):
    CONSULTATION_AGENCY = "consultation_agency"
    COMMUNITY_SUPPORT_CENTRE = "community_support_centre"
    SOCIAL_WELFARE_COUNCIL = "social_welfare_council"
    NPO = "npo"
    COMPANY = "company"
    MUNICIPAL_DEPARTMENT = "municipal_department"
    WELFARE_COMMISSIONER = "welfare_commissioner"
    OTHER = "other"

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {
            cls.CONSULTATION_AGENCY: _l("Self-reliance consultation agency"),
            cls.COMMUNITY_SUPPORT_CENTRE: _l("Community comprehensive support centre"),
            cls.SOCIAL_WELFARE_COUNCIL: _l("Council of social welfare"),
            cls.NPO: _l("NPO"),
            cls.COMPANY: _l("Private company"),
            cls.MUNICIPAL_DEPARTMENT: _l("Municipal department"),
            cls.WELFARE_COMMISSIONER: _l("Welfare commissioners"),
            cls.OTHER: _l("Other"),
        }


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind))
    contact: Mapped[str] = mapped_column(Text, default="")
    # The municipality it belongs to (市町村名), so that a body set up by a prefecture shows
    # which town each member comes from. Empty: not stated.
    municipality: Mapped[str] = mapped_column(
        String(MUNICIPALITY_LENGTH), default="", server_default=""
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"
