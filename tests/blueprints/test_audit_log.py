"""What reaches the audit log through the pages: views, exports and prints of confidential
content (and nothing when none was shown), pledges, membership changes; and who may read it."""

from datetime import date

import pytest
from sqlalchemy import select

from renkei.models import AuditEntry, Visibility
from renkei.services import agenda, audit, demo, minutes, pledges
from renkei.services.agenda import ItemData
from tests.conftest import login
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT, make_session, mark_held

SECRET = "CANARY-AUDIT-SECRET-3b7c"


def entries(world, **where):
    world.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return world.scalars(query).all()


@pytest.fixture
def joint(app, world):
    """A held joint session with a confidential item of the 支援会議 and minutes, and the
    secretary's pledge for the 支援会議."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        pledges.record_pledge(world, support, secretary, by=secretary)
        session = make_session(world, SUPPORT, LAYER1)
        agenda.add_item(
            world,
            session,
            ItemData(title=SECRET, body_id=support.id, visibility=Visibility.CONFIDENTIAL.value),
            by=secretary,
        )
        mark_held(world, session)
        minutes.open_minutes(world, session, by=secretary)
        world.commit()
    return session


def test_seeing_a_confidential_item_is_logged_with_who_and_where(client, world, joint):
    login(client, "secretary@example.jp")
    page = client.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert SECRET in page
    [entry] = entries(world, action="view")
    secretary = person_by_email(world, "secretary@example.jp")
    assert (entry.person_id, entry.body_id, entry.session_id) == (
        secretary.id,
        body_named(world, SUPPORT).id,
        joint.id,
    )
    assert entry.ip == "127.0.0.1" and entry.category == audit.CONTENT
    assert SECRET not in entry.detail  # the log names things, never their content


def test_a_page_without_confidential_content_is_not_logged(client, world, joint):
    login(client, "member.both@example.jp")  # a member without a pledge: placeholders only
    page = client.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert SECRET not in page
    assert entries(world, action="view") == []


def test_minutes_views_exports_and_prints_are_logged(client, world, joint):
    login(client, "secretary@example.jp")
    version_id = world.scalar(select(minutes.MinutesVersion.id))
    assert client.get(f"/minutes/{version_id}/download?view=full").status_code == 200
    response = client.post(f"/minutes/{version_id}/printed", data={"view": "full"})
    assert response.status_code == 204
    # The public view shows no confidential section: nothing to log.
    client.post(f"/minutes/{version_id}/printed", data={"view": "public"})
    actions = [(e.action, e.detail) for e in entries(world, subject_id=version_id)]
    assert ("export", "view=full") in actions and ("print", "view=full") in actions
    assert not [a for a in actions if "public" in a[1]]


def test_printing_an_unknown_view_is_refused(client, world, joint):
    login(client, "secretary@example.jp")
    version_id = world.scalar(select(minutes.MinutesVersion.id))
    assert client.post(f"/minutes/{version_id}/printed", data={"view": "x"}).status_code == 400
    assert entries(world, action="print") == []


def test_printing_an_extract_of_an_unknown_body_is_refused(client, world, joint):
    login(client, "secretary@example.jp")
    version_id = world.scalar(select(minutes.MinutesVersion.id))
    elsewhere = body_named(world, demo.COORDINATION)  # not one of the session's bodies
    for body in ("abc", "99999999999999999999", str(elsewhere.id)):
        data = {"view": "full", "body": body}
        response = client.post(f"/minutes/{version_id}/printed", data=data)
        assert response.status_code == 404, body
    assert entries(world, action="print") == []


def test_pledges_and_membership_changes_are_logged(client, world, joint):
    login(client, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    client.post(f"/sessions/pledge/{support.id}", data={"next": "/"})
    member = person_by_email(world, "member.both@example.jp")
    # The fixture's own pledges are logged too (the service logs, whoever calls it).
    [pledge] = [e for e in entries(world, action="pledge") if e.subject_id == member.id]
    assert pledge.body_id == support.id
    client.post("/logout", data={})
    login(client, "secretary@example.jp")
    person = person_by_email(world, "chair.kyogitai@example.jp")
    response = client.post(
        f"/bodies/{support.id}/members/new",
        data={"person_id": person.id, "role": "member", "term_start": date.today().isoformat()},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [added] = entries(world, action="membership_added")
    assert added.body_id == support.id and f"person={person.id}" in added.detail


def test_the_log_page_is_for_those_whose_log_it_is(client, world, joint):
    login(client, "secretary@example.jp")
    client.get(f"/sessions/{joint.id}")
    page = client.get("/audit/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "非公開の内容を閲覧" in text and "127.0.0.1" in text
    layer1 = body_named(world, LAYER1)
    assert client.get(f"/audit/?body={layer1.id}").status_code == 200
    client.post("/logout", data={})
    login(client, "member.both@example.jp")
    assert client.get("/audit/").status_code == 403
    client.post("/logout", data={})
    login(client, "member.kyogitai@example.jp")  # chair of the layer-2 body only
    support = body_named(world, SUPPORT)
    assert client.get(f"/audit/?body={support.id}").status_code == 404


def test_logins_failures_and_lockouts_are_account_events(client, world):
    client.post("/login", data={"email": "nobody@example.jp", "password": "x"})
    login(client, "secretary@example.jp")
    client.post("/logout", data={})
    rows = [(e.action, e.actor, e.category, e.ip) for e in entries(world)]
    assert rows == [
        ("login_failed", "nobody@example.jp", audit.ACCOUNT, "127.0.0.1"),
        ("login", "secretary@example.jp", audit.ACCOUNT, "127.0.0.1"),
        ("logout", "secretary@example.jp", audit.ACCOUNT, "127.0.0.1"),
    ]
    # The administrator reads them; a secretary (content of their bodies) does not.
    login(client, "admin@example.jp")
    page = client.get("/audit/").get_data(as_text=True)
    assert "ログイン失敗" in page and "nobody@example.jp" in page
    client.post("/logout", data={})
    login(client, "secretary@example.jp")
    assert "nobody@example.jp" not in client.get("/audit/").get_data(as_text=True)
