"""Local issues (地域課題): raise, edit, move along, list, and take onto a session's agenda.

An issue goes to a 協議体 (第1層 or 第2層), raised from a case discussed in an agenda item,
from a session, or directly by the 協議体's secretariat. Its text is anonymised: a person's
name or a case number in it is refused, and the case number of the item it came from is
never copied (the item is linked; policy decides who sees the link). Every change is in the
issue's history; raising from closed content is written to the audit log of the item's or
session's bodies.

Status: 提起 → 協議中 → 継続 / 資源化 / 解決. Forward moves need nothing more; a move back
(or between outcomes) needs a reason. Taking issues onto a session's agenda adds one item per
issue through ``agenda.add_item`` (so the session's history, audit and correction rules
apply), links the issue to the session and moves a raised issue to 協議中.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Body,
    BodyKind,
    IssueDiscussion,
    IssueStatus,
    LocalIssue,
    LocalIssueEvent,
    MeetingSession,
    Person,
    Status,
)
from renkei.services import agenda, audit, case_numbers, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden

MAX_TITLE = agenda.MAX_TITLE  # the title becomes an agenda item's when taken up
MAX_TEXT = 5000
MAX_AREA = 200
MAX_REASON = 500

# A case number in any installation's form (R8-0012, A-R8-0012), anywhere in a text.
CASE_NUMBER = re.compile(r"(?<![A-Z0-9])(?:[A-Z0-9]{1,10}-)?[RH][1-9][0-9]?-[0-9]{4,6}(?![0-9])")

# What the history records, and what the audit log calls raising from closed content.
RAISED, EDITED, STATUS, TAKEN_UP = "raised", "edited", "status", "taken_up"
AUDIT_ACTION = "local_issue_raised"

# Fields whose change the history names (never their old text: the history is short).
FIELD_LABELS = {"title": _l("title"), "text": _l("text"), "area": _l("area")}


@dataclass
class IssueData:
    title: str
    text: str
    area: str = ""
    body_id: int | None = None  # the 協議体 it goes to (not changed by an edit)


# --- Reading ------------------------------------------------------------------------------


def consultative_bodies(db: Session) -> list[Body]:
    """Every 協議体, the bodies an issue may go to: 第1層 before 第2層, then by name."""
    found = db.scalars(select(Body).where(Body.kind == BodyKind.CONSULTATIVE_BODY))
    return sorted(found, key=lambda b: (b.layer is None, b.layer or "", b.name))


def areas_used(db: Session) -> list[str]:
    """The areas to offer: those of the 協議体 and those already given to issues."""
    bodies = db.scalars(select(Body.area).where(Body.kind == BodyKind.CONSULTATIVE_BODY))
    issues = db.scalars(select(LocalIssue.area).distinct())
    return sorted({area for area in [*bodies, *issues] if area})


def by_status(db: Session, body: Body) -> dict[IssueStatus, list[LocalIssue]]:
    """The body's issues grouped by status, in the order of the statuses, newest first
    within each: one query, however many issues."""
    issues = db.scalars(
        select(LocalIssue)
        .where(LocalIssue.body_id == body.id)
        .order_by(LocalIssue.raised_on.desc(), LocalIssue.id.desc())
    )
    grouped: dict[IssueStatus, list[LocalIssue]] = {status: [] for status in IssueStatus}
    for issue in issues:
        grouped[issue.status].append(issue)
    return {status: found for status, found in grouped.items() if found}


def served_kyogitai(session: MeetingSession) -> list[Body]:
    """The 協議体 among the bodies a session serves: whose issues it may take up."""
    return [b for b in session.bodies if b.kind == BodyKind.CONSULTATIVE_BODY]


def open_issues_for(db: Session, session: MeetingSession) -> list[LocalIssue]:
    """The open issues of the session's 協議体 not yet on its agenda."""
    body_ids = [b.id for b in served_kyogitai(session)]
    if not body_ids:
        return []
    taken = select(IssueDiscussion.issue_id).where(IssueDiscussion.session_id == session.id)
    open_statuses = [s for s in IssueStatus if s.is_open]
    return list(
        db.scalars(
            select(LocalIssue)
            .where(
                LocalIssue.body_id.in_(body_ids),
                LocalIssue.status.in_(open_statuses),
                LocalIssue.id.not_in(taken),
            )
            .order_by(LocalIssue.raised_on, LocalIssue.id)
        )
    )


def load(db: Session, issue_id: int) -> LocalIssue | None:
    """An issue with its history and sessions, for its page."""
    return db.scalar(
        select(LocalIssue)
        .where(LocalIssue.id == issue_id)
        .options(
            selectinload(LocalIssue.events).joinedload(LocalIssueEvent.person),
            selectinload(LocalIssue.discussions).joinedload(IssueDiscussion.session),
        )
    )


# --- Checks -------------------------------------------------------------------------------


def _kyogitai(db: Session, body_id: int | None) -> Body:
    body = db.get(Body, body_id) if isinstance(body_id, int) else None
    if body is None or body.kind != BodyKind.CONSULTATIVE_BODY:
        raise DomainError(
            _l(
                "Choose the consultative body the issue goes to: only a consultative body "
                "takes up local issues."
            ),
            "body_id",
        )
    return body


def _anonymised(text: str, field: str) -> None:
    """Refuse a person's name or a case number: the issue is read by the whole 協議体."""
    names = case_numbers.personal_names(text)
    if names:
        raise DomainError(
            _l(
                "“%(names)s” looks like a person's name. A local issue is written without "
                "names: describe the situation, not the person.",
                names="、".join(names),
            ),
            field,
        )
    plain = case_numbers.DASHES.sub("-", unicodedata.normalize("NFKC", text)).upper()
    if CASE_NUMBER.search(plain):
        raise DomainError(
            _l(
                "A local issue carries no case number: the case stays with the body that "
                "discussed it. Remove the case number from the text."
            ),
            field,
        )


def validate(data: IssueData) -> dict[str, str]:
    """The values to store, or a DomainError for the first thing wrong."""
    title = " ".join((data.title or "").split())
    text = (data.text or "").strip()
    area = " ".join((data.area or "").split())
    if not title:
        raise DomainError(_l("Enter a title."), "title")
    if len(title) > MAX_TITLE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_TITLE), "title")
    if not text:
        raise DomainError(_l("Describe the issue."), "text")
    if len(text) > MAX_TEXT:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_TEXT), "text")
    if len(area) > MAX_AREA:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_AREA), "area")
    _anonymised(title, "title")
    _anonymised(text, "text")
    _anonymised(area, "area")
    return {"title": title, "text": text, "area": area}


def _require_secretariat(db: Session, issue_body: Body, by: Person) -> None:
    if not policy.can_manage_local_issues(db, by, issue_body):
        raise Forbidden(
            _l(
                "Only the secretariat of %(body)s may change its local issues.",
                body=issue_body.name,
            )
        )


# --- Raising ------------------------------------------------------------------------------


def _create(
    db: Session,
    body: Body,
    values: dict[str, str],
    *,
    by: Person,
    item: AgendaItem | None = None,
    session: MeetingSession | None = None,
) -> LocalIssue:
    day = today()
    issue = LocalIssue(
        body=body,
        title=values["title"],
        text=values["text"],
        area=values["area"] or body.area,
        status=IssueStatus.RAISED,
        raised_on=day,
        status_on=day,
        source_item=item,
        source_session=session,
        created_by=by,
    )
    db.add(issue)
    issue.events.append(
        LocalIssueEvent(person=by, kind=RAISED, new_status=IssueStatus.RAISED, effective_on=day)
    )
    db.flush()
    return issue


def raise_directly(db: Session, data: IssueData, *, by: Person) -> LocalIssue:
    """Raised by the 協議体's own secretariat (from a resident's voice, a survey…)."""
    body = _kyogitai(db, data.body_id)
    _require_secretariat(db, body, by)
    return _create(db, body, validate(data), by=by)


def raise_from_item(db: Session, item: AgendaItem, data: IssueData, *, by: Person) -> LocalIssue:
    """Raised from an agenda item (a case discussed) by the secretariat of its session who
    may see it. The item is linked, its case number and text are not copied."""
    access = policy.session_access(db, by, item.session)
    if not (access.can_manage and access.can_see_item(item)):
        raise Forbidden(
            _l("Only the secretariat who may see this agenda item may raise an issue from it.")
        )
    body = _kyogitai(db, data.body_id)
    issue = _create(db, body, validate(data), by=by, item=item, session=item.session)
    if policy.is_owned(item) or item.case_number:
        _audit(db, by, issue, item.session, [item.body_id])
    return issue


def raise_from_session(
    db: Session, session: MeetingSession, data: IssueData, *, by: Person
) -> LocalIssue:
    """Raised from a session by its secretariat (what the meeting as a whole revealed)."""
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(_l("Only the secretariat of this session may raise an issue from it."))
    body = _kyogitai(db, data.body_id)
    issue = _create(db, body, validate(data), by=by, session=session)
    closed = [b.id for b in session.bodies if policy.guards_membership(b)]
    if closed:
        _audit(db, by, issue, session, closed)
    return issue


def _audit(
    db: Session, by: Person, issue: LocalIssue, session: MeetingSession, body_ids: list[int]
) -> None:
    """Raised from closed content: the closed bodies' logs say so (by ids, no text)."""
    for body_id in sorted(set(body_ids)):
        audit.record(
            db,
            by,
            audit.CONTENT,
            AUDIT_ACTION,
            subject_type="local_issue",
            subject_id=issue.id,
            body_id=body_id,
            session_id=session.id,
            detail=f"item {issue.source_item_id}" if issue.source_item_id else "",
        )


# --- Changing -----------------------------------------------------------------------------


def edit(db: Session, issue: LocalIssue, data: IssueData, *, by: Person) -> list[str]:
    """Change the title, text or area; return the names of the fields changed."""
    _require_secretariat(db, issue.body, by)
    values = validate(data)
    values["area"] = values["area"] or issue.body.area
    changed = [name for name, value in values.items() if getattr(issue, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(issue, name, values[name])
    issue.events.append(LocalIssueEvent(person=by, kind=EDITED, fields=",".join(changed)))
    db.flush()
    return changed


def change_status(
    db: Session,
    issue: LocalIssue,
    status: str,
    *,
    on: date | None,
    reason: str = "",
    by: Person,
) -> None:
    """Move the issue to ``status`` as of ``on`` (today if not given). Back, or from one
    outcome to another, only with a reason."""
    _require_secretariat(db, issue.body, by)
    try:
        new = IssueStatus(status)
    except ValueError:
        raise DomainError(_l("Choose a status."), "status") from None
    if new == issue.status:
        raise DomainError(_l("The issue already has this status."), "status")
    day = on or today()
    if day > today():
        raise DomainError(_l("The date cannot be in the future."), "on")
    if day < issue.status_on:
        raise DomainError(
            _l(
                "The date cannot be before the current status began (%(day)s).",
                day=issue.status_on.isoformat(),
            ),
            "on",
        )
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_REASON), "reason")
    if new.rank <= issue.status.rank and not reason:
        raise DomainError(
            _l(
                "Moving an issue back from “%(old)s” to “%(new)s” needs a reason.",
                old=issue.status.label,
                new=new.label,
            ),
            "reason",
        )
    if reason:
        _anonymised(reason, "reason")
    issue.events.append(
        LocalIssueEvent(
            person=by,
            kind=STATUS,
            old_status=issue.status,
            new_status=new,
            effective_on=day,
            reason=reason,
        )
    )
    issue.status, issue.status_on = new, day
    db.flush()


# --- Taking onto an agenda -----------------------------------------------------------------


def take_onto_agenda(
    db: Session, session: MeetingSession, issue_ids: list[int], *, by: Person
) -> list[AgendaItem]:
    """The chosen open issues of the session's 協議体 onto its agenda, one item each, in
    one action: all of them or, for the first thing wrong, none."""
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(
            _l("Only the secretariat of the bodies served may change this session's agenda.")
        )
    issues = _chosen(db, session, issue_ids)
    items = []
    for issue in issues:
        item = agenda.add_item(
            db,
            session,
            agenda.ItemData(
                title=issue.title, body_id=issue.body_id, description=_description(issue)
            ),
            by=by,
        )
        db.add(IssueDiscussion(issue=issue, session=session, item_id=item.id))
        event = LocalIssueEvent(person=by, kind=TAKEN_UP, session=session, effective_on=today())
        if issue.status == IssueStatus.RAISED:
            event.old_status, event.new_status = issue.status, IssueStatus.DISCUSSING
            issue.status, issue.status_on = IssueStatus.DISCUSSING, today()
        issue.events.append(event)
        items.append(item)
    db.flush()
    return items


def _chosen(db: Session, session: MeetingSession, issue_ids: list[int]) -> list[LocalIssue]:
    if session.status not in (Status.PREPARED, Status.CONVENED):
        raise DomainError(
            _l("Issues are taken onto the agenda of a session still to be held."), "issue_ids"
        )
    body_ids = {b.id for b in served_kyogitai(session)}
    if not body_ids:
        raise DomainError(
            _l("This session serves no consultative body, so it takes up no local issues."),
            "issue_ids",
        )
    wanted = list(dict.fromkeys(issue_ids))
    if not wanted:
        raise DomainError(_l("Choose at least one issue."), "issue_ids")
    found = {
        issue.id: issue
        for issue in db.scalars(
            select(LocalIssue)
            .where(LocalIssue.id.in_(wanted))
            .options(selectinload(LocalIssue.discussions))
        )
    }
    issues = [found.get(issue_id) for issue_id in wanted]
    if any(issue is None or issue.body_id not in body_ids for issue in issues):
        raise DomainError(
            _l("Choose among the issues of the consultative body this session serves."),
            "issue_ids",
        )
    chosen = [issue for issue in issues if issue is not None]
    for issue in chosen:
        if any(d.session_id == session.id for d in issue.discussions):
            raise DomainError(
                _l("“%(title)s” is already on this session's agenda.", title=issue.title),
                "issue_ids",
            )
        if not issue.status.is_open:
            raise DomainError(
                _l(
                    "“%(title)s” is closed (%(status)s).",
                    title=issue.title,
                    status=issue.status.label,
                ),
                "issue_ids",
            )
    return chosen


def _description(issue: LocalIssue) -> str:
    """The agenda item's text: the anonymised issue and its area."""
    area = str(_l("Area: %(area)s", area=issue.area)) if issue.area else ""
    return "\n\n".join(part for part in (issue.text, area) if part)
