"""The demo town's last fiscal year (前年度): something for the fiscal-year report (年度実績)
to count, loaded with the demo's sessions (``demo.load(..., sessions=True)``).

Compact and hand-countable (tests/services/test_annual_report.py counts it): the 支援調整会議
monthly, the 協議体 (第1層) quarterly with one 書面開催 and one cancelled, three 支援会議
case reviews (one convened with selected members), one joint 支援会議・協議体 session, two
sessions of the 第2層 (a subcommittee: its body has a parent), attendance records, referrals
with their history, local issues and follow-up tasks. Rows are added as models, without the
services' notices and audit lines: this is a record of the past, not something done now.
Cases go by case number only; no supported person's name is anywhere.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.db import utcnow
from renkei.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Body,
    Consent,
    IssueDiscussion,
    IssueStatus,
    ItemPresence,
    LocalIssue,
    MeetingSession,
    Mode,
    Organisation,
    Person,
    Post,
    Presence,
    Programme,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Status,
    Topic,
    Visibility,
)
from renkei.models.convening import SelectedMember, Selection
from renkei.services import case_numbers
from renkei.services.dates import fiscal_year_of, holiday_name, today, tokyo_to_utc

SUPPORT = "みどり町支援会議"
COORDINATION = "みどり町支援調整会議"
KYOGITAI = "みどり町生活支援体制整備協議体（第1層）"
NORTH = "北中学校区協議体（第2層）"
BOTH_POSTS = "member.both@example.jp"

# Session titles say the month: none is the title of a session around today (tests look
# those up by title).

# Who came to the 支援調整会議: its chair and 相談 愛 always, 社協 大地 from April to September.
COORDINATION_ALWAYS = ("事務 花子", "支援 一郎", "相談 愛")
COORDINATION_FIRST_HALF = ("社協 大地",)
# The 協議体's sessions: month, mode, status, items, present.
KYOGITAI_PRESENT = {
    5: ("事務 花子", "協議 次郎", "兼務 三郎", "地域 さくら", "介護 由美"),
    2: ("事務 花子", "協議 次郎", "地域 さくら", "生協 実"),
}
JOINT_PRESENT = (
    "事務 花子",
    "支援 一郎",
    "兼務 三郎",
    "民生 ふみ",
    "介護 由美",
    "協議 次郎",
    "地域 さくら",
)
SELECTED = ("事務 花子", "支援 一郎", "相談 愛", "介護 由美")


def year() -> int:
    """The fiscal year before today's."""
    return fiscal_year_of(today()) - 1


def day_in(fiscal_year: int, month: int, weekday: int, week: int = 2) -> date:
    """The ``week``-th given weekday (0 = Monday) of ``month`` in the fiscal year, never a
    public holiday."""
    first = date(fiscal_year + (month < 4), month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))
    while holiday_name(day):
        day += timedelta(days=7)
    return day


class _History:
    def __init__(self, db: Session):
        self.db = db
        self.year = year()
        self.bodies = {b.name: b for b in db.scalars(select(Body))}
        self.people = {p.name: p for p in db.scalars(select(Person))}
        self.orgs = {o.name: o for o in db.scalars(select(Organisation))}
        self.topics = {t.name: t for t in db.scalars(select(Topic))}
        self.secretary = self.people["事務 花子"]

    def day(self, month: int, number: int) -> date:
        return date(self.year + (month < 4), month, number)

    def session(
        self,
        title: str,
        day: date,
        hours: tuple[time, time],
        serves: list[str],
        *,
        mode: Mode = Mode.IN_PERSON,
        status: Status = Status.HELD,
    ) -> MeetingSession:
        session = MeetingSession(
            title=title,
            host_body=self.bodies[serves[0]],
            start_at=tokyo_to_utc(day, hours[0]),
            end_at=tokyo_to_utc(day, hours[1]),
            mode=mode,
            status=status,
            place="" if mode == Mode.WRITTEN else "みどり町役場",
            bodies=[self.bodies[name] for name in serves],
            created_at=tokyo_to_utc(day - timedelta(days=30), time(9)),
        )
        self.db.add(session)
        return session

    def item(
        self,
        session: MeetingSession,
        title: str,
        body: str,
        visibility: Visibility,
        minutes: int,
        case: str | None = None,
    ) -> AgendaItem:
        item = AgendaItem(
            title=title,
            body=self.bodies[body],
            position=len(session.items) + 1,
            visibility=visibility,
            planned_minutes=minutes,
            case_number=case,
        )
        session.items.append(item)
        return item

    def case(self, day: date) -> str:
        return str(case_numbers.issue(self.db, "", day))

    def record(
        self,
        session: MeetingSession,
        invitees: list[str],
        present: tuple[str, ...],
        heard: Mapping[str, list[AgendaItem]] | None = None,
    ) -> None:
        """The attendance record: everyone of ``invitees`` present or absent; ``heard``:
        the closed items each was in the room for."""
        for name in invitees:
            attended = name in present
            line = Attendance(
                session=session,
                person_id=self.people[name].id,
                presence=Presence.PRESENT if attended else Presence.ABSENT,
                recorded_by_id=self.secretary.id,
            )
            line.items = [ItemPresence(agenda_item=i) for i in (heard or {}).get(name, [])]
            self.db.add(line)


COORDINATION_MEMBERS = ["事務 花子", "支援 一郎", "相談 愛", "社協 大地"]
KYOGITAI_MEMBERS = ["事務 花子", "協議 次郎", "兼務 三郎", "地域 さくら", "民生 ふみ", "介護 由美"]
KYOGITAI_MEMBERS += ["生協 実", "社協 大地"]
SUPPORT_MEMBERS = ["事務 花子", "支援 一郎", "兼務 三郎", "民生 ふみ", "税務 健", "介護 由美"]
SUPPORT_MEMBERS += ["相談 愛"]


def load(db: Session) -> None:
    """Add last fiscal year to the demo town (its register loaded)."""
    history = _History(db)
    _coordination(history)
    cases = _support(history)
    _kyogitai(history)
    _referrals(history, cases)
    two_posts(db)
    db.flush()


def _coordination(h: _History) -> None:
    """The 支援調整会議, on the second Tuesday of every month: the plan review of the month."""
    for month in (*range(4, 13), 1, 2, 3):
        session = h.session(
            f"支援調整会議 {month}月定例",
            day_in(h.year, month, 1),
            (time(10), time(11, 30)),
            [COORDINATION],
        )
        h.item(session, "支援プランの評価", COORDINATION, Visibility.BODY, 60)
        present = COORDINATION_ALWAYS + (COORDINATION_FIRST_HALF if 4 <= month <= 9 else ())
        h.record(session, COORDINATION_MEMBERS, present)
    due = h.day(6, 30)
    _task(h, COORDINATION, "プラン評価の様式を見直す", (5, 15), due, done=(6, 20))
    _task(h, COORDINATION, "就労支援の受入れ先を一覧にする", (10, 15), h.day(11, 30), done=None)


def _support(h: _History) -> dict[str, str]:
    """Three case reviews of the 支援会議 (June convened with selected members) and the joint
    session with the 協議体 in September. Returns the case numbers by name."""
    june, october, january = (day_in(h.year, m, 4) for m in (6, 10, 1))
    cases = {name: h.case(june) for name in ("家計", "住まい")}
    cases |= {name: h.case(october) for name in ("8050", "就労")}
    cases |= {"見守り": h.case(january)}
    reviews = []
    for day, names in (
        (june, ("家計", "住まい")),
        (october, ("8050", "就労")),
        (january, ("見守り",)),
    ):
        session = h.session(
            f"支援会議 {day.month}月事例検討", day, (time(15), time(16, 30)), [SUPPORT]
        )
        for name in names:
            h.item(
                session,
                f"個別ケース検討（{name}）",
                SUPPORT,
                Visibility.CONFIDENTIAL,
                40,
                cases[name],
            )
        reviews.append(session)
    # January: the first case of June again, as a follow-up (same case number).
    h.item(reviews[2], "支援方針の再確認", SUPPORT, Visibility.CONFIDENTIAL, 30, cases["家計"])
    h.db.flush()
    june_review = reviews[0]
    support = h.bodies[SUPPORT]
    selection = Selection(session_id=june_review.id, body_id=support.id, set_by_id=h.secretary.id)
    h.db.add(selection)
    h.db.flush()
    for name in SELECTED:
        h.db.add(
            SelectedMember(
                session_id=june_review.id, body_id=support.id, person_id=h.people[name].id
            )
        )
    heard = {name: list(june_review.items) for name in SELECTED}
    h.record(june_review, list(SELECTED), SELECTED, heard)
    _joint(h, cases)
    _task(h, SUPPORT, "見守り体制の役割分担を確認する", (1, 20), h.day(3, 31) + timedelta(days=30))
    return cases


def _joint(h: _History, cases: dict[str, str]) -> None:
    """September: the 支援会議 and the 協議体 jointly; 兼務 三郎 leaves the room for the
    case (he has no pledge), which the apportionment then leaves out for him."""
    day = day_in(h.year, 9, 3)
    cases["地域"] = h.case(day)
    joint = h.session(
        "支援会議・協議体 9月共同開催", day, (time(14), time(16)), [SUPPORT, KYOGITAI]
    )
    h.item(joint, "地域の見守り活動の報告", KYOGITAI, Visibility.PUBLIC, 30)
    h.item(joint, "支援会議の開催状況", SUPPORT, Visibility.SESSION, 30)
    case = h.item(
        joint, "個別ケース検討（地域）", SUPPORT, Visibility.CONFIDENTIAL, 60, cases["地域"]
    )
    invitees = list(dict.fromkeys(SUPPORT_MEMBERS + KYOGITAI_MEMBERS))
    heard = {name: [case] for name in ("事務 花子", "支援 一郎", "介護 由美", "民生 ふみ")}
    h.record(joint, invitees, JOINT_PRESENT, heard)


def _kyogitai(h: _History) -> None:
    """The 協議体 quarterly (August by written procedure, November cancelled) and the 第2層
    twice, with the local issues they took up."""
    sessions = {}
    for month, mode, status in (
        (5, Mode.IN_PERSON, Status.HELD),
        (8, Mode.WRITTEN, Status.HELD),
        (11, Mode.IN_PERSON, Status.CANCELLED),
        (2, Mode.IN_PERSON, Status.HELD),
    ):
        session = h.session(
            f"第1層協議体 {month}月定例会",
            day_in(h.year, month, 2, week=3),
            (time(13, 30), time(15, 30)),
            [KYOGITAI],
            mode=mode,
            status=status,
        )
        titles = ["生活支援サービスの状況", "地域資源の情報共有"]
        for title in titles[: 1 if month in (8, 11) else 2]:
            h.item(session, title, KYOGITAI, Visibility.PUBLIC, 60)
        if month in KYOGITAI_PRESENT:
            h.record(session, KYOGITAI_MEMBERS, KYOGITAI_PRESENT[month])
        sessions[month] = session
    north = {}
    for month in (7, 12):
        session = h.session(
            f"北中学校区 第2層 {month}月会合",
            day_in(h.year, month, 2),
            (time(18, 30), time(20)),
            [NORTH],
        )
        h.item(session, "地区の困りごとの共有", NORTH, Visibility.SESSION, 60)
        north[month] = session
    h.db.flush()
    for issue, session in (
        (_issue(h, NORTH, "買い物の足の確保", (5, 20), IssueStatus.RESOURCED, (12, 10)), north[7]),
        (_issue(h, NORTH, "冬季の除雪の担い手不足", (11, 10), IssueStatus.DISCUSSING), north[12]),
        (
            _issue(h, KYOGITAI, "通いの場の担い手の高齢化", (8, 1), IssueStatus.RESOLVED, (2, 0)),
            sessions[2],
        ),
    ):
        h.db.add(IssueDiscussion(issue=issue, session=session))
    _issue(h, KYOGITAI, "ごみ出しが難しい世帯の増加", (1, 15), IssueStatus.RAISED)
    _task(h, KYOGITAI, "通いの場の新たな担い手を募る", (8, 5), h.day(9, 30), done=(10, 15))


def _issue(
    h: _History,
    body: str,
    title: str,
    raised: tuple[int, int],
    status: IssueStatus,
    settled: tuple[int, int] | None = None,
) -> LocalIssue:
    """A local issue; ``settled`` (month, day; day 0: the day of the 協議体's February
    session) is when it reached ``status``, else the day it was raised."""
    raised_on = h.day(*raised)
    status_on = raised_on
    if settled is not None:
        month, number = settled
        status_on = day_in(h.year, month, 2, week=3) if number == 0 else h.day(month, number)
    issue = LocalIssue(
        body=h.bodies[body],
        title=title,
        text="協議体で取り上げた地域の課題（匿名化済み）。",
        area=h.bodies[body].area,
        status=status,
        raised_on=raised_on,
        status_on=status_on,
        created_by=h.secretary,
        created_at=tokyo_to_utc(raised_on, time(9)),
    )
    h.db.add(issue)
    return issue


def _task(
    h: _History,
    body: str,
    text: str,
    opened: tuple[int, int],
    due: date,
    done: tuple[int, int] | None = None,
) -> None:
    """A follow-up task; one not done in the year was done early in this one (or now)."""
    if done is not None:
        done_at = tokyo_to_utc(h.day(*done), time(17))
    else:
        done_at = min(tokyo_to_utc(date(h.year + 1, 4, 6), time(17)), utcnow())
    visibility = {
        SUPPORT: Visibility.CONFIDENTIAL,
        COORDINATION: Visibility.BODY,
        KYOGITAI: Visibility.PUBLIC,
    }[body]
    h.db.add(
        ActionItem(
            body=h.bodies[body],
            chosen_visibility=visibility,
            text=text,
            owner=h.secretary,
            due_on=due,
            created_by=h.secretary,
            created_at=tokyo_to_utc(h.day(*opened), time(17)),
            done_at=done_at,
        )
    )


# Referrals of the year: from, to, consent, topics, (month, day) referred, the status changes
# ((month, day), status), and the case it was taken to (a 支援会議 item), if any.
REFERRALS = [
    (
        "みどり町 地域包括支援センター",
        "みどり町 自立相談支援センター",
        Consent.GIVEN,
        ("家計", "住まい"),
        (4, 10),
        [((4, 14), "contacted"), ((5, 1), "supporting")],
        "家計",
    ),
    (
        "みどり町 介護保険課",
        "みどり町 地域包括支援センター",
        Consent.GIVEN,
        ("認知症",),
        (6, 5),
        [((6, 15), "contacted"), ((9, 1), "closed")],
        None,
    ),
    (
        "みどり町 福祉課",
        "みどり町 自立相談支援センター",
        Consent.REFUSED,
        ("8050",),
        (9, 1),
        [((9, 3), "contacted"), ((9, 20), "supporting")],
        "8050",
    ),
    (
        "みどり町 社会福祉協議会",
        "みどり町 自立相談支援センター",
        Consent.GIVEN,
        ("就労",),
        (11, 1),
        [],
        None,
    ),
    (
        "みどり町 地域包括支援センター",
        "みどり町 福祉課",
        Consent.ASKING,
        ("健康",),
        (12, 1),
        [((12, 20), "unreached")],
        None,
    ),
    (
        "みどり町 自立相談支援センター",
        "みどり町 社会福祉協議会",
        Consent.GIVEN,
        ("就労", "債務"),
        (2, 1),
        [((2, 8), "contacted")],
        None,
    ),
]


def _referrals(h: _History, cases: dict[str, str]) -> None:
    items: dict[str | None, AgendaItem] = {}
    found = select(AgendaItem).where(AgendaItem.case_number.is_not(None)).order_by(AgendaItem.id)
    for item in h.db.scalars(found):
        items.setdefault(item.case_number, item)  # the case's first item
    for source, target, consent, topics, on, changes, case in REFERRALS:
        referred_on = h.day(*on)
        number = cases[case] if case else h.case(referred_on)
        last_on, last = referred_on, ReferralStatus.RECEIVED
        events = [
            ReferralEvent(
                person_id=h.secretary.id,
                kind="created",
                on=referred_on,
                to_status=last,
                at=tokyo_to_utc(referred_on, time(10)),
            )
        ]
        for (month, number_of_day), status in changes:
            changed_on, new = h.day(month, number_of_day), ReferralStatus(status)
            events.append(
                ReferralEvent(
                    person_id=h.secretary.id,
                    kind="status",
                    on=changed_on,
                    from_status=last,
                    to_status=new,
                    at=tokyo_to_utc(changed_on, time(10)),
                )
            )
            last_on, last = changed_on, new
        h.db.add(
            Referral(
                referred_on=referred_on,
                from_organisation=h.orgs[source],
                to_organisation=h.orgs[target],
                responsible_id=h.secretary.id,
                case_number=number,
                consent=consent,
                status=last,
                status_on=last_on,
                agenda_item=items[cases[case]] if case else None,
                created_by_id=h.secretary.id,
                created_at=datetime.combine(referred_on, time(1), tzinfo=UTC),
                topics=[h.topics[name] for name in topics],
                events=events,
            )
        )


def two_posts(db: Session) -> None:
    """兼務 三郎 holds both posts (相談支援員 and 生活支援コーディネーター) since the terms
    began: the apportionment has someone to split. Added once, whoever asks first."""
    from renkei.services.demo import TERM_START

    both = db.scalar(select(Person).where(Person.email == BOTH_POSTS))
    if both is None or db.scalar(select(Post.id).where(Post.person_id == both.id)) is not None:
        return
    for programme, title in (
        (Programme.LIVELIHOOD, "相談支援員"),
        (Programme.CARE_INSURANCE, "生活支援コーディネーター"),
    ):
        db.add(Post(person=both, programme=programme, title=title, start_on=TERM_START))
    db.flush()
