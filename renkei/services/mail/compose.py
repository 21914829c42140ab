"""Composing e-mail: subjects and texts in Japanese (``MAIL_LOCALE``), and one whole RFC 5322
message; with the iCalendar file from ``calendar``, an iMIP message (RFC 6047) that mail
clients show as an invitation. Japanese headers are written by ``headers``.

No closed item goes into a message: the agenda is worked out by the policy module exactly
as for the attached calendar file (``calendar.agenda_lines``), which carries public item
titles only, whoever receives it; the message links to the session page. The caller forces
``MAIL_LOCALE``; gettext needs an application context, as elsewhere in the services.
"""

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from renkei import textnorm
from renkei.i18n import format_tokyo, labelled
from renkei.i18n import gettext as _
from renkei.links import Links
from renkei.models import MeetingSession, Person, Status
from renkei.services import calendar
from renkei.services.dates import now_tokyo, tokyo_date
from renkei.services.mail.headers import POLICY

MAIL_LOCALE = "ja"
INVITE, UPDATE, CANCEL, REMINDER = "invite", "update", "cancel", "reminder"


# --- Addresses ----------------------------------------------------------------------------


def valid_address(value: str | None) -> str | None:
    """The address if a mail header can carry it, else None."""
    value = (value or "").strip()
    if "@" not in value:
        return None
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError):
        return None
    return value


def default_sender(base_url: str) -> str:
    return f"renkei@{urlsplit(base_url).hostname or 'localhost'}"


# --- Texts --------------------------------------------------------------------------------


def when(session: MeetingSession) -> str:
    if tokyo_date(session.start_at) == tokyo_date(session.end_at):
        return f"{format_tokyo(session.start_at)}–{format_tokyo(session.end_at, 'time')}"
    return f"{format_tokyo(session.start_at)} – {format_tokyo(session.end_at)}"


def subject(kind: str, title: str, when: str) -> str:
    if kind == INVITE:
        text = _("Invitation: %(title)s (%(when)s)", title=title, when=when)
    elif kind == UPDATE:
        text = _("Changed: %(title)s (%(when)s)", title=title, when=when)
    elif kind == CANCEL:
        text = _("Cancelled: %(title)s (%(when)s)", title=title, when=when)
    else:
        text = _("Reminder: %(title)s (%(when)s)", title=title, when=when)
    return text[:300]


def intro(kind: str, *, series: bool = False) -> str:
    if series:
        if kind == INVITE:
            return _("You are invited to the following series of sessions.")
        return _("The following series of sessions has been changed. The new details are below.")
    if kind == INVITE:
        return _("You are invited to the following session.")
    if kind == UPDATE:
        return _("The following session has been changed. The new details are below.")
    if kind == CANCEL:
        return _("The following session has been cancelled.")
    return _("This is a reminder of the following session.")


def line(label: str, value: str) -> str:
    return labelled(label, value)


def facts(session: MeetingSession, *, with_time: bool = True) -> list[str]:
    """Title, time, how and where, bodies: what the session page shows everyone invited."""
    bodies = " / ".join(body.name for body in session.bodies)
    if session.is_joint:
        bodies += f"（{_('Joint session')}）"
    lines = [f"■ {session.title}"]
    if with_time:
        lines.append(line(_("Date and time"), when(session)))
    lines.append(line(_("How it is held"), session.mode.label))
    if session.place:
        lines.append(line(_("Place"), session.place))
    if session.online_url:
        lines.append(line(_("Online meeting link"), session.online_url))
    lines.append(line(_("Bodies served"), bodies))
    if session.presiding_person is not None:
        lines.append(line(_("Presiding"), session.presiding_person.name))
    return lines


def agenda(session: MeetingSession) -> list[str]:
    """The agenda exactly as the attached calendar file carries it: public titles only."""
    lines = calendar.agenda_lines(session)
    return [_("Agenda"), *(f"  {line}" for line in lines)] if lines else []


def page(session: MeetingSession, recipient: calendar.Recipient, links: Links) -> list[str]:
    """How to answer whether one will attend: on the session page for those who can log in
    to see it, by a reply to the message for the others (guests, people without a login),
    whose replies go to the organizer (Reply-To). A cancelled session: its page only."""
    person = recipient.person
    can_log_in = person is not None and person.has_login
    if session.status == Status.CANCELLED:
        return [line(_("Session page"), links.session(session.id))] if can_log_in else []
    if can_log_in:
        link = links.session_reply(session.id)
        return [_("Please answer whether you will attend on this page: %(link)s", link=link)]
    return [_("Please tell the secretariat whether you will attend by replying to this e-mail.")]


def calendar_note(method: str, filename: str, *, series: bool = False) -> str:
    if method == "CANCEL":
        return _(
            "Open the attached file (%(file)s) to remove the session from your calendar.",
            file=filename,
        )
    if series:
        return _(
            "Open the attached file (%(file)s) to add these sessions to your calendar "
            "or update them there.",
            file=filename,
        )
    return _(
        "Open the attached file (%(file)s) to add the session to your calendar or update it there.",
        file=filename,
    )


def body(greeting_name: str, intro: str, blocks: list[list[str]], note: str) -> str:
    parts = [_("Dear %(name)s,", name=greeting_name), intro]
    parts += ["\n".join(block) for block in blocks if block]
    parts += [note, "-- \nRenkei"] if note else ["-- \nRenkei"]
    return "\n\n".join(parts) + "\n"


# --- The message --------------------------------------------------------------------------


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def message(
    *,
    subject: str,
    body: str,
    ics: bytes | None,
    method: str,
    filename: str,
    recipient: calendar.Recipient,
    organizer: Person | None,
    sender: str,
) -> bytes:
    """One whole message to ``recipient``, from Renkei's ``sender`` on behalf of
    ``organizer`` (who gets the replies). With ``ics``, an iMIP message (RFC 6047) as
    Exchange writes one: multipart/mixed holding multipart/alternative (the text, and the
    calendar object inline as ``text/calendar; method=...``, which clients show as an
    invitation) and the same bytes again as the attachment ``filename``."""
    email = EmailMessage(policy=POLICY)
    # A header is one line. Text is normalised as it is stored (renkei.db); a row written
    # before that was may still hold a line break, which would make this message fail.
    one_line = textnorm.one_line
    email["Subject"] = one_line(subject)
    display = _("%(name)s via Renkei", name=one_line(organizer.name)) if organizer else "Renkei"
    email["From"] = Address(display_name=display, addr_spec=sender)
    email["To"] = Address(display_name=one_line(recipient.name), addr_spec=recipient.email)
    reply_to = valid_address(organizer.email) if organizer else None
    if reply_to and organizer:
        email["Reply-To"] = Address(display_name=one_line(organizer.name), addr_spec=reply_to)
    email["Date"] = format_datetime(now_tokyo())
    email["Message-ID"] = make_msgid(domain=_domain(sender))
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    # base64 whatever the text: 8bit would need every relay to speak 8BITMIME.
    email.set_content(body, charset="utf-8", cte="base64")
    if ics is not None:
        _add_calendar(email, ics, method, filename)
    return email.as_bytes()


def _add_calendar(email: EmailMessage, ics: bytes, method: str, filename: str) -> None:
    """The text becomes multipart/alternative with the inline calendar part, then
    multipart/mixed with the attachment (base64: the file's lines stay short whatever
    the text)."""
    email.add_alternative(
        ics,
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "UTF-8"},
    )
    email.add_attachment(
        ics,
        maintype="application",
        subtype="ics",
        cte="base64",
        filename=filename,
        params={"name": filename},
    )
    for part in email.walk():  # each new part got one; only the message has a MIME-Version
        if part is not email:
            del part["MIME-Version"]
