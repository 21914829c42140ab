"""Small helpers shared by the views."""

import csv
import io
from urllib.parse import urlsplit

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from renkei.db import get_db
from renkei.services import audit, policy
from renkei.services.errors import DomainError, Forbidden, NotFound


def get_or_404(model, object_id: int):
    found = get_db().get(model, object_id)
    if found is None:
        abort(404)
    return found


def require(allowed: bool) -> None:
    """Refuse the request unless the policy allowed it."""
    if not allowed:
        abort(403)


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's error on its form field, or above the form when it names none."""
    get_db().rollback()
    if isinstance(error, NotFound):
        abort(404)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and not isinstance(error, Forbidden):
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def render_form(template: str, form: FlaskForm, **context):
    """Render a form page; a form with errors answers 400 so scripts and tests notice."""
    status = 400 if form.errors else 200
    return render_template(template, form=form, **context), status


def me():
    return current_user._get_current_object()


def safe_next(target: str | None) -> str:
    """Follow a ?next= only when it stays on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


def audit_actor() -> audit.Actor:
    person = me() if current_user.is_authenticated else None
    return audit.Actor(person=person, ip=request.remote_addr or "")


def audit_log(category: str, action: str, **subject) -> None:
    """Append to the audit log, as the logged-in person, from the request's address."""
    audit.record(get_db(), audit_actor(), category, action, **subject)


def audit_confidential(
    action: str, session, shown, *, subject_type="session", subject_id=None, detail: str = ""
) -> None:
    """Log that confidential content of ``session`` reached the reader: one entry per
    body whose confidential items or sections (``shown``: what the page showed) were in
    it, and commit. A page that showed none is not logged."""
    bodies = sorted({x.body_id for x in policy.confidential_items(shown)})
    for body_id in bodies:
        audit_log(
            audit.CONTENT,
            action,
            subject_type=subject_type,
            subject_id=subject_id if subject_id is not None else session.id,
            body_id=body_id,
            session_id=session.id,
            detail=detail,
        )
    if bodies:
        get_db().commit()


def session_access_or_404(session) -> policy.SessionAccess:
    """The viewer's access to a session; 404 for anyone who may not know it exists."""
    access = policy.session_access(get_db(), me(), session)
    if not access.can_view:
        abort(404)
    return access


def spreadsheet_cell(value):
    """A cell a spreadsheet will not run as a formula (a title may start with "=")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_download(rows, filename: str) -> Response:
    """A CSV file for Excel: UTF-8 with a BOM (so Japanese Windows does not read it as
    Shift_JIS), no cell taken for a formula, kept by no cache."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[spreadsheet_cell(value) for value in row] for row in rows])
    response = Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
