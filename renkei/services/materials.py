"""Meeting materials (資料): upload, replace, narrow, number, read and, after the retention
period, delete.

Who may see a material is the policy's (``SessionAccess.can_see_material``): as closed as
its item, and narrower if the secretariat says so. The secretariat of the session uploads
and replaces; every upload, replacement, deletion and every download of a closed material
goes to the audit log. Files go to the material store (services/material_store.py) only
after every check has passed, so a refused file leaves nothing behind.
"""

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO, cast

from flask import Flask
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.i18n import format_tokyo
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    MaterialRef,
    MeetingSession,
    MinutesStatus,
    MinutesVersion,
    Person,
    Visibility,
)
from renkei.models.materials import MATERIAL_TITLE_LENGTH, Material, MaterialVersion
from renkei.services import audit, material_text, pdf_tools, policy, prints
from renkei.services.dates import in_tokyo, today
from renkei.services.disk import refused_when_full
from renkei.services.errors import DomainError, Forbidden, NotFound
from renkei.services.material_store import MaterialStore, TooLarge
from renkei.services.material_types import check_file
from renkei.services.zip_stream import Opener
from renkei.textnorm import one_line


@dataclass(frozen=True)
class Upload:
    """A file as it came in: a seekable binary stream and the name it was sent under."""

    stream: BinaryIO
    filename: str | None


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    session_bytes: int

    @classmethod
    def of(cls, app: Flask) -> "Limits":
        return cls(app.config["MATERIAL_MAX_BYTES"], app.config["MATERIALS_MAX_SESSION_BYTES"])


def size_text(size: int) -> str:
    """A size as people read it: 20 MB, 512 KB, 900 B."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} B"


# --- Changing ------------------------------------------------------------------------------


def upload(
    db: Session,
    session: MeetingSession,
    file: Upload,
    *,
    by: Person,
    store: MaterialStore,
    limits: Limits,
    item: AgendaItem | None = None,
    title: str = "",
    visibility: str | None = None,
) -> Material:
    """Add a material to ``item`` (None: to the session's general papers)."""
    _require_manage(db, session, by)
    if item is not None and item.session_id != session.id:
        raise NotFound(_l("The agenda item does not exist."))
    chosen = _visibility(session, item, visibility)
    version = _new_version(db, session, file, by=by, store=store, limits=limits, title=title)
    material = Material(
        session=session,
        agenda_item=item,
        position=_next_position(db, session),
        title=_title(title, version.filename),
        visibility=chosen,
        created_by_id=by.id,
    )
    version.number = 1
    material.versions.append(version)
    db.add(material)
    db.flush()
    session.note_change()  # once convened: the next change notice lists it
    _log(db, material, by, "material_uploaded")
    return material


def replace(
    db: Session,
    material: Material,
    file: Upload,
    *,
    by: Person,
    store: MaterialStore,
    limits: Limits,
) -> MaterialVersion:
    """Replace the material's file (差し替え): a new version; the earlier ones stay."""
    session = material.session
    _require_manage(db, session, by)
    if material.is_deleted:
        raise DomainError(_l("This material has been deleted and cannot be replaced."))
    version = _new_version(
        db, session, file, by=by, store=store, limits=limits, replacing=material.current
    )
    if version.sha256 == material.current.sha256:
        # A second submission of the same form, or the same file chosen again: no new version.
        raise DomainError(_l("This file is the same as the current one; nothing was replaced."))
    version.number = material.current.number + 1
    material.versions.append(version)
    session.note_change()
    db.flush()
    _log(db, material, by, "material_replaced", detail=f"version={version.number}")
    return version


def change_visibility(db: Session, material: Material, visibility: str, *, by: Person) -> None:
    """Narrow (or undo a narrowing of) a material: never wider than its item."""
    _require_manage(db, material.session, by)
    if not visibility:  # a choice must be made: nothing is widened by an empty form
        raise DomainError(_l("Choose who may see the material."), "visibility")
    chosen = _visibility(material.session, material.agenda_item, visibility)
    if chosen is material.visibility:
        return
    material.visibility = chosen
    material.session.note_change()  # who may see it changed: they are told
    db.flush()
    _log(db, material, by, "material_visibility", detail=f"visibility={chosen.value}")


def _require_manage(db: Session, session: MeetingSession, by: Person) -> None:
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(_l("Only the secretariat of the session may change its materials."))


def _visibility(session: MeetingSession, item: AgendaItem | None, value: str | None) -> Visibility:
    allowed = policy.material_visibilities(session, item)
    if not value:
        return allowed[0]
    try:
        chosen = Visibility(value)
    except ValueError:
        raise DomainError(_l("Choose who may see the material."), "visibility") from None
    if chosen not in allowed:
        raise DomainError(
            _l("A material cannot be seen more widely than its agenda item."), "visibility"
        )
    return chosen


def _title(title: str, filename: str) -> str:
    title = one_line(title or "") or os.path.splitext(filename)[0] or filename
    if len(title) > MATERIAL_TITLE_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=MATERIAL_TITLE_LENGTH), "title")
    return title


def _new_version(
    db: Session,
    session: MeetingSession,
    file: Upload,
    *,
    by: Person,
    store: MaterialStore,
    limits: Limits,
    title: str = "",
    replacing: MaterialVersion | None = None,
) -> MaterialVersion:
    """Check the file (size, the session's total, name, type by content), then store it."""
    size = _size(file.stream)
    if size > limits.file_bytes:
        raise DomainError(_too_large(limits.file_bytes), "file")
    _title(title, "-")  # a title too long is said before the file is read
    held = session_bytes(db, session) - (replacing.size if replacing is not None else 0)
    if held + size > limits.session_bytes:
        raise DomainError(
            _l(
                "The session's materials would exceed %(max)s in all. Remove or shrink "
                "some files first.",
                max=size_text(limits.session_bytes),
            ),
            "file",
        )
    checked = check_file(file.stream, file.filename)
    try:
        # A full disk: the store has removed its temporary file; no row is written.
        with refused_when_full("file"):
            sha256, stored = store.put(file.stream, max_bytes=limits.file_bytes)
    except TooLarge:
        raise DomainError(_too_large(limits.file_bytes), "file") from None
    return MaterialVersion(
        filename=checked.filename,
        media_type=checked.media_type,
        size=stored,
        sha256=sha256,
        uploaded_by_id=by.id,
        uploaded_at=utcnow(),
        text=_text(db, sha256, file.stream, checked.filename),
    )


def _text(db: Session, sha256: str, stream: BinaryIO, filename: str) -> str:
    """The file's text for the search: that of a version with the same content if one was
    read already (a paper shared between sessions), else read from ``stream`` now."""
    known = db.scalar(
        select(MaterialVersion.text)
        .where(MaterialVersion.sha256 == sha256, MaterialVersion.text.is_not(None))
        .limit(1)
    )
    if known is not None:
        return known
    stream.seek(0)
    # A file over the limit is not read (its size was checked against the upload limit).
    data = stream.read(material_text.MAX_BYTES + 1)
    return material_text.extract(data, filename)


def _too_large(limit: int) -> str:
    return _l("The file is larger than %(max)s. Upload a smaller file.", max=size_text(limit))


def _size(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def session_bytes(db: Session, session: MeetingSession) -> int:
    """What the session's materials take up: the current file of each one not deleted."""
    return sum(m.current.size for m in _live(db, session))


def _next_position(db: Session, session: MeetingSession) -> int:
    positions = db.scalars(select(Material.position).where(Material.session_id == session.id))
    return max(positions, default=0) + 1


def _log(db: Session, material: Material, by: Person, action: str, detail: str = "") -> None:
    session = material.session
    audit.record(
        db,
        by,
        audit.CONTENT,
        action,
        subject_type="material",
        subject_id=material.id,
        body_id=material.body_id or session.host_body_id,
        session_id=session.id,
        detail=detail,
    )


# --- Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A material with its number in the session (資料1, 資料2, …)."""

    material: Material
    number: int


@dataclass
class SessionMaterials:
    """The materials of a session a reader may see: per item, the general papers, and all
    of them in number order (the 資料一覧)."""

    by_item: dict[int, list[Listed]] = field(default_factory=dict)
    general: list[Listed] = field(default_factory=list)
    listed: list[Listed] = field(default_factory=list)


def _live(db: Session, session: MeetingSession) -> list[Material]:
    return list(
        db.scalars(
            select(Material)
            .where(Material.session_id == session.id, Material.deleted_at.is_(None))
            .options(selectinload(Material.versions))
        )
    )


def numbered(db: Session, session: MeetingSession) -> list[Listed]:
    """Every material of the session not deleted, numbered 資料1, 資料2, … in agenda order
    (each item's in the order uploaded), then the session's general papers. The numbers
    are the same for every reader, so that the 次第, the session page and the printed set
    agree; a reader who may not see one sees a gap."""
    items = {item.id: item.position for item in session.items}
    last = len(items) + 1

    def place(material: Material) -> tuple[int, int]:
        item_id = material.agenda_item_id
        return (items.get(item_id, last) if item_id is not None else last, material.position)

    ordered = sorted(_live(db, session), key=place)
    return [Listed(material, number) for number, material in enumerate(ordered, start=1)]


def for_reader(
    db: Session, session: MeetingSession, access: policy.SessionAccess
) -> SessionMaterials:
    found = SessionMaterials()
    for listed in numbered(db, session):
        if not access.can_see_material(listed.material):
            continue
        found.listed.append(listed)
        item_id = listed.material.agenda_item_id
        if item_id is None:
            found.general.append(listed)
        else:
            found.by_item.setdefault(item_id, []).append(listed)
    return found


def deleted(db: Session, session: MeetingSession) -> list[Material]:
    """The record of the materials deleted after the retention period (secretariat)."""
    return list(
        db.scalars(
            select(Material)
            .where(Material.session_id == session.id, Material.deleted_at.is_not(None))
            .options(selectinload(Material.versions))
            .order_by(Material.position)
        )
    )


def is_closed(material: Material) -> bool:
    """Not public, by its own visibility or its item's: each download is audited."""
    item = material.agenda_item
    return material.visibility is not Visibility.PUBLIC or (
        item is not None and item.visibility is not Visibility.PUBLIC
    )


def open_for_download(
    db: Session,
    material: Material,
    version: MaterialVersion | None,
    *,
    by: Person,
    store: MaterialStore,
) -> tuple[MaterialVersion, BinaryIO]:
    """The file of the material's current version (or of ``version``: the secretariat's,
    for earlier ones, and anyone's who may see the material for one that approved minutes
    cite) for ``by``; NotFound for anyone the policy does not let see it."""
    access = policy.session_access(db, by, material.session)
    if not (access.can_view and access.can_see_material(material)):
        raise NotFound(_l("The material does not exist."))
    if version is None:
        version = material.current
    elif version.material_id != material.id or not (
        access.can_manage or _cited_when_approved(db, version)
    ):
        raise NotFound(_l("The material does not exist."))
    if not store.exists(version.sha256):
        raise NotFound(_l("The material does not exist."))
    if is_closed(material):
        _log(db, material, by, "material_downloaded", detail=f"version={version.number}")
    return version, store.open(version.sha256)


PDF = "application/pdf"
# A watermarked PDF is built in memory up to this size, then in a temporary file.
SPOOL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    """What a download sends: the version, its content (watermarked or the stored file)
    and that content's size."""

    version: MaterialVersion
    stream: BinaryIO
    size: int


def deliver(
    db: Session,
    material: Material,
    version: MaterialVersion | None,
    *,
    by: Person,
    store: MaterialStore,
    now: datetime | None = None,
) -> Delivery:
    """The file of ``open_for_download``, a closed PDF watermarked for ``by`` (``DomainError``
    if it cannot be read as a PDF: a closed PDF never leaves without its watermark)."""
    version, stream = open_for_download(db, material, version, by=by, store=store)
    if not needs_watermark(material, version):
        return Delivery(version, stream, version.size)
    out = watermarked(stream, watermark_lines(material, by, now or utcnow()))
    return Delivery(version, out, _size(out))


def needs_watermark(material: Material, version: MaterialVersion) -> bool:
    return is_closed(material) and version.media_type == PDF


def watermark_lines(material: Material, reader: Person, now: datetime) -> list[str]:
    """The reader and the time, and the prints' mark (秘, 取扱注意) for content closed to all
    but the owning body: the material's own visibility and its item's, the stricter."""
    shown: list[policy.Closable] = [material]
    if material.agenda_item is not None:
        shown.append(material.agenda_item)
    mark = prints.mark_for(shown)
    line = _("Downloaded by %(name)s on %(when)s", name=reader.name, when=format_tokyo(now))
    return [str(mark.label), line] if mark is not None else [line]


def watermarked(source: BinaryIO, lines: list[str]) -> BinaryIO:
    """``source`` watermarked into a temporary file (in memory while small), at its start;
    ``source`` is closed and the stored original never written."""
    # Not a context manager: the file is handed on open, and send_file closes it when sent.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    out = cast(BinaryIO, spool)  # the binary file it is, which typeshed does not say
    try:
        with source:
            pdf_tools.watermark(source, out, lines)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


# --- The ZIP of a session's materials --------------------------------------------------------


def zip_entries(
    db: Session,
    session: MeetingSession,
    *,
    by: Person,
    store: MaterialStore,
    now: datetime | None = None,
) -> list[tuple[str, Opener]]:
    """The current file of every material of ``session`` that ``by`` may see, as (name in
    the ZIP, opener) pairs: 「資料1_計画.pdf」, closed PDFs watermarked as one by one. Each
    closed material is audited as downloaded. The openers read the store only (they run
    while the response streams, after the request's transaction). NotFound if there is
    nothing to give."""
    access = policy.session_access(db, by, session)
    listed = for_reader(db, session, access).listed if access.can_view else []
    present = [entry for entry in listed if store.exists(entry.material.current.sha256)]
    if not present:
        raise NotFound(_l("The material does not exist."))
    now = now or utcnow()
    entries = []
    for entry in present:
        material, version = entry.material, entry.material.current
        if is_closed(material):
            _log(db, material, by, "material_downloaded", detail=f"version={version.number} zip")
        lines = watermark_lines(material, by, now) if needs_watermark(material, version) else None
        name = f"{_('Material %(n)d', n=entry.number)}_{version.filename}"
        entries.append((name, _opener(store, version.sha256, lines)))
    return entries


def _opener(store: MaterialStore, sha256: str, lines: list[str] | None) -> Opener:
    if lines is None:
        return lambda: store.open(sha256)
    return lambda: watermarked(store.open(sha256), lines)


def _cited_when_approved(db: Session, version: MaterialVersion) -> bool:
    """Whether approved minutes cite this file (services/material_refs.py): those who may
    see the material may then have it as it was approved, after a 差し替え too."""
    cited = exists().where(
        MaterialRef.material_version_id == version.id,
        MaterialRef.version_id == MinutesVersion.id,
        MinutesVersion.status == MinutesStatus.APPROVED,
    )
    return bool(db.scalar(select(cited)))


# --- An agenda item deleted -----------------------------------------------------------------
#
# A material's row goes with its item in the database (``ON DELETE CASCADE``), and with it
# its versions and the approved minutes' references to them, while its file stays in the
# store. So an item is deleted only once none of its materials is held any more, and the
# record of those deleted after the retention period is kept first (services/agenda.py).


def held_for(db: Session, item: AgendaItem) -> bool:
    """Whether a material of ``item`` is still held (not deleted after the retention period):
    the item may not be deleted then, or the material would be lost with it."""
    held = exists().where(Material.agenda_item_id == item.id, Material.deleted_at.is_(None))
    return bool(db.scalar(select(held)))


def keep_records(db: Session, item: AgendaItem, *, by: Person) -> None:
    """Before ``item`` is deleted: the records of its materials deleted after the retention
    period become papers of the whole session, so that they outlive it. Each is narrowed to
    its item's visibility when it was wider (``policy.visibility_without_item``: no one
    reads the record who could not before), and the move goes to the item's body's log,
    where the material's uploads and its deletion are."""
    records = db.scalars(
        select(Material).where(Material.agenda_item_id == item.id, Material.deleted_at.is_not(None))
    ).all()  # read before the audit log's own statements run
    for material in records:
        visibility = policy.visibility_without_item(material)
        _log(
            db,
            material,
            by,
            "material_detached",
            detail=f"position {item.position} visibility {visibility.value}",
        )
        material.visibility, material.agenda_item = visibility, None
    db.flush()


# --- Retention -----------------------------------------------------------------------------


def retention_ends(session: MeetingSession) -> date | None:
    """The day from which the session's materials may be deleted: its date plus the longest
    retention period (保存年限) of the bodies it served; None while any keeps them for ever."""
    years = [body.retention_years for body in session.bodies]
    if not years or any(y is None for y in years):
        return None
    day = in_tokyo(session.start_at).date()
    added = day.year + max(y for y in years if y is not None)
    return day.replace(year=added) if (day.month, day.day) != (2, 29) else date(added, 3, 1)


def may_delete_after_retention(session: MeetingSession, on: date | None = None) -> bool:
    ends = retention_ends(session)
    return ends is not None and (on or today()) >= ends


def delete_after_retention(
    db: Session, session: MeetingSession, *, by: Person, on: date | None = None
) -> list[str]:
    """Delete the session's materials once the retention period has passed. The rows stay,
    marked deleted, as the record of what there was; the hashes returned are the files no
    material still held refers to, for ``forget_content`` once this is committed."""
    _require_manage(db, session, by)
    ends = retention_ends(session)
    if ends is None:
        raise DomainError(
            _l("The bodies of this session keep their materials without a time limit.")
        )
    if (on or today()) < ends:
        raise DomainError(
            _l("The materials must be kept until %(date)s.", date=ends.strftime("%Y-%m-%d"))
        )
    live = _live(db, session)
    now = utcnow()
    for material in live:
        material.deleted_at, material.deleted_by_id = now, by.id
        for version in material.versions:
            version.text = None  # the text is the content: it goes with it
        _log(db, material, by, "material_deleted")
    db.flush()
    return unreferenced(db, {v.sha256 for m in live for v in m.versions})


def read_missing_texts(db: Session, store: MaterialStore, batch: int = 100) -> tuple[int, int]:
    """Read the text of every file stored before texts were (``text`` None) of a material
    not deleted, ``batch`` versions at a time, each batch committed (a long run can be
    stopped and started again). Returns (versions read, versions whose file is missing from
    the store: left None). Versions sharing a content are read once."""
    read = missing = last = 0
    texts: dict[str, str] = {}
    while True:
        rows = db.execute(
            select(MaterialVersion.id, MaterialVersion.sha256, MaterialVersion.filename)
            .join(Material)
            .where(
                MaterialVersion.id > last,
                MaterialVersion.text.is_(None),
                Material.deleted_at.is_(None),
            )
            .order_by(MaterialVersion.id)
            .limit(batch)
        ).all()
        if not rows:
            return read, missing
        found = []
        for version_id, sha256, filename in rows:
            last = version_id
            if sha256 not in texts:
                if not store.exists(sha256):
                    missing += 1
                    continue
                with store.open(sha256) as file:
                    data = file.read(material_text.MAX_BYTES + 1)
                texts[sha256] = material_text.extract(data, filename)
            found.append({"id": version_id, "text": texts[sha256]})
        if found:
            db.execute(update(MaterialVersion), found)  # by primary key, one executemany
        db.commit()
        read += len(found)
        if len(texts) > 10 * batch:
            texts.clear()  # memory stays flat over a long run


def unreferenced(db: Session, hashes: Iterable[str]) -> list[str]:
    """Those of ``hashes`` no version of a material still held refers to."""
    hashes = set(hashes)
    if not hashes:
        return []
    held = set(
        db.scalars(
            select(MaterialVersion.sha256)
            .join(Material)
            .where(MaterialVersion.sha256.in_(hashes), Material.deleted_at.is_(None))
        )
    )
    return sorted(hashes - held)


def forget_content(db: Session, store: MaterialStore, hashes: Iterable[str]) -> None:
    """Remove the files of ``hashes`` that are still unreferenced (asked again: a material
    uploaded meanwhile may share one)."""
    for sha256 in unreferenced(db, hashes):
        store.delete(sha256)
