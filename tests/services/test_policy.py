"""Who sees an agenda item, for each visibility and each kind of viewer (docs/architecture.md)."""

from datetime import date

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from renkei.models import AgendaItem, Body, BodyKind, Confidentiality, Person, Pledge, Visibility
from renkei.services import memberships, policy
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import COORDINATION, LAYER1, SUPPORT, make_session

SEES, PLACEHOLDER = True, False


def joint_of(world, *bodies):
    """A joint session of ``bodies``, one item of each visibility per body."""
    session = make_session(world, *bodies)
    for position, (body, visibility) in enumerate(
        (body, visibility) for body in bodies for visibility in Visibility
    ):
        world.add(
            AgendaItem(
                session=session,
                body=body_named(world, body),
                position=position,
                title=f"{body} {visibility}",
                visibility=visibility,
            )
        )
    world.commit()
    return session


@pytest.fixture
def joint(world):
    """A joint session of the 支援会議 and the 協議体, one item of each visibility per body."""
    return joint_of(world, SUPPORT, LAYER1)


def pledge(world, email, body):
    world.add(
        Pledge(
            person=person_by_email(world, email),
            body=body_named(world, body),
            pledged_on=date(2025, 4, 1),
        )
    )
    world.commit()


def sees(world, email, session, body, visibility) -> bool:
    access = policy.session_access(world, person_by_email(world, email), session)
    return access.can_see_item(item_of(session, body, visibility))


def item_of(session, body, visibility) -> AgendaItem:
    return next(i for i in session.items if i.body.name == body and i.visibility == visibility)


def person_named(world, name) -> Person:
    return world.scalar(select(Person).where(Person.name == name))


ALL = {"public", "session", "body", "confidential"}
BUT_CONFIDENTIAL = {"public", "session", "body"}
ATTENDEES = {"public", "session"}


@pytest.mark.parametrize(
    ("owner", "viewer", "pledged", "seen"),
    [
        # The owning body's member: all but confidential; with a pledge, everything.
        (SUPPORT, "member.both@example.jp", False, BUT_CONFIDENTIAL),
        (SUPPORT, "member.both@example.jp", True, ALL),
        (COORDINATION, "chair.support@example.jp", False, BUT_CONFIDENTIAL),
        (COORDINATION, "chair.support@example.jp", True, ALL),
        # Member of the other body (the 協議体) of the joint session only: public and session
        # items, never the owning body's own, pledge or not (a pledge counts for members).
        (SUPPORT, "member.kyogitai@example.jp", False, ATTENDEES),
        (SUPPORT, "member.kyogitai@example.jp", True, ATTENDEES),
        (COORDINATION, "member.kyogitai@example.jp", False, ATTENDEES),
        (COORDINATION, "member.kyogitai@example.jp", True, ATTENDEES),
        # Administrator: knows of the session, entitled to nothing closed by that role alone.
        (SUPPORT, "admin@example.jp", False, {"public"}),
        (COORDINATION, "admin@example.jp", False, {"public"}),
    ],
)
def test_each_visibility_for_each_role(world, owner, viewer, pledged, seen):
    """The owning body's items in a joint session of ``owner`` and the 第1層 協議体."""
    session = joint_of(world, owner, LAYER1)
    if pledged:
        pledge(world, viewer, owner)
    assert {v.value for v in Visibility if sees(world, viewer, session, owner, v)} == seen


@pytest.mark.parametrize("owner", [SUPPORT, COORDINATION])
def test_nobody_outside_the_bodies_sees_any_item(world, owner):
    """北 町子 sits on the 第2層 協議体 only: the joint session does not exist for her."""
    session = joint_of(world, owner, LAYER1)
    access = policy.session_access(world, person_named(world, "北 町子"), session)
    assert not access.can_view
    assert access.closed_items(session.items) == list(session.items)


@pytest.mark.parametrize("owner", [SUPPORT, COORDINATION])
def test_a_guest_and_every_calendar_see_public_items_only(world, owner):
    """A guest (invited by name, no page) and whatever calendar file or e-mail is written,
    for whomever: public titles only."""
    session = joint_of(world, owner, LAYER1)
    access = policy.calendar_access(session)
    shown = {(i.body.name, i.visibility) for i in session.items if access.can_see_item(i)}
    assert shown == {(owner, Visibility.PUBLIC), (LAYER1, Visibility.PUBLIC)}


def test_an_observer_sees_session_items_but_not_the_body_items_of_that_body(world):
    """社協 大地 is a member of the 支援調整会議 and an observer of the 協議体: an observer
    attends but is not bound as a member is."""
    session = joint_of(world, COORDINATION, LAYER1)
    access = policy.session_access(world, person_named(world, "社協 大地"), session)
    assert access.can_see_item(item_of(session, LAYER1, Visibility.SESSION))
    assert not access.can_see_item(item_of(session, LAYER1, Visibility.BODY))
    assert access.can_see_item(item_of(session, COORDINATION, Visibility.BODY))


def test_a_member_of_a_body_on_the_sessions_date_only_is_convened(world, joint):
    """A term starting after today but by the session's date: invited, so the session's
    items for attendees are theirs; the body's own items follow today's terms."""
    access = policy.SessionAccess(person=None, session_body_ids={1}, invited=True)
    assert access.is_convened
    assert access.can_see_item(item_of(joint, LAYER1, Visibility.SESSION))
    assert not access.can_see_item(item_of(joint, LAYER1, Visibility.BODY))


@pytest.mark.parametrize(
    ("kind", "default"),
    [
        (BodyKind.SUPPORT_MEETING, Visibility.CONFIDENTIAL),
        (BodyKind.COMMUNITY_CARE, Visibility.CONFIDENTIAL),
        (BodyKind.SUPPORT_COORDINATION, Visibility.BODY),
        (BodyKind.OTHER, Visibility.BODY),
        (BodyKind.CONSULTATIVE_BODY, Visibility.PUBLIC),
    ],
)
def test_default_visibility_by_kind_of_body(kind, default):
    body = Body(name="x", kind=kind, confidentiality=kind.default_confidentiality)
    assert policy.default_visibility(body) is default
    assert not policy.is_wider_than_allowed(body, default)
    wider = [v for v in Visibility if policy.STRICTNESS[v] < policy.STRICTNESS[default]]
    assert all(policy.is_wider_than_allowed(body, v) for v in wider)


def test_the_default_follows_the_bodys_confidentiality_not_its_kind():
    """An "other" body an administrator made public defaults to public items."""
    body = Body(name="x", kind=BodyKind.OTHER, confidentiality=Confidentiality.PUBLIC)
    assert policy.default_visibility(body) is Visibility.PUBLIC


def test_general_sections_are_public_only_when_every_body_is():
    public = Body(name="p", kind=BodyKind.CONSULTATIVE_BODY, confidentiality=Confidentiality.PUBLIC)
    closed = Body(
        name="c", kind=BodyKind.SUPPORT_COORDINATION, confidentiality=Confidentiality.CLOSED
    )
    assert policy.general_visibility([public]) is Visibility.PUBLIC
    assert policy.general_visibility([public, closed]) is Visibility.SESSION


def test_pledge_for_one_body_does_not_open_the_other(world, joint):
    pledge(world, "member.both@example.jp", LAYER1)
    assert sees(world, "member.both@example.jp", joint, LAYER1, "confidential")
    assert not sees(world, "member.both@example.jp", joint, SUPPORT, "confidential")


def test_people_outside_the_bodies_cannot_view_the_session(world, joint):
    session = make_session(world, SUPPORT)
    outsider = person_by_email(world, "member.kyogitai@example.jp")
    assert not policy.session_access(world, outsider, session).can_view
    assert not policy.session_access(world, None, session).can_view


def test_only_the_secretariat_of_every_body_served_manages(world, joint):
    chair = person_by_email(world, "chair.support@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    secretary = person_by_email(world, "secretary@example.jp")
    assert policy.session_access(world, secretary, joint).can_manage
    assert not policy.session_access(world, chair, joint).can_manage
    assert not policy.session_access(world, admin, joint).can_manage


def test_current_roles_follow_term_changes_within_one_database_session(world):
    """Roles are kept per database session (a page asks several times); a term added,
    ended or removed must show at once, committed or not."""
    secretary = person_by_email(world, "secretary@example.jp")
    person = person_by_email(world, "member.kyogitai@example.jp")
    body = body_named(world, "みどり町支援調整会議")
    assert body.id not in policy.secretary_body_ids(world, person)
    data = memberships.MembershipData(
        person_id=person.id, role="secretary", term_start=date(2026, 4, 1)
    )
    term = memberships.add_membership(world, body, data, by=secretary)
    assert body.id in policy.secretary_body_ids(world, person)
    memberships.end_membership(world, term, date(2026, 4, 1), by=secretary)
    assert body.id not in policy.secretary_body_ids(world, person)
    world.rollback()
    assert body.id not in policy.secretary_body_ids(world, person)


def test_a_term_changed_but_not_yet_flushed_is_not_read_from_the_kept_roles(world):
    secretary = person_by_email(world, "secretary@example.jp")
    before = policy.secretary_body_ids(world, secretary)
    term = next(m for m in body_named(world, SUPPORT).memberships if m.person_id == secretary.id)
    assert term.body_id in before
    term.role = "member"  # not flushed
    assert term.body_id not in policy.secretary_body_ids(world, secretary)


# --- SessionAccess answers for the whole page -------------------------------------------------


def test_closed_items_are_those_the_person_may_not_see(world, joint):
    admin = policy.session_access(world, person_by_email(world, "admin@example.jp"), joint)
    closed = {(i.body.name, i.visibility) for i in admin.closed_items(joint.items)}
    assert closed == {
        (body, visibility)
        for body in (SUPPORT, LAYER1)
        for visibility in (Visibility.SESSION, Visibility.BODY, Visibility.CONFIDENTIAL)
    }
    pledge(world, "member.both@example.jp", SUPPORT)
    both = policy.session_access(world, person_by_email(world, "member.both@example.jp"), joint)
    assert [(i.body.name, i.visibility) for i in both.closed_items(joint.items)] == [
        (LAYER1, Visibility.CONFIDENTIAL)
    ]
    # Presence is recorded for the items closed to all but their owner: those they see.
    assert [(i.body.name, i.visibility) for i in both.owned_items_seen(joint.items)] == [
        (SUPPORT, Visibility.BODY),
        (SUPPORT, Visibility.CONFIDENTIAL),
        (LAYER1, Visibility.BODY),
    ]


def test_bodies_needing_a_pledge_are_offered_only_where_a_pledge_would_open_an_item(world, joint):
    both = person_by_email(world, "member.both@example.jp")
    access = policy.session_access(world, both, joint)
    assert [b.name for b in access.bodies_needing_pledge(joint)] == [SUPPORT, LAYER1]
    pledge(world, "member.both@example.jp", SUPPORT)
    access = policy.session_access(world, both, joint)
    assert [b.name for b in access.bodies_needing_pledge(joint)] == [LAYER1]
    admin = policy.session_access(world, person_by_email(world, "admin@example.jp"), joint)
    assert admin.bodies_needing_pledge(joint) == []  # nothing a pledge of theirs would open


def test_the_online_link_and_the_invitees_are_for_members(world, joint):
    member = person_by_email(world, "member.kyogitai@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    assert policy.session_access(world, member, joint).can_see_online_link
    assert policy.session_access(world, member, joint).can_see_invitees
    assert not policy.session_access(world, admin, joint).can_see_online_link
    assert not policy.session_access(world, admin, joint).can_see_invitees


@pytest.mark.parametrize("value", ["public", "confidential", "pubic", None])
def test_an_item_whose_visibility_is_no_enum_is_refused_not_guessed(world, joint, value):
    """A string (or a typo) must fail loudly: "public" read as a string would open the
    item, and a misspelt "confidental" would fall through to some branch."""
    access = policy.session_access(world, person_by_email(world, "admin@example.jp"), joint)
    item = AgendaItem(body_id=joint.bodies[0].id, title="x", visibility=value)
    with pytest.raises(TypeError):
        access.can_see_item(item)
    with pytest.raises(TypeError):
        policy.confidential_items([item])


def test_contact_details_are_for_the_person_secretaries_and_administrators(world):
    member = person_by_email(world, "member.kyogitai@example.jp")
    other = person_by_email(world, "member.both@example.jp")
    assert policy.can_see_contact_details(world, member, member)
    assert not policy.can_see_contact_details(world, member, other)
    for email in ("secretary@example.jp", "admin@example.jp"):
        assert policy.can_see_contact_details(world, person_by_email(world, email), other)


# --- The role cache's listeners ---------------------------------------------------------------


def test_no_policy_listener_is_installed_on_sqlalchemys_global_session_class(app):
    """The listeners that forget kept roles belong to the app's own sessionmaker: the
    global ``Session`` class is shared by every program that imports SQLAlchemy."""
    listeners = [f for f in vars(policy).values() if callable(f)]
    for name in ("before_flush", "after_commit", "after_rollback"):
        assert not any(event.contains(Session, name, f) for f in listeners), name
    maker = app.extensions["renkei.sessionmaker"]
    assert any(event.contains(maker, "after_commit", f) for f in listeners)


def test_a_session_the_app_did_not_make_keeps_no_roles_and_reads_term_changes(app, world):
    """Without the listeners nothing would forget, so such a session keeps nothing."""
    engine = app.extensions["renkei.engine"]
    secretary = person_by_email(world, "secretary@example.jp")
    body = body_named(world, "みどり町支援調整会議")
    person_id = person_by_email(world, "member.kyogitai@example.jp").id
    with Session(engine) as plain:
        person = plain.get(type(secretary), person_id)
        assert body.id not in policy.secretary_body_ids(plain, person)
        assert not plain.info  # nothing kept
        data = memberships.MembershipData(
            person_id=person_id, role="secretary", term_start=date(2026, 4, 1)
        )
        memberships.add_membership(world, body, data, by=secretary)
        world.commit()
        plain.commit()  # a new transaction: it sees what the other session committed
        assert body.id in policy.secretary_body_ids(plain, person)


def test_the_membership_of_every_body_that_is_not_public_is_guarded(world):
    """Closed and statutory bodies: membership opens content. A public 協議体: it does not."""
    assert policy.guards_membership(body_named(world, SUPPORT))  # statutory
    assert policy.guards_membership(body_named(world, "みどり町支援調整会議"))  # closed
    assert not policy.guards_membership(body_named(world, LAYER1))  # public
