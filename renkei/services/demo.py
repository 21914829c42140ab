"""The demo town, みどり町: the three kinds of body, a layer-2 協議体 under the layer-1 one,
and members who sit on several of them. Every demo account's password is ``renkei-demo``."""

import functools
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from renkei.models import Body, BodyKind, Membership, Organisation, OrganisationKind, Person, Role
from renkei.services.accounts import PersonData, create_person

DEMO_PASSWORD = "renkei-demo"
TERM_START = date(2025, 4, 1)

ORGANISATIONS = [
    ("みどり町 福祉課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場1階 0120-000-001"),
    ("みどり町 税務課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場2階"),
    ("みどり町 介護保険課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場1階"),
    ("みどり町 自立相談支援センター", OrganisationKind.CONSULTATION_AGENCY, "社協会館内"),
    ("みどり町 地域包括支援センター", OrganisationKind.COMMUNITY_SUPPORT_CENTRE, "保健センター内"),
    ("みどり町 社会福祉協議会", OrganisationKind.SOCIAL_WELFARE_COUNCIL, "社協会館"),
    ("NPO法人 ささえあいみどり", OrganisationKind.NPO, ""),
    ("みどり生活協同組合", OrganisationKind.OTHER, ""),
    ("みどり町 民生委員児童委員協議会", OrganisationKind.WELFARE_COMMISSIONER, ""),
]

BODIES = [
    # name, kind, area, parent
    ("みどり町支援会議", BodyKind.SUPPORT_MEETING, "町全域", None),
    ("みどり町支援調整会議", BodyKind.SUPPORT_COORDINATION, "町全域", None),
    ("みどり町生活支援体制整備協議体（第1層）", BodyKind.CONSULTATIVE_BODY, "町全域", None),
    (
        "北中学校区協議体（第2層）",
        BodyKind.CONSULTATIVE_BODY,
        "北中学校区",
        "みどり町生活支援体制整備協議体（第1層）",
    ),
]
SUPPORT, COORDINATION, KYOGITAI, NORTH = (b[0] for b in BODIES)

# e-mail (None: no login), name, kana, organisation, {body: role}
PEOPLE = [
    ("admin@example.jp", "管理 太郎", "かんり たろう", "みどり町 福祉課", {}),
    (
        "secretary@example.jp",
        "事務 花子",
        "じむ はなこ",
        "みどり町 福祉課",
        {b[0]: Role.SECRETARY for b in BODIES},
    ),
    (
        "chair.support@example.jp",
        "支援 一郎",
        "しえん いちろう",
        "みどり町 自立相談支援センター",
        {SUPPORT: Role.CHAIR, COORDINATION: Role.CHAIR},
    ),
    (
        "chair.kyogitai@example.jp",
        "協議 次郎",
        "きょうぎ じろう",
        "みどり町 社会福祉協議会",
        {KYOGITAI: Role.CHAIR, NORTH: Role.MEMBER},
    ),
    (
        "member.both@example.jp",
        "兼務 三郎",
        "けんむ さぶろう",
        "みどり町 地域包括支援センター",
        {SUPPORT: Role.MEMBER, KYOGITAI: Role.MEMBER},
    ),
    (
        "member.kyogitai@example.jp",
        "地域 さくら",
        "ちいき さくら",
        "NPO法人 ささえあいみどり",
        {KYOGITAI: Role.MEMBER, NORTH: Role.CHAIR},
    ),
    (
        None,
        "民生 ふみ",
        "みんせい ふみ",
        "みどり町 民生委員児童委員協議会",
        {SUPPORT: Role.MEMBER, KYOGITAI: Role.MEMBER, NORTH: Role.MEMBER},
    ),
    (None, "税務 健", "ぜいむ けん", "みどり町 税務課", {SUPPORT: Role.MEMBER}),
    (
        None,
        "介護 由美",
        "かいご ゆみ",
        "みどり町 介護保険課",
        {SUPPORT: Role.MEMBER, KYOGITAI: Role.VICE_CHAIR},
    ),
    (
        None,
        "相談 愛",
        "そうだん あい",
        "みどり町 自立相談支援センター",
        {SUPPORT: Role.MEMBER, COORDINATION: Role.MEMBER},
    ),
    (None, "生協 実", "せいきょう みのる", "みどり生活協同組合", {KYOGITAI: Role.MEMBER}),
    (None, "北 町子", "きた まちこ", None, {NORTH: Role.MEMBER}),
    (
        None,
        "社協 大地",
        "しゃきょう だいち",
        "みどり町 社会福祉協議会",
        {COORDINATION: Role.MEMBER, KYOGITAI: Role.OBSERVER, NORTH: Role.MEMBER},
    ),
]


@functools.cache
def _demo_password_hash() -> str:
    """One hash for every demo account: the password is published in the README anyway, and
    hashing it once keeps loading the demo (which every test world does) fast."""
    return generate_password_hash(DEMO_PASSWORD)


def is_empty(db: Session) -> bool:
    return db.scalar(select(func.count()).select_from(Person)) == 0


def load_if_empty(db: Session) -> bool:
    if not is_empty(db):
        return False
    load(db)
    return True


def load(db: Session) -> None:
    organisations = {}
    for name, kind, contact in ORGANISATIONS:
        organisations[name] = Organisation(name=name, kind=kind, contact=contact)
        db.add(organisations[name])
    bodies = {}
    for name, kind, area, parent in BODIES:
        bodies[name] = Body(
            name=name,
            kind=kind,
            area=area,
            parent=bodies.get(parent),
            programme=kind.default_programme,
            confidentiality=kind.default_confidentiality,
        )
        db.add(bodies[name])
    db.flush()
    for email, name, kana, organisation, roles in PEOPLE:
        org = organisations.get(organisation)
        person = create_person(
            db, PersonData(name=name, kana=kana, email=email, organisation_id=org and org.id)
        )
        if email:
            person.password_hash = _demo_password_hash()
        person.is_admin = email == "admin@example.jp"
        for body_name, role in roles.items():
            db.add(
                Membership(
                    person=person,
                    body=bodies[body_name],
                    role=role,
                    organisation=org,
                    term_start=TERM_START,
                )
            )
    db.flush()
