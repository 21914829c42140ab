"""The demo town that `make run` loads: sessions, and minutes to read and print."""

import re

from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    BodyKind,
    MeetingSession,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Person,
    Programme,
    Status,
)
from renkei.services import apportionment, case_numbers, dates, demo, minutes_document
from renkei.services.dates import in_tokyo


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
    """兼務 三郎 came at 14:20 to last month's 14:00–16:00 session of three 40-minute items:
    the 協議体's (14:00–14:40: 20 min from 14:20), the 支援会議's attendees' (session) one (40 min),
    and a confidential one he was not entitled to (not counted)."""
    with app.app_context():
        demo.load(db)
        db.commit()
        both = db.scalar(select(Person).where(Person.email == "member.both@example.jp"))
        held_on = in_tokyo(_approved(db).minutes.session.start_at)
        period = apportionment.fiscal_year(dates.fiscal_year_of(held_on.date()))
        last_month = apportionment.month(held_on.year, held_on.month)
        for chosen in (period, last_month):
            (report,) = apportionment.report(db, chosen, [both], reader=both).people
            assert report.totals[Programme.LIVELIHOOD] == 40
            assert report.totals[Programme.CARE_INSURANCE] == 20
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
        assert [after.can_see_item(i) for i in review.items] == [True, False]
        both = db.scalar(select(Person).where(Person.email == "member.both@example.jp"))
        assert not policy.session_access(db, both, review).is_member  # not chosen
