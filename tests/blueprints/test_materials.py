"""Meeting materials on the web: the upload page, the lists on the session page and the 次第,
downloads and their headers, and refusals that leave nothing behind."""

import hashlib
import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from renkei.models import AuditEntry, Material, MaterialVersion, Pledge, Visibility
from renkei.services import agenda
from renkei.services.agenda import ItemData
from renkei.services.dates import today
from tests.conftest import client_for
from tests.helpers import body_named, count, counting, person_by_email
from tests.materials_helpers import EXE, PDF, PNG, zip_bomb
from tests.materials_helpers import upload_by_form as upload
from tests.services.test_pdf_tools import flat, sample_pdf
from tests.sessions_helpers import LAYER1, SUPPORT, make_session


@pytest.fixture
def joint(app, world):
    """A convened joint session: a public item of the 協議体 and a confidential item of the
    支援会議, whose secretary has pledged."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        session = make_session(world, SUPPORT, LAYER1)
        for title, body, visibility in (
            ("公開議題", body_named(world, LAYER1), Visibility.PUBLIC),
            ("個別ケース", support, Visibility.CONFIDENTIAL),
        ):
            data = ItemData(title=title, body_id=body.id, visibility=visibility.value)
            agenda.add_item(world, session, data, by=secretary)
    world.add(Pledge(person=secretary, body=support, pledged_on=today()))
    world.commit()
    return session


def stored(app) -> list:
    root = Path(app.config["MATERIALS_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_is_listed_under_its_item_and_in_the_list_of_materials(app, as_secretary, joint):
    response = upload(as_secretary, joint, PDF, "事業計画（案）.pdf", joint.items[0])
    assert response.status_code == 302
    page = as_secretary.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert page.count("事業計画（案）") == 2  # under the item, and in the 資料一覧
    assert "資料1" in page
    order = as_secretary.get(f"/sessions/{joint.id}/order").get_data(as_text=True)
    assert "資料1" in order and "事業計画（案）" in order
    assert "Renkeiには会議資料を登録できません" not in order


def test_a_download_streams_the_file_with_safe_headers(app, world, as_secretary, joint):
    upload(as_secretary, joint, PDF, "会議資料 第1回.pdf", joint.items[0])
    material = world.scalar(select(Material))
    response = as_secretary.get(f"/materials/{material.id}/download")
    assert response.status_code == 200
    assert response.get_data() == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote('会議資料 第1回.pdf', safe='')}" in disposition
    assert f'filename="material-{material.id}.pdf"' in disposition and disposition.isascii()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(PDF))


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (EXE, "資料.pdf", "この種類のファイル"),
        (b"", "空.pdf", "空です"),
        (PDF, "a/b.pdf", "/"),
        (PDF, "ベル\x07.pdf", "使えない文字"),
        (PDF, "長" * 296 + ".pdf", "長すぎます"),
        (zip_bomb(), "説明.docx", "展開"),
    ],
)
def test_a_refused_upload_says_why_and_writes_nothing(
    app, world, as_secretary, joint, content, name, message
):
    response = upload(as_secretary, joint, content, name, joint.items[0])
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(world, Material) == 0 and stored(app) == []


def test_a_file_over_the_limit_is_refused_in_japanese(app, world, as_secretary, joint):
    app.config["MATERIAL_MAX_BYTES"] = len(PDF)
    assert upload(as_secretary, joint, PDF, "ちょうど.pdf").status_code == 302
    response = upload(as_secretary, joint, PDF + b"%", "超過.pdf")
    assert response.status_code == 400
    assert "を超えています" in response.get_data(as_text=True)
    # Beyond what the request may carry at all: the error page, not a stack trace.
    too_big = PDF + b"%" * (2 * 1024 * 1024)
    response = upload(as_secretary, joint, too_big, "巨大.pdf")
    assert response.status_code == 413
    assert "送信された内容が大きすぎます" in response.get_data(as_text=True)
    assert count(world, Material) == 1


def test_the_default_limit_lets_a_20_mb_file_through(app, world, as_secretary, joint):
    assert app.config["MATERIAL_MAX_BYTES"] == 20 * 1024 * 1024
    largest = PDF + b"%" * (20 * 1024 * 1024 - len(PDF))
    assert upload(as_secretary, joint, largest, "最大.pdf").status_code == 302
    assert upload(as_secretary, joint, largest + b"%%", "超過.pdf").status_code == 400
    # Every other form keeps to the small MAX_CONTENT_LENGTH.
    response = as_secretary.post("/markdown/preview", data={"text": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_the_upload_form_needs_its_csrf_token(app, world, as_secretary, joint):
    response = as_secretary.post(
        f"/sessions/{joint.id}/materials",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
        csrf=False,
    )
    assert response.status_code == 400
    assert count(world, Material) == 0 and stored(app) == []


def test_only_the_secretariat_reaches_the_upload_page(app, world, joint):
    member = client_for(app, "member.both")
    assert member.get(f"/sessions/{joint.id}/materials").status_code == 403


def test_the_other_body_never_sees_nor_downloads_a_closed_material(app, world, as_secretary, joint):
    upload(as_secretary, joint, PDF, "ケース記録.pdf", joint.items[1])
    upload(as_secretary, joint, PNG, "地域資源マップ.png", joint.items[0])
    closed, shown = world.scalars(select(Material).order_by(Material.id)).all()
    kyogitai = client_for(app, "member.kyogitai")
    page = kyogitai.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "地域資源マップ" in page and "ケース記録" not in page
    assert kyogitai.get(f"/materials/{closed.id}/download").status_code == 404
    assert kyogitai.get(f"/materials/{shown.id}/download").status_code == 200
    # Earlier versions are the secretariat's; a version of another material is not found.
    version = shown.versions[0].id
    assert kyogitai.get(f"/materials/{shown.id}/versions/{version}/download").status_code == 404
    url = f"/materials/{closed.id}/versions/{version}/download"
    assert as_secretary.get(url).status_code == 404


def test_a_replacement_is_shown_with_its_date(app, world, as_secretary, joint):
    upload(as_secretary, joint, PDF, "予算.pdf", joint.items[0])
    material = world.scalar(select(Material))
    response = as_secretary.post(
        f"/materials/{material.id}/replace",
        data={"file": (io.BytesIO(PNG), "予算.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = as_secretary.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "差し替え" in page
    assert count(world, MaterialVersion) == 2
    first = world.scalar(select(MaterialVersion).where(MaterialVersion.number == 1))
    earlier = as_secretary.get(f"/materials/{material.id}/versions/{first.id}/download")
    assert earlier.get_data() == PDF


def test_a_body_keeps_its_retention_period(app, world, as_secretary):
    support = body_named(world, SUPPORT)
    form = as_secretary.get(f"/bodies/{support.id}/edit").get_data(as_text=True)
    assert 'name="retention_years"' in form


def test_the_session_page_does_not_query_per_material(app, world, as_secretary, joint):
    def statements() -> int:
        as_secretary.get(f"/sessions/{joint.id}")
        with counting(app.extensions["renkei.engine"]) as found:
            assert as_secretary.get(f"/sessions/{joint.id}").status_code == 200
        return len(found)

    upload(as_secretary, joint, PDF, "1.pdf", joint.items[0])
    few = statements()
    for n in range(2, 8):
        upload(as_secretary, joint, PDF + bytes([n]), f"{n}.pdf", joint.items[n % 2])
    assert statements() == few


# --- Watermarks and the ZIP ------------------------------------------------------------------


def stored_hash(app, sha256: str) -> str:
    path = next(p for p in stored(app) if p.name == sha256)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_closed_pdf_names_its_reader_on_every_page(app, world, as_secretary, joint):
    original = sample_pdf()
    upload(as_secretary, joint, original, "ケース記録.pdf", joint.items[1])
    material = world.scalar(select(Material))
    response = as_secretary.get(f"/materials/{material.id}/download")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    served = response.get_data()
    assert response.headers["Content-Length"] == str(len(served))
    name = flat(person_by_email(world, "secretary@example.jp").name)
    pages = PdfReader(io.BytesIO(served)).pages
    assert len(pages) == 6
    for number, page in enumerate(pages, start=1):
        text = flat(page.extract_text())
        assert name in text and "閲覧者" in text and "秘" in text, number
    # The stored original is as uploaded.
    sha256 = material.current.sha256
    assert sha256 == hashlib.sha256(original).hexdigest() == stored_hash(app, sha256)
    audited = select(AuditEntry).where(AuditEntry.action == "material_downloaded")
    assert len(world.scalars(audited).all()) == 1


def test_a_body_only_pdf_is_marked_handle_with_care(app, world, as_secretary, joint):
    upload(as_secretary, joint, sample_pdf(), "内部資料.pdf", joint.items[0], visibility="body")
    material = world.scalar(select(Material))
    served = as_secretary.get(f"/materials/{material.id}/download").get_data()
    for page in PdfReader(io.BytesIO(served)).pages:
        text = flat(page.extract_text())
        assert "取扱注意" in text and "秘" not in text


def test_a_closed_pdf_that_cannot_take_a_watermark_is_not_sent(app, world, as_secretary, joint):
    upload(as_secretary, joint, PDF, "壊れた資料.pdf", joint.items[1])  # no pages
    material = world.scalar(select(Material))
    response = as_secretary.get(f"/materials/{material.id}/download")
    assert response.status_code == 302
    page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "PDFファイルとして読み取れません" in page


def zip_of(response) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_zip_holds_what_the_reader_may_see_numbered(app, world, as_secretary, joint):
    upload(as_secretary, joint, PNG, "地域資源マップ.png", joint.items[0])
    upload(as_secretary, joint, sample_pdf(), "ケース記録.pdf", joint.items[1])
    page = as_secretary.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "資料をまとめてダウンロード (ZIP)" in page

    response = as_secretary.get(f"/sessions/{joint.id}/materials.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="session-{joint.id}-materials.zip"' in disposition
    assert quote(f"{joint.title}_資料.zip", safe="") in disposition
    files = zip_of(response)
    assert sorted(files) == ["資料1_地域資源マップ.png", "資料2_ケース記録.pdf"]
    assert files["資料1_地域資源マップ.png"] == PNG
    name = flat(person_by_email(world, "secretary@example.jp").name)
    for page in PdfReader(io.BytesIO(files["資料2_ケース記録.pdf"])).pages:
        assert name in flat(page.extract_text())
    audited = select(AuditEntry).where(AuditEntry.action == "material_downloaded")
    assert [e.detail for e in world.scalars(audited)] == ["version=1 zip"]

    kyogitai = client_for(app, "member.kyogitai")
    shown = kyogitai.get(f"/sessions/{joint.id}").get_data(as_text=True)
    assert "資料をまとめてダウンロード" in shown
    assert sorted(zip_of(kyogitai.get(f"/sessions/{joint.id}/materials.zip"))) == [
        "資料1_地域資源マップ.png"
    ]


def test_a_reader_who_may_see_no_material_gets_no_zip(app, world, as_secretary, joint):
    assert as_secretary.get(f"/sessions/{joint.id}/materials.zip").status_code == 404
    upload(as_secretary, joint, PDF, "ケース記録.pdf", joint.items[1])
    kyogitai = client_for(app, "member.kyogitai")
    assert kyogitai.get(f"/sessions/{joint.id}/materials.zip").status_code == 404
    assert "資料をまとめてダウンロード" not in kyogitai.get(f"/sessions/{joint.id}").get_data(
        as_text=True
    )
    admin = client_for(app, "admin")
    assert admin.get(f"/sessions/{joint.id}/materials.zip").status_code == 404


def test_the_session_page_logs_a_closed_material_title_it_shows(app, world, as_secretary):
    """A material narrowed below its item: its title on the session page is confidential
    content read, logged as the item's would be."""
    secretary = person_by_email(world, "secretary@example.jp")
    support = body_named(world, SUPPORT)
    with app.app_context():
        session = make_session(world, SUPPORT)
        data = ItemData(
            title="運営の議題",
            body_id=support.id,
            visibility=Visibility.BODY.value,
            confirm_wider=True,
        )
        agenda.add_item(world, session, data, by=secretary)
    world.add(Pledge(person=secretary, body=support, pledged_on=today()))
    world.commit()
    response = upload(
        as_secretary, session, PDF, "秘資料.pdf", session.items[0], visibility="confidential"
    )
    assert response.status_code == 302
    views = select(AuditEntry).where(
        AuditEntry.action == "view", AuditEntry.session_id == session.id
    )
    before = len(world.scalars(views).all())
    assert "秘資料" in as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert len(world.scalars(views).all()) == before + 1
