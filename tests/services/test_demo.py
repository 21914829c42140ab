"""The demo town that `make run` loads: sessions, minutes to read, print and approve, and a
date poll to answer."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from renkei.db import utcnow
from renkei.models import (
    AgendaItem,
    BodyKind,
    MailMessage,
    MeetingSession,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Person,
    Poll,
    Programme,
    Status,
    Visibility,
)
from renkei.services import (
    apportionment,
    attendance,
    case_numbers,
    dates,
    demo,
    demo_history,
    demo_materials,
    materials,
    minutes_document,
    polls,
    tasks,
)
from renkei.services.dates import in_tokyo
from renkei.services.material_store import store_of
from tests.conftest import login


def _approved(db) -> MinutesVersion:
    """Last month's minutes, approved by both chairs (the demo's only approved ones)."""
    query = select(MinutesVersion).where(MinutesVersion.status == MinutesStatus.APPROVED)
    return db.scalars(query).one()


def test_demo_has_sessions_and_approved_minutes(app, db):
    with app.app_context():
        demo.load(db)
        db.commit()
        version = _approved(db)
        assert version.status == MinutesStatus.APPROVED
        assert version.content_hash == minutes_document.content_hash(version)
        assert version.minutes.session.status == Status.HELD
        statuses = set(db.scalars(select(MeetingSession.status)))
        # Convened sessions, and one still being prepared for the secretary to convene.
        assert {Status.CONVENED, Status.PREPARED, Status.HELD} <= statuses


def test_demo_has_an_attendance_record_and_hours_to_apportion(app, db):
    """兼務 三郎 came at 15:50 to last month's 15:30–17:30 session of three 40-minute items:
    the 協議体's (15:30–16:10: 20 min from 15:50), the 支援会議's attendees' (session) one (40 min),
    and a confidential one he was not entitled to (not counted)."""
    with app.app_context():
        demo.load(db)
        db.commit()
        both = db.scalar(select(Person).where(Person.email == "member.both@example.jp"))
        held_on = in_tokyo(_approved(db).minutes.session.start_at)
        period = apportionment.fiscal_year(dates.fiscal_year_of(held_on.date()))
        last_month = apportionment.month(held_on.year, held_on.month)
        # In April last month lies in the demo's last fiscal year (demo_history), whose
        # sessions give him 30 and 150 minutes more (tests/services/test_annual_report.py).
        earlier = (30, 150) if period.first.year == demo_history.year() else (0, 0)
        for chosen, (livelihood, care) in ((period, earlier), (last_month, (0, 0))):
            (report,) = apportionment.report(db, chosen, [both], reader=both).people
            assert report.totals[Programme.LIVELIHOOD] == 40 + livelihood
            assert report.totals[Programme.CARE_INSURANCE] == 20 + care
        version = _approved(db)
        texts = [s.text for s in version.sections if s.kind == "attendance"]
        assert all("— 成立" in text for text in texts) and len(texts) == 2


def test_the_support_meetings_cases_carry_case_numbers_and_no_names(app, db):
    """The 支援会議's individual cases are named by case numbers, each its own; nothing in
    the demo's agendas or minutes looks like a supported person's name."""
    with app.app_context():
        demo.load(db)
        db.commit()
    items = db.scalars(select(AgendaItem)).all()
    cases = [i for i in items if i.body.kind == BodyKind.SUPPORT_MEETING and "ケース" in i.title]
    assert len(cases) >= 2
    assert all(re.fullmatch(r"R\d+-\d{4}", i.case_number or "") for i in cases)
    assert len({i.case_number for i in cases}) == len(cases)
    assert all(i.case_number is None for i in items if i.body.kind != BodyKind.SUPPORT_MEETING)
    texts = [f"{i.title}\n{i.description}" for i in items]
    texts += [f"{s.title}\n{s.text}" for s in db.scalars(select(MinutesSection))]
    assert [name for text in texts for name in case_numbers.personal_names(text)] == []


def test_demo_shows_a_body_item_closed_to_the_other_body_of_a_joint_session(app, db):
    """The 支援調整会議's plan review, named by case number, in a session it holds jointly
    with the 協議体: its own members see it, the 協議体-only NPO member sees 非公開議題."""
    from renkei.models import AgendaItem, Visibility
    from renkei.services import policy

    with app.app_context():
        demo.load(db)
        db.commit()
        review = db.scalars(
            select(AgendaItem).where(AgendaItem.title.startswith("プラン協議"))
        ).one()
        assert review.title == "プラン協議：R8-0003（家計改善）"
        assert review.visibility is Visibility.BODY and review.body.name == demo.COORDINATION
        session = review.session
        assert {b.name for b in session.bodies} == {demo.COORDINATION, demo.KYOGITAI}
        for email, sees in (
            ("member.kyogitai@example.jp", False),
            ("chair.support@example.jp", True),
        ):
            person = db.scalar(select(Person).where(Person.email == email))
            access = policy.session_access(db, person, session)
            assert access.can_view and access.can_see_item(review) is sees
        # Renkei holds no names of the people supported: no title says さん, 様 or 氏.
        titles = db.scalars(select(AgendaItem.title)).all()
        assert not [t for t in titles if any(mark in t for mark in ("さん", "様", "氏"))]


def test_demo_has_a_case_review_with_selected_members_and_a_participant(app, db):
    """A 支援会議 個別ケース検討 convened with selected members, one participant assigned to
    one case, cases by case number only; the participant sees the public facts and, once
    pledged, their case and not the other."""
    import re

    from renkei.services import convening, policy

    with app.app_context():
        demo.load(db)
        db.commit()
        review = db.scalar(
            select(MeetingSession).where(MeetingSession.title.contains("個別ケース検討"))
        )
        assert [s.body.name for s in review.selections] == [demo.SUPPORT]
        (participant,) = review.participants
        assert participant.person.email == demo.PARTICIPANT
        assert [i.position for i in participant.items] == [1]
        assert all(re.fullmatch(r"R\d+-\d{4}", i.case_number or "") for i in review.items)
        staff = participant.person
        before = policy.session_access(db, staff, review)
        assert before.can_view and not any(before.can_see_item(i) for i in review.items)
        convening.record_session_pledge(db, review, review.host_body_id, staff, by=staff)
        after = policy.session_access(db, staff, review)
        # The first case is theirs; the second, and the referral taken there, are not.
        assert [after.can_see_item(i) for i in review.items] == [True, False, False]
        both = db.scalar(select(Person).where(Person.email == "member.both@example.jp"))
        assert not policy.session_access(db, both, review).is_member  # not chosen


def _loaded(app, db):
    with app.app_context():
        demo.load(db)
        db.commit()


def _by_email(db, email: str) -> Person:
    return db.scalar(select(Person).where(Person.email == email))


def test_last_months_session_is_held_in_the_previous_calendar_month(app, db):
    """Home shows "last month": four weeks back can still be this month, so the demo puts
    its held session in the month before this one."""
    _loaded(app, db)
    held_on = in_tokyo(_approved(db).minutes.session.start_at).date()
    first_of_this_month = dates.today().replace(day=1)
    assert held_on < first_of_this_month
    assert (first_of_this_month - held_on).days <= 31 and held_on.day >= 8
    assert dates.holiday_name(held_on) is None


@pytest.mark.parametrize(
    "on",
    [
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2026, 3, 1),
        date(2026, 5, 31),
        date(2027, 2, 10),  # 成人の日 is January's second Monday
        date(2026, 11, 15),  # スポーツの日 is October's second Monday
    ],
)
def test_last_month_is_the_previous_calendar_month_whatever_the_day(monkeypatch, on):
    """The rule on the days where four weeks back would be wrong (a month's end, a new year)
    and where last month's second week has a public holiday."""
    monkeypatch.setattr(demo, "today", lambda: on)
    previous = (on.replace(day=1) - timedelta(days=1)).replace(day=1)
    for weekday in range(5):
        day = demo._in_last_month(weekday)
        assert (day.year, day.month) == (previous.year, previous.month)
        assert day.weekday() == weekday and dates.holiday_name(day) is None


def test_the_demo_has_minutes_awaiting_the_chairs_approval(app, db, client):
    """Last week's 協議体 meeting: held, its attendance recorded, its minutes submitted; the
    request waits in the mail queue for 協議 次郎, who can open the approval page."""
    _loaded(app, db)
    version = db.scalars(
        select(MinutesVersion).where(MinutesVersion.status == MinutesStatus.SUBMITTED)
    ).one()
    session = version.minutes.session
    assert session.title == demo.AWAITING_APPROVAL and session.status == Status.HELD
    assert [b.name for b in session.bodies] == [demo.KYOGITAI]
    assert in_tokyo(session.end_at).date() < dates.today()
    assert attendance.attendances_of(db, session)  # recorded: the minutes may be submitted
    chair = _by_email(db, demo.AWAITING_CHAIR)
    requests = db.scalars(select(MailMessage).where(MailMessage.person_id == chair.id)).all()
    assert any(session.title in m.subject and "承認" in m.subject for m in requests)
    login(client, demo.AWAITING_CHAIR)
    page = client.get(f"/minutes/{version.id}/approve/{session.host_body_id}")
    assert page.status_code == 200
    assert "東地区で月2回の体操教室" in page.get_data(as_text=True)
    # The minutes cite the materials: the chair follows 「[資料1]」 to the 計画案.
    assert "資料1「通いの場立ち上げ計画（案）」</a>" in page.get_data(as_text=True)


def test_the_demo_has_an_open_poll_with_answers_and_letters_to_print(app, db, client):
    """The 協議体's open date poll: three members answered online, one by telephone (entered
    by the secretariat); the members without a login who have not answered get a printed
    letter each, whose link opens their own answer page."""
    _loaded(app, db)
    poll = db.scalars(select(Poll).where(Poll.title == demo.POLL_TITLE)).one()
    assert poll.accepts_answers(utcnow()) and [b.name for b in poll.bodies] == [demo.KYOGITAI]
    result = polls.results(db, poll)
    answered = {r.invitee.person.name for r in result.rows if r.invitee.answered_at}
    assert answered == {"協議 次郎", "兼務 三郎", "地域 さくら", "民生 ふみ"}
    assert all(s.counts for s in result.slots)
    waiting = [p for p in result.unanswered if not p.has_login]
    assert {p.name for p in waiting} == {"介護 由美", "生協 実", "社協 大地"}

    login(client, "secretary@example.jp")
    poll_page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert f"/polls/{poll.id}/letters" in poll_page
    listed = client.get(f"/polls/{poll.id}/letters").get_data(as_text=True)
    assert all(p.name in listed for p in waiting) and "民生 ふみ" in listed
    response = client.post(f"/polls/{poll.id}/letters", data={"who": "unanswered"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<article class="letter"') == 3 and "民生 ふみ　様" not in page
    links = re.findall(r'<span class="letter-url">[^<]*(/polls/answer/[\w-]+)</span>', page)
    assert len(links) == 3
    client.post("/logout")
    own = client.get(links[0])
    assert own.status_code == 200
    assert any(p.name in own.get_data(as_text=True) for p in waiting)


def test_the_demo_has_two_local_issues_at_the_layer_2_kyogitai(app, db):
    """One under discussion, on the 第2層's next session's agenda; one raised from the
    支援会議's case, which copies no case number."""
    from renkei.models import Body, IssueStatus, LocalIssue

    with app.app_context():
        demo.load(db)
        db.commit()
        issues = db.scalars(select(LocalIssue).order_by(LocalIssue.id)).all()
        # Not those of the demo's last fiscal year (demo_history), raised then.
        issues = [i for i in issues if dates.fiscal_year_of(i.raised_on) != demo_history.year()]
        north = db.scalars(select(Body).where(Body.name == demo.NORTH)).one()
        assert [i.body_id for i in issues] == [north.id, north.id]
        assert [i.status for i in issues] == [IssueStatus.DISCUSSING, IssueStatus.RAISED]
        (discussion,) = issues[0].discussions
        assert discussion.session.bodies == [north]
        assert discussion.session.items[-1].title == issues[0].title
        case = issues[1].source_item
        assert case is not None and case.case_number
        assert case.case_number not in issues[1].text


def test_the_demo_carries_tasks_onto_the_next_sessions(app, db, client):
    """Last month's tasks on this month's joint session: one overdue; one done (not carried);
    the 支援調整会議's task, owned by an organisation, on its monthly sessions."""
    with app.app_context():
        demo.load(db)
        db.commit()
        joint = db.scalar(
            select(MeetingSession).where(MeetingSession.title == "支援会議・協議体 共同開催")
        )
        carried = tasks.carried_tasks(db, joint)
        assert [t.text for t in carried if tasks.is_overdue(t)] == [
            "移動販売の事業者と対象地区を調整する"
        ]
        assert "受診同行の日程を調整する" not in [t.text for t in carried]
        regular = db.scalars(
            select(MeetingSession)
            .where(MeetingSession.title == "支援調整会議（定例）")
            .order_by(MeetingSession.start_at)
        ).all()
        assert all(
            [t.owner_name for t in tasks.carried_tasks(db, s)] == ["みどり町 自立相談支援センター"]
            for s in regular[:2]
        )
    login(client, "secretary@example.jp")
    page = client.get("/tasks/").get_data(as_text=True)
    assert "受診同行の日程を調整する" in page and "期限超過" in page
    page = client.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "前回からの継続事項" in page and "試行2地区の利用状況をまとめる" in page


def test_the_demo_sessions_have_materials_public_closed_and_replaced(app, db):
    """Last week's minutes awaiting approval cite a replaced 計画案, a 予算表 for those
    convened, a map and a CSV list; the coming joint session has the 支援会議's closed case
    summary; the bodies keep their materials for a 保存年限."""
    with app.app_context():
        demo.load(db)
        db.commit()
        by_title = {s.title: s for s in db.scalars(select(MeetingSession))}
        held = by_title[demo.AWAITING_APPROVAL]
        listed = materials.numbered(db, held)
        assert [(e.number, e.material.current.media_type) for e in listed] == [
            (1, "application/pdf"),
            (2, "application/pdf"),
            (3, "application/pdf"),
            (4, "text/csv"),
        ]
        plan, budget = listed[0].material, listed[1].material
        assert len(plan.versions) == 2 and budget.visibility is Visibility.SESSION
        joint = next(s for s in by_title.values() if s.title == "支援会議・協議体 共同開催")
        assert joint.status is Status.CONVENED
        kinds = {
            e.material.title: materials.is_closed(e.material) for e in materials.numbered(db, joint)
        }
        assert kinds["ケース概要"] and not kinds["通いの場立ち上げ計画（案）"]
        assert all(store_of(app).exists(v.sha256) for e in listed for v in e.material.versions)
        assert {b.retention_years for s in (held, joint) for b in s.bodies} >= {5, 10}


def test_the_demo_materials_are_the_same_on_every_load():
    made = [demo_materials.plan(), demo_materials.budget(), demo_materials.area_map()]
    again = [demo_materials.plan(), demo_materials.budget(), demo_materials.area_map()]
    assert made == again
    assert all(content.startswith(b"%PDF") and len(content) < 20_000 for content in made)
