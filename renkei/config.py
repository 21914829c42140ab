"""Configuration read from the environment, with safe defaults for a single machine."""

import os
import secrets
from pathlib import Path


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
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


def load_config(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'renkei.sqlite3'}"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
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
        **_mail_config(),
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
    }
