"""Building referrals in tests: the demo town's organisations and staff, case numbers."""

from datetime import date, timedelta

from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Organisation,
    Pledge,
    SectionKind,
    Status,
    Visibility,
)
from renkei.services import case_numbers, referrals
from renkei.services.dates import today
from renkei.services.demo import TERM_START
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import SUPPORT, make_session

WELFARE = "みどり町 福祉課"  # secretary@ and admin@
AGENCY = "みどり町 自立相談支援センター"  # chair.support@ (支援会議 chair)
CENTRE = "みどり町 地域包括支援センター"  # member.both@ (支援会議 member)
COUNCIL = "みどり町 社会福祉協議会"  # chair.kyogitai@ (no 支援会議 seat)


def org_id(db, name: str) -> int:
    return db.scalar(select(Organisation.id).where(Organisation.name == name))


def person(db, name: str):
    return person_by_email(db, f"{name}@example.jp")


def issued(db, day: date | None = None) -> str:
    """A case number issued now (for the fiscal year of ``day``, today by default)."""
    return str(case_numbers.issue(db, "", day or today()))


def data(db, source=WELFARE, target=AGENCY, **values) -> referrals.ReferralData:
    values.setdefault("referred_on", today() - timedelta(days=3))
    values.setdefault("consent", "given")
    if "case_number" not in values:
        values["assign_case_number"] = True
    return referrals.ReferralData(
        from_organisation_id=org_id(db, source), to_organisation_id=org_id(db, target), **values
    )


def refer(db, by="secretary", source=WELFARE, target=AGENCY, **values):
    referral = referrals.create(db, data(db, source, target, **values), by=person(db, by))
    db.commit()
    return referral


def pledge(db, name: str, body_name: str = SUPPORT) -> None:
    db.add(Pledge(person=person(db, name), body=body_named(db, body_name), pledged_on=TERM_START))
    db.commit()


def support_session(db, **kwargs):
    """An upcoming session of the 支援会議, convened."""
    return make_session(db, SUPPORT, title=kwargs.pop("title", "支援会議 定例"), **kwargs)


def approved_section(db, item: AgendaItem, text: str) -> MinutesSection:
    """An approved minutes version of ``item``'s session with the item's section (built
    directly: the workflow has its own tests)."""
    session = item.session
    session.status = Status.HELD
    minutes = Minutes(session=session)
    version = MinutesVersion(minutes=minutes, number=1, status=MinutesStatus.APPROVED)
    section = MinutesSection(
        version=version,
        position=1,
        kind=SectionKind.ITEM,
        agenda_item_id=item.id,
        body_id=item.body_id,
        visibility=Visibility.CONFIDENTIAL,
        title=item.title,
        case_number=item.case_number,
        text=text,
    )
    db.add_all([minutes, version, section])
    db.commit()
    return section
