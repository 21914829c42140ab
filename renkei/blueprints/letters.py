"""The printed notice of a session (開催通知) for those convened without e-mail: one A4 letter
per person, for the secretariat to print and post. Thin view over ``services/letters.py``."""

from flask import Blueprint, render_template, request
from flask_babel import force_locale
from flask_login import login_required
from markupsafe import Markup

from renkei.blueprints.common import links, require, session_access_or_404
from renkei.blueprints.sessions import load_session
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.models import MeetingSession, Status
from renkei.services import calendar, dates, letters, mail

bp = Blueprint("letters", __name__)


@bp.route("/sessions/<int:session_id>/letters")
@login_required
def session_letters(session_id: int):
    """The letters for those no e-mail reaches; ``?all=1``: for everyone convened."""
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    if session.status == Status.CANCELLED:
        return _cancelled()
    everyone = request.args.get("all") == "1"
    addressees = letters.addressees(db, session, everyone=everyone)
    # No audit entry: a letter carries only what the invitation e-mail carries (public item
    # titles, every other item as 非公開議題), never confidential content.
    return render_template(
        "letters/index.html",
        session=session,
        addressees=addressees,
        everyone=everyone,
        letters=_letters(session, addressees),
    )


def _letters(session: MeetingSession, addressees: list[letters.Addressee]) -> Markup:
    """The letters themselves, in the mail's language (Japanese) whatever the secretary's
    browser is set to: they go to members, as the e-mail does."""
    with force_locale(mail.MAIL_LOCALE):
        return Markup(
            render_template(
                "letters/_letters.html",
                session=session,
                addressees=addressees,
                host=letters.host(session),
                agenda=calendar.agenda_lines(session),
                today=dates.today(),
                session_url=links().session(session.id),
            )
        )


def _cancelled():
    message = _("This session has been cancelled: there is no notice of it to print.")
    page = render_template("errors/error.html", title=_("Session cancelled"), message=message)
    return page, 409
