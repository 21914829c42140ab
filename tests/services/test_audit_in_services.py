"""The services that change what decides access write the audit log themselves, so that a
command line or any other caller cannot skip it (issue: audit logging in the services)."""

from datetime import date

from sqlalchemy import select

from renkei.models import AuditEntry
from renkei.services import accounts, audit, memberships, pledges
from renkei.services.memberships import MembershipData
from tests.helpers import body_named, person_by_email

SUPPORT = "みどり町支援会議"


def logged(db, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_membership_changes_are_logged_by_the_service(world, secretary):
    body = body_named(world, SUPPORT)
    person = person_by_email(world, "chair.kyogitai@example.jp")
    term = memberships.add_membership(
        world, body, MembershipData(person.id, "member", date(2026, 4, 1)), by=secretary
    )
    memberships.end_membership(world, term, date(2026, 9, 30), by=secretary)
    [added] = logged(world, "membership_added")
    [ended] = logged(world, "membership_removed")
    assert added.body_id == ended.body_id == body.id
    assert added.person_id == secretary.id and added.subject_id == term.id
    assert added.ip == ""  # no request: a command line has no address


def test_a_pledge_is_logged_by_the_service(world, secretary):
    body = body_named(world, SUPPORT)
    member = person_by_email(world, "member.both@example.jp")
    pledges.record_pledge(world, body, member, by=member)
    [entry] = logged(world, "pledge")
    assert (entry.body_id, entry.subject_id, entry.person_id) == (body.id, member.id, member.id)


def test_a_password_change_and_a_logout_are_logged_by_the_service(world, secretary):
    accounts.set_password(world, secretary, "an-old-long-password")
    accounts.change_password(world, secretary, "an-old-long-password", "a-new-long-password")
    accounts.log_out(world, secretary)
    assert [e.subject_id for e in logged(world, "password_changed")] == [secretary.id]
    assert [e.subject_id for e in logged(world, "logout")] == [secretary.id]


def test_the_origin_the_web_layer_sets_is_recorded(world, secretary):
    token = audit.set_origin("192.0.2.7")
    try:
        accounts.log_out(world, secretary)
    finally:
        audit.reset_origin(token)
    [entry] = logged(world, "logout")
    assert entry.ip == "192.0.2.7"
