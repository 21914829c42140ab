"""Meeting materials (資料): what may be uploaded, who sees it, versions, numbering,
downloads and deletion after the retention period (services/materials.py)."""

import io
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from renkei.models import (
    AgendaItem,
    AuditEntry,
    Material,
    MaterialVersion,
    Person,
    Pledge,
    SearchKind,
    SessionChange,
    Visibility,
)
from renkei.services import agenda, materials, policy, search
from renkei.services.agenda import Correction, ItemData
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden, NotFound
from renkei.services.material_store import DiskStore
from tests.helpers import body_named, count, person_by_email
from tests.materials_helpers import EXE, HTML, OLE2, PDF, PNG, ooxml, zip_bomb
from tests.sessions_helpers import DAY, LAYER1, SUPPORT, make_session, mark_held

LIMITS = materials.Limits(file_bytes=1000, session_bytes=3000)


@pytest.fixture
def store(tmp_path):
    return DiskStore(tmp_path / "store")


@pytest.fixture
def joint(world, ctx, secretary):
    """A convened joint session of the 支援会議 and the 第1層 協議体: a public item of the
    協議体 and a confidential item of the 支援会議."""
    session = make_session(world, SUPPORT, LAYER1)
    for title, body, visibility in (
        ("公開議題", LAYER1, Visibility.PUBLIC),
        ("個別ケース", SUPPORT, Visibility.CONFIDENTIAL),
    ):
        data = ItemData(
            title=title, body_id=body_named(world, body).id, visibility=visibility.value
        )
        agenda.add_item(world, session, data, by=secretary)
    world.add(Pledge(person=secretary, body=body_named(world, SUPPORT), pledged_on=today()))
    world.flush()
    return session


def put(db, session, content: bytes, name: str, store, by, item=None, **kwargs):
    file = materials.Upload(io.BytesIO(content), name)
    return materials.upload(
        db, session, file, by=by, store=store, limits=LIMITS, item=item, **kwargs
    )


def stored_files(store) -> list:
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


def test_an_upload_is_stored_by_its_hash_and_recorded(world, joint, store, secretary):
    public = joint.items[0]
    material = put(world, joint, PDF, "計画書.pdf", store, secretary, item=public)
    version = material.current
    assert (material.title, material.visibility) == ("計画書", Visibility.PUBLIC)
    assert (version.filename, version.media_type, version.size) == (
        "計画書.pdf",
        "application/pdf",
        len(PDF),
    )
    path = store.root / version.sha256[:2] / version.sha256[2:4] / version.sha256
    assert path.read_bytes() == PDF
    entry = world.scalar(select(AuditEntry).where(AuditEntry.action == "material_uploaded"))
    assert (entry.subject_id, entry.session_id) == (material.id, joint.id)


def test_the_same_content_is_stored_once(world, joint, store, secretary):
    put(world, joint, PDF, "a.pdf", store, secretary)
    put(world, joint, PDF, "b.pdf", store, secretary)
    assert count(world, Material) == 2
    assert len(stored_files(store)) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-" + b"x" * 1000, "big.pdf", "1000 B"),  # over the file limit
        (EXE, "setup.pdf", "この種類のファイル"),
        (HTML, "page.pdf", "この種類のファイル"),
        (HTML, "page.html", "この種類のファイル"),
        (b"#!/bin/sh\nrm -rf /\n", "run.txt", "この種類のファイル"),
        (b"plain words", "disguised.pdf", "拡張子"),
        (b"", "empty.pdf", "空です"),
        (PDF, "../etc/passwd.pdf", "/"),
        (PDF, "folder\\file.pdf", "/"),
        (PDF, "bell\x07.pdf", "使えない文字"),
        (PDF, "長" * 296 + ".pdf", "長すぎます"),
        (PDF, "", "選んでください"),
        (zip_bomb(), "bomb.docx", "展開"),
        (ooxml(content_types=False), "plain.docx", "この種類のファイル"),
        (b"text\x00with nul", "nul.txt", "この種類のファイル"),
        (b"\xff\xfe\xfa broken", "broken.csv", "この種類のファイル"),
        (OLE2, "old.exe", "この種類のファイル"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(
    world, joint, store, secretary, content, name, message
):
    with pytest.raises(DomainError) as refused:
        put(world, joint, content, name, store, secretary, item=joint.items[0])
    assert message in str(refused.value.message)
    world.rollback()
    assert count(world, Material) == count(world, MaterialVersion) == 0
    assert stored_files(store) == []


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [
        (
            ooxml("word/"),
            "議事.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            ooxml("xl/"),
            "予算.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            ooxml("ppt/"),
            "説明.pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (OLE2, "旧様式.xls", "application/vnd.ms-excel"),
        (PNG, "地図.PNG", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "写真.jpeg", "image/jpeg"),
        (b"GIF89a" + b"\x00" * 16, "図.gif", "image/gif"),
        ("番号,名前\r\n1,資料\r\n".encode("cp932"), "一覧.csv", "text/csv"),
        ("\ufeffお知らせ\n".encode(), "お知らせ.txt", "text/plain"),
    ],
)
def test_each_kind_of_paper_is_accepted(world, joint, store, secretary, content, name, media_type):
    material = put(world, joint, content, name, store, secretary)
    assert material.current.media_type == media_type


def test_the_session_limit_counts_every_current_file(world, joint, store, secretary):
    def paper(n: int) -> bytes:
        return PDF + b"%" * (900 - len(PDF)) + bytes([n])

    for n in range(3):
        put(world, joint, paper(n), f"{n}.pdf", store, secretary)
    with pytest.raises(DomainError, match="合計"):
        put(world, joint, paper(3), "one-more.pdf", store, secretary)


def test_an_item_of_another_session_is_not_found(world, joint, store, secretary):
    other = make_session(world, SUPPORT, day=DAY + timedelta(days=1))
    data = ItemData(title="別の議題", body_id=body_named(world, SUPPORT).id)
    item = agenda.add_item(world, other, data, by=secretary)
    with pytest.raises(NotFound):
        put(world, joint, PDF, "a.pdf", store, secretary, item=item)


def test_only_the_secretariat_uploads(world, joint, store):
    member = person_by_email(world, "member.both@example.jp")
    with pytest.raises(Forbidden):
        put(world, joint, PDF, "a.pdf", store, member)
    assert stored_files(store) == []


def test_a_material_is_narrowed_never_widened(world, joint, store, secretary):
    public, secret = joint.items
    narrowed = put(world, joint, PDF, "a.pdf", store, secretary, item=public, visibility="body")
    assert narrowed.visibility is Visibility.BODY
    with pytest.raises(DomainError, match="広く"):
        put(world, joint, PDF, "b.pdf", store, secretary, item=secret, visibility="public")
    general = put(world, joint, PDF, "c.pdf", store, secretary)
    assert general.visibility is Visibility.SESSION  # the 支援会議 is not public
    with pytest.raises(DomainError, match="広く"):
        materials.change_visibility(world, general, "public", by=secretary)
    with pytest.raises(DomainError, match="選んで"):
        materials.change_visibility(world, narrowed, "", by=secretary)
    materials.change_visibility(world, narrowed, "public", by=secretary)
    assert narrowed.visibility is Visibility.PUBLIC


def test_who_sees_a_material_in_a_joint_session(world, joint, store, secretary):
    public, secret = joint.items
    shown = put(world, joint, PDF, "公開.pdf", store, secretary, item=public)
    narrowed = put(
        world, joint, PDF, "協議体.pdf", store, secretary, item=public, visibility="body"
    )
    closed = put(world, joint, PDF, "ケース.pdf", store, secretary, item=secret)

    def seen(email: str) -> set[str]:
        reader = person_by_email(world, email)
        access = policy.session_access(world, reader, joint)
        return {entry.material.title for entry in materials.for_reader(world, joint, access).listed}

    assert seen("member.kyogitai@example.jp") == {shown.title, narrowed.title}
    assert seen("secretary@example.jp") == {shown.title, narrowed.title, closed.title}
    assert seen("admin@example.jp") == {shown.title}
    # The 支援会議's member without a pledge: nor the 協議体's narrowed one (not theirs).
    assert closed.title not in seen("member.both@example.jp")


def test_a_replacement_adds_a_version_and_keeps_the_first(world, joint, store, secretary):
    material = put(world, joint, PDF, "v1.pdf", store, secretary)
    first = material.current
    version = materials.replace(
        world,
        material,
        materials.Upload(io.BytesIO(PNG), "v2.png"),
        by=secretary,
        store=store,
        limits=LIMITS,
    )
    assert [v.number for v in material.versions] == [1, 2]
    assert material.current is version and material.replaced
    assert store.exists(first.sha256) and store.exists(version.sha256)
    actions = world.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == material.id))
    assert list(actions) == ["material_uploaded", "material_replaced"]


def test_the_same_file_again_is_no_replacement(world, joint, store, secretary):
    """A double click on 差し替え, or the current file chosen again: refused, no version."""
    material = put(world, joint, PDF, "v1.pdf", store, secretary)
    world.commit()
    with pytest.raises(DomainError, match="現在の版と同じ"):
        materials.replace(
            world,
            material,
            materials.Upload(io.BytesIO(PDF), "v1-again.pdf"),
            by=secretary,
            store=store,
            limits=LIMITS,
        )
    world.rollback()
    assert [v.number for v in material.versions] == [1] and not material.replaced


def test_materials_are_numbered_in_agenda_order_then_the_general_papers(
    world, joint, store, secretary
):
    public, secret = joint.items
    general = put(world, joint, PDF, "名簿.pdf", store, secretary)
    second = put(world, joint, PDF, "ケース.pdf", store, secretary, item=secret)
    first = put(world, joint, PDF, "計画.pdf", store, secretary, item=public)
    numbers = {e.material.id: e.number for e in materials.numbered(world, joint)}
    assert numbers == {first.id: 1, second.id: 2, general.id: 3}
    # A reader who may not see 資料2 sees a gap, not other numbers.
    admin = person_by_email(world, "admin@example.jp")
    listing = materials.for_reader(world, joint, policy.session_access(world, admin, joint))
    assert [e.number for e in listing.listed] == [1]


def test_a_closed_download_is_audited_and_others_are_not_found(world, joint, store, secretary):
    public, secret = joint.items
    closed = put(world, joint, PDF, "ケース.pdf", store, secretary, item=secret)
    shown = put(world, joint, PDF, "公開.pdf", store, secretary, item=public)
    version, stream = materials.open_for_download(world, closed, None, by=secretary, store=store)
    with stream:
        assert stream.read() == PDF
    downloads = select(AuditEntry).where(AuditEntry.action == "material_downloaded")
    assert [e.subject_id for e in world.scalars(downloads)] == [closed.id]
    materials.open_for_download(world, shown, None, by=secretary, store=store)[1].close()
    assert len(world.scalars(downloads).all()) == 1  # a public material is not audited
    kyogitai = person_by_email(world, "member.kyogitai@example.jp")
    with pytest.raises(NotFound):
        materials.open_for_download(world, closed, None, by=kyogitai, store=store)
    with pytest.raises(NotFound):  # a version of another material
        materials.open_for_download(world, shown, version, by=secretary, store=store)


def _set_retention(world, years):
    for name in (SUPPORT, LAYER1):
        body_named(world, name).retention_years = years
    world.flush()


def test_deletion_waits_for_the_retention_period(world, joint, store, secretary):
    put(world, joint, PDF, "a.pdf", store, secretary)
    with pytest.raises(DomainError, match="永年保存"):
        materials.delete_after_retention(world, joint, by=secretary)
    _set_retention(world, 5)
    ends = materials.retention_ends(joint)
    with pytest.raises(DomainError, match="まで保存"):
        materials.delete_after_retention(world, joint, by=secretary, on=ends - timedelta(days=1))


def test_deletion_after_retention_keeps_the_record_and_shared_content(
    world, joint, store, secretary
):
    _set_retention(world, 5)
    other = make_session(world, LAYER1, day=DAY + timedelta(days=1))
    shared = put(world, other, PNG, "共有.png", store, secretary)
    gone = put(world, joint, PDF, "a.pdf", store, secretary)
    kept = put(world, joint, PNG, "b.png", store, secretary)
    hashes = materials.delete_after_retention(
        world, joint, by=secretary, on=materials.retention_ends(joint)
    )
    world.commit()
    materials.forget_content(world, store, hashes)
    assert gone.is_deleted and kept.is_deleted and not shared.is_deleted
    assert not store.exists(gone.current.sha256)
    assert store.exists(shared.current.sha256)  # the other session still hands it out
    assert count(world, Material) == 3  # the record stays
    assert materials.numbered(world, joint) == []
    deleted = select(AuditEntry).where(AuditEntry.action == "material_deleted")
    assert {e.subject_id for e in world.scalars(deleted)} == {gone.id, kept.id}
    access = policy.session_access(world, secretary, joint)
    assert not access.can_see_material(gone) and access.can_see_material_record(gone)


def test_only_the_secretariat_deletes(world, joint, store, secretary):
    _set_retention(world, 1)
    member = world.scalar(select(Person).where(Person.email == "member.both@example.jp"))
    with pytest.raises(Forbidden):
        materials.delete_after_retention(world, joint, by=member, on=date(2100, 1, 1))


# --- An agenda item deleted (services/agenda.py) ----------------------------------------------

HAS_MATERIALS = "議題2には資料があるため、削除できません。"


def _stored_state(world, session) -> tuple:
    """The items, the materials and their item, the history and the audit log, as stored."""
    world.expire_all()
    items = world.scalars(
        select(AgendaItem.id).where(AgendaItem.session_id == session.id).order_by(AgendaItem.id)
    ).all()
    rows = world.execute(
        select(Material.id, Material.agenda_item_id, Material.deleted_at).order_by(Material.id)
    ).all()
    return items, rows, count(world, SessionChange), count(world, AuditEntry)


@pytest.mark.parametrize("held", [False, True])
def test_an_item_with_materials_is_not_deleted(world, joint, store, secretary, held):
    item = joint.items[1]
    material = put(world, joint, PDF, "ケース概要.pdf", store, secretary, item=item)
    correction = None
    if held:  # after the session too, asked for as a correction
        mark_held(world, joint)
        correction = Correction("誤って登録した議題のため")
    world.commit()
    before = _stored_state(world, joint)
    with pytest.raises(DomainError) as refused:
        agenda.delete_item(world, item, by=secretary, correction=correction)
    assert HAS_MATERIALS in str(refused.value.message)
    world.rollback()
    assert _stored_state(world, joint) == before
    assert world.get(AgendaItem, item.id) is not None
    assert world.get(Material, material.id).agenda_item_id == item.id
    assert store.exists(material.current.sha256)


def test_an_item_whose_materials_were_deleted_keeps_their_record(world, joint, store, secretary):
    _set_retention(world, 5)
    public, case = joint.items
    paper = put(world, joint, PDF, "ケース概要.pdf", store, secretary, item=case)
    # Narrowed from public when its material was already uploaded: the material itself
    # stayed public, which the item's visibility closed while it had one.
    plan = put(world, joint, PNG, "計画.png", store, secretary, item=public)
    public.visibility = Visibility.BODY
    ends = materials.retention_ends(joint)
    hashes = materials.delete_after_retention(world, joint, by=secretary, on=ends)
    world.commit()
    materials.forget_content(world, store, hashes)
    deleted_at = paper.deleted_at

    agenda.delete_item(world, case, by=secretary)
    agenda.delete_item(world, public, by=secretary)
    world.commit()
    world.expire_all()

    assert joint.items == []
    paper, plan = world.get(Material, paper.id), world.get(Material, plan.id)
    assert materials.deleted(world, joint) == [paper, plan]  # the record of what there was
    assert (paper.agenda_item_id, paper.deleted_at) == (None, deleted_at)
    assert (paper.visibility, plan.visibility) == (Visibility.CONFIDENTIAL, Visibility.BODY)
    assert count(world, MaterialVersion) == 2
    moved = world.scalars(
        select(AuditEntry).where(AuditEntry.action == "material_detached").order_by(AuditEntry.id)
    ).all()
    assert [(e.subject_id, e.body_id) for e in moved] == [
        (paper.id, body_named(world, SUPPORT).id),
        (plan.id, body_named(world, LAYER1).id),
    ]
    assert [e.detail for e in moved] == [
        "position 2 visibility confidential",
        "position 1 visibility body",
    ]
    # No one reads the record who could not before: the 協議体's item was for its members,
    # so neither an administrator nor a member of the 支援会議 alone reads it now.
    for email in ("admin@example.jp", "chair.support@example.jp"):
        access = policy.session_access(world, person_by_email(world, email), joint)
        assert not access.can_see_material_record(plan)
    # Still deleted: no number, no download, no file; a later run has nothing more to delete.
    assert materials.numbered(world, joint) == []
    assert not store.exists(paper.current.sha256)
    assert materials.delete_after_retention(world, joint, by=secretary, on=ends) == []
    assert paper.deleted_at == deleted_at


# --- The text for the search (services/material_text.py) ------------------------------------


def _docx(text: str) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", document + "</w:body></w:document>")
    return buffer.getvalue()


def _text_of(db, version_id: int) -> str | None:
    return db.scalar(select(MaterialVersion.text).where(MaterialVersion.id == version_id))


def test_the_text_of_each_file_is_kept_on_upload_and_replacement(world, joint, store, secretary):
    material = put(world, joint, "買い物支援の報告".encode(), "報告.txt", store, secretary)
    first = material.current
    second = materials.replace(
        world,
        material,
        materials.Upload(io.BytesIO(_docx("買い物支援の報告（修正）")), "報告.docx"),
        by=secretary,
        store=store,
        limits=LIMITS,
    )
    image = put(world, joint, PNG, "図.png", store, secretary)
    world.commit()
    assert _text_of(world, first.id) == "買い物支援の報告"
    assert _text_of(world, second.id) == "買い物支援の報告（修正）"
    assert _text_of(world, image.current.id) == ""  # read: no text, not "to be read"


def test_a_content_already_read_is_not_read_again(world, joint, store, secretary, monkeypatch):
    put(world, joint, "共有の資料".encode(), "a.txt", store, secretary)
    monkeypatch.setattr(materials.material_text, "extract", lambda *_: pytest.fail("read again"))
    again = put(world, joint, "共有の資料".encode(), "b.txt", store, secretary)
    assert _text_of(world, again.current.id) == "共有の資料"


def test_a_file_that_cannot_be_read_is_kept_without_text(world, joint, store, secretary):
    material = put(world, joint, PDF, "a.pdf", store, secretary)  # a PDF without pages
    assert _text_of(world, material.current.id) == ""


def test_deletion_after_retention_removes_the_text(world, joint, store, secretary):
    _set_retention(world, 5)
    material = put(world, joint, "保存期間のある資料".encode(), "a.txt", store, secretary)
    materials.delete_after_retention(world, joint, by=secretary, on=materials.retention_ends(joint))
    world.commit()
    assert _text_of(world, material.current.id) is None
    assert materials.read_missing_texts(world, store) == (0, 0)  # and it is not read again


def test_files_stored_before_are_read_by_the_backfill(world, joint, store, secretary):
    older = [
        put(world, joint, f"以前の資料{n}".encode(), f"{n}.txt", store, secretary) for n in range(5)
    ]
    shared = put(world, joint, "以前の資料0".encode(), "copy.txt", store, secretary)
    lost = put(world, joint, "消えたファイル".encode(), "lost.txt", store, secretary)
    world.commit()
    world.execute(update(MaterialVersion).values(text=None))
    world.commit()
    store.delete(lost.current.sha256)

    assert materials.read_missing_texts(world, store, batch=2) == (6, 1)
    world.expire_all()
    for n, material in enumerate(older):
        assert _text_of(world, material.current.id) == f"以前の資料{n}"
    assert _text_of(world, shared.current.id) == "以前の資料0"
    assert _text_of(world, lost.current.id) is None
    assert materials.read_missing_texts(world, store) == (0, 1)  # again: nothing more to do


def test_the_search_finds_a_material_by_the_text_of_its_current_file(
    world, joint, store, secretary
):
    """The text read on upload reaches the search index in the same transaction; a
    replacement takes the old file's words out of it."""
    public = joint.items[0]
    material = put(
        world, joint, "移動販売ゼクロスの報告".encode(), "報告.txt", store, secretary, item=public
    )
    world.commit()

    def found(word: str) -> list[int]:
        results = search.search(world, secretary, search.Query(text=word))
        return [
            hit.entry.object_id for hit in results.hits if hit.entry.kind is SearchKind.MATERIAL
        ]

    assert found("ゼクロス") == [material.id]
    materials.replace(
        world,
        material,
        materials.Upload(io.BytesIO("差し替えた資料".encode()), "報告.txt"),
        by=secretary,
        store=store,
        limits=LIMITS,
    )
    world.commit()
    assert found("ゼクロス") == []
    assert found("差し替え") == [material.id]
