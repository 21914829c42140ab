"""Follow-up tasks (役割分担): owned by a person or an organisation, with a due date, taken
from a minutes line or created directly for a body; carried onto the body's next sessions as
「前回からの継続事項」 until done (docs/architecture.md, "Follow-up tasks and carry-over").

Which sessions carry a task is worked out, never stored: a session carries the open tasks of
every body it serves that were created before it starts, unless it is cancelled. A task so
appears on the body's next not-cancelled session after it was created (a joint session
serves each of its bodies, its tasks shown under the same rule as its items), and on every
later one until it is done; a task done during or after a session stays on that session's
list, marked done, and leaves the later ones. The secretariat orders a session's carried
tasks or defers one to a later session (``TaskCarry``).

Who may read a task is the policy's (``policy.readable_tasks``): a task from minutes is as
closed as its section, one created directly as its chosen visibility, which is never wider
than the body allows. Its history (``TaskEvent``) names changes, never the text; changes to
a closed task also go to the audit log.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from renkei.db import utcnow
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    ActionItem,
    Body,
    MeetingSession,
    Membership,
    Minutes,
    MinutesSection,
    MinutesVersion,
    Organisation,
    Person,
    Role,
    Selection,
    Status,
    TaskCarry,
    TaskEvent,
    Visibility,
)
from renkei.services import audit, policy
from renkei.services.dates import in_tokyo, install_style, japanese_date, today
from renkei.services.errors import DomainError, Forbidden, NotFound

MAX_TEXT = 500
# A task created directly has no session: "session attendees only" would mean nobody.
DIRECT_VISIBILITIES = (Visibility.PUBLIC, Visibility.BODY, Visibility.CONFIDENTIAL)

# A task with what decides who may read it: its section's session and bodies, its owners.
WITH_ORIGIN = (
    selectinload(ActionItem.section)
    .selectinload(MinutesSection.version)
    .selectinload(MinutesVersion.minutes)
    .selectinload(Minutes.session)
    .selectinload(MeetingSession.bodies),
    selectinload(ActionItem.owner),
    selectinload(ActionItem.owner_organisation),
    selectinload(ActionItem.body),
)


@dataclass(frozen=True)
class Owner:
    """Who is to do it: a person or an organisation, as a form names it ("p12", "o3")."""

    person_id: int | None = None
    organisation_id: int | None = None

    @classmethod
    def parse(cls, value: str | None) -> "Owner":
        value = (value or "").strip()
        if len(value) > 1 and value[1:].isdigit() and value[0] in "po":
            number = int(value[1:])
            return cls(person_id=number) if value[0] == "p" else cls(organisation_id=number)
        return cls()

    @property
    def key(self) -> str:
        return f"p{self.person_id}" if self.person_id else f"o{self.organisation_id}"


def owner_of(task: ActionItem) -> Owner:
    return Owner(task.owner_id, task.owner_organisation_id)


# --- Checks -------------------------------------------------------------------------------


def _text(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise DomainError(_l("Write the task."), "text")
    if len(text) > MAX_TEXT:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_TEXT), "text")
    return text


def may_read(db: Session, person: Person, task: ActionItem) -> bool:
    """Whether ``person`` may read ``task`` (its section, or its body's closed content)."""
    if task.section is not None:
        session = task.section.version.minutes.session
        return policy.session_access(db, person, session).can_see_item(task.section)
    return _reads(db, person, task)


def _reads(db: Session, person: Person, task: ActionItem) -> bool:
    """``may_read`` for a task created directly (also before it is written)."""
    if task.visibility is Visibility.PUBLIC:
        return True
    return policy.reader_access(db, person).can_see_item(task)


def _set_owner(db: Session, task: ActionItem, owner: Owner) -> None:
    """Give the task to ``owner``, who must be allowed to read it: a task from a closed
    item or of a closed body is for those entitled to it alone. An organisation may have
    it if one of its people on the body may (or the task is public)."""
    if owner.person_id:
        person = db.get(Person, owner.person_id)
        if person is None:
            raise DomainError(_l("Choose who will do it."), "owner_id")
        if not may_read(db, person, task):
            raise DomainError(_cannot_see(task, person.name), "owner_id")
        task.owner, task.owner_organisation = person, None
        return
    organisation = db.get(Organisation, owner.organisation_id) if owner.organisation_id else None
    if organisation is None:
        raise DomainError(_l("Choose who will do it."), "owner_id")
    if task.visibility is not Visibility.PUBLIC and not any(
        may_read(db, person, task) for person in _representatives(db, organisation, task)
    ):
        raise DomainError(
            _l(
                "Nobody of %(name)s on this body may see this task's content, so the "
                "organisation cannot be given this task.",
                name=organisation.name,
            ),
            "owner_id",
        )
    task.owner, task.owner_organisation = None, organisation


def _cannot_see(task: ActionItem, name: str) -> str:
    if task.section is not None:
        return _l("%(name)s may not see this section, so cannot be given this task.", name=name)
    return _l("%(name)s may not see this task's content, so cannot be given this task.", name=name)


def _representatives(db: Session, organisation: Organisation, task: ActionItem) -> list[Person]:
    """The organisation's people with a current entitled term on the task's body (or on a
    body of the task's session)."""
    body_ids = {task.body_id}
    if task.section is not None:
        body_ids |= {b.id for b in task.section.version.minutes.session.bodies}
    of_organisation = (Membership.organisation_id == organisation.id) | (
        Person.organisation_id == organisation.id
    )
    return list(
        db.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.body_id.in_(body_ids),
                Membership.role.in_(policy.ENTITLED_ROLES),
                policy.current_membership_filter(today()),
                of_organisation,
            )
            .distinct()
            .limit(20)
        )
    )


def _visibility(body: Body, value: str | None) -> Visibility:
    """The visibility chosen for a task created directly: the body's default when none is
    chosen, never wider than the body allows."""
    if not value:
        default = policy.default_visibility(body)
        return default if default in DIRECT_VISIBILITIES else Visibility.BODY
    try:
        chosen = Visibility(value)
    except ValueError:
        raise DomainError(_l("Choose who may see this task."), "visibility") from None
    if chosen not in DIRECT_VISIBILITIES:
        raise DomainError(_l("Choose who may see this task."), "visibility")
    if policy.is_wider_than_allowed(body, chosen):
        raise DomainError(
            _l("This task cannot be seen more widely than its body's rule allows."), "visibility"
        )
    return chosen


def _record(
    db: Session, task: ActionItem, change: str, by: Person, session_id: int | None = None
) -> None:
    """The task's history; for a confidential task, the audit log too (by id only)."""
    db.add(TaskEvent(action=task, change=change, by=by, session_id=session_id))
    db.flush()
    if policy.is_confidential(task):
        audit.record(
            db,
            by,
            audit.CONTENT,
            "task_" + change,
            subject_type="task",
            subject_id=task.id,
            body_id=task.body_id,
            session_id=session_id,
        )


# --- Creating -----------------------------------------------------------------------------


def add_from_section(
    db: Session,
    section: MinutesSection,
    *,
    text: str,
    owner: Owner,
    due_on: date | None,
    by: Person,
) -> ActionItem:
    """Make a line of a minutes section a task of the section's body (a general section's:
    the session's host). Due no earlier than the session; the owner must read the section."""
    session = section.version.minutes.session
    access = policy.session_access(db, by, session)
    if not access.can_view:
        raise NotFound(_l("No such session."))
    if not access.can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may write the minutes."))
    if not access.can_see_item(section):
        raise Forbidden(_l("You may not see this section."))
    text = _text(text)
    if due_on is not None and due_on < in_tokyo(session.start_at).date():
        raise DomainError(_l("The due date cannot be before the session's date."), "due_on")
    task = ActionItem(
        section=section,
        body_id=section.body_id or session.host_body_id,
        text=text,
        due_on=due_on,
        created_by=by,
    )
    with db.no_autoflush:  # the task joins its section's list before it is written
        _set_owner(db, task, owner)
    db.add(task)
    db.flush()
    _record(db, task, "created", by, session.id)
    return task


def add_for_body(
    db: Session,
    body_id: int | None,
    *,
    text: str,
    owner: Owner,
    due_on: date | None,
    visibility: str | None,
    by: Person,
) -> ActionItem:
    """A task created directly for a body its secretariat runs."""
    body = db.get(Body, body_id) if body_id else None
    if body is None or body.id not in policy.managed_body_ids(db, by):
        raise DomainError(_l("Choose a body whose secretariat you are."), "body_id")
    if due_on is not None and due_on < today():
        raise DomainError(_l("The due date cannot be in the past."), "due_on")
    task = ActionItem(
        body=body,
        body_id=body.id,
        chosen_visibility=_visibility(body, visibility),
        text=_text(text),
        due_on=due_on,
        created_by=by,
    )
    if not _reads(db, by, task):
        raise DomainError(
            _l("You may not see this body's closed content, so cannot create this task."),
            "visibility",
        )
    with db.no_autoflush:  # the task joins its section's list before it is written
        _set_owner(db, task, owner)
    db.add(task)
    db.flush()
    _record(db, task, "created", by)
    return task


# --- Changing -----------------------------------------------------------------------------


def may_change(db: Session, person: Person, task: ActionItem) -> bool:
    """Its owner (a person) or the secretariat of its body, either while they may still read
    it: an owner whose term ended or whose pledge was withdrawn no longer sees a closed
    task in their list, and may not change it by its address either."""
    is_owner = task.owner_id == person.id
    if not is_owner and task.body_id not in policy.managed_body_ids(db, person):
        return False
    return may_read(db, person, task)


def set_done(
    db: Session, task: ActionItem, *, done: bool, by: Person, session_id: int | None = None
) -> None:
    """Mark a task done (or not done after all)."""
    if not may_change(db, by, task):
        raise Forbidden(_l("You may not change this task."))
    if (task.done_at is not None) == done:
        return  # pressed twice: already so
    task.done_at = utcnow() if done else None
    db.flush()
    _record(db, task, "done" if done else "reopened", by, session_id)


# --- Carry-over ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Carried:
    """One task on a session's 「前回からの継続事項」, and whether this reader sees its text
    (else it is 「非公開」)."""

    task: ActionItem
    shown: bool

    @property
    def overdue(self) -> bool:
        return is_overdue(self.task)


def is_overdue(task: ActionItem) -> bool:
    return task.done_at is None and task.due_on is not None and task.due_on < today()


def carried_tasks(db: Session, session: MeetingSession) -> list[ActionItem]:
    """The tasks ``session`` carries, in the secretariat's order (else soonest due first),
    whoever reads them. Three queries however many there are."""
    if session.status == Status.CANCELLED:
        return []
    start = session.start_at
    tasks = db.scalars(
        select(ActionItem)
        .where(
            ActionItem.body_id.in_([b.id for b in session.bodies]),
            ActionItem.created_at < start,
            ActionItem.done_at.is_(None) | (ActionItem.done_at >= start),
        )
        .options(*WITH_ORIGIN)
    ).all()
    if not tasks:
        return []
    carries = {
        c.action_id: c
        for c in db.scalars(select(TaskCarry).where(TaskCarry.session_id == session.id))
    }
    kept = [
        t
        for t in tasks
        if not (t.id in carries and carries[t.id].deferred) and _after_origin(t, session)
    ]

    def place(task: ActionItem) -> tuple[bool, int, date, int]:
        position = carries[task.id].position if task.id in carries else None
        return (position is None, position or 0, task.due_on or date.max, task.id)

    return sorted(kept, key=place)


def _after_origin(task: ActionItem, session: MeetingSession) -> bool:
    """A task from minutes is carried only onto sessions after the one it was minuted in
    (minutes written late are still after their session, not before)."""
    if task.section is None:
        return True
    return task.section.version.minutes.session.start_at < session.start_at


def carried(db: Session, session: MeetingSession, access: policy.SessionAccess) -> list[Carried]:
    """The carried tasks as ``access``'s reader sees them: the text where the rule for the
    session's items and the task's own origin both let them (a task from another session's
    minutes is for those who may read its section)."""
    tasks = carried_tasks(db, session)
    person = access.person
    readable = policy.readable_tasks(db, person, tasks) if person and tasks else set()
    return [Carried(t, t.id in readable and access.can_see_item(t)) for t in tasks]


def _carried_task(db: Session, session: MeetingSession, task_id: int, by: Person) -> ActionItem:
    access = policy.session_access(db, by, session)
    if not access.can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may change the agenda."))
    found = next((c for c in carried(db, session, access) if c.task.id == task_id), None)
    if found is None:
        raise NotFound(_l("This task is not carried onto this session."))
    if not found.shown:
        raise Forbidden(_l("You may not see this task."))
    return found.task


def close_carried(db: Session, session: MeetingSession, task_id: int, *, by: Person) -> None:
    """Mark a carried task done from the session's list."""
    task = _carried_task(db, session, task_id, by)
    if task.done_at is not None:
        return
    set_done(db, task, done=True, by=by, session_id=session.id)


def _carry_row(db: Session, session: MeetingSession, task: ActionItem) -> TaskCarry:
    row = db.scalar(
        select(TaskCarry).where(TaskCarry.session_id == session.id, TaskCarry.action_id == task.id)
    )
    if row is None:
        row = TaskCarry(session_id=session.id, action_id=task.id, deferred=False)
        db.add(row)
    return row


def defer_carried(db: Session, session: MeetingSession, task_id: int, *, by: Person) -> None:
    """Leave a carried task off this session: the body's next session carries it."""
    task = _carried_task(db, session, task_id, by)
    if task.done_at is not None:
        raise DomainError(_l("A task that is done is not carried further."))
    _carry_row(db, session, task).deferred = True
    db.flush()
    _record(db, task, "deferred", by, session.id)


def reorder_carried(
    db: Session, session: MeetingSession, task_ids: Sequence[int], *, by: Person
) -> None:
    """Put the carried tasks in the order given: exactly the tasks the session carries."""
    access = policy.session_access(db, by, session)
    if not access.can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may change the agenda."))
    tasks = carried_tasks(db, session)
    if sorted(task_ids) != sorted(t.id for t in tasks) or len(set(task_ids)) != len(task_ids):
        raise DomainError(
            _l("The list of carried tasks has changed meanwhile: reload the page and try again.")
        )
    by_id = {t.id: t for t in tasks}
    for position, task_id in enumerate(task_ids, start=1):
        _carry_row(db, session, by_id[task_id]).position = position
    db.flush()
    _record_order(db, session, tasks, by)


def _record_order(
    db: Session, session: MeetingSession, tasks: Iterable[ActionItem], by: Person
) -> None:
    for task in tasks:
        db.add(TaskEvent(action=task, change="reordered", by=by, session_id=session.id))
    audit.content_shown(db, by, "task_reordered", session, tasks, subject_type="session")
    db.flush()


def history(db: Session, task: ActionItem) -> list[TaskEvent]:
    return list(
        db.scalars(
            select(TaskEvent)
            .where(TaskEvent.action_id == task.id)
            .order_by(TaskEvent.id)
            .options(selectinload(TaskEvent.by))
        )
    )


# --- The minutes' carried sections ---------------------------------------------------------


@dataclass(frozen=True)
class CarriedPart:
    """The carried tasks of one body with one visibility, as one minutes section."""

    body_id: int
    visibility: Visibility
    lines: list[str]


def minutes_parts(db: Session, session: MeetingSession) -> list[CarriedPart]:
    """The session's carried tasks grouped by body and visibility, each group one section
    of the minutes' layout so that every reader sees only the tasks they may see. A task
    for "session attendees" of another session is for this session's owning body alone
    when other bodies sit here, who were not in that room."""
    served = {b.id for b in session.bodies}
    carried = carried_tasks(db, session)
    narrower = _readers_narrower_elsewhere(db, session, carried)
    groups: dict[tuple[int, Visibility], list[str]] = {}
    for task in carried:
        visibility = task.visibility
        if visibility is Visibility.SESSION and served != {task.body_id}:
            visibility = Visibility.BODY
        line = _closed_line(task) if task.id in narrower else _line(task)
        groups.setdefault((task.body_id, visibility), []).append(line)
    order = [b.id for b in session.bodies]
    return [
        CarriedPart(body_id, visibility, lines)
        for (body_id, visibility), lines in sorted(
            groups.items(), key=lambda g: (order.index(g[0][0]), policy.STRICTNESS[g[0][1]])
        )
    ]


def _readers_narrower_elsewhere(
    db: Session, session: MeetingSession, carried: list[ActionItem]
) -> set[int]:
    """Tasks minuted in another session whose readers there may be fewer than here: those
    for that session's attendees, and those of a body convened there with selected members
    (who else sits here was not in that room). Their text stays out of this session's
    minutes; the session page shows it to each reader the origin lets see it."""
    origins = {
        t.id: t.section.version.minutes.session_id
        for t in carried
        if t.section is not None and t.section.version.minutes.session_id != session.id
    }
    if not origins:
        return set()
    selected = set(
        db.execute(
            select(Selection.session_id, Selection.body_id).where(
                Selection.session_id.in_(set(origins.values()))
            )
        ).all()
    )
    return {
        t.id
        for t in carried
        if t.id in origins
        and (t.visibility is Visibility.SESSION or (origins[t.id], t.body_id) in selected)
    }


def _line(task: ActionItem) -> str:
    due = f"、{_due(task)}" if task.due_on else ""
    return f"- {task.text}（{task.owner_name}{due}）{_done(task)}"


def _closed_line(task: ActionItem) -> str:
    """No text and no owner: only that a closed task is still being followed."""
    due = f"（{_due(task)}）" if task.due_on else ""
    return f"- 非公開の継続事項{due}{_done(task)}"


def _due(task: ActionItem) -> str:
    # Written into the document as it prints (DATE_STYLE), as the next session's date is.
    return japanese_date(task.due_on, install_style(), weekday=False) if task.due_on else ""


def _done(task: ActionItem) -> str:
    return "（済）" if task.done_at is not None else ""


# --- The secretariat's list ----------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    task: ActionItem
    shown: bool

    @property
    def overdue(self) -> bool:
        return is_overdue(self.task)


@dataclass(frozen=True)
class Filters:
    body_id: int | None = None
    owner: Owner | None = None
    overdue: bool = False


def managed_tasks(db: Session, person: Person, filters: Filters) -> list[Listed]:
    """The tasks of the bodies ``person`` runs: open and overdue first (most overdue
    first), then open by due date, then done (latest first); a task they may not read is
    listed as 「非公開」, and an owner filter matches only tasks they may read. A fixed
    number of queries however many tasks there are."""
    body_ids = policy.managed_body_ids(db, person)
    if filters.body_id is not None:
        body_ids &= {filters.body_id}
    if not body_ids:
        return []
    query = select(ActionItem).where(ActionItem.body_id.in_(body_ids)).options(*WITH_ORIGIN)
    if filters.overdue:
        query = query.where(ActionItem.done_at.is_(None), ActionItem.due_on < today())
    tasks = db.scalars(query).all()
    readable = policy.readable_tasks(db, person, tasks) if tasks else set()
    listed = [Listed(t, t.id in readable) for t in tasks]
    if filters.owner is not None:
        listed = [x for x in listed if x.shown and owner_of(x.task) == filters.owner]
    return sorted(listed, key=_list_order)


def _list_order(entry: Listed) -> tuple[int, date, float, int]:
    task = entry.task
    if task.done_at is not None:
        return (2, date.max, -task.done_at.timestamp(), task.id)
    return (0 if entry.overdue else 1, task.due_on or date.max, 0.0, task.id)


def owner_choices(db: Session, body_ids: Iterable[int]) -> list[tuple[str, str]]:
    """People on these bodies now, then organisations: the owners a form offers."""
    people = db.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.body_id.in_(list(body_ids)),
            Membership.role != Role.OBSERVER,
            policy.current_membership_filter(today()),
        )
        .distinct()
        .order_by(Person.kana, Person.name)
    ).all()
    organisations = db.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [(f"p{p.id}", p.name) for p in people] + [
        (f"o{o.id}", _("%(name)s (organisation)", name=o.name)) for o in organisations
    ]


def log_shown(db: Session, by: Person, shown: Iterable[ActionItem], action: str = "view") -> None:
    """A page showed confidential tasks: one audit entry per body, by id only."""
    secret = policy.confidential_items(shown)
    for body_id in sorted({t.body_id for t in secret}):
        audit.record(
            db,
            by,
            audit.CONTENT,
            action,
            subject_type="tasks",
            body_id=body_id,
            detail="tasks " + ",".join(str(t.id) for t in secret if t.body_id == body_id),
        )
