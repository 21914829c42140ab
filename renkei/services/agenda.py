"""Agenda items (議題) of a session: add, edit, reorder, remove.

Only the secretariat of every body a session serves changes its agenda (policy decides).
Every change goes into the session's history, which everyone who can see the session reads:
so the history names items by id and position and lists changed fields, never a title, a
presenter or a description (any of which may be confidential).

Once a session is held its agenda is what was discussed: it changes only as a correction the
secretariat asks for knowingly (``Correction``), with its reason, recorded in the history
and the audit log of every body served.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from renkei.db import utcnow
from renkei.i18n import LazyText
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Body,
    MeetingSession,
    Person,
    SessionChange,
    Status,
    Visibility,
)
from renkei.services import audit, case_numbers, materials, minutes, policy, scheduling
from renkei.services.dates import tokyo_date
from renkei.services.errors import DomainError, Forbidden

MAX_TITLE = 200
MAX_PRESENTER = 100
MAX_MINUTES = 24 * 60
MAX_DESCRIPTION = 20_000
MAX_REASON = 500

# The history's and audit log's kind for a correction of a held session's agenda.
CORRECTION = "agenda_correction"

# Fields whose values may be written to the history; the others are named only.
PLAIN_FIELDS = ("body_id", "planned_minutes", "visibility")
# History lines name fields, never their content: the history is shown to every manager,
# and a confidential title must not reach it.
FIELD_LABELS = {
    "title": _l("title"),
    "body_id": _l("owning body"),
    "presenter": _l("presenter"),
    "planned_minutes": _l("planned minutes"),
    "description": _l("description"),
    "visibility": _l("who may see it"),
    "case_number": _l("case number"),
}


@dataclass
class ItemData:
    title: str
    body_id: int | None
    presenter: str = ""
    planned_minutes: int | None = 0
    description: str = ""
    visibility: str | None = None  # None: the default for the owning body
    case_number: str = ""  # typed: one issued before (a case discussed again); "" for none
    assign_case_number: bool = False  # issue the next number of the session's fiscal year
    case_prefix: str = ""  # the installation's CASE_NUMBER_PREFIX
    # The secretariat confirms a visibility wider than the owning body allows.
    confirm_wider: bool = False


def widens(body: Body, visibility: Visibility, before: AgendaItem | None = None) -> bool:
    """Whether saving ``visibility`` for an item of ``body`` sets it wider than the body
    allows (``policy.is_wider_than_allowed``): a new item, or one whose visibility or
    owner changes. An item left as it was, already confirmed, is not asked again."""
    if not policy.is_wider_than_allowed(body, visibility):
        return False
    return before is None or (before.body_id, before.visibility) != (body.id, visibility)


def is_wider(item: AgendaItem) -> bool:
    """Whether the item, as saved, is wider than its owning body allows: what the audit
    log records when it was set so (the owner read from the session, which holds it even
    before the item's own relationship is reloaded)."""
    body = next(b for b in item.session.bodies if b.id == item.body_id)
    return policy.is_wider_than_allowed(body, item.visibility)


def _wider_message(body: Body, visibility: Visibility) -> LazyText:
    if body.has_duty_of_secrecy:
        return _l(
            "The members of %(body)s are bound by a statutory duty of secrecy, so its items "
            "are confidential. To make this item “%(chosen)s”, tick the confirmation below.",
            body=body.name,
            chosen=visibility.label,
        )
    return _l(
        "The items of %(body)s are for its members only. To make this item “%(chosen)s”, "
        "tick the confirmation below.",
        body=body.name,
        chosen=visibility.label,
    )


@dataclass(frozen=True)
class Correction:
    """An agenda change to a held session, asked for as a correction after the session."""

    reason: str


HELD_MESSAGE = _l(
    "This session has already been held, so its agenda is left as it was discussed. To "
    "change it, tick “Record as a correction after the session” and give the reason."
)


# --- Checks -------------------------------------------------------------------------------


def _require_manager(db: Session, session: MeetingSession, by: Person) -> policy.SessionAccess:
    access = policy.session_access(db, by, session)
    if not access.can_manage:
        raise Forbidden(
            _l("Only the secretariat of the bodies served may change this session's agenda.")
        )
    return access


def _require_visible(access: policy.SessionAccess, item: AgendaItem) -> None:
    """Editing shows and may open up the item: only for those who may see it already."""
    if not access.can_see_item(item):
        raise Forbidden(
            _l(
                "This item is confidential. Record your pledge of confidentiality for its "
                "body before you edit it."
            )
        )


def corrections_of(session: MeetingSession) -> list[SessionChange]:
    """The corrections made to a held session's agenda after it, in the order made."""
    return [change for change in session.changes if change.kind == CORRECTION]


def correction_reason(session: MeetingSession, correction: Correction | None) -> str:
    """The reason of a correction to a held session's agenda ("" for a session not yet
    held, whose agenda changes freely); refused without the correction or its reason."""
    if session.status != Status.HELD:
        return ""
    if correction is None:
        raise DomainError(HELD_MESSAGE, "as_correction")
    reason = " ".join(correction.reason.split())
    if not reason:
        raise DomainError(_l("Say why the agenda is being corrected."), "correction_reason")
    if len(reason) > MAX_REASON:
        raise DomainError(
            _l("Use at most %(max)d characters.", max=MAX_REASON), "correction_reason"
        )
    return reason


def validate(
    session: MeetingSession, data: ItemData, before: AgendaItem | None = None
) -> dict[str, object]:
    """Raise DomainError for the first thing wrong; return the values to store. ``before``:
    the item being changed (None for a new one)."""
    title = (data.title or "").strip()
    if not title:
        raise DomainError(_l("Enter a title."), "title")
    if len(title) > MAX_TITLE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_TITLE), "title")
    body = next((b for b in session.bodies if b.id == data.body_id), None)
    if body is None:
        raise DomainError(
            _l("The owning body must be one of the bodies this session serves."), "body_id"
        )
    presenter = (data.presenter or "").strip()
    if len(presenter) > MAX_PRESENTER:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_PRESENTER), "presenter")
    minutes = data.planned_minutes or 0
    if not isinstance(minutes, int) or minutes < 0 or minutes > MAX_MINUTES:
        raise DomainError(
            _l("Enter the planned minutes as a number from 0 to %(max)d.", max=MAX_MINUTES),
            "planned_minutes",
        )
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(
            _l(
                "The description is too long: %(length)d characters; at most %(max)d.",
                length=len(description),
                max=MAX_DESCRIPTION,
            ),
            "description",
        )
    if data.visibility in (None, ""):
        visibility = policy.default_visibility(body)
    else:
        try:
            visibility = Visibility(data.visibility)
        except ValueError:
            raise DomainError(_l("Choose who may see this item."), "visibility") from None
    if widens(body, visibility, before) and not data.confirm_wider:
        raise DomainError(_wider_message(body, visibility), "visibility")
    return {
        "title": title,
        "body_id": body.id,
        "presenter": presenter,
        "planned_minutes": minutes,
        "description": description,
        "visibility": visibility,
    }


def case_number(
    db: Session, session: MeetingSession, data: ItemData, body_id: object, *, current: str | None
) -> str | None:
    """The item's case number: none, one typed (checked), or the next one issued. Called
    after every other check, since issuing writes the counter."""
    typed = (data.case_number or "").strip()
    if not typed and not data.assign_case_number:
        return None
    body = next(b for b in session.bodies if b.id == body_id)
    if not case_numbers.may_carry(body):
        raise DomainError(
            _l(
                "Items of a public body carry no case number: individual cases belong to a "
                "body with a duty of secrecy."
            ),
            "case_number",
        )
    day = tokyo_date(session.start_at)
    if data.assign_case_number:
        if typed:
            raise DomainError(
                _l("To assign the next case number, leave the case number empty."),
                "case_number",
            )
        return str(case_numbers.issue(db, data.case_prefix, day))
    return case_numbers.typed(db, typed, data.case_prefix, day, current=current)


# --- Changes ------------------------------------------------------------------------------


def _renumber(items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _refresh(db: Session, session: MeetingSession) -> None:
    """Write the positions and reload ``session.items`` in their new order."""
    db.flush()
    db.expire(session, ["items"])


def _record(
    db: Session, session: MeetingSession, by: Person, detail: str, reason: str = ""
) -> None:
    if reason:
        _record_correction(db, session, by, detail, reason)
    else:
        scheduling.record(db, session, "agenda", by, detail)
    # The agenda is part of what calendars show: a feed must look changed, and those
    # convened are told (only if the public titles they see changed, services/notices.py).
    session.updated_at = utcnow()
    session.note_change()


def _record_correction(
    db: Session, session: MeetingSession, by: Person, detail: str, reason: str
) -> None:
    """A held session's agenda corrected: the reason is in the history beside what changed;
    the audit log of each body served says which lines changed (never the reason, which is
    free text, nor a title)."""
    line = str(_l("Reason for the correction: %(reason)s", reason=reason))
    scheduling.record(db, session, CORRECTION, by, f"{detail}\n{line}")
    for body in session.bodies:
        audit.record(
            db,
            by,
            audit.CONTENT,
            CORRECTION,
            subject_type="session",
            subject_id=session.id,
            body_id=body.id,
            session_id=session.id,
            detail=detail,
        )


def _checked(
    db: Session,
    session: MeetingSession,
    data: ItemData,
    correction: Correction | None,
    item: AgendaItem | None = None,
) -> tuple[str, dict[str, object]]:
    """For adding an item or changing ``item``: the correction's reason (required after the
    session) and the form's values checked, the case number issued or checked among them."""
    reason = correction_reason(session, correction)
    values = validate(session, data, item)
    current = item.case_number if item else None
    values["case_number"] = case_number(db, session, data, values["body_id"], current=current)
    return reason, values


def add_item(
    db: Session,
    session: MeetingSession,
    data: ItemData,
    *,
    by: Person,
    correction: Correction | None = None,
) -> AgendaItem:
    """Append an item at the end of the agenda."""
    _require_manager(db, session, by)
    reason, values = _checked(db, session, data, correction)
    position = max((item.position for item in session.items), default=0) + 1
    item = AgendaItem(position=position, **values)
    session.items.append(item)
    db.flush()
    _record(db, session, by, str(_l("Item No.%(n)d added.", n=position)), reason)
    _audit(db, by, "edit", item, "added")
    _audit_widening(db, by, item)
    db.flush()
    return item


def _audit(
    db: Session,
    by: Person,
    action: str,
    item: AgendaItem,
    detail: str,
    *,
    was_confidential: bool = False,
) -> None:
    """A change to a confidential item (or one that was confidential until now) goes to its
    body's audit log."""
    if was_confidential or policy.is_confidential(item):
        _log_item(db, by, action, item, detail)


def _audit_widening(db: Session, by: Person, item: AgendaItem) -> None:
    """An item set wider than its body allows (confirmed on the form) goes to its body's
    log: a new one, or one whose visibility or owner changed."""
    if is_wider(item):
        _log_item(db, by, "widen", item, f"visibility {item.visibility.value}")


def _log_item(db: Session, by: Person, action: str, item: AgendaItem, detail: str) -> None:
    """One line about ``item`` in its body's audit log, among the content entries."""
    audit.record(
        db,
        by,
        audit.CONTENT,
        action,
        subject_type="agenda_item",
        subject_id=item.id,
        body_id=item.body_id,
        session_id=item.session_id,
        detail=detail,
    )


def update_item(
    db: Session,
    item: AgendaItem,
    data: ItemData,
    *,
    by: Person,
    correction: Correction | None = None,
) -> list[str]:
    """Change an item; return the names of the fields that changed."""
    session = item.session
    access = _require_manager(db, session, by)
    _require_visible(access, item)
    reason, values = _checked(db, session, data, correction, item)
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    if not changed:
        return []
    # Made public or for members: that is an edit of confidential content too.
    was_confidential = policy.is_confidential(item)
    lines = []
    for name in changed:
        field = str(FIELD_LABELS.get(name, name))
        if name in PLAIN_FIELDS:
            old, new = getattr(item, name), values[name]
            if name == "body_id":  # bodies by name: which body owns an item is no secret
                names: dict[object, str] = {body.id: body.name for body in session.bodies}
                old, new = names.get(old, old), names.get(new, new)
            line = _l(
                "Item No.%(n)d, %(field)s: %(old)s → %(new)s",
                n=item.position,
                field=field,
                old=getattr(old, "label", old),
                new=getattr(new, "label", new),
            )
        else:
            line = _l("Item No.%(n)d, %(field)s changed.", n=item.position, field=field)
        lines.append(str(line))
    for name, value in values.items():
        setattr(item, name, value)
    minutes.follow_item(db, item)
    _record(db, session, by, "\n".join(lines), reason)
    _audit(db, by, "edit", item, "changed: " + ",".join(changed), was_confidential=was_confidential)
    if {"visibility", "body_id"} & set(changed):
        _audit_widening(db, by, item)
    db.flush()
    return changed


def move_item(
    db: Session,
    item: AgendaItem,
    direction: str,
    *,
    by: Person,
    correction: Correction | None = None,
) -> bool:
    """Swap the item with its neighbour above or below; False when already at that end."""
    session = item.session
    _require_manager(db, session, by)
    reason = correction_reason(session, correction)
    if direction not in ("up", "down"):
        raise DomainError(_l("Choose up or down."), "direction")
    items = list(session.items)
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(items):
        return False
    old_position = item.position
    items[index], items[other] = items[other], items[index]
    _renumber(items)
    _record(
        db,
        session,
        by,
        str(_l("Item No.%(old)d moved to No.%(new)d.", old=old_position, new=item.position)),
        reason,
    )
    _refresh(db, session)
    return True


def reorder(
    db: Session,
    session: MeetingSession,
    item_ids: list[int],
    *,
    by: Person,
    correction: Correction | None = None,
) -> bool:
    """Put the items in the order given, which must name each of the session's items once.
    Returns False when the order did not change."""
    _require_manager(db, session, by)
    reason = correction_reason(session, correction)
    items = {item.id: item for item in session.items}
    if len(item_ids) != len(items) or set(item_ids) != set(items):
        raise DomainError(
            _l("The agenda has changed meanwhile. Reload the page and try again."), "order"
        )
    if [item.id for item in session.items] == list(item_ids):
        return False
    _renumber([items[item_id] for item_id in item_ids])
    _record(db, session, by, str(_l("Items reordered.")), reason)
    _refresh(db, session)
    return True


def delete_item(
    db: Session, item: AgendaItem, *, by: Person, correction: Correction | None = None
) -> None:
    """Remove the item and close the gap it leaves. Refused while the item has materials
    still held: they are kept until the retention period ends, and would be lost with it."""
    session = item.session
    _require_manager(db, session, by)
    if materials.held_for(db, item):
        raise DomainError(
            _l(
                "Agenda item %(n)d has materials, so it cannot be deleted: materials are kept "
                "until the retention period of the session's bodies ends, and deleting the "
                "item would lose them. It can be deleted once they have been deleted after "
                "the retention period.",
                n=item.position,
            )
        )
    reason = correction_reason(session, correction)
    position = item.position
    _audit(db, by, "delete", item, f"position {position}")
    materials.keep_records(db, item, by=by)  # those deleted after the retention period
    session.items.remove(item)  # delete-orphan: the row goes at the flush
    _renumber(list(session.items))
    _record(db, session, by, str(_l("Item No.%(n)d deleted.", n=position)), reason)
    _refresh(db, session)
