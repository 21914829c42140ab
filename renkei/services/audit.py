"""The audit log: append an entry, read a body's or the accounts' log.

Each entry is sealed with the audit key over all its columns and the hash of the entry
before it (``audit_chain``, which also verifies the chain), so a row that is edited,
inserted or deleted afterwards breaks the chain from that point on. Appending takes the
chain's head row for update first, so two requests that append at once wait for each other
instead of both building on the same end (which would fork the chain).

Entries never hold confidential content: they name things by type and id, and say which
view was read or which fields changed.
"""

from collections.abc import Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from renkei.db import normalise_text, utcnow
from renkei.i18n import lazy_gettext as _l
from renkei.models import AuditEntry, MeetingSession, Person
from renkei.services import audit_chain, policy

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
    "widen": _l("Opened an agenda item wider than its body's rule"),
    "agenda_correction": _l("Corrected the agenda of a held session"),
    "export": _l("Downloaded confidential content"),
    "print": _l("Printed confidential content"),
    "submit": _l("Asked for approval of minutes"),
    "approve": _l("Approved minutes"),
    "return": _l("Returned minutes"),
    "correct": _l("Started a correction of minutes"),
    "pledge": _l("Recorded a confidentiality pledge"),
    "body_created": _l("Created a body"),
    "body_changed": _l("Changed a body's register entry"),
    "organisation_created": _l("Created an organisation"),
    "organisation_changed": _l("Changed an organisation"),
    "membership_added": _l("Added a member"),
    "membership_changed": _l("Changed a membership"),
    "membership_removed": _l("Removed a membership"),
    "convened_selected": _l("Convened selected members to a session"),
    "convened_all": _l("Convened every member to a session"),
    "participant_added": _l("Added a participant to a session"),
    "participant_changed": _l("Changed a participant's items"),
    "participant_removed": _l("Removed a participant from a session"),
    "session_pledge": _l("Recorded a participant's confidentiality pledge for a session"),
    "session_convened": _l("Sent the convening notice of a session"),
    "material_uploaded": _l("Uploaded a material"),
    "material_replaced": _l("Replaced a material's file"),
    "material_visibility": _l("Changed who may see a material"),
    "material_deleted": _l("Deleted a material after its retention period"),
    "material_detached": _l(
        "Kept a deleted material's record as a paper of the whole session (its item deleted)"
    ),
    "material_downloaded": _l("Downloaded a closed material"),
    "local_issue_raised": _l("Raised a local issue from closed content"),
    "task_created": _l("Created a confidential task"),
    "task_done": _l("Marked a confidential task as done"),
    "task_reopened": _l("Marked a confidential task as not done"),
    "task_deferred": _l("Deferred a confidential task to a later session"),
    "task_reordered": _l("Reordered the carried tasks of a session"),
    "referral_created": _l("Recorded a referral"),
    "referral_edited": _l("Changed a referral"),
    "referral_status": _l("Changed the status of a referral"),
    "referral_meeting": _l("Put a referred case on a support meeting's agenda"),
    "referral_export": _l("Downloaded referrals"),
    "referral_topic": _l("Changed the list of referral topics"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts and from where (by default, the origin of the request being served)."""

    person: Person | None
    ip: str = ""
    name: str = ""  # for someone without an account row (a failed login's e-mail address)


# Where the change being made comes from: the web layer sets the request's address for the
# services it calls (renkei.blueprints.transaction); a command line leaves it empty.
_origin: ContextVar[str] = ContextVar("renkei_audit_origin", default="")


def set_origin(ip: str) -> Token[str]:
    return _origin.set(ip)


def reset_origin(token: Token[str]) -> None:
    _origin.reset(token)


def record(
    db: Session,
    actor: Actor | Person | None,
    category: str,
    action: str,
    *,
    subject_type: str = "",
    subject_id: int | None = None,
    body_id: int | None = None,
    session_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry in the caller's transaction (it is kept only if that commits).

    Raises ``audit_chain.AuditKeyError`` when the session carries no audit key or another
    than the chain's: nothing is then logged, and the caller's work must not go on."""
    if not isinstance(actor, Actor):
        actor = Actor(person=actor)
    head, key = audit_chain.take_head(db)
    person = actor.person
    entry = AuditEntry(
        id=audit_chain.next_id(db),
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
        ip=(actor.ip or _origin.get())[:45],
        previous_hash=head.last_hash,
    )
    # The hash must cover the text as stored: normalised now, not after it (renkei.db).
    normalise_text(entry)
    entry.hash = audit_chain.entry_hash(key, audit_chain.values_of(entry))
    head.last_hash = entry.hash
    head.length += 1
    db.add(entry)
    db.flush()
    return entry


def content_shown(
    db: Session,
    by: Person,
    action: str,
    session: MeetingSession,
    shown: Iterable[policy.Closable],
    *,
    subject_type: str = "session",
    subject_id: int | None = None,
    detail: str = "",
) -> None:
    """Log that confidential content of ``session`` was read or changed: one entry per body
    whose confidential items or sections are among ``shown``. None among them: no entry."""
    owners = {x.body_id for x in policy.confidential_items(shown) if x.body_id is not None}
    for body_id in sorted(owners):
        record(
            db,
            by,
            CONTENT,
            action,
            subject_type=subject_type,
            subject_id=subject_id if subject_id is not None else session.id,
            body_id=body_id,
            session_id=session.id,
            detail=detail,
        )


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


def _scope_condition(scope: LogScope, body_id: int | None) -> ColumnElement[bool]:
    if body_id is not None:
        if body_id not in scope.body_ids:
            return AuditEntry.id.is_(None)  # nothing: not a body of theirs
        return (AuditEntry.category == CONTENT) & (AuditEntry.body_id == body_id)
    condition = (AuditEntry.category == CONTENT) & AuditEntry.body_id.in_(scope.body_ids)
    if scope.accounts:
        condition = condition | (AuditEntry.category == ACCOUNT)
    return condition
