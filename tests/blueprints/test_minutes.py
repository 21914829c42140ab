"""Minutes through the pages (HTTP): starting a draft, saving sections without losing anyone's
work, Markdown that cannot run, the joint approval by every chair with real e-mail, the
three views and the per-body extract that never carry a closed section's text, corrections
with a diff, and follow-up tasks (宿題) on the owner's home page.

Messages are asserted in Japanese, as users see them.
"""

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from renkei.models import (
    ActionItem,
    Approval,
    Decision,
    Membership,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Person,
    Role,
    SectionKind,
    Visibility,
)
from renkei.services import agenda, minutes, pledges, scheduling
from renkei.services.agenda import ItemData
from renkei.services.dates import japanese_date
from tests.conftest import client_for, login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import (
    DAY,
    LAYER1,
    LAYER2,
    SUPPORT,
    approve_as_chairs,
    make_session,
    mark_held,
    record_attendance,
)

SECRET = "CANARY-議事録-秘密-7731"  # the text of the 支援会議's confidential item
SECRET_TITLE = "個別ケース検討-CANARY-TITLE-5520"  # and its title
LAYER1_TEXT = "地域資源マップの更新を報告した-L1-3390"
DECISIONS = "- 行A 資料を整理する\n- 行B 次回に報告する"
SENDER = "renkei@example.jp"

# What users read (renkei/translations/ja/LC_MESSAGES/messages.po).
NOT_HELD = "議事録は、開催回を「開催済」にしてから作成できます。"
LAID_OUT = "開催回の内容から下書きを作成しました。"
ALREADY_STARTED = "この開催回の議事録はすでに作成されています。"
CONFLICT = "他の人が更新しました"
TOO_LONG = "項目が長すぎます。50000文字以内にしてください（現在50001文字）。"
LOCKED = "承認依頼中または承認済の議事録は編集できません。"
PAGE_EXPIRED = "ページの有効期限が切れました"
ALREADY_DECIDED = "この会議体の承認（または差戻し）はすでに記録されています。"
SAY_WHAT = "直してほしい点をコメントに書いてください。"
CHOOSE_DECISION = "承認するか差し戻すかを選んでください。"
HASH_OK = "承認時の内容と一致"
MY_TASKS = "担当の宿題"
BAD_DATE = "日付を2026-04-01のように入力してください。"
NOT_ENTITLED = "さんはこの項目を閲覧できないため、この宿題を割り当てられません。"
TASK_ADDED = "宿題を追加しました。"
SAY_WHY = "訂正の理由を入力してください。"
ITEM_FOLLOWS = "議題の項目の公開範囲は、議題の設定に従います。"


# --- Building the world ---------------------------------------------------------------------


@pytest.fixture
def people(world):
    names = (
        "secretary",
        "chair.support",
        "chair.kyogitai",
        "member.both",
        "member.kyogitai",
        "admin",
    )
    return {name: person_by_email(world, f"{name}@example.jp") for name in names}


def held_session(app, world, people, *bodies, items=(), attendance=True):
    """A session of ``bodies`` with ``items`` ((title, body, visibility)), marked held, and
    its attendance record made (unless ``attendance`` is false)."""
    with app.app_context():
        session = make_session(world, *bodies)
        for title, body, visibility in items:
            agenda.add_item(
                world,
                session,
                ItemData(
                    title=title,
                    body_id=body_named(world, body).id,
                    planned_minutes=30,
                    visibility=visibility,
                ),
                by=people["secretary"],
            )
        scheduling.set_reply(world, session, people["member.both"], "attend")
        mark_held(world, session)
        if attendance:
            record_attendance(world, session)
        world.commit()
    return session


@pytest.fixture
def joint(app, world, people):
    """A held joint session of the 支援会議 and the 第1層 協議体: a confidential item of the
    支援会議 and an attendees' (session) item of the 協議体. The secretary and the 支援会議's chair
    have recorded their pledge for the 支援会議; 兼務 三郎 (member.both) has not."""
    with app.app_context():
        support = body_named(world, SUPPORT)
        for name in ("secretary", "chair.support"):
            pledges.record_pledge(world, support, people[name], by=people[name])
        world.commit()
    return held_session(
        app,
        world,
        people,
        SUPPORT,
        LAYER1,
        items=[(SECRET_TITLE, SUPPORT, "confidential"), ("地域資源の報告", LAYER1, "session")],
    )


@pytest.fixture
def secretary(app, world):
    return client_for(app, "secretary")


def text(response) -> str:
    return response.get_data(as_text=True)


def follow(client, response) -> str:
    assert response.status_code == 302, text(response)
    return text(client.get(response.headers["Location"]))


def start(client, session):
    """Start the minutes through the page; the new version's id."""
    response = client.post(f"/sessions/{session.id}/minutes", data={})
    assert response.status_code == 302, text(response)
    path = urlsplit(response.headers["Location"]).path
    assert path.startswith("/minutes/") and path.endswith("/edit"), path
    return int(path.split("/")[2])


def sections_of(world, version_id) -> list[MinutesSection]:
    world.expire_all()
    return list(
        world.scalars(
            select(MinutesSection)
            .where(MinutesSection.version_id == version_id)
            .order_by(MinutesSection.position)
        )
    )


def find(world, version_id, kind, body=None) -> MinutesSection:
    body_id = body_named(world, body).id if body else None
    return next(
        s
        for s in sections_of(world, version_id)
        if s.kind == kind and (body is None or s.body_id == body_id)
    )


def version_of(world, version_id) -> MinutesVersion:
    world.expire_all()
    return world.get(MinutesVersion, version_id)


def snapshot(world, version_id):
    """Everything a refused request must leave as it was."""
    version = version_of(world, version_id)
    return (
        version.status,
        version.round,
        version.content_hash,
        [(s.id, s.text, s.revision, s.visibility) for s in sections_of(world, version_id)],
        count(world, Approval),
        count(world, ActionItem),
    )


def section_form(section, body, *, revision=None, visibility=None) -> dict:
    prefix = f"s{section.id}"
    return {
        f"{prefix}-text": body,
        f"{prefix}-revision": str(section.revision if revision is None else revision),
        f"{prefix}-visibility": visibility or section.visibility.value,
    }


def save(client, section, body, **kwargs):
    return client.post(
        f"/minutes/sections/{section.id}", data=section_form(section, body, **kwargs)
    )


def write(client, world, version_id, kind, body, owner=None):
    target = find(world, version_id, kind, owner)
    response = save(client, target, body)
    assert response.status_code == 302, text(response)
    return find(world, version_id, kind, owner)


@pytest.fixture
def draft(app, secretary, world, people, joint):
    """The joint session's minutes, started through the page and written (through the
    service, to keep the tests quick; saving through the page is tested below)."""
    version_id = start(secretary, joint)
    with app.app_context():
        for kind, body, content in (
            (SectionKind.ITEM, SUPPORT, f"支援方針を確認した。{SECRET}"),
            (SectionKind.ITEM, LAYER1, LAYER1_TEXT),
            (SectionKind.DECISIONS, None, DECISIONS),
        ):
            target = find(world, version_id, kind, body)
            minutes.save_section(
                world, target, content, revision=target.revision, by=people["secretary"]
            )
            world.commit()
    return version_id


def approve_all(app, world, people, version_id, links):
    """Submitted and approved by both chairs through the services (the pages' own workflow
    is tested below)."""
    with app.app_context():
        version = version_of(world, version_id)
        minutes.submit(world, version, by=people["secretary"], links=links, sender=SENDER)
        approve_as_chairs(world, version, links, sender=SENDER)
        world.commit()
    assert version_of(world, version_id).status == MinutesStatus.APPROVED


@pytest.fixture
def approved(app, world, people, draft, links):
    approve_all(app, world, people, draft, links)
    return draft


def submit_through_services(app, world, people, version_id, links):
    with app.app_context():
        minutes.submit(
            world, version_of(world, version_id), by=people["secretary"], links=links, sender=SENDER
        )
        world.commit()


# --- 1. Starting the minutes ----------------------------------------------------------------


def test_secretary_starts_the_minutes_of_a_held_session(secretary, world, joint):
    response = secretary.post(f"/sessions/{joint.id}/minutes", data={})
    assert response.status_code == 302
    page = follow(secretary, response)
    assert LAID_OUT in page

    record = world.scalars(select(Minutes).where(Minutes.session_id == joint.id)).one()
    (version,) = record.versions
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{version.id}/edit"
    assert (version.number, version.status) == (1, MinutesStatus.DRAFT)
    kinds = [s.kind for s in sections_of(world, version.id)]
    assert kinds.count(SectionKind.ITEM) == 2 and kinds.count(SectionKind.ATTENDANCE) == 2
    # The editor: a draft, with the (pledged) secretary's form for the closed item.
    assert "下書き" in page and SECRET_TITLE in page
    secret = find(world, version.id, SectionKind.ITEM, SUPPORT)
    assert f'name="s{secret.id}-text"' in page

    # A second start is refused and makes nothing.
    again = follow(secretary, secretary.post(f"/sessions/{joint.id}/minutes", data={}))
    assert ALREADY_STARTED in again
    assert count(world, Minutes) == 1 and count(world, MinutesVersion) == 1


def test_minutes_of_a_session_not_held_are_refused(app, secretary, world, people):
    with app.app_context():
        session = make_session(world, SUPPORT, LAYER1)
    response = secretary.post(f"/sessions/{session.id}/minutes", data={})
    assert urlsplit(response.headers["Location"]).path == f"/sessions/{session.id}/minutes"
    assert NOT_HELD in follow(secretary, response)
    assert count(world, Minutes) == 0 and count(world, MinutesSection) == 0


def test_a_member_may_not_start_the_minutes(app, secretary, world, joint):
    member = client_for(app, "member.both")
    assert member.post(f"/sessions/{joint.id}/minutes", data={}).status_code == 403
    # Nor the secretary without the form's CSRF token.
    response = secretary.post(f"/sessions/{joint.id}/minutes", data={}, csrf=False)
    assert response.status_code == 400 and PAGE_EXPIRED in text(response)
    assert count(world, Minutes) == 0


def test_a_session_one_may_not_know_of_does_not_exist(app, world, people):
    session = held_session(app, world, people, SUPPORT)
    outsider = client_for(app, "member.kyogitai")  # of the 協議体 only
    response = outsider.post(f"/sessions/{session.id}/minutes", data={})
    assert response.status_code == 404
    assert outsider.get(f"/sessions/{session.id}/minutes").status_code == 404
    assert count(world, Minutes) == 0


# --- 2. Saving a section --------------------------------------------------------------------


def test_a_section_is_saved_from_the_form(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    assert (target.text, target.revision) == (DECISIONS, 1)
    response = save(secretary, target, "- 新しい決定事項", visibility="public")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/minutes/{draft}/edit#section-{target.id}")
    saved = find(world, draft, SectionKind.DECISIONS)
    assert (saved.text, saved.revision, saved.visibility) == (
        "- 新しい決定事項",
        2,
        Visibility.PUBLIC,
    )
    assert "項目を保存しました。" in follow(secretary, response)


def test_a_stale_form_save_never_overwrites_theirs(app, secretary, world, draft):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # whatever the page does (see the next test)
    other_tab = client_for(app, "secretary")
    target = find(world, draft, SectionKind.DECISIONS)
    started_from = target.revision
    assert save(other_tab, target, "THEIRS-相手の文-111", revision=started_from).status_code == 302

    response = save(secretary, target, "YOURS-自分の文-222", revision=started_from)
    assert response.status_code not in (200, 302)  # never reported as saved
    saved = find(world, draft, SectionKind.DECISIONS)
    assert (saved.text, saved.revision) == ("THEIRS-相手の文-111", started_from + 1)


def test_a_stale_revision_shows_both_texts_and_keeps_theirs(app, secretary, world, draft):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 page, as in production
    other_tab = client_for(app, "secretary")
    target = find(world, draft, SectionKind.DECISIONS)
    started_from = target.revision
    assert save(other_tab, target, "THEIRS-相手の文-111", revision=started_from).status_code == 302

    response = save(secretary, target, "YOURS-自分の文-222", revision=started_from)
    saved = find(world, draft, SectionKind.DECISIONS)
    assert (saved.text, saved.revision) == ("THEIRS-相手の文-111", started_from + 1)
    assert response.status_code == 409
    page = text(response)
    assert CONFLICT in page and "事務 花子" in page
    assert "先に保存された文章" in page
    assert '<pre class="theirs">THEIRS-相手の文-111</pre>' in page
    # Yours is still in the box, to merge and save again from their revision.
    prefix = f"s{target.id}"
    assert f'name="{prefix}-text"' in page and "YOURS-自分の文-222</textarea>" in page
    assert f'name="{prefix}-revision" type="hidden" value="{started_from + 1}"' in page


def test_autosave_answers_in_json(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    started_from = target.revision
    json_headers = {"Accept": "application/json"}
    response = secretary.post(
        f"/minutes/sections/{target.id}",
        data=section_form(target, "自動保存の文"),
        headers=json_headers,
    )
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["revision"] == started_from + 1
    assert response.get_json()["message"] == "保存しました。"

    stale = secretary.post(
        f"/minutes/sections/{target.id}",
        data=section_form(target, "古い版からの文"),  # still names the old revision
        headers=json_headers,
    )
    assert stale.status_code == 409
    answer = stale.get_json()
    assert answer["conflict"] is True
    assert answer["theirs"] == "自動保存の文" and answer["revision"] == started_from + 1
    assert CONFLICT in answer["message"]
    saved = find(world, draft, SectionKind.DECISIONS)
    assert (saved.text, saved.revision) == ("自動保存の文", started_from + 1)


def test_a_save_without_the_csrf_token_is_refused(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)
    response = secretary.post(
        f"/minutes/sections/{target.id}", data=section_form(target, "改ざん"), csrf=False
    )
    assert response.status_code == 400 and PAGE_EXPIRED in text(response)
    assert snapshot(world, draft) == before


def test_a_section_over_50000_characters_is_refused(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)
    response = save(secretary, target, "x" * 50_001)
    assert response.status_code == 400
    assert TOO_LONG in text(response)
    assert snapshot(world, draft) == before

    json_answer = secretary.post(
        f"/minutes/sections/{target.id}",
        data=section_form(target, "x" * 50_001),
        headers={"Accept": "application/json"},
    )
    assert json_answer.status_code == 400 and json_answer.get_json()["error"] == TOO_LONG
    assert snapshot(world, draft) == before


def test_a_full_length_japanese_section_is_accepted(secretary, world, draft):
    """The limit is 50,000 characters, whatever their size in bytes."""
    target = find(world, draft, SectionKind.DECISIONS)
    assert save(secretary, target, "議" * 50_000).status_code == 302
    assert find(world, draft, SectionKind.DECISIONS).text == "議" * 50_000


def test_line_breaks_count_once_towards_the_limit(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    typed = "\r\n".join(["x" * 999] * 50)  # 49,950 + 49 line breaks = 49,999 characters
    response = save(secretary, target, typed)
    assert response.status_code == 302, "refused as too long"
    assert find(world, draft, SectionKind.DECISIONS).text == typed.replace("\r\n", "\n")


def test_a_one_megabyte_body_is_refused(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)
    response = save(secretary, target, "x" * 1_000_000)
    assert response.status_code in (400, 413)
    assert snapshot(world, draft) == before


def test_an_item_sections_visibility_cannot_be_opened_from_the_form(secretary, world, draft):
    """The visibility field is only for general sections: a confidential item's section
    stays confidential whatever is posted."""
    target = find(world, draft, SectionKind.ITEM, SUPPORT)
    response = save(secretary, target, f"支援方針を確認した。{SECRET}", visibility="public")
    assert response.status_code == 302
    assert find(world, draft, SectionKind.ITEM, SUPPORT).visibility == Visibility.CONFIDENTIAL


def test_a_general_section_cannot_be_made_confidential_by_hand(secretary, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)
    response = save(secretary, target, "x", visibility="confidential")
    assert response.status_code == 400
    assert "この項目の公開範囲を選んでください。" in text(response)
    assert snapshot(world, draft) == before


def test_only_the_secretariat_saves_a_draft(app, world, draft):
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)
    for name in ("member.both", "chair.support", "admin"):
        client = client_for(app, name)
        # A draft is the secretariat's: to anyone else it does not exist.
        assert save(client, target, "改ざん").status_code == 404, name
        assert client.get(f"/minutes/{draft}").status_code == 404, name
    assert snapshot(world, draft) == before


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_locked_minutes_cannot_be_edited(app, secretary, world, people, draft, state, links):
    if state == "submitted":
        submit_through_services(app, world, people, draft, links)
    else:
        approve_all(app, world, people, draft, links)
    target = find(world, draft, SectionKind.DECISIONS)
    before = snapshot(world, draft)

    response = save(secretary, target, "改ざん")
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{draft}"
    assert LOCKED in follow(secretary, response)
    json_answer = secretary.post(
        f"/minutes/sections/{target.id}",
        data=section_form(target, "改ざん"),
        headers={"Accept": "application/json"},
    )
    assert json_answer.status_code == 409 and json_answer.get_json()["error"] == LOCKED
    # The editor itself sends one back to the minutes.
    editor = secretary.get(f"/minutes/{draft}/edit")
    assert editor.status_code == 302 and LOCKED in follow(secretary, editor)
    assert snapshot(world, draft) == before


# --- 3. Markdown cannot run -----------------------------------------------------------------

HOSTILE = "\n\n".join(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[y](data:text/html;base64,PHNjcmlwdD4=)",
        '<iframe src="https://evil.example"></iframe>',
        "**太字は残る**",
    ]
)
FORBIDDEN = ("<script>alert", "onerror", "javascript:", "data:text/html", "<iframe")


def test_hostile_markdown_is_rendered_harmless(app, secretary, world, people, draft, links):
    # The decisions are made public, so that every view renders the text.
    target = find(world, draft, SectionKind.DECISIONS)
    assert save(secretary, target, HOSTILE, visibility="public").status_code == 302
    pages = [
        secretary.get(f"/minutes/{draft}?view={view}") for view in ("full", "member", "public")
    ]
    pages.append(secretary.get(f"/minutes/{draft}/download?view=member"))
    for response in pages:
        assert response.status_code == 200
        page = text(response)
        assert "<strong>太字は残る</strong>" in page  # the text is rendered, not dropped
        for bad in FORBIDDEN:
            assert bad not in page, bad

    approve_all(app, world, people, draft, links)
    member = client_for(app, "member.kyogitai")
    page = text(member.get(f"/minutes/{draft}"))
    assert "<strong>太字は残る</strong>" in page
    for bad in FORBIDDEN:
        assert bad not in page, bad


# --- 4. Joint approval with real e-mail -----------------------------------------------------


def decoded(message) -> str:
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() != "multipart":
            content = part.get_content()
            parts.append(content.decode() if isinstance(content, bytes) else content)
    return "\n".join(parts)


def approve_url(world, version_id, body):
    return f"/minutes/{version_id}/approve/{body_named(world, body).id}"


def test_joint_minutes_are_approved_by_both_chairs(app, secretary, world, draft, smtp):
    response = secretary.post(f"/minutes/{draft}/submit", data={})
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{draft}"
    page = follow(secretary, response)
    assert "各会議体の議長に承認を依頼しました。" in page
    assert "2名にメールを送信しています。" in page
    assert version_of(world, draft).status == MinutesStatus.SUBMITTED

    rcpts = sorted(a for r in smtp.received for a in r.rcpt_tos)
    assert rcpts == ["chair.kyogitai@example.jp", "chair.support@example.jp"]
    for chair, body in (("chair.support", SUPPORT), ("chair.kyogitai", LAYER1)):
        (message,) = smtp.to(f"{chair}@example.jp")
        content = decoded(message)
        assert "承認のお願い" in message["Subject"]
        assert f"https://renkei.example.jp{approve_url(world, draft, body)}" in content
        for secret in (SECRET, SECRET_TITLE, LAYER1_TEXT, "行A"):
            assert secret not in content
    smtp.clear()

    support_chair = client_for(app, "chair.support")
    layer1_chair = client_for(app, "chair.kyogitai")
    # Each chair reads the general sections and their body's own.
    support_page = text(support_chair.get(approve_url(world, draft, SUPPORT)))
    assert SECRET in support_page and LAYER1_TEXT not in support_page
    layer1_page = layer1_chair.get(approve_url(world, draft, LAYER1))
    assert layer1_page.status_code == 200
    assert LAYER1_TEXT in text(layer1_page)
    assert SECRET not in text(layer1_page) and SECRET_TITLE not in text(layer1_page)

    # Neither chair may decide for the other's body.
    before = snapshot(world, draft)
    for client, body in ((support_chair, LAYER1), (layer1_chair, SUPPORT)):
        assert client.get(approve_url(world, draft, body)).status_code == 403
        denied = client.post(approve_url(world, draft, body), data={"decision": "approve"})
        assert denied.status_code == 403
    assert snapshot(world, draft) == before

    first = support_chair.post(approve_url(world, draft, SUPPORT), data={"decision": "approve"})
    assert "承認を記録しました。" in follow(support_chair, first)
    assert version_of(world, draft).status == MinutesStatus.SUBMITTED  # one more to go

    before = snapshot(world, draft)
    twice = support_chair.post(approve_url(world, draft, SUPPORT), data={"decision": "approve"})
    assert twice.status_code == 400 and ALREADY_DECIDED in text(twice)
    assert snapshot(world, draft) == before

    last = layer1_chair.post(approve_url(world, draft, LAYER1), data={"decision": "approve"})
    assert "すべての承認がそろいました" in follow(layer1_chair, last)
    version = version_of(world, draft)
    assert version.status == MinutesStatus.APPROVED and len(version.content_hash) == 64
    decisions = {(a.body.name, a.person.email, a.decision) for a in version.approvals}
    assert decisions == {
        (SUPPORT, "chair.support@example.jp", Decision.APPROVED),
        (LAYER1, "chair.kyogitai@example.jp", Decision.APPROVED),
    }

    shown = text(secretary.get(f"/minutes/{draft}"))
    assert "・承認済（" in shown  # the status, with the date of approval
    assert version.content_hash in shown and HASH_OK in shown

    # The secretary heard of each approval, by e-mail, without the minutes' content.
    assert {a for r in smtp.received for a in r.rcpt_tos} == {"secretary@example.jp"}
    subjects = [m["Subject"] for m in smtp.to("secretary@example.jp")]
    assert len(subjects) == 2 and any("承認完了" in s for s in subjects)
    for message in smtp.to("secretary@example.jp"):
        content = decoded(message)
        assert f"https://renkei.example.jp/minutes/{draft}" in content
        assert SECRET not in content and SECRET_TITLE not in content


def test_submitting_empty_minutes_is_refused(secretary, world, joint, smtp):
    version_id = start(secretary, joint)
    before = snapshot(world, version_id)
    page = follow(secretary, secretary.post(f"/minutes/{version_id}/submit", data={}))
    assert "議事録が空です。議題または決定事項を少なくとも一つ記入してください。" in page
    assert snapshot(world, version_id) == before and smtp.received == []


def test_a_member_cannot_submit(app, world, draft, smtp):
    before = snapshot(world, draft)
    response = client_for(app, "member.both").post(f"/minutes/{draft}/submit", data={})
    assert response.status_code == 404  # a draft is the secretariat's alone
    assert snapshot(world, draft) == before and smtp.received == []


def test_returned_minutes_go_back_to_draft_with_the_comment(app, secretary, world, draft, smtp):
    assert secretary.post(f"/minutes/{draft}/submit", data={}).status_code == 302
    smtp.clear()
    chair = client_for(app, "chair.kyogitai")
    url = approve_url(world, draft, LAYER1)

    before = snapshot(world, draft)
    no_comment = chair.post(url, data={"decision": "return", "comment": "   "})
    assert no_comment.status_code == 400 and SAY_WHAT in text(no_comment)
    no_decision = chair.post(url, data={"comment": "どちらでもない"})
    assert no_decision.status_code == 400 and CHOOSE_DECISION in text(no_decision)
    assert snapshot(world, draft) == before and smtp.received == []

    comment = "出席者の記載を確認してください-COMMENT-42"
    returned = chair.post(url, data={"decision": "return", "comment": comment})
    assert "議事録を事務局に差し戻しました。" in follow(chair, returned)
    version = version_of(world, draft)
    assert version.status == MinutesStatus.DRAFT
    (approval,) = version.approvals
    assert (approval.decision, approval.comment) == (Decision.RETURNED, comment)

    editor = text(secretary.get(f"/minutes/{draft}/edit"))
    assert "下書き" in editor and "差戻し" in editor and comment in editor
    assert "下書き" in text(secretary.get(f"/minutes/{draft}"))
    # The secretary is told by e-mail; the comment is read in Renkei only.
    (message,) = smtp.to("secretary@example.jp")
    assert "差戻し" in message["Subject"] and comment not in decoded(message)


def test_a_decision_that_is_neither_is_refused_and_nothing_is_written(
    app, secretary, world, draft, smtp
):
    assert secretary.post(f"/minutes/{draft}/submit", data={}).status_code == 302
    smtp.clear()
    chair = client_for(app, "chair.kyogitai")
    url = approve_url(world, draft, LAYER1)
    before = snapshot(world, draft)
    for decision in ("maybe", "", "APPROVE"):
        response = chair.post(url, data={"decision": decision, "comment": "-"})
        assert response.status_code == 400, decision
        page = text(response)
        assert CHOOSE_DECISION in page and 'href="#decision"' in page and 'id="decision"' in page
    long_return = chair.post(url, data={"decision": "return", "comment": "長" * 2001})
    assert long_return.status_code == 400
    assert "2000文字以内で入力してください。" in text(long_return)
    assert snapshot(world, draft) == before and smtp.received == []


# --- 5. Views, downloads and extracts -------------------------------------------------------


def test_member_and_public_views_never_carry_the_closed_text(app, secretary, world, approved):
    readers = {"secretary": secretary}
    for name in ("chair.support", "chair.kyogitai", "member.both", "member.kyogitai", "admin"):
        readers[name] = client_for(app, name)
    for name, client in readers.items():
        for path in (f"/minutes/{approved}", f"/minutes/{approved}/download"):
            for view in ("member", "public"):
                response = client.get(f"{path}?view={view}")
                assert response.status_code == 200, (name, path, view)
                page = text(response)
                assert SECRET not in page, (name, path, view)
                assert SECRET_TITLE not in page, (name, path, view)
                assert "非公開議題" in page
        # The members' item is in the member view (for members), not in the public one.
        member_view = text(client.get(f"/minutes/{approved}?view=member"))
        assert (LAYER1_TEXT in member_view) is (name != "admin"), name
        assert LAYER1_TEXT not in text(client.get(f"/minutes/{approved}?view=public")), name
    # The default view is the members' one.
    assert SECRET not in text(secretary.get(f"/minutes/{approved}"))


def test_the_full_view_is_only_for_those_entitled(app, secretary, world, approved):
    for name in ("member.kyogitai", "member.both", "chair.kyogitai", "admin"):
        client = client_for(app, name)
        assert client.get(f"/minutes/{approved}?view=full").status_code == 403, name
        assert client.get(f"/minutes/{approved}/download?view=full").status_code == 403, name
        # and no link to it is offered
        assert f"/minutes/{approved}?view=full" not in text(client.get(f"/minutes/{approved}"))
    for client in (secretary, client_for(app, "chair.support")):
        page = text(client.get(f"/minutes/{approved}?view=full"))
        assert SECRET in page and SECRET_TITLE in page
        assert f"/minutes/{approved}?view=full" in text(client.get(f"/minutes/{approved}"))


def test_the_download_is_a_standalone_html_file(secretary, approved, world):
    response = secretary.get(f"/minutes/{approved}/download?view=public")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    session_id = version_of(world, approved).minutes.session_id
    assert f'filename="minutes-{session_id}-v1-public.html"' in disposition
    page = text(response)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "<style>" in page and ".minutes-document" in page  # the stylesheet is inside
    assert "<link" not in page and "src=" not in page and "/static/" not in page
    assert version_of(world, approved).content_hash in page

    full = secretary.get(f"/minutes/{approved}/download?view=full")
    assert full.status_code == 200 and SECRET in text(full)


def test_per_body_extract_holds_none_of_the_other_bodys_sections(secretary, world, approved):
    support = body_named(world, SUPPORT)
    layer1 = body_named(world, LAYER1)
    sections = sections_of(world, approved)
    theirs = [s for s in sections if s.body_id == support.id]
    ours = [s for s in sections if s.body_id in (None, layer1.id)]
    assert theirs and ours
    for path in (f"/minutes/{approved}", f"/minutes/{approved}/download"):
        for view in ("full", "member"):
            response = secretary.get(f"{path}?view={view}&body={layer1.id}")
            assert response.status_code == 200, (path, view)
            page = text(response)
            for section in theirs:
                assert f'id="part-{section.id}"' not in page, (path, view)
            for section in ours:
                assert f'id="part-{section.id}"' in page, (path, view)
            assert SECRET not in page and SECRET_TITLE not in page
            assert f"出欠（{SUPPORT}）" not in page
            assert LAYER1_TEXT in page
    download = secretary.get(f"/minutes/{approved}/download?view=full&body={layer1.id}")
    assert f"-full-body{layer1.id}.html" in download.headers["Content-Disposition"]


def test_unknown_body_or_view_is_not_found(secretary, world, approved):
    layer2 = body_named(world, LAYER2)  # a body, but not one the session served
    for path in (f"/minutes/{approved}", f"/minutes/{approved}/download"):
        for query in (f"body={layer2.id}", "body=999999", "body=abc", "view=secret", "view="):
            assert secretary.get(f"{path}?{query}").status_code == 404, (path, query)
    assert secretary.get("/minutes/999999").status_code == 404


def test_a_draft_is_not_readable_by_members(app, world, draft):
    for name in ("member.both", "chair.support", "admin"):
        client = client_for(app, name)
        for path in (f"/minutes/{draft}", f"/minutes/{draft}/download?view=public"):
            assert client.get(path).status_code == 404, (name, path)


# --- 6. Corrections -------------------------------------------------------------------------


def test_starting_a_correction_raises_no_sqlalchemy_warning(secretary, world, approved):
    session_id = version_of(world, approved).minutes.session_id
    response = secretary.post(f"/sessions/{session_id}/minutes/correct", data={"reason": "訂正"})
    assert response.status_code == 302
    assert count(world, MinutesVersion) == 2


def test_a_correction_is_a_new_version_with_a_diff(app, secretary, world, people, approved):
    session_id = version_of(world, approved).minutes.session_id
    first_hash = version_of(world, approved).content_hash
    before = snapshot(world, approved)

    empty = secretary.post(f"/sessions/{session_id}/minutes/correct", data={"reason": "  "})
    assert SAY_WHY in follow(secretary, empty)
    assert count(world, MinutesVersion) == 1

    response = secretary.post(
        f"/sessions/{session_id}/minutes/correct", data={"reason": "誤字の訂正"}
    )
    assert "承認済みの議事録から訂正版を作成しました。" in follow(secretary, response)
    second = world.scalars(select(MinutesVersion).where(MinutesVersion.number == 2)).one()
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{second.id}/edit"
    assert (second.status, second.reason) == (MinutesStatus.DRAFT, "誤字の訂正")

    # Only one correction at a time.
    again = secretary.post(f"/sessions/{session_id}/minutes/correct", data={"reason": "再度"})
    assert "訂正は承認済みの議事録からのみ始められます。" in follow(secretary, again)
    assert count(world, MinutesVersion) == 2

    write(secretary, world, second.id, SectionKind.DECISIONS, "- 行A 資料を整理する\n- 行C 追記")
    diff = secretary.get(f"/minutes/{second.id}/diff")
    assert diff.status_code == 200
    page = text(diff)
    assert "第2版と第1版の比較" in page and "誤字の訂正" in page
    assert "<ins>- 行C 追記</ins>" in page
    assert "<del>- 行B 次回に報告する</del>" in page
    assert "<span>- 行A 資料を整理する</span>" in page

    # Version 1 is as it was: approved, readable, and its hash still matches.
    assert snapshot(world, approved) == before
    first = text(secretary.get(f"/minutes/{approved}"))
    assert "承認済" in first and first_hash in first and HASH_OK in first
    assert "一致しません" not in first
    assert "行B 次回に報告する" in first and "行C 追記" not in first
    member_first = client_for(app, "member.kyogitai").get(f"/minutes/{approved}")
    assert member_first.status_code == 200 and first_hash in text(member_first)


def test_the_diff_keeps_closed_text_out_of_the_member_view(app, secretary, world, approved):
    session_id = version_of(world, approved).minutes.session_id
    secretary.post(f"/sessions/{session_id}/minutes/correct", data={"reason": "追記"})
    second = world.scalars(select(MinutesVersion).where(MinutesVersion.number == 2)).one()
    new_secret = "NEW-CANARY-訂正-8812"
    write(secretary, world, second.id, SectionKind.ITEM, f"{SECRET}\n{new_secret}", SUPPORT)
    member_view = text(secretary.get(f"/minutes/{second.id}/diff?view=member"))
    assert new_secret not in member_view and SECRET not in member_view
    full_view = text(secretary.get(f"/minutes/{second.id}/diff?view=full"))
    assert f"<ins>{new_secret}</ins>" in full_view
    # The correction is a draft: only the secretariat reads it.
    assert client_for(app, "member.both").get(f"/minutes/{second.id}/diff").status_code == 404


def test_only_the_secretariat_starts_a_correction(app, world, approved):
    session_id = version_of(world, approved).minutes.session_id
    for name in ("chair.support", "member.both"):
        response = client_for(app, name).post(
            f"/sessions/{session_id}/minutes/correct", data={"reason": "勝手に"}
        )
        assert response.status_code == 403, name
    assert count(world, MinutesVersion) == 1


# --- 7. Action items ------------------------------------------------------------------------


# A task's due date: a fortnight after the session.
DUE_ON = DAY + timedelta(days=14)


def action_form(section, task, owner, due_on: str | None = None) -> dict:
    prefix = f"a{section.id}"
    due_on = DUE_ON.isoformat() if due_on is None else due_on
    return {f"{prefix}-text": task, f"{prefix}-owner_id": str(owner.id), f"{prefix}-due_on": due_on}


def add_action(client, section, task, owner, **kwargs):
    return client.post(
        f"/minutes/sections/{section.id}/actions", data=action_form(section, task, owner, **kwargs)
    )


def test_a_task_reaches_its_owner_until_done(app, secretary, world, people, draft):
    decisions = find(world, draft, SectionKind.DECISIONS)
    response = add_action(secretary, decisions, "資料を整理する-TASK-1", people["member.both"])
    assert response.headers["Location"].endswith(f"/minutes/{draft}/edit#section-{decisions.id}")
    assert TASK_ADDED in follow(secretary, response)
    (action,) = world.scalars(select(ActionItem)).all()
    assert (action.text, action.owner_id, action.due_on, action.done_at) == (
        "資料を整理する-TASK-1",
        people["member.both"].id,
        DUE_ON,
        None,
    )
    assert "資料を整理する-TASK-1" in text(secretary.get(f"/minutes/{draft}/edit"))

    owner = client_for(app, "member.both")
    home = text(owner.get("/"))
    assert (
        MY_TASKS in home
        and "資料を整理する-TASK-1" in home
        and japanese_date(DUE_ON, weekday=False) in home
    )
    assert f"/actions/{action.id}/done" in home
    # Not on anyone else's home page.
    assert "資料を整理する-TASK-1" not in text(client_for(app, "member.kyogitai").get("/"))

    done = owner.post(f"/actions/{action.id}/done", data={"next": "/"})
    assert urlsplit(done.headers["Location"]).path == "/"
    home = follow(owner, done)
    assert "宿題を更新しました。" in home
    # Done, it stays in the list a while, below the open ones, and can be opened again.
    assert "資料を整理する-TASK-1" in home and "完了</span>" in home
    assert 'name="done" value="0"' in home and "未完了に戻す" in home
    world.expire_all()
    assert world.get(ActionItem, action.id).done_at is not None


def test_a_malformed_due_date_makes_no_task(secretary, world, people, draft):
    decisions = find(world, draft, SectionKind.DECISIONS)
    for due_on in ("2026-13-45", "来週", "12/24"):
        response = add_action(
            secretary, decisions, "資料を整理する", people["member.both"], due_on=due_on
        )
        assert BAD_DATE in follow(secretary, response), due_on
    assert count(world, ActionItem) == 0


def test_a_task_without_a_due_date(secretary, world, people, draft):
    decisions = find(world, draft, SectionKind.DECISIONS)
    response = add_action(secretary, decisions, "期限なしの宿題", people["member.both"], due_on="")
    page = follow(secretary, response)
    assert BAD_DATE not in page and TASK_ADDED in page
    (action,) = world.scalars(select(ActionItem)).all()
    assert (action.text, action.due_on) == ("期限なしの宿題", None)


def test_a_closed_sections_task_only_for_those_entitled(secretary, world, people, draft):
    secret = find(world, draft, SectionKind.ITEM, SUPPORT)
    for name, shown in (("member.kyogitai", "地域 さくら"), ("member.both", "兼務 三郎")):
        response = add_action(secretary, secret, "ケースの支援計画を作る", people[name])
        assert f"{shown}{NOT_ENTITLED}" in follow(secretary, response), name
    assert count(world, ActionItem) == 0
    # The pledged chair of the 支援会議 may be given it.
    response = add_action(secretary, secret, "ケースの支援計画を作る", people["chair.support"])
    assert TASK_ADDED in follow(secretary, response)
    assert count(world, ActionItem) == 1


def test_only_the_secretariat_adds_tasks(app, world, people, approved):
    decisions = find(world, approved, SectionKind.DECISIONS)
    member = client_for(app, "member.both")
    response = add_action(member, decisions, "自分で追加", people["member.both"])
    assert response.status_code == 403
    assert count(world, ActionItem) == 0


def test_someone_elses_task_cannot_be_marked_done(app, secretary, world, people, draft):
    decisions = find(world, draft, SectionKind.DECISIONS)
    secret = find(world, draft, SectionKind.ITEM, SUPPORT)
    add_action(secretary, decisions, "公開の宿題", people["member.both"])
    add_action(secretary, secret, "非公開の宿題", people["chair.support"])
    open_task = world.scalars(select(ActionItem).where(ActionItem.text == "公開の宿題")).one()
    closed_task = world.scalars(select(ActionItem).where(ActionItem.text == "非公開の宿題")).one()

    # Not even the owner without the CSRF token.
    unentitled = client_for(app, "member.both")
    no_token = unentitled.post(f"/actions/{open_task.id}/done", data={"next": "/"}, csrf=False)
    assert no_token.status_code == 400
    # A member who can read the section, but is not its owner nor the secretariat.
    other = client_for(app, "member.kyogitai")
    assert other.post(f"/actions/{open_task.id}/done", data={"next": "/"}).status_code in (403, 404)
    # A closed section's task: to the unentitled it does not exist.
    response = unentitled.post(f"/actions/{closed_task.id}/done", data={"next": "/"})
    assert response.status_code == 404
    assert other.post("/actions/999999/done", data={"next": "/"}).status_code == 404
    world.expire_all()
    assert world.get(ActionItem, open_task.id).done_at is None
    assert world.get(ActionItem, closed_task.id).done_at is None

    # The secretariat may mark anyone's task done, and the owner may undo it.
    assert secretary.post(f"/actions/{open_task.id}/done", data={"next": "/"}).status_code == 302
    world.expire_all()
    assert world.get(ActionItem, open_task.id).done_at is not None
    undo = unentitled.post(f"/actions/{open_task.id}/done", data={"next": "/", "done": "0"})
    assert undo.status_code == 302
    world.expire_all()
    assert world.get(ActionItem, open_task.id).done_at is None


def test_a_task_marked_neither_done_nor_undone_is_left_as_it_was(
    app, secretary, world, people, draft
):
    decisions = find(world, draft, SectionKind.DECISIONS)
    add_action(secretary, decisions, "公開の宿題", people["member.both"])
    (task,) = world.scalars(select(ActionItem)).all()
    owner = client_for(app, "member.both")
    for done in ("yes", "", "2"):
        response = owner.post(f"/actions/{task.id}/done", data={"next": "/", "done": done})
        assert "完了か未完了かを選んでください。" in follow(owner, response), done
        world.expire_all()
        assert world.get(ActionItem, task.id).done_at is None
    # A next address off the site leads home, as before.
    response = owner.post(f"/actions/{task.id}/done", data={"next": "https://evil.example/"})
    assert urlsplit(response.headers["Location"]).path == "/"


def test_a_return_comment_on_closed_sections_is_for_those_who_may_read_them(
    app, world, draft, links
):
    """The 支援会議's chair returns its (confidential) part with a comment; a second
    secretary without the pledge sees that it was returned, not what was said."""
    secretary = person_by_email(world, "secretary@example.jp")
    chair = person_by_email(world, "chair.support@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        version = world.get(MinutesVersion, draft)
        minutes.submit(world, version, by=secretary, links=links, sender=SENDER)
        comment = "COMMENT-ABOUT-THE-CASE-77"
        minutes.decide(
            world,
            version,
            support.id,
            approve=False,
            comment=comment,
            by=chair,
            links=links,
            sender=SENDER,
        )
        second = Person(name="事務 次郎", email="second@example.jp")
        second.password_hash = secretary.password_hash
        world.add(second)
        for body in version.minutes.session.bodies:
            world.add(
                Membership(
                    person=second, body=body, role=Role.SECRETARY, term_start=date(2025, 4, 1)
                )
            )
        world.commit()
    pledged, unpledged = app.test_client(), app.test_client()
    login(pledged, "secretary@example.jp")
    login(unpledged, "second@example.jp")
    for path in (f"/minutes/{draft}/edit", f"/minutes/{draft}"):
        assert comment in pledged.get(path).get_data(as_text=True)
        assert comment not in unpledged.get(path).get_data(as_text=True)
