"""Error pages in the reader's language, never a stack trace."""

from flask import Flask, Response, current_app, g, make_response, render_template
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from renkei.i18n import gettext as _
from renkei.services.disk import DISK_FULL, is_disk_full
from renkei.services.errors import DomainError, Forbidden, NotFound


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # A service's refusal means the same wherever it is raised (renkei.blueprints.transaction).
    app.register_error_handler(NotFound, lambda _e: _http_error(exceptions.NotFound()))
    app.register_error_handler(Forbidden, lambda _e: _http_error(exceptions.Forbidden()))
    app.register_error_handler(DomainError, _domain_error)
    for lost in UNAVAILABLE:
        app.register_error_handler(lost, database_unavailable)


def _page(status: int, title: str, message: str):
    return render_template("errors/error.html", title=title, message=message), status


def _csrf_error(_error):
    return _page(
        400,
        _("The page has expired"),
        _(
            "For your safety, the form could not be accepted. Nothing has been saved. "
            "Go back, reload the page and send it again."
        ),
    )


def _domain_error(error: DomainError):
    """A rule broken where no view expected it: say which, on a page that keeps nothing."""
    return _page(400, _("Nothing has been saved"), str(error.message))


def _http_error(error: HTTPException):
    if isinstance(error, exceptions.InternalServerError) and is_disk_full(error.original_exception):
        return _disk_full()
    messages = {
        400: (_("Bad request"), _("The request could not be understood. Nothing has been saved.")),
        403: (_("Not allowed"), _("You do not have permission for this page or action.")),
        404: (_("Not found"), _("This page does not exist, or you cannot see it.")),
        405: (_("Not allowed"), _("This action cannot be done this way.")),
        413: (
            _("Too large"),
            _("What was sent is too large. Nothing has been saved. Send a smaller file."),
        ),
    }
    title, message = messages.get(
        error.code or 500, (_("Something went wrong"), _("Please try again later."))
    )
    page, status = _page(error.code or 500, title, message)
    # The error's own headers (Allow on a 405, Retry-After, …) stay; the page is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return page, status, headers


# What the driver raises when the database does not answer or the connection broke (psycopg:
# OperationalError; InterfaceError for a connection already closed on our side).
UNAVAILABLE = (OperationalError, InterfaceError)

# Seconds a browser or proxy is told to wait before trying again after a 503.
RETRY_AFTER = 10


def database_unavailable(error: DBAPIError) -> Response:
    """The database did not answer (restarting, unreachable, SQLite locked too long): a 503
    page that says so, a line in the log rather than a traceback (the cause is outside the
    app), and the request's writes rolled back (status >= 400). The page asks the database
    nothing: the visitor is drawn as anonymous, so no login is looked up. A database that
    refuses a write for a full disk (SQLite and psycopg raise OperationalError for it too)
    is answering: that page says the disk is full."""
    if is_disk_full(error):
        return _disk_full()
    first_line = (str(error.orig).strip().splitlines() or [""])[0]
    current_app.logger.warning("database unavailable: %s", first_line)
    g._login_user = AnonymousUserMixin()
    page, status = _page(
        503,
        _("Temporarily unavailable"),
        _(
            "The database is not answering at the moment. What you sent has not been saved. "
            "Wait a little and try again."
        ),
    )
    response = make_response(page, status)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _disk_full() -> Response:
    """The database or a file could not be written: say so, rather than "try again" (503:
    the server, not the request, is at fault; a load balancer may act on it)."""
    _forget_writes()
    return make_response(*_page(503, _("Nothing has been saved"), str(DISK_FULL)))


def _forget_writes() -> None:
    """Roll back the request's session before the error page reads from it (the menu asks
    for the reader's roles): after a commit that failed it refuses every query until then.
    If even that fails, the page is drawn for an anonymous reader, asking nothing."""
    db = g.get("db_session")
    if db is None:
        return
    try:
        db.rollback()
    except SQLAlchemyError:
        g._login_user = AnonymousUserMixin()
