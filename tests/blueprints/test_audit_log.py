"""What reaches the audit log through the pages: views, exports and prints of confidential
content (and nothing when none was shown), pledges, membership changes; and who may read it."""

import pytest
from sqlalchemy import select

from renkei.models import AuditEntry, Visibility
from renkei.services import (
    accounts,
    agenda,
    audit,
    audit_display,
    convening,
    demo,
    minutes,
    pledges,
)
from renkei.services.agenda import ItemData
from renkei.services.dates import today
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
        data={"person_id": person.id, "role": "member", "term_start": today().isoformat()},
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


# --- The log in Japanese -------------------------------------------------------------------

# What the services write into an entry's detail, which the page must never show as such.
RAW = [
    "session #",
    "Session",
    "view=",
    "body=",
    "person",
    "role=",
    "term=",
    "selected:",
    "before:",
    "items:",
    "minutes:",
    "revision",
    "version",
    "sha256",
    "visibility",
    "agenda_item",
    "minutes_section",
    "minutes_version",
    "membership",
    "admin=",
    "active=",
    "password set",
    "all members",
]


def log_text(client) -> str:
    """The log's table as read (the page around it carries English words of its own: the
    language switch)."""
    page = client.get("/audit/").get_data(as_text=True)
    return page[page.index('<table class="list audit">') : page.index("</table>")]


def test_the_log_reads_in_japanese_field_by_field(app, client, world, joint):
    secretary = person_by_email(world, "secretary@example.jp")
    member = person_by_email(world, "member.both@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        # A selection and a participant on a coming session; an edit of the minutes.
        coming = make_session(world, SUPPORT)
        convening.set_selection(world, coming, support.id, [secretary.id, member.id], by=secretary)
        version = world.scalar(select(minutes.MinutesVersion))
        section = next(s for s in version.sections if s.agenda_item_id is not None)
        minutes.save_section(world, section, "記録", revision=section.revision, by=secretary)
        world.commit()
    login(client, "secretary@example.jp")
    client.get(f"/minutes/{version.id}/download?view=full")
    text = log_text(client)
    for raw in RAW:
        assert raw not in text, raw
    assert f"開催回 #{joint.id}" in text
    assert "表示の種類：全文" in text  # view=full
    assert f"選定した招集対象者：{secretary.name}、{member.name}" in text
    assert "変更前の招集対象者：全構成員" in text
    assert "保存回数：1" in text and "議事録の項目 #" in text
    assert "内容：追加" in text and "議題 #" in text  # the confidential item added


def test_account_changes_read_in_japanese(app, client, world):
    admin = person_by_email(world, "admin@example.jp")
    member = person_by_email(world, "member.both@example.jp")
    with app.app_context():
        accounts.set_account(world, member, is_admin=False, active=True, by=admin)
        accounts.give_login(world, member, "a long enough password 1", by=admin)
        world.commit()
    login(client, "admin@example.jp")
    text = log_text(client)
    for raw in RAW:
        assert raw not in text, raw
    assert "管理者権限：なし" in text and "ログインの許可：あり" in text
    assert "内容：パスワードを設定" in text and member.name in text


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        ("added", [("内容", "追加")]),
        ("changed: title,visibility", [("変更した項目", "件名、公開範囲")]),
        ("position 3", [("議題番号", "3")]),
        ("visibility public", [("公開範囲", "公開")]),
        ("CSV import: 4", [("CSVからの取込", "4人")]),
        (
            "selected: -; before: all members",
            [("選定した招集対象者", "—"), ("変更前の招集対象者", "全構成員")],
        ),
        (
            "person 999; items: 998; minutes: yes",
            [("氏名", "#999"), ("出席する議題", "#998"), ("議事録の閲覧許可", "あり")],
        ),
        ("revision 4", [("保存回数", "4")]),
        ("version 2 sha256=ab12", [("版", "第2版"), ("改ざん検知用の値", "ab12")]),
        (
            "person=999 role=member term=2026-04-01..",
            [("氏名", "#999"), ("役割", "構成員"), ("任期", "2026-04-01〜")],
        ),
        ("view=member diff", [("表示の種類", "委員向け"), ("閲覧した画面", "版の比較")]),
        ("admin=True active=False", [("管理者権限", "あり"), ("ログインの許可", "なし")]),
        ("password set", [("内容", "パスワードを設定")]),
    ],
)
def test_each_stored_detail_has_japanese_labels_and_values(app, detail, shown):
    """Every form of detail the services write (and entries already sealed keep)."""
    with app.test_request_context():
        fields = audit_display.describe(detail, audit_display.Names())
        assert [(f.label, f.value) for f in fields] == shown
