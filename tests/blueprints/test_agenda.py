"""Agenda pages: who may change items, and who sees what of them on the session page.

Messages are checked in English (one switch away) so that the tests hold before and after
the Japanese catalog gains the agenda's strings.
"""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from renkei.blueprints.agenda import PREVIEW_MAX
from renkei.models import (
    AgendaItem,
    AuditEntry,
    Material,
    MaterialVersion,
    Pledge,
    SessionChange,
    Visibility,
)
from renkei.services.dates import today
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import COORDINATION, LAYER1, SUPPORT, make_session

CANARY = "CANARY-SECRET-123"
SESSION_ONLY = "SESSION-ONLY-456"
PUBLIC = "PUBLIC-789"


def english(client):
    client.get("/language/en")
    return client


def as_(client, email):
    return english(login(client, email))


def pledge(world, email, body=SUPPORT):
    world.add(
        Pledge(
            person=person_by_email(world, email),
            body=body_named(world, body),
            pledged_on=today(),
        )
    )
    world.commit()


def item(world, session, body, visibility, title, **extra) -> AgendaItem:
    found = AgendaItem(
        session=session,
        body=body_named(world, body),
        position=len(session.items) + 1,
        title=title,
        visibility=visibility,
        **extra,
    )
    world.add(found)
    world.commit()
    return found


@pytest.fixture
def joint(world):
    """A joint session of the 支援会議 and the 第1層 協議体 with a confidential item of the
    支援会議, an attendees' (session) and a public item of the 協議体."""
    session = make_session(world, SUPPORT, LAYER1)
    item(
        world,
        session,
        SUPPORT,
        Visibility.CONFIDENTIAL,
        CANARY,
        presenter=f"{CANARY}-presenter",
        description=f"**{CANARY}** description",
        planned_minutes=30,
    )
    item(world, session, LAYER1, Visibility.SESSION, SESSION_ONLY, planned_minutes=20)
    item(world, session, LAYER1, Visibility.PUBLIC, PUBLIC, planned_minutes=10)
    return session


def page(client, session) -> str:
    response = client.get(f"/sessions/{session.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def form(world, body=LAYER1, **extra) -> dict:
    return {
        "title": "新しい議題",
        "body_id": body_named(world, body).id,
        "presenter": "事務局",
        "planned_minutes": "15",
        "description": "",
        "visibility": "",
        **extra,
    }


# --- Who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "member.kyogitai@example.jp",  # member of the other body of the joint session
        "admin@example.jp",  # administrator: no right to content by that role alone
        "member.both@example.jp",  # member of the 支援会議, but no pledge
        "secretary@example.jp",  # runs the session, but no pledge either
    ],
)
def test_confidential_item_shows_only_a_placeholder_without_entitlement(
    client, world, joint, email
):
    text = page(as_(client, email), joint)
    assert CANARY not in text
    assert "Closed agenda item" in text
    assert PUBLIC in text
    # The planned minutes and owning body of the closed item are no secret.
    assert '<td class="num" data-label="Planned minutes">30</td>' in text


def test_placeholder_is_japanese_by_default(client, world, joint):
    text = page(login(client, "member.both@example.jp"), joint)
    assert "非公開議題" in text and CANARY not in text


def test_member_without_a_pledge_is_told_how_to_see_the_item(client, world, joint):
    text = page(as_(client, "member.both@example.jp"), joint)
    assert f"Recording your confidentiality pledge for {SUPPORT} will show you this item." in text
    other = page(as_(client, "member.kyogitai@example.jp"), joint)
    assert "Recording your confidentiality pledge" not in other


def test_member_with_a_pledge_sees_the_confidential_item(client, world, joint):
    pledge(world, "member.both@example.jp")
    text = page(as_(client, "member.both@example.jp"), joint)
    assert f"<strong>{CANARY}</strong> description" in text
    assert f"{CANARY}-presenter" in text
    assert "Closed agenda item" not in text


def test_session_items_are_hidden_from_administrators(client, world, joint):
    assert SESSION_ONLY not in page(as_(client, "admin@example.jp"), joint)
    assert SESSION_ONLY in page(as_(client, "member.kyogitai@example.jp"), joint)


def test_secretary_without_a_pledge_cannot_open_the_edit_form(client, world, joint):
    secret = joint.items[0]
    client = as_(client, "secretary@example.jp")
    response = client.get(f"/items/{secret.id}/edit")
    assert response.status_code == 403
    assert CANARY not in response.get_data(as_text=True)
    response = client.post(f"/items/{secret.id}/edit", data=form(world, SUPPORT, title="x"))
    assert response.status_code == 403
    world.expire_all()
    assert world.get(AgendaItem, secret.id).title == CANARY


def test_history_shown_to_the_secretariat_carries_no_title(client, world):
    session = make_session(world, SUPPORT)
    client = as_(client, "secretary@example.jp")
    response = client.post(
        f"/sessions/{session.id}/items/new",
        data=form(world, SUPPORT, title=CANARY, description=CANARY),
    )
    assert response.status_code == 302
    text = page(client, session)
    assert CANARY not in text
    assert "Closed agenda item" in text


def test_markdown_is_rendered_and_neutralised(client, world, joint):
    item(
        world,
        joint,
        LAYER1,
        Visibility.SESSION,
        "Markdown",
        description=(
            "**太字**\n\n<script>alert('x')</script>\n\n"
            "[link](javascript:alert(1)) <img src=x onerror=alert(2)> "
            '<a href="javascript:alert(3)">raw</a>'
        ),
    )
    text = page(as_(client, "member.kyogitai@example.jp"), joint)
    assert "<strong>太字</strong>" in text
    assert "<script>alert" not in text
    assert "javascript:" not in text
    assert "onerror" not in text


# --- Changes by the secretariat -----------------------------------------------------------


def test_secretary_adds_an_item_with_the_default_visibility(client, world, joint):
    client = as_(client, "secretary@example.jp")
    new_page = client.get(f"/sessions/{joint.id}/items/new").get_data(as_text=True)
    assert "(default for the body)" in new_page
    assert SUPPORT in new_page and LAYER1 in new_page and COORDINATION not in new_page
    response = client.post(f"/sessions/{joint.id}/items/new", data=form(world, SUPPORT))
    assert response.status_code == 302
    assert path(response) == f"/sessions/{joint.id}"
    world.expire_all()
    added = world.get(type(joint), joint.id).items[-1]
    assert added.position == 4 and added.visibility == Visibility.CONFIDENTIAL
    response = client.post(f"/sessions/{joint.id}/items/new", data=form(world, LAYER1))
    world.expire_all()
    assert world.get(type(joint), joint.id).items[-1].visibility == Visibility.PUBLIC


def test_item_of_a_body_the_session_does_not_serve_is_refused(client, world, joint):
    client = as_(client, "secretary@example.jp")
    before = count(world, AgendaItem), count(world, SessionChange)
    response = client.post(f"/sessions/{joint.id}/items/new", data=form(world, COORDINATION))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "The owning body must be one of the bodies this session serves." in text
    assert (count(world, AgendaItem), count(world, SessionChange)) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"description": "x" * 20_001}, "The description is too long: 20001 characters"),
        ({"title": ""}, "Enter a title."),
        ({"planned_minutes": "abc"}, "Enter the planned minutes as a number from 0 to 1440."),
        ({"planned_minutes": "-5"}, "Enter the planned minutes as a number from 0 to 1440."),
        ({"visibility": "everyone"}, "Choose who may see this item."),
    ],
)
def test_invalid_item_is_refused_with_a_clear_message(client, world, joint, extra, message):
    client = as_(client, "secretary@example.jp")
    before = count(world, AgendaItem)
    response = client.post(f"/sessions/{joint.id}/items/new", data=form(world, **extra))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(world, AgendaItem) == before


def test_secretary_edits_an_item(client, world, joint):
    session_item = joint.items[1]
    client = as_(client, "secretary@example.jp")
    edit_page = client.get(f"/items/{session_item.id}/edit").get_data(as_text=True)
    assert SESSION_ONLY in edit_page
    response = client.post(
        f"/items/{session_item.id}/edit",
        data=form(world, title="改題", visibility="public", planned_minutes="25"),
    )
    assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
    world.expire_all()
    changed = world.get(AgendaItem, session_item.id)
    assert (changed.title, changed.visibility, changed.planned_minutes) == (
        "改題",
        Visibility.PUBLIC,
        25,
    )


def titles(world, session) -> list[str]:
    world.expire_all()
    items = world.get(type(session), session.id).items
    assert [i.position for i in items] == list(range(1, len(items) + 1))
    return [i.title for i in items]


def test_up_and_down_buttons_work_without_script(client, world, joint):
    client = as_(client, "secretary@example.jp")
    text = page(client, joint)
    assert text.count('name="direction" value="up"') == 2
    assert text.count('name="direction" value="down"') == 2
    public = joint.items[2]
    response = client.post(f"/items/{public.id}/move", data={"direction": "up"})
    assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
    assert titles(world, joint) == [CANARY, PUBLIC, SESSION_ONLY]
    client.post(f"/items/{public.id}/move", data={"direction": "up"})
    assert titles(world, joint) == [PUBLIC, CANARY, SESSION_ONLY]


def test_reorder_posts_the_full_order(client, world, joint):
    secret, members, public = (i.id for i in joint.items)
    client = as_(client, "secretary@example.jp")
    response = client.post(
        f"/sessions/{joint.id}/items/order", data={"order": f"{public},{secret},{members}"}
    )
    assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
    assert titles(world, joint) == [PUBLIC, CANARY, SESSION_ONLY]


def test_reorder_with_foreign_or_missing_ids_is_refused(client, world, joint):
    secret, members, public = (i.id for i in joint.items)
    other = make_session(world, LAYER1, title="他の回")
    foreign = item(world, other, LAYER1, Visibility.PUBLIC, "他").id
    client = as_(client, "secretary@example.jp")
    for order in (f"{public},{secret}", f"{public},{secret},{members},{foreign}",
                  f"{public},{secret},{foreign}", "a,b,c"):  # fmt: skip
        response = client.post(f"/sessions/{joint.id}/items/order", data={"order": order})
        assert response.status_code == 302
        assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]
    text = client.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "The agenda has changed meanwhile." in text
    assert titles(world, other) == ["他"]


def test_a_move_neither_up_nor_down_is_refused_in_japanese(client, world, joint):
    client = as_(client, "secretary@example.jp")
    public = joint.items[2]
    for direction in ("sideways", "", "UP"):
        response = client.post(f"/items/{public.id}/move", data={"direction": direction})
        assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
        assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]
    assert "Choose up or down." in page(client, joint)


def test_an_order_with_a_number_beyond_any_id_is_refused(client, world, joint):
    secret, members, public = (i.id for i in joint.items)
    client = as_(client, "secretary@example.jp")
    for order in (f"{public},{secret},99999999999999999999", f"{public},,{secret},{members}x"):
        response = client.post(f"/sessions/{joint.id}/items/order", data={"order": order})
        assert response.status_code == 302
        assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]
    assert "The agenda has changed meanwhile." in page(client, joint)


def test_delete_renumbers(client, world, joint):
    members = joint.items[1]
    client = as_(client, "secretary@example.jp")
    response = client.post(f"/items/{members.id}/delete", data={})
    assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
    assert titles(world, joint) == [CANARY, PUBLIC]


def test_an_item_with_materials_is_not_deleted_and_the_page_says_why(client, world, joint):
    secret = joint.items[0]  # closed to the secretary, who has not pledged
    paper = Material(
        session=joint, agenda_item=secret, position=1, title="資料", visibility=secret.visibility
    )
    paper.versions.append(
        MaterialVersion(
            number=1, filename="資料.pdf", media_type="application/pdf", size=1, sha256="0" * 64
        )
    )
    world.add(paper)
    world.commit()
    client = login(client, "secretary@example.jp")  # the page in Japanese, as secretaries read it
    before = count(world, AuditEntry), count(world, SessionChange)
    response = client.post(f"/items/{secret.id}/delete", data={})
    assert response.status_code == 302 and path(response) == f"/sessions/{joint.id}"
    assert (count(world, AuditEntry), count(world, SessionChange)) == before
    assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]
    assert world.get(Material, paper.id).agenda_item_id == secret.id
    text = client.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "議題1には資料があるため、削除できません。" in text
    assert "保存年限の経過後に資料を削除すれば、議題を削除できます。" in text
    assert CANARY not in text  # the message names the item by its number only


def test_planned_total_against_the_length_of_the_session(client, world, joint):
    client = as_(client, "secretary@example.jp")
    assert "Planned total 60 min of the session's 120 min." in page(client, joint)
    item(world, joint, LAYER1, Visibility.PUBLIC, "長い議題", planned_minutes=75)
    text = page(client, joint)
    assert "Planned total 135 min of the session's 120 min." in text
    assert "Over by 15 min" in text


# --- Refusals -----------------------------------------------------------------------------


def _posts(world, session):
    first = session.items[0].id
    ids = ",".join(str(i.id) for i in reversed(session.items))
    return [
        (f"/sessions/{session.id}/items/new", form(world)),
        (f"/items/{first}/edit", form(world, LAYER1)),
        (f"/items/{first}/move", {"direction": "down"}),
        (f"/items/{first}/delete", {}),
        (f"/sessions/{session.id}/items/order", {"order": ids}),
    ]


@pytest.mark.parametrize("email", ["member.both@example.jp", "admin@example.jp"])
def test_viewers_who_do_not_manage_get_403_and_write_nothing(client, world, joint, email):
    client = as_(client, email)
    before = count(world, AgendaItem), count(world, SessionChange)
    for url, data in _posts(world, joint):
        assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/sessions/{joint.id}/items/new").status_code == 403
    assert client.get(f"/items/{joint.items[2].id}/edit").status_code == 403
    assert (count(world, AgendaItem), count(world, SessionChange)) == before
    assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]
    text = page(client, joint)
    assert "/move" not in text and "Add agenda item" not in text


def test_manager_controls_are_shown_to_the_secretariat(client, world, joint):
    text = page(as_(client, "secretary@example.jp"), joint)
    assert "Add agenda item" in text and "/delete" in text and "js/agenda.js" in text
    # Only items the secretary may see can be edited.
    assert f"/items/{joint.items[0].id}/edit" not in text
    assert f"/items/{joint.items[1].id}/edit" in text


def test_session_unknown_to_the_viewer_is_404(client, world):
    session = make_session(world, SUPPORT)
    secret = item(world, session, SUPPORT, Visibility.CONFIDENTIAL, CANARY)
    client = as_(client, "member.kyogitai@example.jp")  # sits on no body it serves
    for url, data in _posts(world, session):
        response = client.post(url, data=data)
        assert response.status_code == 404, url
        assert CANARY not in response.get_data(as_text=True)
    assert client.get(f"/sessions/{session.id}/items/new").status_code == 404
    assert client.get(f"/items/{secret.id}/edit").status_code == 404
    assert count(world, AgendaItem) == 1


def test_unknown_ids_are_404(client, world):
    client = as_(client, "secretary@example.jp")
    assert client.get("/sessions/999999/items/new").status_code == 404
    assert client.get("/items/999999/edit").status_code == 404
    assert client.post("/items/999999/move", data={"direction": "up"}).status_code == 404
    assert client.post("/items/999999/delete", data={}).status_code == 404
    assert client.post("/sessions/999999/items/order", data={"order": "1"}).status_code == 404


def test_missing_csrf_token_is_refused_and_writes_nothing(client, world, joint):
    client = as_(client, "secretary@example.jp")
    before = count(world, AgendaItem), count(world, SessionChange)
    for url, data in _posts(world, joint):
        assert client.post(url, data=data, csrf=False).status_code == 400, url
    assert client.post("/markdown/preview", data={"text": "x"}, csrf=False).status_code == 400
    assert (count(world, AgendaItem), count(world, SessionChange)) == before
    assert titles(world, joint) == [CANARY, SESSION_ONLY, PUBLIC]


# --- Markdown preview ---------------------------------------------------------------------


def test_preview_returns_sanitised_html(client, world):
    client = as_(client, "member.both@example.jp")
    response = client.post(
        "/markdown/preview",
        data={"text": "**太字** <script>alert(1)</script> [x](javascript:alert(2))"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<strong>太字</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_preview_refuses_oversized_text(client, world):
    client = as_(client, "member.both@example.jp")
    # The preview serves minutes sections too: the longer of the two limits applies.
    response = client.post("/markdown/preview", data={"text": "x" * (PREVIEW_MAX + 1)})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"


def test_preview_needs_a_login(client, world):
    response = client.post("/markdown/preview", data={"text": "**x**"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# --- The four visibilities in a joint 支援調整会議 + 協議体 session ------------------------

TITLES = {v: f"COORDINATION-{v.value.upper()}-ITEM" for v in Visibility}


@pytest.fixture
def coordination_joint(world):
    """A joint session of the 支援調整会議 (closed) and the 第1層 協議体, with an item of the
    支援調整会議 for each visibility."""
    session = make_session(world, COORDINATION, LAYER1)
    for visibility, title in TITLES.items():
        item(world, session, COORDINATION, visibility, title)
    return session


@pytest.mark.parametrize(
    ("email", "seen"),
    [
        # 支援一郎 chairs the 支援調整会議 (no pledge): all but the confidential item.
        ("chair.support@example.jp", {"public", "session", "body"}),
        # 地域 さくら (NPO) sits on the 協議体 only: the attendees' items, not the body's own.
        ("member.kyogitai@example.jp", {"public", "session"}),
        ("admin@example.jp", {"public"}),
    ],
)
def test_each_visibility_on_the_session_page(client, world, coordination_joint, email, seen):
    text = page(as_(client, email), coordination_joint)
    shown = {v.value for v, title in TITLES.items() if title in text}
    assert shown == seen
    assert text.count("Closed agenda item") == 4 - len(seen)
    # Every item says who may see it, closed or not.
    for label in ("Public", "Session attendees only", "Body members only"):
        assert f">{label}</span>" in text
    assert ">Confidential (statutory secrecy)</span>" in text


def test_the_visibilities_are_explained_on_the_form_in_japanese(client, world, joint):
    text = login(client, "secretary@example.jp").get(f"/sessions/{joint.id}/items/new")
    text = text.get_data(as_text=True)
    for label in ("公開", "出席者限り", "構成員限り", "非公開（守秘義務）"):
        assert f">{label}</option>" in text
    assert "共同開催の他の会議体の構成員には「非公開議題」と表示されます" in text
    assert "カレンダーとメールには公開の議題名だけが載ります" in text


@pytest.mark.parametrize(
    ("body", "visibility"), [(SUPPORT, "public"), (SUPPORT, "body"), (COORDINATION, "session")]
)
def test_a_wider_visibility_needs_the_confirmation_and_is_audited(
    client, world, joint, body, visibility
):
    session = make_session(world, body, LAYER1)
    login(client, "secretary@example.jp")
    before = count(world, AgendaItem), count(world, SessionChange), count(world, AuditEntry)
    data = form(world, body, title="統計の報告", visibility=visibility)
    refused = client.post(f"/sessions/{session.id}/items/new", data=data)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "確認欄にチェックを入れてください" in text and body in text
    assert (count(world, AgendaItem), count(world, SessionChange), count(world, AuditEntry)) == (
        before
    )
    confirmed = client.post(
        f"/sessions/{session.id}/items/new", data={**data, "confirm_wider": "y"}
    )
    assert confirmed.status_code == 302
    world.expire_all()
    added = world.get(type(session), session.id).items[-1]
    assert added.visibility == Visibility(visibility)
    widened = world.scalars(
        select(AuditEntry).where(AuditEntry.action == "widen", AuditEntry.subject_id == added.id)
    ).one()
    assert widened.body_id == body_named(world, body).id
    assert widened.detail == f"visibility {visibility}"  # no title in the log


def test_an_edit_that_leaves_a_wider_item_as_it_was_is_not_audited_again(client, world, joint):
    session = make_session(world, COORDINATION)
    login(client, "secretary@example.jp")
    data = form(world, COORDINATION, title="統計", visibility="public", confirm_wider="y")
    client.post(f"/sessions/{session.id}/items/new", data=data)
    world.expire_all()
    added = world.get(type(session), session.id).items[-1]
    response = client.post(
        f"/items/{added.id}/edit",
        data=form(world, COORDINATION, title="統計2", visibility="public"),
    )
    assert response.status_code == 302
    widened = world.scalars(select(AuditEntry).where(AuditEntry.action == "widen")).all()
    assert len(widened) == 1
