"""Small helpers shared by the views."""

from urllib.parse import urlsplit

from flask import Response, abort, current_app, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from renkei.blueprints.templating import has_errors
from renkei.db import get_db
from renkei.links import Links
from renkei.services import audit, policy, spreadsheets


def get_or_404(model, object_id: int):
    found = get_db().get(model, object_id)
    if found is None:
        abort(404)
    return found


def require(allowed: bool) -> None:
    """Refuse the request unless the policy allowed it."""
    if not allowed:
        abort(403)


def render_form(template: str, form: FlaskForm, **context):
    """Render a form page; a form with errors answers 400 so scripts and tests notice."""
    status = 400 if has_errors(form) else 200
    return render_template(template, form=form, **context), status


def me():
    return current_user._get_current_object()


def links() -> Links:
    """Addresses of pages for mail, calendar files and feeds: on BASE_URL, not on the host
    this request came to."""
    return Links.of(current_app)


def safe_next(target: str | None) -> str:
    """Follow a ?next= only when it stays on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


def audit_confidential(
    action: str, session, shown, *, subject_type="session", subject_id=None, detail: str = ""
) -> None:
    """Log that the page showed confidential content of ``session`` (``shown``: the items or
    sections on it) to the logged-in reader. A page that showed none is not logged."""
    audit.content_shown(
        get_db(),
        me(),
        action,
        session,
        shown,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
    )


def session_access_or_404(session) -> policy.SessionAccess:
    """The viewer's access to a session; 404 for anyone who may not know it exists."""
    access = policy.session_access(get_db(), me(), session)
    if not access.can_view:
        abort(404)
    return access


def csv_download(rows, filename: str, encoding: str = spreadsheets.UTF8) -> Response:
    """A CSV file for Excel (services/spreadsheets.py: no cell taken for a formula)."""
    return csv_response(spreadsheets.encode_csv(rows, encoding), filename, encoding)


def csv_response(data: bytes, filename: str, encoding: str = spreadsheets.UTF8) -> Response:
    """A CSV file already encoded by services/spreadsheets.py, kept by no cache."""
    charset = "Shift_JIS" if encoding == spreadsheets.CP932 else "utf-8"
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Type"] = f"text/csv; charset={charset}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
