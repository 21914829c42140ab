"""No page issues a query per row: the number of SQL statements does not grow with the data."""

from datetime import date

import pytest

from renkei.db import utcnow
from renkei.links import Links
from renkei.models import (
    MeetingSession,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    Pledge,
    Post,
    Role,
)
from renkei.services import agenda, attendance, minutes, scheduling, tasks
from renkei.services.agenda import ItemData
from renkei.services.dates import today
from tests.conftest import login
from tests.helpers import body_named, counting, person_by_email
from tests.sessions_helpers import (
    PAST_DAY,
    approve_as_chairs,
    make_session,
    mark_held,
    record_attendance,
)

SUPPORT = "みどり町支援会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"


def add_shared_members(db, start: int, n: int) -> None:
    bodies = [body_named(db, SUPPORT), body_named(db, LAYER1)]
    for i in range(start, start + n):
        person = Person(name=f"追加 {i}", kana=f"ついか {i:04d}", email=f"extra{i}@example.jp")
        db.add(person)
        for body in bodies:
            db.add(
                Membership(person=person, body=body, role=Role.MEMBER, term_start=date(2025, 4, 1))
            )
    db.commit()


def queries_for(app, client, url: str) -> int:
    client.get(url)  # warm-up: login token lookup and the like happen alike each time
    with counting(app.extensions["renkei.engine"]) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/bodies/",
        "/bodies/{support}",
        "/bodies/overlap",
        "/bodies/overlap?a={support}&b={layer1}",
        "/people/",
        "/people/{person}",
    ],
)
def test_query_count_does_not_grow_with_members(app, as_secretary, world, url):
    ids = {
        "support": body_named(world, SUPPORT).id,
        "layer1": body_named(world, LAYER1).id,
        "person": world.query(Person).filter_by(email="member.both@example.jp").one().id,
    }
    url = url.format(**ids)
    add_shared_members(world, 0, 5)
    small = queries_for(app, as_secretary, url)
    add_shared_members(world, 5, 60)
    large = queries_for(app, as_secretary, url)
    assert small == large


def minuted_session(app, db, items: int) -> tuple[int, int]:
    """A held session with ``items`` agenda items and approved minutes with a task in each
    section, corrected once: (approved version id, correction id)."""
    secretary = person_by_email(db, "secretary@example.jp")
    support = body_named(db, SUPPORT)
    links, sender = Links(app.url_map, "http://localhost"), "renkei@localhost"
    with app.app_context():
        session = make_session(db, SUPPORT, LAYER1)
        for n in range(items):
            body = support if n % 2 else body_named(db, LAYER1)
            agenda.add_item(db, session, ItemData(title=f"議題{n}", body_id=body.id), by=secretary)
        mark_held(db, session)
        record_attendance(db, session)
        version = minutes.open_minutes(db, session, by=secretary)
        for section in version.sections:
            section.text = f"- 記録 {section.position}"
            minutes.add_action(
                db, section, text="確認", owner_id=secretary.id, due_on=None, by=secretary
            )
        minutes.submit(db, version, by=secretary, links=links, sender=sender)
        approve_as_chairs(db, version, links)
        correction = minutes.start_correction(db, version.minutes, reason="訂正", by=secretary)
        db.commit()
        return version.id, correction.id


@pytest.mark.parametrize(
    "url",
    [
        "/minutes/{approved}?view=full",
        "/minutes/{approved}/download?view=member",
        "/minutes/{correction}/edit",
        "/minutes/{correction}/diff?view=full",
        "/",
    ],
)
def test_minutes_pages_do_not_query_per_section(app, as_secretary, world, url):
    for name in ("secretary", "chair.support"):
        person = person_by_email(world, f"{name}@example.jp")
        world.add(Pledge(person=person, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    approved, correction = minuted_session(app, world, 2)
    small = queries_for(app, as_secretary, url.format(approved=approved, correction=correction))
    approved, correction = minuted_session(app, world, 12)
    large = queries_for(app, as_secretary, url.format(approved=approved, correction=correction))
    assert small == large


def recorded_session(app, db, day) -> int:
    """A held joint session on ``day`` with an attendance record: everyone present."""
    secretary = person_by_email(db, "secretary@example.jp")
    with app.app_context():
        session = make_session(db, SUPPORT, LAYER1, day=day)
        # Registered after its time, the session is held already: its agenda is entered
        # as a correction after the session.
        recorded = agenda.Correction("開催後に登録したため")
        for body in (SUPPORT, LAYER1):
            data = ItemData(title="議題", body_id=body_named(db, body).id, planned_minutes=30)
            agenda.add_item(db, session, data, by=secretary, correction=recorded)
        scheduling.set_status(db, session, "held", by=secretary)
        lines = [
            attendance.LineData(line.person.id, "present")
            for line in attendance.record_of(db, session).lines
        ]
        attendance.save_record(db, session, lines, by=secretary, shown=set())
        db.commit()
    return session.id


@pytest.mark.parametrize("url", ["/sessions/{session}", "/sessions/{session}/attendance"])
def test_attendance_pages_do_not_query_per_member(app, as_secretary, world, url):
    add_shared_members(world, 0, 3)
    url = url.format(session=recorded_session(app, world, PAST_DAY))
    small = queries_for(app, as_secretary, url)
    add_shared_members(world, 3, 40)
    with app.app_context():
        session = world.get(MeetingSession, int(url.split("/")[2]))
        secretary = person_by_email(world, "secretary@example.jp")
        lines = [
            attendance.LineData(line.person.id, "present")
            for line in attendance.record_of(world, session).lines
        ]
        attendance.save_record(world, session, lines, by=secretary, shown=set())
        world.commit()
    assert queries_for(app, as_secretary, url) == small


def test_the_apportionment_report_does_not_query_per_session(app, client, world):
    both = person_by_email(world, "member.both@example.jp")
    world.add(
        Post(person=both, programme="livelihood", title="相談支援員", start_on=date(2025, 4, 1))
    )
    world.commit()
    recorded_session(app, world, PAST_DAY)
    login(client, "admin@example.jp")
    url = "/apportionment/?period=2026&person=all"
    small = queries_for(app, client, url)
    for day in (date(2026, 10, 1), date(2026, 10, 8), date(2026, 10, 15), date(2026, 10, 22)):
        recorded_session(app, world, day)
    page = client.get(url).get_data(as_text=True)
    breakdown = page.split('class="list breakdown"')[1].split("</table>")[0]
    assert breakdown.count("<tr>") == 1 + 5  # the head and five sessions
    assert queries_for(app, client, url) == small


def _poll_with(app, db, extra_members: int, start: int, slots: int) -> int:
    """A joint poll of SUPPORT and LAYER1 with ``slots`` slots, after adding
    ``extra_members`` shared members; everyone has answered every slot."""
    from datetime import timedelta

    from renkei.services import polls
    from tests.polls_helpers import make_poll, slot
    from tests.sessions_helpers import DAY

    add_shared_members(db, start, extra_members)
    with app.app_context():
        days = [DAY + timedelta(days=n) for n in range(slots)]
        poll = make_poll(db, SUPPORT, LAYER1, slots=[slot(d) for d in days])
        for invitee in poll.invitees:
            marks = {
                s.id: ("yes", "maybe", "no")[(s.id + invitee.person_id) % 3] for s in poll.slots
            }
            polls.answer(db, poll, invitee.person, marks, "コメント", by=invitee.person)
        db.commit()
        return poll.id


@pytest.mark.parametrize("url", ["/polls/{poll}", "/polls/{poll}/export.csv", "/", "/polls/"])
def test_poll_pages_do_not_query_per_invitee_or_slot(app, as_secretary, world, url):
    small = queries_for(app, as_secretary, url.format(poll=_poll_with(app, world, 2, 0, 2)))
    large = queries_for(app, as_secretary, url.format(poll=_poll_with(app, world, 40, 2, 9)))
    assert small == large


def _convened_session(app, db, people: int) -> int:
    """A 支援会議 session convened with ``people`` added members selected (and the
    secretary), with ``people`` participants each assigned to one item of their own."""
    from renkei.services import convening

    secretary = person_by_email(db, "secretary@example.jp")
    support = body_named(db, SUPPORT)
    with app.app_context():
        session = make_session(db, SUPPORT)
        chosen = [secretary.id]
        for n in range(people):
            member = Person(name=f"選定 {n}", kana=f"せんてい {n:04d}")
            guest = Person(name=f"関係 {n}", kana=f"かんけい {n:04d}")
            db.add_all([member, guest])
            db.add(
                Membership(
                    person=member, body=support, role=Role.MEMBER, term_start=date(2025, 4, 1)
                )
            )
            db.flush()
            chosen.append(member.id)
            item = agenda.add_item(
                db, session, ItemData(title=f"ケース{n}", body_id=support.id), by=secretary
            )
            data = convening.ParticipantData(item_ids=[item.id], person_id=guest.id)
            convening.add_participant(db, session, data, by=secretary)
            scheduling.set_reply(db, session, member, "attend")
        convening.set_selection(db, session, support.id, chosen, by=secretary)
        db.commit()
    return session.id


@pytest.mark.parametrize(
    "url", ["/sessions/{session}", "/sessions/{session}/convene/{support}", "/"]
)
def test_convened_pages_do_not_query_per_member_or_participant(app, as_secretary, world, url):
    secretary = person_by_email(world, "secretary@example.jp")
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    support = body_named(world, SUPPORT).id
    small = queries_for(
        app, as_secretary, url.format(session=_convened_session(app, world, 2), support=support)
    )
    large = queries_for(
        app, as_secretary, url.format(session=_convened_session(app, world, 12), support=support)
    )
    assert small == large


def add_tasks(db, n: int, start: int = 0) -> None:
    """``n`` tasks of each of the 支援会議 (owned by its pledged people in turn) and the
    協議体 (owned by an organisation each, public), one in three done."""
    secretary = person_by_email(db, "secretary@example.jp")
    people = [secretary, person_by_email(db, "chair.support@example.jp")]
    for i in range(start, start + n):
        organisation = Organisation(name=f"機関 {i}", kind=OrganisationKind.NPO)
        db.add(organisation)
        db.flush()
        for body, owner in (
            (SUPPORT, tasks.Owner(person_id=people[i % 2].id)),
            (LAYER1, tasks.Owner(organisation_id=organisation.id)),
        ):
            task = tasks.add_for_body(
                db,
                body_named(db, body).id,
                text=f"宿題 {i}",
                owner=owner,
                due_on=today(),
                visibility=None,
                by=secretary,
            )
            if i % 3 == 2:
                task.done_at = utcnow()
    db.commit()


def test_task_pages_do_not_query_per_task(app, as_secretary, world):
    """The secretariat's list, and the carried tasks on the next session's page and 次第."""
    for email in ("secretary@example.jp", "chair.support@example.jp"):
        person = person_by_email(world, email)
        world.add(Pledge(person=person, body=body_named(world, SUPPORT), pledged_on=today()))
    world.commit()
    add_tasks(world, 2)
    following = make_session(world, SUPPORT, LAYER1)
    urls = [
        "/tasks/",
        "/tasks/?overdue=1",
        f"/sessions/{following.id}",
        f"/sessions/{following.id}/order",
    ]
    small = [queries_for(app, as_secretary, url) for url in urls]
    add_tasks(world, 20, start=2)
    large = [queries_for(app, as_secretary, url) for url in urls]
    assert small == large


def add_bodies_for(db, person: Person, start: int, n: int) -> None:
    from renkei.models import Body, BodyKind

    kind = BodyKind.OTHER
    for i in range(start, start + n):
        body = Body(
            name=f"追加の会議 {i}",
            kind=kind,
            programme=kind.default_programme,
            confidentiality=kind.default_confidentiality,
        )
        db.add(Membership(person=person, body=body, role=Role.MEMBER, term_start=date(2025, 4, 1)))
    db.commit()


@pytest.mark.parametrize("url", ["/", "/sessions/", "/bodies/"])
def test_pages_read_the_viewers_roles_once_whatever_their_bodies(app, client, world, url):
    """The viewer's current roles are read once a request (policy keeps them), not once per
    body the page asks about."""
    both = person_by_email(world, "member.both@example.jp")
    login(client, "member.both@example.jp")
    add_bodies_for(world, both, 0, 1)
    small = queries_for(app, client, url)
    add_bodies_for(world, both, 1, 8)
    assert queries_for(app, client, url) == small
