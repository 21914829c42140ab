"""Materials in the e-mail, through the pages to a real SMTP server: the convening notice lists,
per recipient, the materials they may see as links to the download (never attached, closed
titles never written); a material added or replaced after convening is in the next change
notice of those who may see it, and nobody else is sent anything for it."""

import io
import re

import pytest
from sqlalchemy import select

from renkei.models import Material, Pledge, Visibility
from renkei.services import agenda
from renkei.services.agenda import ItemData
from renkei.services.dates import today
from tests.blueprints.test_session_mail import (
    convene,
    decoded,
    plain,
    schedule,
    send_notices,
)
from tests.helpers import body_named, person_by_email
from tests.materials_helpers import PNG
from tests.materials_helpers import upload_by_form as upload
from tests.services.test_pdf_tools import sample_pdf
from tests.sessions_helpers import LAYER1, SUPPORT

BASE = "https://renkei.example.jp"
PUBLIC = "地域資源マップ"
SECRET = "CANARY-ケース記録-77aa"
LATE = "CANARY-追加ケース-77aa"


@pytest.fixture
def joint(app, world, as_secretary):
    """A prepared joint session (支援会議 + 協議体) with a public item of the 協議体 carrying a
    public material, and a confidential item of the 支援会議 carrying a closed one; the
    secretary and the 支援会議's chair have pledged."""
    app.config["BASE_URL"] = BASE
    session = schedule(as_secretary, world, SUPPORT, LAYER1)
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        for title, body, visibility in (
            ("公開議題", body_named(world, LAYER1), Visibility.PUBLIC),
            ("個別ケース", support, Visibility.CONFIDENTIAL),
        ):
            data = ItemData(title=title, body_id=body.id, visibility=visibility.value)
            agenda.add_item(world, session, data, by=secretary)
    for email in ("secretary@example.jp", "chair.support@example.jp"):
        world.add(Pledge(person=person_by_email(world, email), body=support, pledged_on=today()))
    world.commit()
    assert upload(as_secretary, session, PNG, f"{PUBLIC}.png", session.items[0]).status_code == 302
    assert upload(as_secretary, session, sample_pdf(), f"{SECRET}.pdf", session.items[1])
    return session


def materials_of(world) -> list[Material]:
    world.expire_all()
    return list(world.scalars(select(Material).order_by(Material.id)))


def links_in(text: str) -> set[int]:
    return {int(n) for n in re.findall(re.escape(BASE) + r"/materials/(\d+)/download", text)}


def test_the_notice_links_each_recipient_to_what_they_may_see(world, as_secretary, joint, smtp):
    convene(as_secretary, joint)
    public, closed = materials_of(world)
    for received in smtp.received:
        message = received.message
        text = decoded(message)
        assert SECRET not in text  # e-mail carries public titles only
        assert [p.get_filename() for p in message.iter_attachments()] == ["invite.ics"]
        assert f"資料1 {PUBLIC}：{BASE}/materials/{public.id}/download" in plain(message)
        (address,) = received.rcpt_tos
        if address == "chair.support@example.jp":  # pledged: the closed one too, untitled
            assert links_in(text) == {public.id, closed.id}
            assert f"資料2 非公開資料：{BASE}/materials/{closed.id}/download" in plain(message)
        else:
            assert links_in(text) == {public.id}, address
            assert "資料2" not in plain(message)


def test_a_material_added_after_convening_reaches_only_those_who_may_see_it(
    app, world, as_secretary, joint, smtp
):
    convene(as_secretary, joint)
    smtp.clear()
    joint = world.merge(joint)
    assert upload(as_secretary, joint, sample_pdf(), f"{LATE}.pdf", joint.items[1])
    send_notices(as_secretary, joint)
    late = materials_of(world)[-1]
    assert [r.rcpt_tos for r in smtp.received] == [["chair.support@example.jp"]]
    (message,) = smtp.to("chair.support@example.jp")
    text = plain(message)
    assert "資料が追加されました：資料3 非公開資料" in text and LATE not in decoded(message)
    assert f"{BASE}/materials/{late.id}/download" in text

    # A replaced public material: everyone convened who has an address is told.
    smtp.clear()
    public = materials_of(world)[0]
    page = f"/sessions/{joint.id}/materials"
    token = as_secretary.get(page).get_data(as_text=True).split('name="form_token" value="')[1]
    response = as_secretary.post(
        f"/materials/{public.id}/replace",
        data={
            "file": (io.BytesIO(PNG + b"2"), f"{PUBLIC}.png"),
            "form_token": token.split('"')[0],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    send_notices(as_secretary, joint)
    told = sorted(a for r in smtp.received for a in r.rcpt_tos)
    assert told == sorted(
        {
            "chair.support@example.jp",
            "chair.kyogitai@example.jp",
            "member.both@example.jp",
            "member.kyogitai@example.jp",
        }
    )
    for message in smtp.messages:
        assert f"資料が差し替えられました：資料1 {PUBLIC}" in plain(message)
        assert SECRET not in decoded(message) and LATE not in decoded(message)


def test_nothing_is_sent_for_a_material_of_a_session_not_yet_convened(
    world, as_secretary, joint, smtp
):
    assert smtp.received == []
    assert world.merge(joint).notice_pending_since is None
