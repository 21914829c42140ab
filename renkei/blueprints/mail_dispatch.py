"""What the views do about mail: say what was queued and for whom there is no address,
then deliver it once the request's writes are committed, before answering ("sync") or in
a thread after (``mail.deliver_in_thread``, "thread")."""

from datetime import timedelta

from flask import current_app, flash

from renkei.blueprints.common import links, me
from renkei.blueprints.transaction import after_commit
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import ngettext
from renkei.models import MeetingSession
from renkei.services import mail, notices

NOTICE = "notice"  # a message without a calendar file (the minutes workflow)


def mail_settings() -> mail.MailSettings:
    return mail.MailSettings.from_config(current_app.config, current_app.instance_path)


def notice_delay() -> timedelta:
    """How long change notices wait for the next changes (NOTICE_DELAY_MINUTES)."""
    return notices.configured_delay(current_app.config.get("NOTICE_DELAY_MINUTES"))


def notice_args() -> dict:
    """Who is acting, where links point and the sender: what ``services.notices`` takes."""
    return {"by": me(), "links": links(), "sender": mail_settings().sender}


def announce_pending(session: MeetingSession) -> None:
    """After a change to a convened session: say when the people concerned hear of it."""
    if session.notice_pending_since is not None:
        flash(
            _(
                "Those convened will be told of the changes in a few minutes, in one message "
                "each. To tell them now, use Send the change notices now on the session page."
            ),
            "info",
        )


def announce_and_deliver(queued: mail.QueueResult, kind: str) -> None:
    """Say what was queued (and for whom there is no address), then deliver it."""
    settings = mail_settings()
    n = len(queued.recipients)
    if n:
        if kind == mail.INVITE:
            text = ngettext(
                "An invitation is being sent to %(num)d person.",
                "Invitations are being sent to %(num)d people.",
                n,
            )
        elif kind == mail.UPDATE:
            text = ngettext(
                "A change notice is being sent to %(num)d person.",
                "Change notices are being sent to %(num)d people.",
                n,
            )
        elif kind == NOTICE:
            text = ngettext(
                "An e-mail is being sent to %(num)d person.",
                "E-mails are being sent to %(num)d people.",
                n,
            )
        else:
            text = ngettext(
                "A cancellation notice is being sent to %(num)d person.",
                "Cancellation notices are being sent to %(num)d people.",
                n,
            )
        flash(text, "info")
    if queued.without_address:
        flash(
            _("No e-mail address for: %(names)s", names="、".join(queued.without_address)),
            "error",
        )
    if queued.messages:
        if not settings.uses_smtp:
            flash(
                _("No mail server is configured: the messages were kept on the server, not sent."),
                "info",
            )
        deliver(settings, queued.ids)


def deliver(settings: mail.MailSettings, ids: list[int]) -> None:
    """Deliver once the request's writes are committed: before answering ("sync"), or in a
    background thread ("thread")."""
    if settings.delivery == "sync":
        after_commit(lambda: _deliver_now(settings, ids))
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxied app
    after_commit(lambda: mail.deliver_in_thread(app, settings, ids))


def _deliver_now(settings: mail.MailSettings, ids: list[int]) -> None:
    result = mail.deliver(get_db(), settings, ids)
    if result.failed:
        flash(
            ngettext(
                "%(num)d message could not be sent: see Mail on the session page.",
                "%(num)d messages could not be sent: see Mail on the session page.",
                result.failed,
            ),
            "error",
        )
