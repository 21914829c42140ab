"""Delivering e-mail: the queued messages sent over one SMTP connection, or written to the
outbox folder when no SMTP server is configured; reminders queued and sent by cron.

Nothing is sent twice: a worker claims a message with a conditional UPDATE before sending
it, so two workers never send the same one. A message that fails stays on its row, to be
sent again by ``deliver`` (`flask --app renkei send-mail`).
"""

import contextlib
import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renkei.db import get_db, rowcount, table_of, utcnow
from renkei.links import Links
from renkei.models import MailMessage, MailStatus
from renkei.services.mail.compose import default_sender
from renkei.services.mail.queue import QueueResult, queue_reminders

log = logging.getLogger(__name__)

DELIVERY_MODES = ("thread", "sync")
RETRYABLE = (MailStatus.PENDING, MailStatus.FAILED)
ERROR_LENGTH = 1000


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
        )


# --- Results ------------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker, or no longer pending
    errors: dict[int, str] = field(default_factory=dict)  # message id -> error


@dataclass
class ReminderResult:
    sessions: int
    queued: QueueResult
    delivery: DeliveryResult


# --- Delivering ---------------------------------------------------------------------------


def _claim(db: Session, message_id: int) -> bool:
    """Take the message for sending; False if another worker has it or it is done."""
    table = table_of(MailMessage)
    claimed = db.execute(
        update(table)
        .where(table.c.id == message_id, table.c.status.in_(RETRYABLE))
        .values(status=MailStatus.SENDING)
    )
    db.commit()  # let other workers see the claim at once
    return rowcount(claimed) == 1


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reason)}"
            for address, (code, reason) in error.recipients.items()
        )[:ERROR_LENGTH]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"[:ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


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
    db: Session, settings: MailSettings, ids: Iterable[int] | None = None
) -> DeliveryResult:
    """Send pending and failed messages (all, or those of ``ids``); commits per message.

    Each message is claimed first (pending/failed → sending, in one conditional UPDATE), so
    a message is sent by one worker only. A message the server refuses fails alone; the
    others go on over the same connection.
    """
    result = DeliveryResult()
    query = select(MailMessage.id).where(MailMessage.status.in_(RETRYABLE))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return result
        query = query.where(MailMessage.id.in_(ids))
    candidates = list(db.scalars(query.order_by(MailMessage.id)))
    transport = _Transport(settings)
    try:
        for message_id in candidates:
            if not _claim(db, message_id):
                result.skipped += 1
                continue
            message = db.get(MailMessage, message_id, populate_existing=True)
            if message is None:  # its session was deleted meanwhile
                result.skipped += 1
                continue
            message.attempts = (message.attempts or 0) + 1
            try:
                transport.send(message)
            except (smtplib.SMTPException, OSError, _Unreachable) as error:
                message.status = MailStatus.FAILED
                message.error = str(error) if isinstance(error, _Unreachable) else _describe(error)
                result.failed += 1
                result.errors[message.id] = message.error
                log.warning(
                    "mail %s to %s failed: %s", message.id, message.to_address, message.error
                )
            else:
                message.status = MailStatus.SENT
                message.sent_at = utcnow()
                message.error = ""
                result.sent += 1
            db.commit()
    finally:
        transport.close()
    return result


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
            deliver(get_db(), settings, ids)
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
