"""Delivering e-mail: the queued messages sent over one SMTP connection, or written to the
outbox folder when no SMTP server is configured; reminders queued and sent by cron.

The rules, which the mail outage drill (drills/drill_mail_outage.py) checks end to end:

- **Once among live workers.** A worker claims a message with a conditional UPDATE
  (pending/failed, or 'sending' with an expired lease → 'sending', stamped with the time and
  host:pid) before sending it, so two workers never send the same one.
- **A lease.** A message left 'sending' by a worker that died is claimed again once
  ``MAIL_LEASE_SECONDS`` have passed since its claim (never before). If that worker died
  after the server had accepted the message, it goes out a second time with the same
  Message-ID: the one case of "at least once", which mail programs show as one message.
- **Retries with back-off.** A message that fails for now (the server unreachable, a 4xx
  answer) stays 'failed' with ``next_attempt_at``: ``send-mail`` tries it again after
  ``MAIL_RETRY_SECONDS``, doubled after each failure up to an hour (``--now``: at once).
- **In order per person.** Messages to one address go out in the order they were queued: a
  later message waits (stays pending, "held") while an earlier one to the same address is
  still pending, being sent, or failing for now — so a cancellation never arrives before its
  invitation. Delivering given messages (after a request) first retries the earlier unsent
  ones to the same addresses.
- **A permanent refusal fails alone.** A recipient (or message) the server refuses with a
  5xx answer is marked failed and ``refused``: it is not retried by ``send-mail`` (the
  session page's "send again" does), and it holds back nothing after it.
"""

import contextlib
import logging
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from renkei.db import get_db, rowcount, table_of, utcnow
from renkei.links import Links
from renkei.models import MailMessage, MailStatus
from renkei.services.mail.compose import default_sender
from renkei.services.mail.queue import QueueResult, queue_reminders

log = logging.getLogger(__name__)

DELIVERY_MODES = ("thread", "sync")
RETRYABLE = (MailStatus.PENDING, MailStatus.FAILED)
UNSENT = (MailStatus.PENDING, MailStatus.FAILED, MailStatus.SENDING)
ERROR_LENGTH = 1000
DEFAULT_LEASE = timedelta(seconds=300)
MAX_BACKOFF = timedelta(hours=1)
HELD_RETRIES = 5  # seconds a background delivery waits for an earlier message to go


# --- Settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """How to deliver. ``host`` empty: no SMTP server, messages go to ``outbox`` as files."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 10.0
    sender: str = "renkei@localhost"
    outbox: Path = Path("outbox")
    delivery: str = "thread"  # or "sync"
    lease: timedelta = DEFAULT_LEASE  # a 'sending' claim older than this was abandoned
    retry: timedelta = timedelta(seconds=60)  # first back-off after a failure

    @property
    def uses_smtp(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str | Path) -> "MailSettings":
        """From the app's configuration (see ``renkei.config``)."""
        starttls = config.get("SMTP_STARTTLS") in (True, "1", 1)
        delivery = config.get("MAIL_DELIVERY") or ("sync" if config.get("TESTING") else "thread")
        if delivery not in DELIVERY_MODES:
            raise ValueError(f"MAIL_DELIVERY must be one of {DELIVERY_MODES}, not {delivery!r}")
        return cls(
            host=(config.get("SMTP_HOST") or "").strip(),
            port=int(config.get("SMTP_PORT") or (587 if starttls else 25)),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=starttls,
            timeout=float(config.get("SMTP_TIMEOUT") or 10),
            sender=config.get("MAIL_FROM") or default_sender(config.get("BASE_URL", "")),
            outbox=Path(instance_path) / "outbox",
            delivery=delivery,
            lease=timedelta(seconds=float(config.get("MAIL_LEASE_SECONDS") or 300)),
            retry=timedelta(seconds=float(config.get("MAIL_RETRY_SECONDS") or 60)),
        )


# --- Results ------------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker, or no longer pending
    held: int = 0  # waiting behind an earlier unsent message to the same address
    errors: dict[int, str] = field(default_factory=dict)  # message id -> error


@dataclass
class ReminderResult:
    sessions: int
    queued: QueueResult
    delivery: DeliveryResult


# --- Delivering ---------------------------------------------------------------------------


def _claim(
    db: Session, message_id: int, *, lease: timedelta = DEFAULT_LEASE, owner: str = ""
) -> bool:
    """Take the message for sending: pending or failed, or 'sending' under a lease that has
    expired (its worker died). False if another worker has it or it is done."""
    table = table_of(MailMessage)
    now = utcnow()
    abandoned = and_(
        table.c.status == MailStatus.SENDING,
        or_(table.c.claimed_at.is_(None), table.c.claimed_at < now - lease),
    )
    claimed = db.execute(
        update(table)
        .where(table.c.id == message_id, or_(table.c.status.in_(RETRYABLE), abandoned))
        .values(status=MailStatus.SENDING, claimed_at=now, claimed_by=owner or worker_name())
    )
    db.commit()  # let other workers see the claim at once
    return rowcount(claimed) == 1


def worker_name() -> str:
    """Who holds a claim: host:pid, for the operator looking at a stuck row."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reason)}"
            for address, (code, reason) in error.recipients.items()
        )[:ERROR_LENGTH]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"[:ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


def _permanent(error: BaseException) -> bool:
    """A 5xx refusal of this recipient or this message: trying again will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Transport:
    """One SMTP connection for a batch (opened on the first message), or the outbox folder.

    If the server cannot be reached, every further message of the batch fails with the same
    error at once, rather than each waiting for its own timeout.
    """

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(self, message: MailMessage) -> None:
        if not self.settings.uses_smtp:
            self._write(message)
            return
        if self.unreachable:
            raise _Unreachable(self.unreachable)
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = _describe(error)
                raise
        try:
            self.smtp.sendmail(self.settings.sender, [message.to_address], message.content)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ):
            raise  # this message only: the connection goes on
        except (smtplib.SMTPException, OSError):
            self._drop()  # the next message tries a fresh connection
            raise

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _write(self, message: MailMessage) -> None:
        outbox = self.settings.outbox
        outbox.mkdir(parents=True, exist_ok=True)
        target = outbox / f"{message.id}-{message.kind}.eml"
        partial = target.with_suffix(".eml.partial")
        try:
            partial.write_bytes(message.content)
            os.replace(partial, target)
        except OSError:
            partial.unlink(missing_ok=True)  # a full disk: no half-written message left
            raise

    def _drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self._drop()


class _Unreachable(Exception):
    pass


def deliver(
    db: Session,
    settings: MailSettings,
    ids: Iterable[int] | None = None,
    *,
    now: bool = False,
) -> DeliveryResult:
    """Send the unsent messages that are due (all, or those of ``ids`` with the earlier
    unsent ones to the same addresses, due or not); ``now``: retries need not be due.
    Commits per message; the rules are the module's."""
    result = DeliveryResult()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return result
    rows = _unsent(db, ids)
    transport = _Transport(settings)
    waiting: set[str] = set()  # addresses with an earlier message not sent in this run
    force = now or ids is not None
    try:
        for row in rows:
            if row.address in waiting:
                result.held += 1
                continue
            due = _due(row, settings, force=force)
            if not (due and _send(db, row.id, transport, settings, result)):
                waiting.add(row.address)
    finally:
        transport.close()
    return result


def _unsent(db: Session, ids: list[int] | None) -> list[Any]:
    """The unsent messages to consider, in the order they were queued: all but the
    refused ones; or those of ``ids`` and the earlier unsent ones to their addresses."""
    address = func.lower(MailMessage.to_address)
    columns = (
        MailMessage.id,
        address.label("address"),
        MailMessage.status,
        MailMessage.claimed_at,
        MailMessage.next_attempt_at,
    )
    condition: ColumnElement[bool] = MailMessage.status.in_(UNSENT) & ~MailMessage.refused
    if ids is not None:
        addresses = set(db.scalars(select(address).where(MailMessage.id.in_(ids))))
        earlier = condition & address.in_(addresses) & (MailMessage.id < max(ids))
        condition = earlier | (MailMessage.id.in_(ids) & MailMessage.status.in_(UNSENT))
    return list(db.execute(select(*columns).where(condition).order_by(MailMessage.id)))


def _due(row: Any, settings: MailSettings, *, force: bool) -> bool:
    """May this message be tried now? Not while another worker's lease runs, nor before
    its next try (unless ``force``)."""
    moment = utcnow()
    if row.status == MailStatus.SENDING:
        return row.claimed_at is None or row.claimed_at < moment - settings.lease
    return force or row.next_attempt_at is None or row.next_attempt_at <= moment


def _send(
    db: Session,
    message_id: int,
    transport: "_Transport",
    settings: MailSettings,
    result: DeliveryResult,
) -> bool:
    """Claim and send one message; True if it went, or was refused for good (it holds
    nothing back)."""
    if not _claim(db, message_id, lease=settings.lease):
        result.skipped += 1
        return False
    message = db.get(MailMessage, message_id, populate_existing=True)
    if message is None:  # its session was deleted meanwhile
        result.skipped += 1
        return True
    message.attempts = (message.attempts or 0) + 1
    try:
        transport.send(message)
    except (smtplib.SMTPException, OSError, _Unreachable) as error:
        _failed(message, error, settings)
        result.failed += 1
        result.errors[message.id] = message.error
        log.warning("mail %s to %s failed: %s", message.id, message.to_address, message.error)
    else:
        message.status = MailStatus.SENT
        message.sent_at = utcnow()
        message.error = ""
        message.next_attempt_at = None
        message.refused = False
        result.sent += 1
    db.commit()
    return message.status == MailStatus.SENT or message.refused


def _failed(message: MailMessage, error: BaseException, settings: MailSettings) -> None:
    message.status = MailStatus.FAILED
    message.error = str(error) if isinstance(error, _Unreachable) else _describe(error)
    message.refused = _permanent(error)
    message.next_attempt_at = None if message.refused else utcnow() + backoff(message, settings)


def backoff(message: MailMessage, settings: MailSettings) -> timedelta:
    """The wait before the next try: MAIL_RETRY_SECONDS, doubled per failure, at most 1 h."""
    exponent: int = min(max(message.attempts - 1, 0), 16)
    delay: timedelta = settings.retry * (2**exponent)
    return min(delay, MAX_BACKOFF)


def deliver_in_thread(app: Flask, settings: MailSettings, ids: list[int]) -> None:
    """Deliver in a background thread, so that the request need not wait for the mail
    server; the thread has its own app context and database session."""
    threading.Thread(
        target=_deliver_in_background,
        args=(app, settings, ids),
        name="renkei-mail",
        daemon=True,
    ).start()


def _deliver_in_background(app: Flask, settings: MailSettings, ids: list[int]) -> None:
    """Failures stay on the rows (``send-mail`` retries them) and in the app's log."""
    with app.app_context():
        try:
            result = deliver(get_db(), settings, ids)
            # Held behind an earlier message that another thread is sending right now:
            # wait for it a little, rather than leaving these to the next send-mail.
            for _ in range(HELD_RETRIES):
                if not result.held:
                    break
                time.sleep(1)
                result = deliver(get_db(), settings, ids)
        except Exception:
            app.logger.exception("delivering mail %s failed", ids)


# --- Reminders ----------------------------------------------------------------------------


def send_reminders(
    db: Session, settings: MailSettings, *, days: int, links: Links
) -> ReminderResult:
    """Remind the invitees of every session (not cancelled) that starts on the Tokyo date
    ``days`` from today, once per session, address and date; then deliver what is pending."""
    sessions, queued = queue_reminders(db, days=days, links=links, sender=settings.sender)
    db.commit()
    return ReminderResult(sessions, queued, deliver(db, settings))
