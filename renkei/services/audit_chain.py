"""The audit log's chain: sealing entries with the audit key, verifying the chain,
re-sealing a log written before the key, and anchors.

Each entry's hash is an HMAC-SHA256, with the audit key, over every column of the entry:
its id (its place in the chain: 1, 2, 3 …), the previous entry's hash, when, who (by id and
by name), what, and from where. Someone who can write the database but does not hold the key
cannot make an edited, inserted, removed or renumbered row fit again, nor recompute the
hashes with plain SHA-256. The key is kept outside the database (``AUDIT_KEY`` or
``instance/audit_key``, see ``renkei.config``) and reaches the services with the database
session (``Session.info``): a session without it cannot write an entry at all.

Two things the key cannot catch: entries removed from the end with the head set back to an
earlier entry (every remaining hash is genuine), and a rewrite by someone who holds the key.
Anchors catch both: ``audit-anchor`` prints the chain's length and last hash, to be copied
somewhere else every day; ``audit-verify --anchors`` checks that the chain still has exactly
that hash at that length.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from flask_babel import force_locale
from sqlalchemy import RowMapping, bindparam, func, select, update
from sqlalchemy.orm import Session

from renkei.db import AUDIT_KEY_INFO, insert_if_absent, rowcount, table_of
from renkei.i18n import gettext as _
from renkei.models import AuditEntry, AuditHead, MailMessage
from renkei.models.audit import GENESIS
from renkei.services import mail
from renkei.services.dates import now_tokyo

# Named in every sealed text, so that a hash of one scheme never fits another.
SCHEME = "renkei-audit/hmac-sha256/1"
# Every column but the hash itself. A new column must be added here (and the scheme's
# number raised, with a re-seal), or it could be changed unnoticed: a test checks that.
SEALED_COLUMNS = (
    "id",
    "previous_hash",
    "at",
    "person_id",
    "actor",
    "category",
    "action",
    "subject_type",
    "subject_id",
    "body_id",
    "session_id",
    "detail",
    "ip",
)
BATCH = 1000
TABLE = table_of(AuditEntry)

NO_KEY = "no audit key: set AUDIT_KEY, or let Renkei keep one in instance/audit_key"
WRONG_KEY = (
    "the audit key (AUDIT_KEY or instance/audit_key) is not the one this audit log is "
    "sealed with: bring back the key from its backup"
)
UNKEYED = "written without the audit key"
UNKEYED_LOG = (
    "written without the audit key: the log dates from before the key; run "
    "`flask --app renkei audit-reseal` once (see the README)"
)


class AuditKeyError(RuntimeError):
    """No audit key, or not the one the log is sealed with: nothing may be written."""


# --- The key and the head -----------------------------------------------------------------


def audit_key(db: Session) -> bytes:
    key: str | None = db.info.get(AUDIT_KEY_INFO)
    if not key:
        raise AuditKeyError(NO_KEY)
    return key.encode("utf-8")


def key_id(key: bytes) -> str:
    """A fingerprint that names the key without giving it away."""
    return hmac.new(key, b"renkei audit key id", hashlib.sha256).hexdigest()[:16]


def take_head(db: Session) -> tuple[AuditHead, bytes]:
    """The chain's head, locked until the transaction ends, and the key that seals it.

    The UPDATE takes the head row's lock (PostgreSQL) or the database's write lock (SQLite)
    before the end of the chain is read, so two appends never build on the same end. Raises
    AuditKeyError without a key, or with another key than the chain's.
    """
    key = audit_key(db)
    head = _locked_head(db)
    if head is None:
        # The log's first entry: make its head, unless another first entry just made it
        # (our insert waits for its commit): then take that one, after it.
        insert_if_absent(db, AuditHead, id=1, last_hash=GENESIS, length=0)
        head = _locked_head(db)
        assert head is not None
    if head.key_id is None:
        head.key_id = key_id(key)
    elif head.key_id != key_id(key):
        raise AuditKeyError(WRONG_KEY)
    return head, key


def _locked_head(db: Session) -> AuditHead | None:
    taken = db.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(length=AuditHead.length)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) == 0:
        return None
    return db.get_one(AuditHead, 1, populate_existing=True)


def next_id(db: Session) -> int:
    """The next place in the chain. A log from before the key may have gaps in its ids
    (transactions rolled back) until it is re-sealed, so this goes on after the highest."""
    return (db.scalar(select(func.max(AuditEntry.id))) or 0) + 1


# --- Hashes -------------------------------------------------------------------------------


class _Values(Protocol):
    """An entry's column values by name: a row mapping, or ``values_of``."""

    def __getitem__(self, name: str, /) -> Any: ...


def entry_hash(key: bytes, values: _Values) -> str:
    """The seal of an entry given as its columns' values (a row mapping, or ``values_of``)."""
    content = {name: values[name] for name in SEALED_COLUMNS}
    content["at"] = _instant(content["at"])
    text = json.dumps([SCHEME, content], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def unkeyed_hash(values: _Values) -> str:
    """How entries were hashed before the key (plain SHA-256, person_id left out): only
    ``reseal`` accepts such an entry, and only at the start of the chain."""
    content = [
        values["previous_hash"],
        _instant(values["at"]),
        *(values[name] for name in ("actor", "category", "action", "subject_type")),
        *(values[name] for name in ("subject_id", "body_id", "session_id", "detail", "ip")),
    ]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def values_of(entry: AuditEntry) -> dict[str, object]:
    return {column.key: getattr(entry, column.key) for column in TABLE.columns}


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _rows(db: Session, after: int | None = None) -> Iterator[RowMapping]:
    query = select(TABLE).order_by(TABLE.c.id).execution_options(yield_per=BATCH)
    if after is not None:
        query = query.where(TABLE.c.id > after)
    return db.execute(query).mappings()


def _end(db: Session) -> tuple[int, str]:
    head = db.get(AuditHead, 1, populate_existing=True)
    return (head.length, head.last_hash) if head else (0, GENESIS)


# --- Verifying ----------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int
    broken_id: int | None = None  # the first entry that does not fit the chain
    reason: str = ""
    last_hash: str = GENESIS  # of the last entry that fits

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.reason


def verify(db: Session) -> Verification:
    """Walk the chain from the start; report the first entry that does not fit.

    The app may append while this runs: when the head has moved on past the entries walked,
    the walk goes on with the new ones, until it reaches the head or finds nothing more."""
    key = audit_key(db)
    head = db.get(AuditHead, 1, populate_existing=True)
    if head is not None and head.key_id not in (None, key_id(key)):
        return Verification(0, None, WRONG_KEY)
    result, last_id = Verification(0), None
    while True:
        walked = result.checked
        for values in _rows(db, after=last_id):
            problem = _misfit(key, values, result.checked + 1, result.last_hash)
            if problem:
                return Verification(result.checked, values["id"], problem, result.last_hash)
            result.checked += 1
            result.last_hash, last_id = values["hash"], values["id"]
        length, last = _end(db)
        if length <= result.checked or result.checked == walked:
            break
    if (length, last) != (result.checked, result.last_hash):
        result.reason = "the chain's end does not match its head"
    return result


def _misfit(key: bytes, values: _Values, place: int, expected: str) -> str:
    if values["previous_hash"] != expected:
        return "previous hash does not match"
    if not hmac.compare_digest(values["hash"], entry_hash(key, values)):
        if values["hash"] == unkeyed_hash(values):
            return UNKEYED_LOG if place == 1 else UNKEYED
        return "content does not match its hash"
    if values["id"] != place:
        return f"not in its place: it should be entry {place}"
    return ""


# --- Re-sealing a log written before the key ----------------------------------------------


@dataclass
class Reseal:
    entries: int  # in the chain
    unkeyed: int  # of them, written without the key
    broken_id: int | None = None  # the first that fits neither way (or None: the end)
    reason: str = ""
    done: bool = False


def reseal(db: Session, *, accept_broken: bool = False) -> Reseal:
    """Seal the whole chain with the key, numbering the entries 1, 2, 3 …, once the log
    from before the key has been checked: every entry must follow the one before it and be
    sealed either with the key, or without it but only before the first keyed entry (an
    unkeyed entry after a keyed one was written by someone without the key). A chain that
    fails is left alone unless ``accept_broken``. Nothing is committed."""
    head, key = take_head(db)
    survey = _survey(db, key, head)
    if not (survey.unkeyed or survey.reason) or (survey.reason and not accept_broken):
        return survey
    lowest = db.scalar(select(func.min(AuditEntry.id)))
    if lowest is not None and lowest < 1:
        # Renumbering relies on every id being at least its place (_rewrite).
        survey.reason = "entries numbered below 1 were put in directly: remove them first"
        return survey
    length, last = _rewrite(db, key)
    head.length, head.last_hash = length, last
    db.flush()
    survey.done = True
    return survey


def _survey(db: Session, key: bytes, head: AuditHead) -> Reseal:
    # The head is locked (take_head): nothing is appended while this reads.
    survey = Reseal(0, 0)
    expected, keyed_seen = GENESIS, False
    for values in _rows(db):
        keyed = hmac.compare_digest(values["hash"], entry_hash(key, values))
        unkeyed = not keyed and not keyed_seen and values["hash"] == unkeyed_hash(values)
        if values["previous_hash"] != expected or not (keyed or unkeyed):
            survey.broken_id = survey.broken_id or values["id"]
            survey.reason = survey.reason or (
                "previous hash does not match"
                if values["previous_hash"] != expected
                else "fits neither with the key nor as an entry from before the key"
            )
        keyed_seen = keyed_seen or keyed
        survey.unkeyed += unkeyed
        survey.entries += 1
        expected = values["hash"]
    if not survey.reason and (head.length, head.last_hash) != (survey.entries, expected):
        survey.reason = "the chain's end does not match its head"
    return survey


def _rewrite(db: Session, key: bytes) -> tuple[int, str]:
    """Renumber and re-seal every entry in order, a batch at a time. New ids are never
    above old ones, so going up the old ids never meets a row already rewritten."""
    place, previous, last_old = 0, GENESIS, None
    statement = (
        update(TABLE)
        .where(TABLE.c.id == bindparam("old_id"))
        .values(id=bindparam("new_id"), previous_hash=bindparam("new_previous"))
        .values(hash=bindparam("new_hash"))
    )
    while True:
        query = select(TABLE).order_by(TABLE.c.id).limit(BATCH)
        if last_old is not None:
            query = query.where(TABLE.c.id > last_old)
        batch = db.execute(query).mappings().all()
        if not batch:
            return place, previous
        changes = []
        for row in batch:
            place += 1
            sealed = entry_hash(key, {**row, "id": place, "previous_hash": previous})
            changes.append(
                {"old_id": row["id"], "new_id": place, "new_previous": previous, "new_hash": sealed}
            )
            previous = sealed
        db.execute(statement, changes)
        last_old = batch[-1]["id"]


# --- Anchors ------------------------------------------------------------------------------

ANCHOR = re.compile(r"renkei-audit-anchor v1 length=(\d+) hash=([0-9a-f]{64})(?: at=(\S+))?")


@dataclass(frozen=True)
class Anchor:
    """The chain as it stood: its length and the hash of its last entry."""

    length: int
    hash: str
    at: str = ""

    @property
    def line(self) -> str:
        at = f" at={self.at}" if self.at else ""
        return f"renkei-audit-anchor v1 length={self.length} hash={self.hash}{at}"


def parse_anchor(text: str) -> Anchor:
    """The anchor in a line (it may stand after a date or a quote mark). Raises ValueError."""
    found = ANCHOR.search(text)
    if found is None:
        raise ValueError(f"not an audit anchor: {text.strip()!r}")
    return Anchor(int(found[1]), found[2], found[3] or "")


def read_anchors(lines: Iterable[str], source: str) -> list[Anchor]:
    """The anchors of a file: one a line; blank lines and lines starting with # are skipped.
    Raises ValueError naming the first line that is neither."""
    anchors = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            anchors.append(parse_anchor(line))
        except ValueError as error:
            raise ValueError(f"{source}, line {number}: {error}") from None
    return anchors


def anchor_of(result: Verification) -> Anchor:
    """The anchor of a chain that ``verify`` passed, as it stood then."""
    return Anchor(result.checked, result.last_hash, now_tokyo().isoformat(timespec="seconds"))


def anchor_mismatch(db: Session, anchors: Iterable[Anchor]) -> tuple[Anchor, str] | None:
    """The first anchor the chain does not match, and how; None when all match. Meant for a
    chain that ``verify`` passed, whose entry ids are their places."""
    for anchor in anchors:
        found: str | None
        if anchor.length == 0:
            found = GENESIS
        else:
            found = db.scalar(select(AuditEntry.hash).where(AuditEntry.id == anchor.length))
        if found is None:
            count = db.scalar(select(func.count()).select_from(AuditEntry))
            return anchor, f"the chain has only {count} entries: entries were removed from its end"
        if found != anchor.hash:
            return anchor, f"entry {anchor.length} has the hash {found}: the log was rewritten"
    return None


def anchor_message(
    address: str, *, anchor: Anchor | None, problem: str, sender: str
) -> MailMessage:
    """The e-mail (a pending ``MailMessage``, not yet added) carrying the anchor to a
    mailbox elsewhere; or, when the chain did not verify, saying so instead."""
    key = f"audit-anchor:{now_tokyo().isoformat()}"
    with force_locale(mail.MAIL_LOCALE):
        if anchor is None:
            subject = _("Renkei audit log FAILED its check")
            text = _(
                "The audit log's chain does not verify, so no anchor was taken today. Have "
                "the server checked at once; keep the anchors received so far."
            )
            lines = [f"audit-verify: {problem}"]
        else:
            subject = _("Renkei audit log anchor: %(length)s entries", length=anchor.length)
            text = _(
                "Keep this message where the Renkei server cannot change it. The line below "
                "records the audit log as it stands now; audit-verify --anchors checks later "
                "that the log still holds exactly these entries."
            )
            lines = [anchor.line]
    body = "\n\n".join([text, "\n".join(lines), "-- \nRenkei"]) + "\n"
    return mail.address_message(
        address, kind="audit_anchor", key=key, subject=subject, body=body, sender=sender
    )
