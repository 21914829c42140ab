"""Who sees an agenda item, for each visibility and each kind of viewer (docs/architecture.md)."""

from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from renkei.models import AgendaItem, Pledge, Visibility
from renkei.services import memberships, policy
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT, make_session

SEES, PLACEHOLDER = True, False


@pytest.fixture
def joint(world):
    """A joint session of the 支援会議 and the 協議体, one item of each visibility per body."""
    session = make_session(world, SUPPORT, LAYER1)
    for position, (body, visibility) in enumerate(
        (body, visibility) for body in (SUPPORT, LAYER1) for visibility in Visibility
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
    item = next(i for i in session.items if i.body.name == body and i.visibility == visibility)
    return access.can_see_item(item)


@pytest.mark.parametrize(
    ("email", "pledged", "expected"),
    [
        # 支援会議 member with a pledge: everything of the 支援会議.
        ("member.both@example.jp", True, {"public": SEES, "members": SEES, "confidential": SEES}),
        # Same member without a pledge: placeholder for confidential.
        (
            "member.both@example.jp",
            False,
            {"public": SEES, "members": SEES, "confidential": PLACEHOLDER},
        ),
        # Member of the other body of the joint session only.
        (
            "member.kyogitai@example.jp",
            False,
            {"public": SEES, "members": SEES, "confidential": PLACEHOLDER},
        ),
        (
            "member.kyogitai@example.jp",
            True,
            {"public": SEES, "members": SEES, "confidential": PLACEHOLDER},
        ),
        # Administrator: not entitled by that role alone.
        (
            "admin@example.jp",
            False,
            {"public": SEES, "members": PLACEHOLDER, "confidential": PLACEHOLDER},
        ),
    ],
)
def test_support_meeting_items(world, joint, email, pledged, expected):
    if pledged:
        # A pledge for the 支援会議 only counts for someone who is its member.
        pledge(world, email, SUPPORT)
    for visibility, outcome in expected.items():
        assert sees(world, email, joint, SUPPORT, visibility) is outcome, visibility


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
        for visibility in (Visibility.MEMBERS, Visibility.CONFIDENTIAL)
    }
    pledge(world, "member.both@example.jp", SUPPORT)
    both = policy.session_access(world, person_by_email(world, "member.both@example.jp"), joint)
    assert [(i.body.name, i.visibility) for i in both.closed_items(joint.items)] == [
        (LAYER1, Visibility.CONFIDENTIAL)
    ]
    assert [(i.body.name, i.visibility) for i in both.confidential_items_seen(joint.items)] == [
        (SUPPORT, Visibility.CONFIDENTIAL)
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
