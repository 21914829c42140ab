"""Configuration read from the environment, with safe defaults for a single machine."""

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

from renkei.services.dates import DATE_STYLES, WAREKI

# A generated audit key is 64 hex digits; one given by hand must not be much weaker.
AUDIT_KEY_MIN_LENGTH = 32
DEFAULT_PORT = 5000  # `make run` and `flask serve` without PORT


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY when set; otherwise keep a generated key in the instance folder.

    The key is never hard-coded, so two installations never share one, and it survives
    restarts, so people stay logged in.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
        # An empty file (left by a version that wrote it in place on a full disk) is no
        # key: never sign sessions with "".
        key_file.unlink(missing_ok=True)
    # Written whole or not at all: a full disk must not leave an empty key behind.
    return _generate(key_file).strip()


def _audit_key(instance_path: Path) -> str:
    """Use AUDIT_KEY when set; otherwise keep a generated key in ``instance/audit_key``.

    The key seals the audit log (``renkei.services.audit_chain``): it must never be in the
    database or in the database's backups, or whoever can write the database could re-seal
    a rewritten log. Back it up separately; without it the log can no longer be verified
    nor written to.
    """
    key = os.environ.get("AUDIT_KEY", "").strip()
    if not key:
        key_file = instance_path / "audit_key"
        key = (key_file.read_text() if key_file.exists() else _generate(key_file)).strip()
    if len(key) < AUDIT_KEY_MIN_LENGTH:
        raise ValueError(
            f"the audit key (AUDIT_KEY or {instance_path / 'audit_key'}) must be at least "
            f"{AUDIT_KEY_MIN_LENGTH} characters long"
        )
    return key


def _generate(key_file: Path) -> str:
    """Write a new key to ``key_file`` unless another process (a second web server worker
    starting at the same moment) got there first; either way return what the file holds."""
    handle, temporary = tempfile.mkstemp(prefix=f".{key_file.name}.", dir=key_file.parent)
    try:
        with os.fdopen(handle, "w") as file:  # mkstemp: readable by the owner only (0600)
            file.write(secrets.token_hex(32))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # the name exists: never two keys
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)
    return key_file.read_text()


def _case_number_prefix() -> str:
    prefix = os.environ.get("CASE_NUMBER_PREFIX", "").strip().upper()
    if prefix and not re.fullmatch(r"[A-Z0-9]{1,10}", prefix):
        raise ValueError("CASE_NUMBER_PREFIX must be 1 to 10 letters A-Z or digits")
    return prefix


def _date_style() -> str:
    style = os.environ.get("DATE_STYLE", "").strip().lower() or WAREKI
    if style not in DATE_STYLES:
        raise ValueError("DATE_STYLE must be wareki (令和8年) or seireki (2026年)")
    return style


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 365:
        raise ValueError(f"{name} must be a number of days from 1 to 365")
    return int(value)


def port() -> int:
    """PORT, the port `make run` serves on (``DEFAULT_PORT`` without it)."""
    value = os.environ.get("PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError("PORT must be a port number from 1 to 65535")
    return int(value)


def local_base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def base_url_configured() -> bool:
    return bool(os.environ.get("BASE_URL", "").strip())


def _base_url() -> str:
    """BASE_URL as configured; without it, this machine on PORT, where `make run` serves:
    every link in mail, calendar files and feeds is made from it."""
    if base_url_configured():
        return os.environ["BASE_URL"].strip()
    return local_base_url(port())


def load_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'renkei.sqlite3'}"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "AUDIT_KEY": _audit_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        "BASE_URL": _base_url(),
        "BABEL_DEFAULT_LOCALE": "ja",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
        "LANGUAGES": ["ja", "en"],
        # Uploaded CSV files and long Markdown texts stay well below this.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Werkzeug's password hashing method; the test suite sets a cheap one.
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to believe: the
        # login lock-out and the audit log need the visitor's address, not the proxy's.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or 0),
        # Before every case number issued here: "A" gives A-R8-0012, none gives R8-0012.
        "CASE_NUMBER_PREFIX": _case_number_prefix(),
        # How letters and notices write dates: 令和8年12月10日 (wareki) or 2026年12月10日.
        "DATE_STYLE": _date_style(),
        # A referral still 受付 (no contact) after this many days is overdue (つなぎ).
        "REFERRAL_CONTACT_DAYS": _whole_number("REFERRAL_CONTACT_DAYS", 14),
        **_mail_config(),
        **_materials_config(instance_path),
    }


MEGABYTE = 1024 * 1024


def _megabytes(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default * MEGABYTE
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of megabytes, at least 1")
    return int(value) * MEGABYTE


def _materials_config(instance_path: Path) -> dict:
    """Meeting materials: where their files are kept (never under a static path), and how
    large one file and all of a session's may be (given in megabytes)."""
    return {
        "MATERIALS_DIR": os.environ.get("MATERIALS_DIR", "").strip()
        or str(instance_path / "materials"),
        "MATERIAL_MAX_BYTES": _megabytes("MATERIAL_MAX_BYTES_MB", 20),
        "MATERIALS_MAX_SESSION_BYTES": _megabytes("MATERIALS_MAX_SESSION_MB", 100),
    }


def _mail_config() -> dict:
    """E-mail. Without SMTP_HOST nothing is sent: messages are written to the instance
    folder's ``outbox/`` as .eml files. An empty MAIL_FROM means ``renkei@<host of BASE_URL>``
    and an empty MAIL_DELIVERY means "thread" ("sync" when the app is TESTING); both are
    worked out by ``renkei.services.mail.MailSettings``."""
    starttls = os.environ.get("SMTP_STARTTLS", "") == "1"
    return {
        "SMTP_HOST": os.environ.get("SMTP_HOST", "").strip(),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT") or (587 if starttls else 25)),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": starttls,
        "SMTP_TIMEOUT": float(os.environ.get("SMTP_TIMEOUT") or 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "").strip(),
        "MAIL_DELIVERY": os.environ.get("MAIL_DELIVERY", "").strip(),
        # A message claimed for sending by a worker that then died is taken up again after
        # this long; well above SMTP_TIMEOUT, so a live worker's claim never expires.
        "MAIL_LEASE_SECONDS": float(os.environ.get("MAIL_LEASE_SECONDS") or 300),
        # send-mail tries a failed message again after this, doubling each time up to an hour.
        "MAIL_RETRY_SECONDS": float(os.environ.get("MAIL_RETRY_SECONDS") or 60),
        # Change notices wait this long for further changes, then go in one message per
        # person; each server's timer sends them (NOTICE_TIMER=0: cron runs send-notices).
        "NOTICE_DELAY_MINUTES": os.environ.get("NOTICE_DELAY_MINUTES", "").strip(),
        "NOTICE_TIMER": os.environ.get("NOTICE_TIMER", "").strip(),
    }
