"""Guarding the login: rate limits on failed logins, and a password reset by e-mailed link.

Failed logins are counted per address (lower-cased, whether or not anyone has it, so that a
lock-out tells nothing about who has an account) and per client IP. The limit-th failure
within ``WINDOW`` locks that address, or that IP, for ``LOCKOUT`` — the right password
included. Attempts refused while locked are not recorded, so a guesser cannot keep the owner
locked out for ever; a successful login clears the address's failures.

An attempt is counted as a failure *before* its password is checked, in one step with the
check of the lock (``begin_attempt``), and the step is taken one at a time per address and
IP; so guesses sent in parallel are counted like guesses sent one after another, and no more
than the limit of them ever reach the password check.

A reset link carries a random token; only its SHA-256 is stored. It works once, for an
hour, and asking again (or using it) voids the older links. The caller shows the same page
whether or not an account exists, so the reset tells nothing about who has one either.

No Flask request is used here: the view passes the address, the IP and the time (``now``,
which tests move). Composing the e-mail needs an application context for gettext.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from renkei.db import rowcount, utcnow
from renkei.i18n import gettext as _
from renkei.links import Links
from renkei.models import LoginFailure, MailMessage, PasswordReset, Person
from renkei.services import audit, mail
from renkei.services.accounts import normalise_email, set_password

EMAIL_LIMIT = 5
IP_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)

RESET_VALIDITY = timedelta(hours=1)
RESET_LIMIT = 3  # reset e-mails per account within RESET_LIMIT_WINDOW
RESET_LIMIT_WINDOW = timedelta(hours=1)
RESET_KIND = "password-reset"  # MailMessage.kind
MAX_TOKEN_LENGTH = 100  # ours are 43 characters; anything much longer is not one of ours


class InvalidReset(Exception):
    """The link is unknown, forged, used, replaced by a newer one or expired."""


# --- Failed logins ------------------------------------------------------------------------


def _address(email: str | None) -> str:
    return (normalise_email(email) or "")[:254]


def _recent(
    db: Session, column: InstrumentedAttribute[str], value: str, now: datetime
) -> list[datetime]:
    """Failure times for this address or IP that can still count towards a lock."""
    return list(
        db.scalars(
            select(LoginFailure.at)
            .where(column == value, LoginFailure.at > now - WINDOW - LOCKOUT)
            .where(LoginFailure.at <= now)
            .order_by(LoginFailure.at)
        )
    )


def _locked_until(times: list[datetime], limit: int) -> datetime | None:
    """When the last lock ends: each failure that makes ``limit`` within WINDOW starts one."""
    ends = [
        times[i] + LOCKOUT
        for i in range(limit - 1, len(times))
        if times[i] - times[i - limit + 1] <= WINDOW
    ]
    return max(ends, default=None)


def is_locked(db: Session, email: str | None, ip: str, now: datetime | None = None) -> bool:
    """Whether a login for this address, or from this IP, is refused for now."""
    now = now or utcnow()
    for column, value, limit in (
        (LoginFailure.email, _address(email), EMAIL_LIMIT),
        (LoginFailure.ip, ip, IP_LIMIT),
    ):
        until = _locked_until(_recent(db, column, value, now), limit)
        if until is not None and until > now:
            return True
    return False


def begin_attempt(db: Session, email: str | None, ip: str, now: datetime | None = None) -> bool:
    """Whether a login may be tried now; if so, the attempt already counts as a failure (the
    caller commits before checking the password, and clears the failures if it was right).

    Parallel attempts for one address or from one IP take this step one after another: on
    PostgreSQL an advisory lock per address and per IP, held to the end of the transaction;
    on SQLite the database's write lock, which the first DELETE takes.
    """
    _take_turn(db, _address(email), ip)
    _forget_old_failures(db, now or utcnow())
    # The time is read once the turn is ours, so the attempts before ours are in the past.
    now = now or utcnow()
    if is_locked(db, email, ip, now):
        return False
    record_failure(db, email, ip, now)
    return True


def _take_turn(db: Session, address: str, ip: str) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    # Always the address before the IP, so that two attempts cannot wait for each other.
    for name in (f"login-address:{address}", f"login-ip:{ip}"):
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _forget_old_failures(db: Session, now: datetime) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW - LOCKOUT))


def record_failure(db: Session, email: str | None, ip: str, now: datetime | None = None) -> None:
    """Count a failed login; failures too old to count any more are deleted on the way."""
    now = now or utcnow()
    _forget_old_failures(db, now)
    db.add(LoginFailure(email=_address(email), ip=ip[:45], at=now))
    db.flush()


def refused(db: Session, email: str | None, ip: str, *, locked: bool) -> None:
    """Log an attempt that logged nobody in, under the address as typed: whose account it may
    be is not looked up, so the log says no more than the login page does."""
    action = "login_locked" if locked else "login_failed"
    audit.record(db, audit.Actor(None, ip, name=email or ""), audit.ACCOUNT, action)


def succeeded(db: Session, person: Person, ip: str) -> None:
    """The right password: the address's failures are forgotten, the login logged."""
    clear_failures(db, person.email)
    audit.record(db, audit.Actor(person, ip), audit.ACCOUNT, "login")


def clear_failures(db: Session, email: str | None) -> None:
    """Forget the address's failures (after a successful login or a password reset)."""
    db.execute(delete(LoginFailure).where(LoginFailure.email == _address(email)))
    db.flush()


# --- Password reset -----------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _resettable(db: Session, email: str | None) -> Person | None:
    """The active person with a login and a usable address, if any."""
    address = _address(email)
    person = db.scalar(select(Person).where(Person.email == address)) if address else None
    if person is None or not person.is_active or mail.valid_address(person.email) is None:
        return None
    return person


def _asked_too_often(db: Session, person: Person, now: datetime) -> bool:
    asked = db.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(
            PasswordReset.person_id == person.id,
            PasswordReset.created_at > now - RESET_LIMIT_WINDOW,
        )
    )
    return (asked or 0) >= RESET_LIMIT


def _void_open_links(db: Session, person: Person, now: datetime) -> None:
    """End every unused link of the person now (the rows stay, for the rate limit)."""
    db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.person_id == person.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(expires_at=now)
    )


def request_reset(
    db: Session,
    email: str | None,
    *,
    links: Links,
    sender: str,
    now: datetime | None = None,
) -> MailMessage | None:
    """Queue a reset e-mail to the active account with this address, voiding its older links.

    None when nothing is queued: no such account, or already ``RESET_LIMIT`` e-mails within
    the hour (silently, so that nobody can flood a mailbox). Nothing is committed or sent.
    """
    now = now or utcnow()
    person = _resettable(db, email)
    if person is None or _asked_too_often(db, person, now):
        return None
    _void_open_links(db, person, now)
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        person=person, token_hash=token_hash(token), created_at=now, expires_at=now + RESET_VALIDITY
    )
    db.add(reset)
    db.flush()
    message = _reset_message(person, token, f"{RESET_KIND}:{reset.id}", links, sender)
    db.add(message)
    db.flush()
    return message


def _reset_message(person: Person, token: str, key: str, links: Links, sender: str) -> MailMessage:
    """The e-mail with the link, in Japanese like every message, with no attachment."""
    if person.email is None:  # _resettable lets only a person with an address through
        raise ValueError("a reset link goes only to a person with an address")
    link = links.password_reset(token)
    with force_locale(mail.MAIL_LOCALE):
        return mail.plain_message(
            person,
            person.email,
            kind=RESET_KIND,
            key=key,
            subject=_("Setting a new password for Renkei"),
            intro=_(
                "We received a request to set a new password for your Renkei account. Open "
                "the link below within one hour to choose a new password. The link works only "
                "once."
            ),
            blocks=[[link]],
            note=_(
                "If you did not ask for this, ignore this message: your password stays as it is."
            ),
            organizer=None,
            sender=sender,
        )


def find_reset(db: Session, token: str, now: datetime | None = None) -> PasswordReset | None:
    """The valid link for this token: known, unused, unexpired, of an active account."""
    now = now or utcnow()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    reset = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset if reset.person.is_active else None


def use_reset(db: Session, token: str, password: str, now: datetime | None = None) -> Person:
    """Set the new password through the link, once: the person's other sessions end, their
    other links are voided and their failed logins forgotten. Nothing is committed.

    Raises InvalidReset for a link that is not valid, and DomainError for a password that
    breaks the rules.
    """
    now = now or utcnow()
    reset = find_reset(db, token, now)
    if reset is None or not _claim(db, reset, now):
        raise InvalidReset()
    person = reset.person
    set_password(db, person, password)
    _void_open_links(db, person, now)
    clear_failures(db, person.email)
    audit.record(db, person, audit.ACCOUNT, "password_reset", subject_id=person.id)
    return person


def _claim(db: Session, reset: PasswordReset, now: datetime) -> bool:
    """Mark the link used in one conditional UPDATE, so two requests cannot both use it."""
    claimed = db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
    )
    return rowcount(claimed) == 1
