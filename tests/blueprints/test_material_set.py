"""The 資料一式: one numbered PDF of a session's public materials for its secretariat, read back
by text extraction; nothing closed is ever in it."""

import io
import re

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from renkei.models import Pledge, Visibility
from renkei.services import agenda, pdf_tools
from renkei.services.agenda import ItemData
from renkei.services.dates import today
from tests.conftest import client_for
from tests.helpers import body_named, person_by_email
from tests.materials_helpers import PNG, upload_by_form
from tests.sessions_helpers import LAYER1, SUPPORT, make_session


def text_pdf(*pages: str) -> bytes:
    """A small PDF whose pages say ``pages`` (in the CID font, so that they read back)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for text in pages:
        canvas.setFont(pdf_tools.FONT, 14)
        canvas.drawString(72, 700, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture
def joint(app, world):
    """A convened joint session: two public items of the 協議体 and a confidential item of
    the 支援会議 between them, whose secretary has pledged."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    layer1 = body_named(world, LAYER1)
    with app.app_context():
        session = make_session(world, SUPPORT, LAYER1)
        for title, body, visibility in (
            ("公開議題", layer1, Visibility.PUBLIC),
            ("個別ケース", support, Visibility.CONFIDENTIAL),
            ("予算の議題", layer1, Visibility.PUBLIC),
        ):
            data = ItemData(title=title, body_id=body.id, visibility=visibility.value)
            agenda.add_item(world, session, data, by=secretary)
    world.add(Pledge(person=secretary, body=support, pledged_on=today()))
    world.commit()
    return session


def upload(client, session, content: bytes, name: str, item=None, **fields):
    response = upload_by_form(client, session, content, name, item, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def pages_of(response) -> list[str]:
    reader = PdfReader(io.BytesIO(response.get_data()))
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def test_the_set_holds_the_public_pdfs_numbered_as_the_order_after_a_cover(as_secretary, joint):
    public, closed, budget = joint.items
    # Uploaded out of order: the set follows the 次第, not the upload.
    upload(as_secretary, joint, text_pdf("予算の本文"), "予算書.pdf", budget, title="予算書")
    upload(as_secretary, joint, text_pdf("計画の本文1", "計画の本文2"), "計画案.pdf", public)
    upload(as_secretary, joint, text_pdf("秘密のケース記録"), "ケース記録.pdf", closed)
    upload(as_secretary, joint, PNG, "地図.png", budget, title="地図")

    response = as_secretary.get(f"/sessions/{joint.id}/materials/set.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    cover, plan1, plan2, budget_page = pages_of(response)
    # The closed material keeps its number (資料2) for those who may see it: a gap here.
    assert "資料一式" in cover and joint.title.replace(" ", "") in cover
    assert "資料1計画案" in cover and "資料3予算書" in cover
    assert "資料4地図（PDF以外のため別添）" in cover
    assert "資料1" in plan1 and "計画の本文1" in plan1
    assert "計画の本文2" in plan2
    assert "資料3" in budget_page and "予算の本文" in budget_page
    everything = "".join([cover, plan1, plan2, budget_page])
    assert "秘密のケース記録" not in everything
    assert "ケース記録" not in everything and "資料2" not in everything


def test_a_material_narrowed_on_a_public_item_is_left_out(as_secretary, joint):
    upload(as_secretary, joint, text_pdf("公開の本文"), "計画案.pdf", joint.items[0])
    upload(
        as_secretary,
        joint,
        text_pdf("内部の検討メモ"),
        "検討メモ.pdf",
        joint.items[0],
        visibility=Visibility.SESSION.value,
    )

    pages = pages_of(as_secretary.get(f"/sessions/{joint.id}/materials/set.pdf"))

    assert len(pages) == 2
    assert "公開の本文" in pages[1]
    assert all("内部の検討メモ" not in page and "検討メモ" not in page for page in pages)


def test_the_materials_page_links_to_the_set(as_secretary, joint):
    upload(as_secretary, joint, text_pdf("本文"), "計画案.pdf", joint.items[0])
    page = as_secretary.get(f"/sessions/{joint.id}/materials").get_data(as_text=True)
    assert f"/sessions/{joint.id}/materials/set.pdf" in page


def test_without_public_materials_the_secretary_is_told_in_japanese(as_secretary, joint):
    upload(as_secretary, joint, text_pdf("秘密"), "ケース記録.pdf", joint.items[1])

    response = as_secretary.get(f"/sessions/{joint.id}/materials/set.pdf", follow_redirects=True)

    assert response.mimetype == "text/html"
    assert "資料一式に入れる公開の資料がありません" in response.get_data(as_text=True)


def test_only_the_secretariat_may_have_the_set(app, as_secretary, joint):
    upload(as_secretary, joint, text_pdf("本文"), "計画案.pdf", joint.items[0])
    member = client_for(app, "chair.kyogitai")
    assert member.get(f"/sessions/{joint.id}/materials/set.pdf").status_code in (403, 404)
