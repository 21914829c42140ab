"""The audit log: append an entry, verify the chain, read a body's or the accounts' log.

Each entry's hash covers its own fields and the hash of the entry before it, so a row that
is edited, inserted or deleted afterwards breaks the chain from that point on; ``verify``
names the first broken entry. Appending takes the chain's head row for update first, so
two requests that append at once wait for each other instead of both building on the same
end (which would fork the chain).

Entries never hold confidential content: they name things by type and id, and say which
view was read or which fields changed.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from renkei.db import normalise_text, utcnow
from renkei.i18n import lazy_gettext as _l
from renkei.models import AuditEntry, AuditHead, Person
from renkei.models.audit import GENESIS
from renkei.services import policy

ACCOUNT, CONTENT = "account", "content"

# What each action means, for the log page.
ACTIONS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "login_locked": _l("Login refused (locked out)"),
    "logout": _l("Logged out"),
    "password_changed": _l("Changed their password"),
    "password_reset": _l("Reset their password by e-mail"),
    "account_changed": _l("Changed an account"),
    "view": _l("Viewed confidential content"),
    "edit": _l("Edited confidential content"),
    "delete": _l("Deleted confidential content"),
    "export": _l("Downloaded confidential content"),
    "print": _l("Printed confidential content"),
    "submit": _l("Asked for approval of minutes"),
    "approve": _l("Approved minutes"),
    "return": _l("Returned minutes"),
    "correct": _l("Started a correction of minutes"),
    "pledge": _l("Recorded a confidentiality pledge"),
    "membership_added": _l("Added a member"),
    "membership_changed": _l("Changed a membership"),
    "membership_removed": _l("Removed a membership"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the view fills it from the request."""

    person: Person | None
    ip: str = ""
    name: str = ""  # for someone without an account row (a failed login's e-mail address)


def record(
    db: Session,
    actor: Actor,
    category: str,
    action: str,
    *,
    subject_type: str = "",
    subject_id: int | None = None,
    body_id: int | None = None,
    session_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry in the caller's transaction (it is kept only if that commits)."""
    head = _take_head(db)
    person = actor.person
    entry = AuditEntry(
        at=utcnow(),
        person_id=person.id if person else None,
        actor=(person.email or person.name) if person else actor.name[:254],
        category=category,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        body_id=body_id,
        session_id=session_id,
        detail=detail,
        ip=(actor.ip or "")[:45],
        previous_hash=head.last_hash,
    )
    # The hash must cover the text as stored: normalised now, not after it (renkei.db).
    normalise_text(entry)
    entry.hash = entry_hash(entry)
    head.last_hash = entry.hash
    head.length += 1
    db.add(entry)
    db.flush()
    return entry


def _take_head(db: Session) -> AuditHead:
    # The UPDATE takes the head row's lock (PostgreSQL) or the database's write lock
    # (SQLite) before the end of the chain is read, and keeps it until commit.
    taken = db.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(length=AuditHead.length)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:
        head = AuditHead(id=1, last_hash=GENESIS, length=0)
        db.add(head)
        db.flush()
        return head
    return db.get(AuditHead, 1, populate_existing=True)


def entry_hash(entry: AuditEntry) -> str:
    # Not person_id: it is set to NULL if the person's row is ever deleted, and the actor's
    # address or name, which is hashed, says who it was.
    content = [
        entry.previous_hash,
        _instant(entry.at),
        entry.actor,
        entry.category,
        entry.action,
        entry.subject_type,
        entry.subject_id,
        entry.body_id,
        entry.session_id,
        entry.detail,
        entry.ip,
    ]
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- Verifying ----------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int
    broken_id: int | None = None  # the first entry that does not fit the chain
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.reason


def verify(db: Session) -> Verification:
    """Walk the chain from the start; report the first entry that does not fit."""
    expected = GENESIS
    checked = 0
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000))
    for entry in rows:
        if entry.previous_hash != expected:
            return Verification(checked, entry.id, "previous hash does not match")
        if entry_hash(entry) != entry.hash:
            return Verification(checked, entry.id, "content does not match its hash")
        expected = entry.hash
        checked += 1
    head = db.get(AuditHead, 1)
    length, last = (head.length, head.last_hash) if head else (0, GENESIS)
    if (length, last) != (checked, expected):
        return Verification(checked, None, "entries are missing at the end of the chain")
    return Verification(checked)


# --- Reading ------------------------------------------------------------------------------


@dataclass
class LogScope:
    """Whose log a person may read: their bodies' content entries, and (administrators)
    the account entries."""

    body_ids: set[int]
    accounts: bool

    @property
    def empty(self) -> bool:
        return not self.body_ids and not self.accounts


def scope_for(db: Session, person: Person) -> LogScope:
    """Secretaries read their bodies' log, chairs theirs; administrators account events."""
    bodies = policy.secretary_body_ids(db, person) | policy.chair_body_ids(db, person)
    return LogScope(body_ids=bodies, accounts=person.is_admin)


def entries(
    db: Session, scope: LogScope, *, body_id: int | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of the entries in scope, newest first, and how many there are in all."""
    condition = _scope_condition(scope, body_id)
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(condition))
    rows = db.scalars(
        select(AuditEntry)
        .where(condition)
        .order_by(AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(AuditEntry.person))
    ).all()
    return list(rows), total or 0


def _scope_condition(scope: LogScope, body_id: int | None):
    if body_id is not None:
        if body_id not in scope.body_ids:
            return AuditEntry.id.is_(None)  # nothing: not a body of theirs
        return (AuditEntry.category == CONTENT) & (AuditEntry.body_id == body_id)
    condition = (AuditEntry.category == CONTENT) & AuditEntry.body_id.in_(scope.body_ids)
    if scope.accounts:
        condition = condition | (AuditEntry.category == ACCOUNT)
    return condition
