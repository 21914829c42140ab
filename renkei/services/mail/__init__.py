"""E-mail about sessions: invitations, change and cancellation notices, reminders, and the
plain notices of the minutes workflow, polls, memberships and password resets.

Queueing and delivering are two steps, in these modules:

- ``compose``: the subjects and texts, in Japanese (``MAIL_LOCALE``) whatever language the
  secretary's browser uses, and one whole RFC 5322 message, an iMIP message (RFC 6047:
  the text with the calendar object inline, and the .ics file attached) when it carries
  the iCalendar file from ``calendar``; ``headers`` writes its Japanese subject and names
  as RFC 2047 encoded words that keep every space;
- ``queue``: one ``MailMessage`` row per recipient in the caller's transaction
  (``queue_notices``, ``plain_message``, ``address_message``, reminders), so a change and
  the news of it are saved together; a unique ``dedupe_key`` queues each message once. The
  convening and change notices with their calendar files are ``services.notices``';
- ``delivery``: the stored messages sent afterwards over one SMTP connection, or written to
  the outbox folder when no SMTP server is configured (``deliver``, in a thread with
  ``deliver_in_thread``); a worker claims a message with a conditional UPDATE before
  sending it, so two workers never send the same one; a lease, retries with back-off and
  the order per person are its docstring's;
- ``backlog``: what waits while the mail server is out, for the secretariat's pages.

No closed item goes into a message: the agenda in the body is worked out by the policy
module exactly as for the attached calendar file (``policy.calendar_access``), which carries
public item titles only, whoever receives it; the message links to the session page. No
Flask request is used here; gettext needs an application context, as elsewhere in the
services.
"""

from renkei.services.mail.backlog import Backlog
from renkei.services.mail.compose import (
    CANCEL,
    INVITE,
    MAIL_LOCALE,
    REMINDER,
    UPDATE,
    valid_address,
)
from renkei.services.mail.delivery import (
    DeliveryResult,
    MailSettings,
    ReminderResult,
    deliver,
    deliver_in_thread,
    send_reminders,
)
from renkei.services.mail.queue import (
    Addressee,
    Notice,
    QueueResult,
    address_message,
    addressees,
    existing_keys,
    plain_message,
    queue_notices,
    session_messages,
)

__all__ = [
    "Addressee",
    "Backlog",
    "addressees",
    "CANCEL",
    "INVITE",
    "MAIL_LOCALE",
    "REMINDER",
    "UPDATE",
    "DeliveryResult",
    "MailSettings",
    "Notice",
    "QueueResult",
    "ReminderResult",
    "address_message",
    "deliver",
    "deliver_in_thread",
    "existing_keys",
    "plain_message",
    "queue_notices",
    "send_reminders",
    "session_messages",
    "valid_address",
]
