"""The printed notice of a session (開催通知) for those convened without e-mail: one A4 letter
per person, for the secretariat to print and post. Thin view over ``services/letters.py``.
And a date poll's answer letters (日程調整のお願い) for those asked without a login, each with
a personal link (``services/poll_letters.py``)."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import login_required
from markupsafe import Markup

from renkei.blueprints.common import links, me, require, session_access_or_404
from renkei.blueprints.fields import InputForm
from renkei.blueprints.polls import load_poll
from renkei.blueprints.sessions import load_session
from renkei.blueprints.transaction import flashed
from renkei.db import get_db, utcnow
from renkei.i18n import gettext as _
from renkei.models import MeetingSession, Poll, Status
from renkei.services import calendar, dates, letters, mail, poll_letters, polls

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


# --- A date poll's answer letters ---------------------------------------------------------


class PollLettersForm(InputForm):
    """Only the CSRF token: the button pressed (``who``) says for whom."""


@bp.route("/polls/<int:poll_id>/letters", methods=["GET", "POST"])
@login_required
def poll_letters_page(poll_id: int):
    """GET: who would get a letter. POST: issue their personal links and show the letters,
    ready to print (each printing issues new links; the earlier ones keep working)."""
    db = get_db()
    poll, access = load_poll(poll_id)
    require(access.can_manage)
    form = PollLettersForm()
    printed: list[poll_letters.Letter] = []
    if form.validate_on_submit():
        with flashed() as done:
            printed = poll_letters.issue(
                db,
                poll,
                by=me(),
                links=links(),
                unanswered_only=request.form.get("who") == "unanswered",
            )
        if not done:
            return redirect(url_for("letters.poll_letters_page", poll_id=poll.id))
    return render_template(
        "letters/poll.html",
        poll=poll,
        form=form,
        rows=poll_letters.without_login(poll),
        accepts=poll.accepts_answers(utcnow()),
        printed=printed,
        letters=_poll_letters(poll, printed) if printed else None,
    )


def _poll_letters(poll: Poll, printed: list[poll_letters.Letter]) -> Markup:
    """The letters, in the mail's language (Japanese), as the session's notices are."""
    with force_locale(mail.MAIL_LOCALE):
        return Markup(
            render_template(
                "letters/_poll_letters.html",
                poll=poll,
                printed=printed,
                host=poll_letters.host(poll),
                today=dates.today(),
                slot_label=polls.slot_label,
            )
        )
