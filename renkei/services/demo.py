"""The demo town, みどり町: the three kinds of body, a layer-2 協議体 under the layer-1 one,
and members who sit on several of them; beside them a 支援会議 that the prefecture set up
for みどり町 and さくら町, towns without a welfare office, with members from both. Every
demo account's password is ``renkei-demo``."""

import functools
from collections.abc import Mapping
from datetime import date, time, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from renkei.links import Links
from renkei.models import (
    Answer,
    Approval,
    Authority,
    Body,
    BodyKind,
    Decision,
    Layer,
    MeetingSession,
    Membership,
    MinutesVersion,
    Mode,
    Organisation,
    OrganisationKind,
    Person,
    Pledge,
    Reply,
    Role,
    SectionKind,
    Visibility,
)
from renkei.services import (
    agenda,
    attendance,
    convening,
    demo_history,
    demo_materials,
    local_issues,
    mail,
    minutes,
    notices,
    policy,
    polls,
    referrals,
    scheduling,
    series,
    tasks,
)
from renkei.services.accounts import PersonData, create_person, hash_method
from renkei.services.dates import holiday_name, today, tokyo_to_utc
from renkei.services.scheduling import SessionData

DEMO_PASSWORD = "renkei-demo"
TERM_START = date(2025, 4, 1)

TOWN, NEIGHBOUR, PREFECTURE_NAME = "みどり町", "さくら町", "あおぞら県"

# name, kind, contact, municipality
ORGANISATIONS = [
    ("みどり町 福祉課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場1階 0120-000-001", TOWN),
    ("みどり町 税務課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場2階", TOWN),
    ("みどり町 介護保険課", OrganisationKind.MUNICIPAL_DEPARTMENT, "役場1階", TOWN),
    ("みどり町 自立相談支援センター", OrganisationKind.CONSULTATION_AGENCY, "社協会館内", TOWN),
    (
        "みどり町 地域包括支援センター",
        OrganisationKind.COMMUNITY_SUPPORT_CENTRE,
        "保健センター内",
        TOWN,
    ),
    ("みどり町 社会福祉協議会", OrganisationKind.SOCIAL_WELFARE_COUNCIL, "社協会館", TOWN),
    ("NPO法人 ささえあいみどり", OrganisationKind.NPO, "", TOWN),
    ("みどり生活協同組合", OrganisationKind.OTHER, "", TOWN),
    ("みどり町 民生委員児童委員協議会", OrganisationKind.WELFARE_COMMISSIONER, "", TOWN),
    # The prefecture's office runs the 支援会議 of the towns without a welfare office.
    (
        "あおぞら県 東部福祉事務所",
        OrganisationKind.MUNICIPAL_DEPARTMENT,
        "県東部総合庁舎2階 0120-000-101",
        PREFECTURE_NAME,
    ),
    (
        "あおぞら県 東部自立相談支援センター",
        OrganisationKind.CONSULTATION_AGENCY,
        "県東部総合庁舎1階",
        PREFECTURE_NAME,
    ),
    ("さくら町 健康福祉課", OrganisationKind.MUNICIPAL_DEPARTMENT, "さくら町役場1階", NEIGHBOUR),
    (
        "さくら町 地域包括支援センター",
        OrganisationKind.COMMUNITY_SUPPORT_CENTRE,
        "さくら町保健センター内",
        NEIGHBOUR,
    ),
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

# The 支援会議 the prefecture set up for みどり町 and さくら町 (its own secretariat: the town's
# secretary is not on it).
PREFECTURE = "あおぞら県東部地区支援会議"
PREFECTURE_BODY = (PREFECTURE, BodyKind.SUPPORT_MEETING, "みどり町・さくら町", None)
PREFECTURE_SECRETARY = "pref.secretary@example.jp"

# Each body's register entry: layer, setting-up authority, 設置要綱 (title, enacted, amended).
REGISTER = {
    SUPPORT: (
        None,
        Authority.MUNICIPALITY,
        "みどり町支援会議設置要綱",
        date(2019, 4, 1),
        date(2024, 4, 1),
    ),
    COORDINATION: (
        None,
        Authority.MUNICIPALITY,
        "みどり町自立相談支援事業実施要綱",
        date(2015, 4, 1),
        date(2021, 4, 1),
    ),
    KYOGITAI: (
        Layer.FIRST,
        Authority.MUNICIPALITY,
        "みどり町生活支援体制整備事業実施要綱",
        date(2016, 4, 1),
        date(2022, 4, 1),
    ),
    NORTH: (
        Layer.SECOND,
        Authority.MUNICIPALITY,
        "みどり町生活支援体制整備事業実施要綱",
        date(2016, 4, 1),
        date(2022, 4, 1),
    ),
    PREFECTURE: (
        None,
        Authority.PREFECTURE,
        "あおぞら県東部地区支援会議設置要綱",
        date(2019, 4, 1),
        date(2024, 4, 1),
    ),
}

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


# The prefecture's 支援会議: its secretariat, and members from both towns (none but the
# secretary has a login).
PREFECTURE_PEOPLE = [
    (
        PREFECTURE_SECRETARY,
        "東部 秋子",
        "とうぶ あきこ",
        "あおぞら県 東部福祉事務所",
        {PREFECTURE: Role.SECRETARY},
    ),
    (
        None,
        "自立 誠",
        "じりつ まこと",
        "あおぞら県 東部自立相談支援センター",
        {PREFECTURE: Role.CHAIR},
    ),
    (None, "福祉 正", "ふくし ただし", "みどり町 福祉課", {PREFECTURE: Role.MEMBER}),
    (
        None,
        "包括 恵",
        "ほうかつ めぐみ",
        "みどり町 地域包括支援センター",
        {PREFECTURE: Role.MEMBER},
    ),
    (None, "桜井 和子", "さくらい かずこ", "さくら町 健康福祉課", {PREFECTURE: Role.MEMBER}),
    (
        None,
        "春野 大輔",
        "はるの だいすけ",
        "さくら町 地域包括支援センター",
        {PREFECTURE: Role.MEMBER},
    ),
]


def _demo_password_hash() -> str:
    """One hash for every demo account: the password is published in the README anyway, and
    hashing it once keeps loading the demo (which every test world does) fast."""
    return _hash_once(hash_method())


@functools.cache
def _hash_once(method: str) -> str:
    return generate_password_hash(DEMO_PASSWORD, method=method)


def is_empty(db: Session) -> bool:
    return db.scalar(select(func.count()).select_from(Person)) == 0


def load_if_empty(db: Session) -> bool:
    if not is_empty(db):
        return False
    load(db)
    return True


def load(db: Session, *, sessions: bool = True) -> None:
    """Load the town; with ``sessions``, also a few sessions around today (the tests' own
    worlds leave them out, so that their dates are the tests' own)."""
    _load_register(db)
    if sessions:
        _load_sessions(db)
        demo_history.load(db)  # last fiscal year, for the report (年度実績)


def _load_register(db: Session) -> None:
    organisations: dict[str, Organisation] = {}
    for name, kind, contact, municipality in ORGANISATIONS:
        organisations[name] = Organisation(
            name=name, kind=kind, contact=contact, municipality=municipality
        )
        db.add(organisations[name])
    bodies: dict[str, Body] = {}
    for name, body_kind, area, parent in [*BODIES, PREFECTURE_BODY]:
        layer, authority, rules_title, enacted, amended = REGISTER[name]
        bodies[name] = Body(
            name=name,
            kind=body_kind,
            area=area,
            parent=bodies.get(parent) if parent else None,
            programme=body_kind.default_programme,
            confidentiality=body_kind.default_confidentiality,
            layer=layer,
            authority=authority,
            rules_title=rules_title,
            rules_enacted_on=enacted,
            rules_amended_on=amended,
        )
        db.add(bodies[name])
    db.flush()
    for email, name, kana, organisation, roles in [*PEOPLE, *PREFECTURE_PEOPLE]:
        org = organisations.get(organisation) if organisation else None
        person = create_person(
            db,
            PersonData(name=name, kana=kana, email=email, organisation_id=org.id if org else None),
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
    referrals.seed_topics(db)


def _next(weekday: int, weeks_ahead: int) -> date:
    """The given weekday (0 = Monday) in ``weeks_ahead`` weeks, never a public holiday."""
    day = today() + timedelta(days=(weekday - today().weekday()) % 7 + 7 * weeks_ahead)
    while holiday_name(day):
        day += timedelta(days=7)
    return day


def _in_last_month(weekday: int) -> date:
    """The second given weekday of last month, never a public holiday: a session held "last
    month" whatever day this is (four weeks back can still be this month)."""
    first = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7)
    while holiday_name(day):
        day += timedelta(days=7)  # at most the 28th: still last month
    return day


def _days_ago(weekday: int) -> date:
    """The given weekday within the last seven days (never today), never a public holiday."""
    day = today() - timedelta(days=(today().weekday() - weekday - 1) % 7 + 1)
    while holiday_name(day):
        day -= timedelta(days=7)
    return day


def _session(
    bodies: Mapping[str, Body],
    title: str,
    day: date,
    start: time,
    end: time,
    *,
    serves: list[str],
    host: str,
    place: str = "",
    online_url: str = "",
    mode: str = Mode.IN_PERSON.value,
    presiding_person_id: int | None = None,
) -> SessionData:
    return SessionData(
        title=title,
        body_ids=[bodies[name].id for name in serves],
        host_body_id=bodies[host].id,
        start=tokyo_to_utc(day, start),
        end=tokyo_to_utc(day, end),
        place=place,
        online_url=online_url,
        mode=mode,
        presiding_person_id=presiding_person_id,
    )


# A session registered after its time is held already: its agenda goes in as a correction
# after the session, as the secretariat would enter it.
ENTERED_AFTER = agenda.Correction("開催後に登録した会議の議題を入力するため")


def _last_months_minutes(
    db: Session, bodies: Mapping[str, Body], people: Mapping[str | None, Person]
) -> None:
    """Last month's joint session, held, with minutes both chairs approved: something to
    read in each view, print and correct."""
    secretary = people["secretary@example.jp"]
    past = scheduling.create_session(
        db,
        _session(
            bodies,
            "支援会議・協議体 共同開催（前月）",
            _in_last_month(3),
            # Late in the afternoon: the browser tests hold sessions of their own in past
            # weeks (09:30–10:30, 13:00–15:00), which must not clash with this one.
            time(15, 30),
            time(17, 30),
            serves=[SUPPORT, KYOGITAI],
            host=SUPPORT,
            place="みどり町役場 2階 大会議室",
            presiding_person_id=people["chair.support@example.jp"].id,
        ),
        by=secretary,
    )
    texts: dict[int | None, str] = {}  # by agenda item; sections of no item have None
    # The last field: whether the item is an individual case, named by a new case number.
    for title, body, visibility, text, case in [
        (
            "買い物支援の取組報告",
            KYOGITAI,
            Visibility.PUBLIC,
            "- 移動販売の試行を2地区で始めた。",
            False,
        ),
        (
            # Figures only, for everyone in the room: wider than a 支援会議's rule, confirmed.
            "自立相談支援の実施状況",
            SUPPORT,
            Visibility.SESSION,
            "- 新規相談は前月比で1割増えた。",
            False,
        ),
        (
            "個別ケースの検討（B地区）",
            SUPPORT,
            Visibility.CONFIDENTIAL,
            "**70代女性、認知症の疑い。** 地域包括が訪問し、受診につなぐ。",
            True,
        ),
    ]:
        item = agenda.add_item(
            db,
            past,
            agenda.ItemData(
                title=title,
                body_id=bodies[body].id,
                planned_minutes=40,
                visibility=visibility,
                assign_case_number=case,
                confirm_wider=True,
            ),
            by=secretary,
            correction=ENTERED_AFTER,
        )
        texts[item.id] = text
    # Their replies, as given before the session (a held session takes no more replies).
    for email in ("member.both@example.jp", "chair.kyogitai@example.jp"):
        db.add(Reply(session=past, person=people[email], answer=Answer.ATTEND))
    scheduling.set_status(db, past, "held", by=secretary)
    _attendance(db, past, secretary)
    version = minutes.open_minutes(db, past, by=secretary)
    for section in version.sections:
        section.text = texts.get(section.agenda_item_id, section.text)
        if section.kind == SectionKind.DECISIONS:
            section.text = "- 移動販売の対象地区を広げる方向で検討する。"
    # Approved as both chairs would approve it, without sending the e-mails of the workflow.
    version.round, version.submitted_by = 1, secretary
    for body, chair in ((SUPPORT, "chair.support"), (KYOGITAI, "chair.kyogitai")):
        db.add(
            Approval(
                version=version,
                round=1,
                body_id=bodies[body].id,
                person=people[f"{chair}@example.jp"],
                decision=Decision.APPROVED,
            )
        )
    minutes.lock(version)
    db.flush()
    _tasks(db, bodies, people, version)


def _tasks(
    db: Session,
    bodies: Mapping[str, Body],
    people: Mapping[str | None, Person],
    version: MinutesVersion,
) -> None:
    """Follow-up tasks (役割分担) from last month's minutes and of the 支援調整会議, carried
    onto the bodies' next sessions: one overdue, one done (by the owner), one owned by an
    organisation."""
    secretary = people["secretary@example.jp"]
    by_title = {s.title: s for s in version.sections if s.title}
    decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
    centre = db.scalar(
        select(Organisation).where(Organisation.name == "みどり町 自立相談支援センター")
    )
    for section, text, owner, due in [
        (decisions, "移動販売の事業者と対象地区を調整する", "chair.kyogitai", -1),
        (by_title["買い物支援の取組報告"], "試行2地区の利用状況をまとめる", "member.kyogitai", 21),
        (by_title["個別ケースの検討（B地区）"], "受診同行の日程を調整する", "chair.support", 7),
    ]:
        task = tasks.add_from_section(
            db,
            section,
            text=text,
            owner=tasks.Owner(person_id=people[f"{owner}@example.jp"].id),
            due_on=today() + timedelta(days=due),
            by=secretary,
        )
    tasks.set_done(db, task, done=True, by=people["chair.support@example.jp"])
    if centre is not None:
        tasks.add_for_body(
            db,
            bodies[COORDINATION].id,
            text="プラン評価の対象ケースを整理する",
            owner=tasks.Owner(organisation_id=centre.id),
            due_on=today() + timedelta(days=35),
            visibility=None,
            by=secretary,
        )


# The participant (関係者) of the case review: a school's staff member, with a login.
PARTICIPANT = "school.staff@example.jp"


def _case_review(
    db: Session, bodies: Mapping[str, Body], people: Mapping[str | None, Person]
) -> None:
    """A 支援会議 個別ケース検討 convened with selected members (選定招集: the secretariat,
    the chair and the two agencies concerned) and a school's staff member as participant
    (関係者) for one case. Cases go by case number: no supported person's name."""
    secretary = people["secretary@example.jp"]
    support = bodies[SUPPORT]
    review = scheduling.create_session(
        db,
        _session(
            bodies,
            "支援会議 個別ケース検討",
            _next(4, 2),
            time(15),
            time(16, 30),
            serves=[SUPPORT],
            host=SUPPORT,
            place="みどり町役場 3階 相談室",
            presiding_person_id=people["chair.support@example.jp"].id,
        ),
        by=secretary,
    )
    items = [
        agenda.add_item(
            db,
            review,
            agenda.ItemData(
                title=title,
                body_id=support.id,
                planned_minutes=40,
                visibility=Visibility.CONFIDENTIAL.value,
                description=description,
                assign_case_number=True,  # named by its case number, never by a name
            ),
            by=secretary,
        )
        for title, description in [
            ("個別ケース検討（学校との情報共有）", "学校から見た登校状況と家庭の様子を共有する。"),
            (
                "個別ケース検討（家計と住まい）",
                "家計改善支援と住まいの確保について役割を分担する。",
            ),
        ]
    ]
    chosen = ["事務 花子", "支援 一郎", "相談 愛", "介護 由美"]
    ids = [p.id for p in db.scalars(select(Person).where(Person.name.in_(chosen)))]
    convening.set_selection(db, review, support.id, ids, by=secretary)
    school = Organisation(name="みどり町立北小学校", kind=OrganisationKind.OTHER, contact="")
    db.add(school)
    db.flush()
    staff = create_person(
        db,
        PersonData(
            name="山田 良子", kana="やまだ よしこ", email=PARTICIPANT, organisation_id=school.id
        ),
    )
    staff.password_hash = _demo_password_hash()
    data = convening.ParticipantData(item_ids=[items[0].id], person_id=staff.id)
    convening.add_participant(db, review, data, by=secretary)
    _convene(db, review, secretary)
    db.flush()


# Last month's attendance: who came (and 兼務 三郎 from 15:50, holding both posts).
PRESENT = ("事務 花子", "支援 一郎", "協議 次郎", "税務 健", "介護 由美", "地域 さくら", "生協 実")


def _attendance(db: Session, past: MeetingSession, secretary: Person) -> None:
    """The record of last month's session, and 兼務 三郎's two posts, so that the quorum,
    the minutes' attendance and the apportionment report have something to show."""
    secret = {item.id for item in policy.owned_items(past.items)}
    lines = []
    for line in attendance.record_of(db, past).lines:
        name = line.person.name
        if name == "兼務 三郎":
            lines.append(attendance.LineData(line.person.id, "partial", arrived=time(15, 50)))
        elif name in PRESENT:
            lines.append(
                attendance.LineData(line.person.id, "present", item_ids=line.may_hear & secret)
            )
        else:
            lines.append(attendance.LineData(line.person.id, "absent"))
    attendance.save_record(db, past, lines, by=secretary, shown=secret)
    demo_history.two_posts(db)


def _mail_context() -> tuple[Links, str]:
    """The demo is loaded from the command line or a test, in the app's context: its links
    and sender are the app's."""
    settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
    return Links.of(current_app), settings.sender


def _convene(db: Session, session: MeetingSession, by: Person) -> None:
    """Send the convening notice, as the secretariat would once the agenda is ready (the
    messages wait in the queue, and show on the session page)."""
    links, sender = _mail_context()
    notices.convene(db, session, by=by, links=links, sender=sender)


# The 協議体's session of last week whose minutes wait for its chair, 協議 次郎.
AWAITING_APPROVAL = "第1層協議体 定例会（先週）"
AWAITING_CHAIR = "chair.kyogitai@example.jp"


def _minutes_awaiting_approval(
    db: Session, bodies: Mapping[str, Body], people: Mapping[str | None, Person]
) -> None:
    """Last week's 協議体 meeting, held, with its attendance recorded and its minutes sent
    to the chair for approval (the request waits in the mail queue): the chair approves or
    returns them from the home page."""
    secretary = people["secretary@example.jp"]
    held = scheduling.create_session(
        db,
        _session(
            bodies,
            AWAITING_APPROVAL,
            _days_ago(1),
            time(10),
            time(11, 30),
            serves=[KYOGITAI],
            host=KYOGITAI,
            place="みどり町 保健センター 研修室",
            presiding_person_id=people[AWAITING_CHAIR].id,
        ),
        by=secretary,
    )
    texts: dict[int | None, str] = {}  # by agenda item, as in last month's minutes
    for title, text in [
        (
            "通いの場の立ち上げ支援",
            "- 東地区で月2回の体操教室を始める。\n- 会場は公民館を借りる。\n"
            "- [資料1]の修正版（開始を1月に変更）と[資料2]の予算で進める。",
        ),
        (
            "買い物支援マップの作成",
            "- 移動販売の停留所を地図に載せ、民生委員を通じて配る（[資料3]、[資料4]）。",
        ),
    ]:
        item = agenda.add_item(
            db,
            held,
            agenda.ItemData(
                title=title,
                body_id=bodies[KYOGITAI].id,
                planned_minutes=40,
                visibility=Visibility.PUBLIC.value,
            ),
            by=secretary,
            correction=ENTERED_AFTER,
        )
        texts[item.id] = text
    _materials_of_last_week(db, held, secretary)
    # 兼務 三郎 sent his apologies: his hours to apportion stay last month's alone.
    absent = {"生協 実", "兼務 三郎"}
    lines = [
        attendance.LineData(line.person.id, "absent" if line.person.name in absent else "present")
        for line in attendance.record_of(db, held).lines
    ]
    attendance.save_record(db, held, lines, by=secretary, shown=set())
    version = minutes.open_minutes(db, held, by=secretary)
    for section in version.sections:
        section.text = texts.get(section.agenda_item_id, section.text)
        if section.kind == SectionKind.DECISIONS:
            section.text = "- 体操教室の開始を協議体として後押しする。"
    links, sender = _mail_context()
    minutes.submit(db, version, by=secretary, links=links, sender=sender)
    db.flush()


def _materials_of_last_week(db: Session, held: MeetingSession, secretary: Person) -> None:
    """The 計画案 (replaced once: 差し替え), the 予算表 for those convened only, and the map
    and the list of stops of the mobile shop, public."""
    outing, shopping = held.items
    plan = demo_materials.upload(
        db, held, outing, "通いの場立ち上げ計画（案）.pdf", demo_materials.plan(), by=secretary
    )
    demo_materials.replace(
        db,
        plan,
        "通いの場立ち上げ計画（案）修正版.pdf",
        demo_materials.plan(revised=True),
        secretary,
    )
    demo_materials.upload(
        db,
        held,
        outing,
        "初年度予算表.pdf",
        demo_materials.budget(),
        by=secretary,
        visibility=Visibility.SESSION,
    )
    demo_materials.upload(
        db, held, shopping, "買い物支援マップ.pdf", demo_materials.area_map(), by=secretary
    )
    demo_materials.upload(
        db, held, shopping, "移動販売停留所一覧.csv", demo_materials.STOPS_CSV, by=secretary
    )


def _materials_of_the_joint_session(db: Session, joint: MeetingSession, by: Person) -> None:
    """The coming joint session's papers: a public plan, the 協議体's map for those
    convened, the 支援会議's case summary (confidential, as its item) and a general paper."""
    opening, resources, case = joint.items[:3]
    demo_materials.upload(
        db, joint, opening, "通いの場立ち上げ計画（案）.pdf", demo_materials.plan(True), by=by
    )
    demo_materials.upload(
        db, joint, resources, "地域資源マップ.pdf", demo_materials.area_map(), by=by
    )
    demo_materials.upload(db, joint, case, "ケース概要.pdf", demo_materials.case_summary(), by=by)
    demo_materials.upload(
        db, joint, None, "移動販売停留所一覧.csv", demo_materials.STOPS_CSV, by=by
    )


# The open date poll: the 協議体's next meeting, answered by some (one by telephone, entered
# by the secretariat); the members without a login have not answered yet and get a printed
# letter with their personal link (the poll's page: 回答用の案内状を印刷).
POLL_TITLE = "第1層協議体 次回定例会の日程調整"
POLL_ANSWERS = {
    "chair.kyogitai@example.jp": ("yes", "maybe", "yes"),
    "member.both@example.jp": ("yes", "no", "yes"),
    "member.kyogitai@example.jp": ("maybe", "yes", "yes"),
}
POLL_BY_TELEPHONE = ("民生 ふみ", ("yes", "yes", "no"), "電話で回答（午後なら出席できる）")


def _open_poll(
    db: Session, bodies: Mapping[str, Body], people: Mapping[str | None, Person]
) -> None:
    secretary = people["secretary@example.jp"]
    kyogitai = bodies[KYOGITAI]
    days = [_next(0, 4), _next(2, 4), _next(4, 5)]
    poll = polls.create_poll(
        db,
        polls.PollData(
            title=POLL_TITLE,
            body_ids=[kyogitai.id],
            host_body_id=kyogitai.id,
            slots=[
                polls.SlotData(tokyo_to_utc(day, time(14)), tokyo_to_utc(day, time(15, 30)))
                for day in days
            ],
            deadline=today() + timedelta(days=14),
            comment="会場は役場 2階 大会議室の予定です。",
        ),
        by=secretary,
    )
    links, sender = _mail_context()
    polls.queue_requests(db, poll, organizer=secretary, links=links, sender=sender)
    slot_ids = [slot.id for slot in poll.slots]
    for email, marks in POLL_ANSWERS.items():
        person = people[email]
        polls.answer(db, poll, person, dict(zip(slot_ids, marks, strict=True)), by=person)
    name, marks, comment = POLL_BY_TELEPHONE
    caller = next(i.person for i in poll.invitees if i.person.name == name)
    choices = dict(zip(slot_ids, marks, strict=True))
    polls.answer_for(db, poll, caller.id, choices, comment, by=secretary)
    db.flush()


def _load_sessions(db: Session) -> None:
    people = {p.email: p for p in db.scalars(select(Person).where(Person.email.is_not(None)))}
    bodies = {b.name: b for b in db.scalars(select(Body))}
    secretary = people["secretary@example.jp"]
    # 保存年限: the 協議体 keeps its materials 5 years, the 支援会議 (cases) 10.
    bodies[KYOGITAI].retention_years = 5
    bodies[SUPPORT].retention_years = 10
    for email, body in [
        ("secretary@example.jp", SUPPORT),
        ("chair.support@example.jp", SUPPORT),
        ("secretary@example.jp", COORDINATION),
        ("chair.support@example.jp", COORDINATION),
    ]:
        db.add(Pledge(person=people[email], body=bodies[body], pledged_on=TERM_START))
    db.flush()

    joint = scheduling.create_session(
        db,
        _session(
            bodies,
            "支援会議・協議体 共同開催",
            _next(3, 1),
            time(14),
            time(16),
            serves=[SUPPORT, KYOGITAI],
            host=SUPPORT,
            place="みどり町役場 2階 大会議室",
            mode="hybrid",
            online_url="https://meet.example.jp/midori-joint",
            presiding_person_id=people["chair.support@example.jp"].id,
        ),
        by=secretary,
    )
    for title, body, planned, visibility, description in [
        ("開会・連絡事項", KYOGITAI, 10, Visibility.PUBLIC, "前回の議事録の確認"),
        (
            "地域資源マップの更新",
            KYOGITAI,
            30,
            Visibility.SESSION,
            "- 北地区の配食サービス\n- サロンの新設（2か所）",
        ),
        (
            "個別ケースの検討（A地区）",
            SUPPORT,
            40,
            Visibility.CONFIDENTIAL,
            "**60代男性、単身。** 家賃滞納と受診中断。地域包括と社協からの情報提供。",
        ),
        (
            "8050世帯への支援方針",
            SUPPORT,
            30,
            Visibility.CONFIDENTIAL,
            "関係機関の役割分担を確認する。",
        ),
    ]:
        agenda.add_item(
            db,
            joint,
            agenda.ItemData(
                title=title,
                body_id=bodies[body].id,
                planned_minutes=planned,
                visibility=visibility.value,
                description=description,
                # The 支援会議's items are individual cases: each has a case number.
                assign_case_number=body == SUPPORT,
            ),
            by=secretary,
        )
    _materials_of_the_joint_session(db, joint, secretary)
    _convene(db, joint, secretary)
    scheduling.set_reply(db, joint, people["member.both@example.jp"], "attend")
    scheduling.set_reply(db, joint, people["chair.kyogitai@example.jp"], "absent")
    _last_months_minutes(db, bodies, people)
    _coordination_with_kyogitai(db, bodies, secretary)
    _case_review(db, bodies, people)
    _referrals(db)
    _minutes_awaiting_approval(db, bodies, people)
    _open_poll(db, bodies, people)

    regular = series.create_series(
        db,
        _session(
            bodies,
            "支援調整会議（定例）",
            _next(1, 1),
            time(10),
            time(11, 30),
            serves=[COORDINATION],
            host=COORDINATION,
            place="社協会館 相談室",
        ),
        series.RepeatRule(frequency="monthly_by_weekday", count=6),
        by=secretary,
    )
    _convene(db, regular.sessions[0], secretary)
    # Left prepared: the secretariat meets a session whose notice is still to be sent.
    north = scheduling.create_session(
        db,
        _session(
            bodies,
            "北中学校区 第2層協議体",
            _next(2, 2),
            time(18, 30),
            time(20),
            serves=[NORTH],
            host=NORTH,
            place="北公民館",
        ),
        by=secretary,
    )
    _local_issues(db, bodies, secretary, joint, north)
    db.flush()


# The 第2層 協議体's local issues: (title, text, raised from the joint session's case item).
LOCAL_ISSUES = [
    (
        "買い物に行けない高齢者の増加",
        "北中学校区では路線バスの減便後、徒歩圏に店がない地区で買い物に行けない高齢者が"
        "増えている。移動販売の巡回は週1回のみ。",
        False,
    ),
    (
        "家賃滞納が続く単身世帯への見守りの不足",
        "支援会議の事例から、民生委員の訪問だけでは家賃滞納や受診中断に早く気づけない"
        "ことが見えてきた。新聞販売店や配食事業者との見守り協定を検討したい。",
        True,
    ),
]


def _local_issues(
    db: Session,
    bodies: Mapping[str, Body],
    secretary: Person,
    joint: MeetingSession,
    north: MeetingSession,
) -> None:
    """Two issues at the 第2層 協議体: one taken onto its next session's agenda (協議中),
    one raised from the 支援会議's case (提起), whose link only the pledged see."""
    case = next(item for item in joint.items if item.case_number)
    raised = []
    for title, text, from_case in LOCAL_ISSUES:
        data = local_issues.IssueData(title=title, text=text, body_id=bodies[NORTH].id)
        if from_case:
            raised.append(local_issues.raise_from_item(db, case, data, by=secretary))
        else:
            raised.append(local_issues.raise_directly(db, data, by=secretary))
    local_issues.take_onto_agenda(db, north, [raised[0].id], by=secretary)


def _coordination_with_kyogitai(db: Session, bodies: Mapping[str, Body], secretary: Person) -> None:
    """A joint session of the 支援調整会議 and the 第1層 協議体: the 協議体 hears the public
    and session items, and sees the 支援調整会議's plan review only as 「非公開議題」. The
    case is named by its case number, never by the person's name."""
    joint = scheduling.create_session(
        db,
        _session(
            bodies,
            "支援調整会議・協議体 共同開催",
            _next(4, 2),
            time(13, 30),
            time(15, 30),
            serves=[COORDINATION, KYOGITAI],
            host=COORDINATION,
            place="社協会館 第1会議室",
        ),
        by=secretary,
    )
    for title, body, planned, visibility, description in [
        ("就労体験の受入れ先の開拓", KYOGITAI, 30, Visibility.PUBLIC, "- 商店会への呼びかけ"),
        ("家計改善支援の利用状況", COORDINATION, 20, Visibility.SESSION, "- 件数の推移"),
        (
            "プラン協議：R8-0003（家計改善）",
            COORDINATION,
            40,
            Visibility.BODY,
            "- 支援プラン案の確認\n- 関係機関の役割分担",
        ),
    ]:
        agenda.add_item(
            db,
            joint,
            agenda.ItemData(
                title=title,
                body_id=bodies[body].id,
                planned_minutes=planned,
                visibility=visibility.value,
                description=description,
                confirm_wider=True,  # the session item: figures for everyone in the room
            ),
            by=secretary,
        )
    _convene(db, joint, secretary)


# Referrals (つなぎ), by case number: from, to, who records it, consent, topics, days ago,
# then the status changes (status, days ago, by).
DemoReferral = tuple[str, str, str, str, tuple[str, ...], int, list[tuple[str, int, str]]]
REFERRALS: list[DemoReferral] = [
    (
        "みどり町 地域包括支援センター",
        "みどり町 自立相談支援センター",
        "兼務 三郎",
        "given",
        ("家計", "8050"),
        40,
        [("contacted", 35, "支援 一郎"), ("supporting", 20, "支援 一郎")],
    ),
    (
        "みどり町 介護保険課",
        "みどり町 地域包括支援センター",
        "介護 由美",
        "given",
        ("認知症",),
        30,
        [],
    ),
    (
        "みどり町 自立相談支援センター",
        "みどり町 社会福祉協議会",
        "支援 一郎",
        "given",
        ("就労",),
        60,
        [("contacted", 50, "協議 次郎"), ("closed", 10, "協議 次郎")],
    ),
    (
        "みどり町 地域包括支援センター",
        "みどり町 福祉課",
        "兼務 三郎",
        "asking",
        ("健康",),
        25,
        [("unreached", 5, "兼務 三郎")],
    ),
    (
        "みどり町 社会福祉協議会",
        "みどり町 自立相談支援センター",
        "協議 次郎",
        "given",
        ("債務",),
        3,
        [],
    ),
]
# Without consent: the town's welfare section recommends the consultation agency (利用勧奨)
# and takes the case to the 支援会議's case review, where sharing without consent is lawful.
UNCONSENTED: DemoReferral = (
    "みどり町 福祉課",
    "みどり町 自立相談支援センター",
    "事務 花子",
    "refused",
    ("住まい", "債務"),
    5,
    [],
)


def _referrals(db: Session) -> None:
    orgs = {o.name: o.id for o in db.scalars(select(Organisation))}
    people = {p.name: p for p in db.scalars(select(Person))}
    topics = {t.name: t.id for t in referrals.list_topics(db)}
    for source, target, by, consent, names, days, changes in [*REFERRALS, UNCONSENTED]:
        referral = referrals.create(
            db,
            referrals.ReferralData(
                referred_on=today() - timedelta(days=days),
                from_organisation_id=orgs[source],
                to_organisation_id=orgs[target],
                assign_case_number=True,
                responsible_id=people[by].id,
                topic_ids=[topics[n] for n in names],
                consent=consent,
                note="連絡は担当者の携帯へ。",
            ),
            by=people[by],
        )
        for status, ago, person in changes:
            on = today() - timedelta(days=ago)
            referrals.change_status(db, referral, status, on=on, by=people[person])
    secretary = people["事務 花子"]
    review = next(
        s for s in referrals.upcoming_support_sessions(db, secretary) if "個別ケース検討" in s.title
    )
    referrals.take_to_meeting(db, referral, review, by=secretary)
