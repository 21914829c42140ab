"""Meeting materials (資料): the secretariat's upload page, replacing, narrowing, deleting
after the retention period, and the download of a file.

A file is only ever sent from here, through the policy: never from a static path. A material
the reader may not see, of a session they may not know, or a version of another material is
not found (404). What may be uploaded and kept is ``services/materials.py``'s to decide.
"""

import io
import os
import re
import tempfile
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from renkei.blueprints.common import get_or_404, me, require, session_access_or_404
from renkei.blueprints.fields import (
    IdSelectField,
    InputForm,
    flash_errors,
    none_choice,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.sessions import load_session
from renkei.blueprints.transaction import after_commit, flashed, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Visibility
from renkei.models.materials import MATERIAL_TITLE_LENGTH, Material, MaterialVersion
from renkei.services import material_set, materials, policy
from renkei.services.material_store import store_of
from renkei.services.material_types import ACCEPTED
from renkei.services.zip_stream import safe_name, stream_zip

bp = Blueprint("materials", __name__)

UPLOAD_ENDPOINTS = frozenset({"materials.manage", "materials.replace"})
FORM_ALLOWANCE = 1024 * 1024  # the form's other fields and the multipart framing


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict | None) -> None:
    """A request carrying a material's file may be as large as one (MATERIAL_MAX_BYTES); every
    other keeps to MAX_CONTENT_LENGTH. Larger: 413, a page that says so. Set here, before
    any ``before_request`` (the CSRF check) reads the form."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = int(current_app.config["MATERIAL_MAX_BYTES"]) + FORM_ALLOWANCE


VISIBILITY_HINT = _l(
    "A material is as closed as its agenda item; you can close it further, never open it "
    "wider. A paper of the whole session is for everyone convened, or public when every "
    "body of the session is public."
)


class UploadForm(InputForm):
    item_id = IdSelectField(_l("For"))
    file = FileField(_l("File"), description=_l("PDF, Word, Excel, PowerPoint, images or text."))
    title = StringField(
        _l("Title"),
        description=_l("As the material is listed; leave it empty to use the file name."),
        render_kw={"maxlength": MATERIAL_TITLE_LENGTH},
    )
    visibility = SelectField(
        _l("Who may see it"),
        choices=[none_choice(_l("(as its agenda item)")), *Visibility.choices()],
        default="",
        validate_choice=False,  # the service names a wider choice in plain words
        description=VISIBILITY_HINT,
        validators=[Optional()],
    )


class ReplaceForm(InputForm):
    file = FileField(_l("New file"))


class VisibilityForm(InputForm):
    visibility = SelectField(
        _l("Who may see it"), choices=Visibility.choices, validate_choice=False
    )


class ButtonForm(InputForm):
    pass


def _manageable(session_id: int) -> tuple[MeetingSession, policy.SessionAccess]:
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    return session, access


def _file(field: FileField) -> materials.Upload:
    data = field.data
    if data is None or not hasattr(data, "stream"):
        return materials.Upload(stream=io.BytesIO(), filename="")
    return materials.Upload(stream=data.stream, filename=data.filename)


def _limits() -> materials.Limits:
    return materials.Limits.of(current_app)


@bp.route("/sessions/<int:session_id>/materials", methods=["GET", "POST"])
@login_required
@once
def manage(session_id: int):
    """The session's materials for its secretariat: upload, replace, narrow, delete."""
    db = get_db()
    session, access = _manageable(session_id)
    form = UploadForm()
    items = [item for item in session.items if access.can_see_item(item)]
    form.item_id.choices = [
        none_choice(_l("The whole session (general papers)")),
        *row_choices(items, label=lambda item: f"{item.position}. {item.title}"),
    ]
    if form.is_submitted() and form.validate():
        item = next((i for i in items if i.id == form.item_id.data), None)
        if form.item_id.data is not None and item is None:
            abort(404)
        with shown_on(form) as done:
            materials.upload(
                db,
                session,
                _file(form.file),
                by=me(),
                store=store_of(),
                limits=_limits(),
                item=item,
                title=form.title.data or "",
                visibility=form.visibility.data or None,
            )
        if done:
            shown = url_for("materials.manage", session_id=session.id)
            remember(shown)
            flash(_("The material has been uploaded."), "success")
            return redirect(shown)
    elif not form.is_submitted():
        form.item_id.data = _preselected(items)
    return _render_manage(session, access, form)


def _preselected(items) -> int | None:
    wanted = request.args.get("item", type=int)
    return wanted if any(item.id == wanted for item in items) else None


def _render_manage(session: MeetingSession, access: policy.SessionAccess, form: UploadForm):
    db = get_db()
    status = 400 if form.errors or form.form_errors else 200
    page = render_template(
        "materials/manage.html",
        session=session,
        access=access,
        form=form,
        listing=materials.for_reader(db, session, access),
        deleted=[m for m in materials.deleted(db, session) if access.can_see_material_record(m)],
        retention_ends=materials.retention_ends(session),
        may_delete=materials.may_delete_after_retention(session),
        held_bytes=materials.session_bytes(db, session),
        limits=_limits(),
        size_text=materials.size_text,
        visibilities=policy.material_visibilities,
        accepted=ACCEPTED,
    )
    return page, status


def _material(material_id: int) -> tuple[Material, policy.SessionAccess]:
    """A material the secretariat may change: 404 unless the reader may see it."""
    material = get_or_404(Material, material_id)
    session = load_session(material.session_id)
    access = session_access_or_404(session)
    if not access.can_see_material(material):
        abort(404)
    require(access.can_manage)
    return material, access


def _back(material: Material):
    return redirect(url_for("materials.manage", session_id=material.session_id))


@bp.route("/materials/<int:material_id>/replace", methods=["POST"])
@login_required
def replace(material_id: int):
    material, _access = _material(material_id)
    form = ReplaceForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return _back(material)
    with flashed() as done:
        materials.replace(
            get_db(), material, _file(form.file), by=me(), store=store_of(), limits=_limits()
        )
    if done:
        flash(_("The file has been replaced. The earlier one is kept."), "success")
    return _back(material)


@bp.route("/materials/<int:material_id>/visibility", methods=["POST"])
@login_required
def visibility(material_id: int):
    material, _access = _material(material_id)
    form = VisibilityForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return _back(material)
    with flashed() as done:
        materials.change_visibility(get_db(), material, form.visibility.data, by=me())
    if done:
        flash(_("The changes have been saved."), "success")
    return _back(material)


@bp.route("/sessions/<int:session_id>/materials/delete", methods=["POST"])
@login_required
def delete_after_retention(session_id: int):
    db = get_db()
    session, _access = _manageable(session_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        with flashed() as done:
            hashes = materials.delete_after_retention(db, session, by=me())
        if done:
            store = store_of()
            after_commit(lambda: _forget(store, hashes))
            flash(_("The materials have been deleted. The record of them is kept."), "success")
    return redirect(url_for("materials.manage", session_id=session.id))


def _forget(store, hashes: list[str]) -> None:
    """Once the deletion is committed: remove the files no material still held uses."""
    db = get_db()
    materials.forget_content(db, store, hashes)
    db.rollback()  # only read


@bp.route("/sessions/<int:session_id>/materials/set.pdf")
@login_required
def material_set_pdf(session_id: int):
    """The 資料一式 of the public materials, for the secretariat to print. Written to a
    temporary file (as large as the materials) and streamed from it."""
    db = get_db()
    session, _access = _manageable(session_id)
    # Not a ``with``: the response closes it once sent (and it is deleted on closing).
    out = tempfile.TemporaryFile()  # noqa: SIM115
    with flashed() as done:
        material_set.write_set(db, session, out, by=me(), store=store_of())
    if not done:
        out.close()
        return redirect(url_for("materials.manage", session_id=session.id))
    out.seek(0)
    response = send_file(out, mimetype="application/pdf", conditional=False, etag=False)
    # What a file system refuses in a name (the browser would change it less readably).
    title = re.sub(r'[\\/:*?"<>|]', "_", session.title)
    name = _("Set of materials %(title)s.pdf", title=title)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="session-{session.id}-materials.pdf"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Download ------------------------------------------------------------------------------


@bp.route("/materials/<int:material_id>/download")
@login_required
def download(material_id: int):
    return _send(get_or_404(Material, material_id), None)


@bp.route("/materials/<int:material_id>/versions/<int:material_version_id>/download")
@login_required
def download_version(material_id: int, material_version_id: int):
    version = get_or_404(MaterialVersion, material_version_id)
    return _send(get_or_404(Material, material_id), version)


def _send(material: Material, version: MaterialVersion | None):
    with flashed() as done:  # not found: 404
        delivery = materials.deliver(get_db(), material, version, by=me(), store=store_of())
    if not done:  # a closed PDF that cannot take its watermark is not sent at all
        return redirect(url_for("sessions.show", session_id=material.session_id))
    version = delivery.version
    response = send_file(
        delivery.stream, mimetype=version.media_type, conditional=False, etag=False
    )
    response.headers["Content-Length"] = str(delivery.size)
    return _attachment(response, content_disposition(version.filename, material.id))


def _attachment(response, disposition: str):
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/sessions/<int:session_id>/materials.zip")
@login_required
def download_zip(session_id: int):
    """Every material of the session the reader may see, in one ZIP written as it is sent."""
    session = load_session(session_id)
    session_access_or_404(session)
    entries = materials.zip_entries(get_db(), session, by=me(), store=store_of())
    response = Response(stream_zip(entries), mimetype="application/zip")
    name = safe_name(f"{session.title}_{_('Material')}.zip")
    return _attachment(response, attachment(name, f"session-{session.id}-materials"))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str, material_id: int) -> str:
    """A material's file as an attachment under its own name."""
    return attachment(filename, f"material-{material_id}")


def attachment(filename: str, fallback_stem: str) -> str:
    """An attachment under its own name (RFC 6266; ``filename*`` in UTF-8 per RFC 5987) with
    an ASCII ``filename`` for the few programs that read no other."""
    stem, extension = os.path.splitext(filename)
    # A Japanese name stripped to its ASCII letters says nothing ("1.pdf"): named by id then.
    ascii_stem = _UNSAFE.sub("_", stem).strip("._") if stem.isascii() else ""
    ascii_extension = _UNSAFE.sub("", extension) if extension.isascii() else ""
    fallback = f"{ascii_stem or fallback_stem}{ascii_extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
