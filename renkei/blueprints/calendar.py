"""Calendar files: a person's secret feed, renewing it, and one's own invitation file."""

import gzip

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_login import login_required

from renkei.blueprints.common import links, me, session_access_or_404
from renkei.blueprints.mail_dispatch import mail_settings
from renkei.blueprints.sessions import load_session
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.models import MeetingSession, Person, Status
from renkei.services import calendar, feeds, scheduling

bp = Blueprint("calendar", __name__)

ICS = "text/calendar; charset=utf-8"


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """The feed calendar apps poll. Unknown and renewed tokens alike get the same bare 404."""
    db = get_db()
    current = feeds.version_for_token(db, token, locale=str(get_locale()), links=links())
    if current is None:
        return "Not Found", 404, {"Content-Type": "text/plain; charset=utf-8"}
    response = make_response()
    # Weak: the same version is sent gzipped or not, and those bytes differ.
    response.set_etag(current.etag.strip('"'), weak=True)
    if current.last_modified:
        response.last_modified = current.last_modified
    response.headers["Cache-Control"] = "private, max-age=300"
    response.vary.add("Accept-Encoding")
    # If-None-Match (compared weakly), else If-Modified-Since: a 304 before the feed is built
    # (and a 412 for an If-Match that fails, which calendar apps do not send).
    response.make_conditional(request)
    # The server writes Date itself (gunicorn does): a second one, which make_conditional
    # adds, is refused by nginx and some clients (werkzeug issue 2500).
    del response.headers["Date"]
    if response.status_code != 200:
        return response
    person = db.get(Person, current.person_id)
    name = _("Renkei: %(name)s", name=person.name)
    sender = mail_settings().sender
    data = feeds.gzipped(db, person, current, links=links(), sender=sender, name=name)
    # Calendar apps accept gzip; the few that do not get the feed unpacked.
    if request.accept_encodings.quality("gzip") > 0:
        response.content_encoding = "gzip"
    else:
        data = gzip.decompress(data)
    response.data = data
    response.content_type = ICS
    return response


@bp.route("/account/feed/renew", methods=["POST"])
@login_required
def renew():
    db = get_db()
    feeds.renew_token(db, me())
    flash(_("Your calendar address has been renewed. The old address no longer works."), "success")
    return redirect(url_for("auth.account") + "#feed")


def _theirs(
    session: MeetingSession, person: Person, issuer: calendar.Issuer
) -> tuple[list[MeetingSession], str]:
    """What the person's e-mailed invitation carries for the session, and its UID: the
    series, if they are convened to every occurrence; else the session under its own UID."""
    series = session.series
    if series is not None:
        convened = scheduling.invitation_test(get_db(), person)
        live = [s for s in series.sessions if s.status not in (Status.PREPARED, Status.CANCELLED)]
        if live and all(map(convened, live)):
            return live, calendar.session_uid(session, issuer)
    return [session], calendar.occurrence_uid(session, issuer)


@bp.route("/sessions/<int:session_id>/invite.ics")
@login_required
def invitation(session_id: int):
    """The viewer's own invitation for one session, to add it to a calendar by hand."""
    db = get_db()
    session = load_session(session_id)
    session_access_or_404(session)
    person = me()
    if session.is_prepared or not scheduling.is_invitee(db, session, person):
        abort(404)  # not convened yet: in no one's calendar
    issuer = calendar.issuer(db, links(), mail_settings().sender)
    sessions, uid = _theirs(session, person, issuer)
    content = calendar.download(sessions, issuer, uid=uid)
    response = make_response(content)
    response.content_type = ICS
    response.headers["Content-Disposition"] = f'attachment; filename="session-{session.id}.ics"'
    return response
