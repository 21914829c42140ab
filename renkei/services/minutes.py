"""Minutes (議事録): the draft laid out from the session, saving sections without losing
anyone's work, the approval workflow, locking and corrections (docs/architecture.md,
"Minutes and apportionment").

The workflow is draft → submitted → approved, or back to draft with an approver's comment.
A joint session's minutes need the approval of the chair of every body it served; the
version is approved, locked and hashed when the last approval is in. A correction is a new
version copied from the approved one, which goes through approval again.

Who may read or change what is asked of the policy module; this module only enforces it.
What a page shows of a version (a reader's sections, a body's part, differences, the hash)
is in ``minutes_document``; the attendance sections' texts are the attendance record's
(``attendance``).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session, selectinload

from renkei.db import rowcount, utcnow
from renkei.i18n import format_tokyo, labelled
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.links import Links
from renkei.models import (
    ActionItem,
    AgendaItem,
    Approval,
    Body,
    Decision,
    MeetingSession,
    Membership,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Person,
    Role,
    SectionKind,
    Status,
    Visibility,
)
from renkei.models.sessions import session_bodies
from renkei.services import (
    attendance,
    audit,
    mail,
    material_refs,
    minutes_document,
    policy,
    tasks,
)
from renkei.services.dates import in_tokyo, install_style, japanese_date, japanese_time, today
from renkei.services.errors import DomainError, Forbidden, NotFound

MAX_TEXT = 50_000  # characters per section: a long meeting's record fits many times over
MAX_COMMENT = 2_000
MAX_REASON = 500
MAX_ACTION = tasks.MAX_TEXT
# A section of no agenda item speaks to the whole session: no owning body to close it to.
GENERAL_VISIBILITIES = (Visibility.PUBLIC, Visibility.SESSION)

LOCKED = _l("Minutes awaiting approval or approved cannot be edited.")

REQUEST, APPROVED, RETURNED = "minutes_request", "minutes_approved", "minutes_returned"


class EditConflict(DomainError):
    """Someone saved the section since this editor loaded it: both texts are kept."""

    def __init__(self, section: MinutesSection, yours: str):
        super().__init__(_l("Someone else has updated this section."), "text")
        self.section = section
        self.yours = yours


# --- The draft ----------------------------------------------------------------------------


def _require_manager(db: Session, session: MeetingSession, by: Person) -> policy.SessionAccess:
    access = policy.session_access(db, by, session)
    if not access.can_view:
        raise NotFound(_l("No such session."))
    if not access.can_manage:
        raise Forbidden(_l("Only the secretariat of the bodies served may write the minutes."))
    return access


class AlreadyStarted(DomainError):
    """The session has minutes already; ``version`` is their latest version."""

    def __init__(self, version: MinutesVersion):
        super().__init__(_l("The minutes of this session have already been started."))
        self.version = version


def open_minutes(db: Session, session: MeetingSession, *, by: Person) -> MinutesVersion:
    """Start the minutes of a held session: version 1, laid out from the session. Two
    requests starting them at once meet on the unique session of ``Minutes``."""
    _require_manager(db, session, by)
    if session.status != Status.HELD:
        raise DomainError(_l("Minutes can be written once the session is marked as held."))
    existing = minutes_document.minutes_of(db, session)
    if existing is not None:
        raise AlreadyStarted(existing.latest)
    minutes = Minutes(session=session)
    version = MinutesVersion(minutes=minutes, number=1, created_by=by)
    db.add(minutes)
    for position, section in enumerate(layout(db, session), start=1):
        section.position = position
        section.updated_by = by
        version.sections.append(section)
    db.flush()
    return version


def layout(db: Session, session: MeetingSession) -> list[MinutesSection]:
    """The sections of a new draft: outline, attendance per body, one per agenda item (as
    closed as the item), decisions, next session."""
    texts = attendance.attendance_texts(db, session)
    sections = [_section(SectionKind.HEADER, Visibility.PUBLIC, text=outline(session))]
    for body in session.bodies:
        sections.append(
            _section(
                SectionKind.ATTENDANCE,
                policy.general_visibility([body]),
                body_id=body.id,
                text=texts[body.id],
            )
        )
    for part in tasks.minutes_parts(db, session):
        sections.append(
            _section(
                SectionKind.CARRIED,
                part.visibility,
                body_id=part.body_id,
                title=_("Carried over from previous sessions"),
                text="\n".join(part.lines),
            )
        )
    for item in session.items:
        sections.append(_item_section(item))
    # Decisions may touch any item: for the attendees until the secretariat opens them.
    sections.append(_section(SectionKind.DECISIONS, Visibility.SESSION))
    sections.append(
        _section(
            SectionKind.NEXT_SESSION,
            policy.general_visibility(session.bodies),
            text=_next(db, session),
        )
    )
    return sections


def _section(kind: SectionKind, visibility: Visibility, **values: object) -> MinutesSection:
    return MinutesSection(kind=kind, visibility=visibility, revision=0, **values)


def _item_section(item: AgendaItem) -> MinutesSection:
    return _section(
        SectionKind.ITEM,
        item.visibility,
        agenda_item_id=item.id,
        body_id=item.body_id,
        title=item.title,
        case_number=item.case_number,
    )


def outline(session: MeetingSession) -> str:
    """The outline section as laid out (the 会議録 prints it only if it was written in)."""
    bodies = "、".join(body.name for body in session.bodies)
    if session.is_joint:
        bodies += f"（{_('Joint session')}）"
    when = f"{format_tokyo(session.start_at)}–{format_tokyo(session.end_at, 'time')}"
    lines = [
        _outline_line(_("Date and time"), when),
        _outline_line(_("Bodies served"), bodies),
        _outline_line(_("How it is held"), session.mode.label),
    ]
    if session.place:
        lines.append(_outline_line(_("Place"), session.place))
    if session.presiding_person is not None:
        lines.append(_outline_line(_("Presiding"), session.presiding_person.name))
    return "\n".join(lines)


def _outline_line(label: str, value: str) -> str:
    return "- " + labelled(f"**{label}**", value)


def _next(db: Session, session: MeetingSession) -> str:
    """The next scheduled session serving every body this one served: anyone who may read
    these minutes may know of it (a 支援会議 of its own may not be known to a 協議体's
    members, and even its date can say who is discussed)."""
    served = {b.id for b in session.bodies}
    candidates = db.scalars(
        select(MeetingSession)
        .join(session_bodies, session_bodies.c.session_id == MeetingSession.id)
        .where(
            session_bodies.c.body_id == session.host_body_id,
            MeetingSession.start_at > session.start_at,
            MeetingSession.status == Status.CONVENED,
        )
        .order_by(MeetingSession.start_at)
        .limit(20)
        .options(selectinload(MeetingSession.bodies))
    )
    following = next((s for s in candidates if served <= {b.id for b in s.bodies}), None)
    if following is None:
        return ""
    # Written into the document as it prints: 令和8年12月10日（木）　14時00分 (DATE_STYLE).
    start, style = in_tokyo(following.start_at), install_style()
    text = f"{japanese_date(start.date(), style)}　{japanese_time(start.time(), style)}"
    if following.place:
        text += f"　{following.place}"
    return text


def sync_with_agenda(db: Session, version: MinutesVersion) -> int:
    """Bring a version that is not yet approved in line with the agenda: an item added
    since gets a section, and each section follows its item's title, body and visibility
    (so that an item made confidential closes its section too). Returns sections added."""
    if version.status != MinutesStatus.DRAFT:
        return 0
    session = version.minutes.session
    by_item = {s.agenda_item_id: s for s in version.sections if s.agenda_item_id is not None}
    added = 0
    for item in session.items:
        section = by_item.get(item.id)
        if section is None:
            section = _item_section(item)
            _insert_before_closing(version, section)
            added += 1
        else:
            follow(section, item, draft=True)
    db.flush()
    return added


def _insert_before_closing(version: MinutesVersion, section: MinutesSection) -> None:
    """After the last item section (or the attendance), before decisions and next session."""
    closing = {SectionKind.DECISIONS, SectionKind.NEXT_SESSION}
    sections = version.sections
    at = next((i for i, s in enumerate(sections) if s.kind in closing), len(sections))
    sections.insert(at, section)
    for position, each in enumerate(sections, start=1):
        each.position = position


def follow_item(db: Session, item: AgendaItem) -> None:
    """An agenda item changed: its sections in versions not yet approved follow it."""
    rows = db.execute(
        select(MinutesSection, MinutesVersion.status)
        .join(MinutesVersion)
        .where(
            MinutesSection.agenda_item_id == item.id,
            MinutesVersion.status != MinutesStatus.APPROVED,
        )
    )
    for section, status in rows:
        follow(section, item, draft=status == MinutesStatus.DRAFT)


def follow(section: MinutesSection, item: AgendaItem, *, draft: bool) -> None:
    """A section follows its item, but is never opened by it: what was written as closed
    discussion stays closed until the secretariat opens the section itself. A version
    awaiting approval only closes further, so chairs approve what they were shown."""
    if policy.STRICTNESS[item.visibility] > policy.STRICTNESS[section.visibility]:
        section.visibility = item.visibility
    if draft:
        section.title = item.title
        section.case_number = item.case_number
        section.body_id = item.body_id


# --- Saving a section ---------------------------------------------------------------------


def check_text(text: str) -> str:
    # Browsers send line breaks as CRLF: count them as the one character the box showed.
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_TEXT:
        raise DomainError(
            _l(
                "The section is too long: at most %(max)d characters (now %(n)d).",
                max=MAX_TEXT,
                n=len(text),
            ),
            "text",
        )
    return text


def _editable(db: Session, section: MinutesSection, by: Person) -> policy.SessionAccess:
    version = section.version
    access = _require_manager(db, version.minutes.session, by)
    if not access.can_see_item(section):
        raise Forbidden(_l("You may not see this section."))
    if version.is_locked:
        raise DomainError(LOCKED)
    return access


def save_section(
    db: Session,
    section: MinutesSection,
    text: str,
    *,
    revision: int,
    by: Person,
    visibility: str | None = None,
) -> MinutesSection:
    """Save one section if nobody saved it since ``revision``; else ``EditConflict`` with
    both texts. The check and the write are one UPDATE, so two saves cannot both win."""
    _editable(db, section, by)
    text = check_text(text)
    values = {
        "text": text,
        "revision": revision + 1,
        "updated_by_id": by.id,
        "updated_at": utcnow(),
    }
    if visibility is not None and visibility != section.visibility.value:
        values["visibility"] = _general_visibility(section, visibility)
    drafts = select(MinutesVersion.id).where(MinutesVersion.status == MinutesStatus.DRAFT)
    done = db.execute(
        update(MinutesSection)
        .where(
            MinutesSection.id == section.id,
            MinutesSection.revision == revision,
            MinutesSection.version_id.in_(drafts),  # submitted meanwhile: no more edits
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.refresh(section)
    db.refresh(section.version)
    if rowcount(done) != 1:
        if section.version.is_locked:
            raise DomainError(LOCKED)
        raise EditConflict(section, text)
    if policy.is_confidential(section):
        audit.record(
            db,
            by,
            audit.CONTENT,
            "edit",
            subject_type="minutes_section",
            subject_id=section.id,
            body_id=section.body_id,
            session_id=section.version.minutes.session_id,
            detail=f"revision {section.revision}",
        )
    return section


def _log_workflow(
    db: Session,
    by: Person,
    action: str,
    version: MinutesVersion,
    body_ids: list[int] | None = None,
    extra: str = "",
) -> None:
    """Submissions, approvals, returns and corrections: in the log of each body concerned."""
    session = version.minutes.session
    for body_id in body_ids or [b.id for b in session.bodies]:
        audit.record(
            db,
            by,
            audit.CONTENT,
            action,
            subject_type="minutes_version",
            subject_id=version.id,
            body_id=body_id,
            session_id=session.id,
            # The approved content's hash goes into the chain too: rewriting the minutes
            # and their stored hash together would still not match the log.
            detail=f"version {version.number}"
            + (f" sha256={version.content_hash}" if version.content_hash else "")
            + extra,
        )


def _general_visibility(section: MinutesSection, value: str) -> Visibility:
    """Only the general sections' visibility is chosen here; items follow their agenda item."""
    if section.kind == SectionKind.ITEM:
        raise DomainError(_l("An agenda item's section is as closed as the item."), "visibility")
    if section.kind == SectionKind.CARRIED:
        raise DomainError(_l("A carried tasks' section is as closed as its tasks."), "visibility")
    try:
        chosen = Visibility(value)
    except ValueError:
        chosen = None
    if chosen not in GENERAL_VISIBILITIES:
        raise DomainError(_l("Choose who may see this section."), "visibility")
    return chosen


# --- Approval -----------------------------------------------------------------------------


def chairs(db: Session, session: MeetingSession) -> dict[int, list[Person]]:
    """The current chair(s) of each body served, by body id."""
    rows = db.scalars(
        select(Membership)
        .where(
            Membership.body_id.in_([b.id for b in session.bodies]),
            Membership.role == Role.CHAIR,
            policy.current_membership_filter(today()),
        )
        .options(selectinload(Membership.person))
    )
    found: dict[int, list[Person]] = {}
    for term in rows:
        found.setdefault(term.body_id, []).append(term.person)
    return found


def current_approvals(version: MinutesVersion) -> dict[int, Approval]:
    """The decisions taken on the present submission, by body id."""
    return {a.body_id: a for a in version.approvals if a.round == version.round}


@dataclass(frozen=True)
class Decided:
    """A chair's decision as one reader sees it: its comment only where the policy lets
    them read it (``policy.can_read_comment``)."""

    approval: Approval
    comment_shown: bool


def _as_read(version: MinutesVersion, approval: Approval, access: policy.SessionAccess) -> Decided:
    return Decided(approval, policy.can_read_comment(access, approval, version.sections))


def decisions(version: MinutesVersion, access: policy.SessionAccess) -> dict[int, Decided]:
    """The decisions taken on the present submission, by body id, as ``access`` reads them."""
    return {
        body_id: _as_read(version, approval, access)
        for body_id, approval in current_approvals(version).items()
    }


def returns(version: MinutesVersion, access: policy.SessionAccess) -> list[Decided]:
    """The present submission's returns with comments, in the order they came, as
    ``access`` reads them: what the secretariat is to correct in the draft."""
    return [
        _as_read(version, approval, access)
        for approval in version.approvals
        if approval.round == version.round and approval.decision == Decision.RETURNED
    ]


def awaiting_decision(version: MinutesVersion, access: policy.SessionAccess) -> list[Body]:
    """The bodies whose part the reader, as their chair, has still to approve or return."""
    if version.status != MinutesStatus.SUBMITTED:
        return []
    decided = current_approvals(version)
    return [
        body
        for body in version.minutes.session.bodies
        if body.id in access.chair_body_ids and body.id not in decided
    ]


def _is_empty(version: MinutesVersion) -> bool:
    """Nothing recorded of what was discussed: every item and the decisions are blank."""
    written = {SectionKind.ITEM, SectionKind.DECISIONS}
    return not any(s.text.strip() for s in version.sections if s.kind in written)


NO_ATTENDANCE = _l(
    "The attendance record of this session has not been made yet. Record attendance first, "
    "or say why the minutes are to be approved without it."
)


def _attendance_reason(db: Session, session: MeetingSession, reason: str) -> str:
    """Minutes rest on the attendance record: without it, the secretary says why ("" when
    the record exists: a reason given then means nothing)."""
    if attendance.is_recorded(db, session):
        return ""
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(NO_ATTENDANCE, "attendance_reason")
    if len(reason) > MAX_REASON:
        raise DomainError(
            _l("Use at most %(max)d characters.", max=MAX_REASON), "attendance_reason"
        )
    return reason


def submit(
    db: Session,
    version: MinutesVersion,
    *,
    by: Person,
    links: Links,
    sender: str,
    attendance_reason: str = "",
) -> mail.QueueResult:
    """Ask the chair of every body served for approval, by e-mail from ``sender``. Without
    the session's attendance record, only with ``attendance_reason``: why not."""
    session = version.minutes.session
    _require_manager(db, session, by)
    if version.status != MinutesStatus.DRAFT:
        raise DomainError(_l("Only a draft can be submitted for approval."))
    sync_with_agenda(db, version)
    if _is_empty(version):
        raise DomainError(
            _l("The minutes are empty: write at least one agenda item or the decisions.")
        )
    without_record = _attendance_reason(db, session, attendance_reason)
    found = chairs(db, session)
    missing = [b.name for b in session.bodies if not found.get(b.id)]
    if missing:
        raise DomainError(
            _l(
                "No current chair is registered for: %(bodies)s. Add one to the body's "
                "members before asking for approval.",
                bodies="、".join(missing),
            )
        )
    cannot = [b.name for b in session.bodies if not any(p.is_active for p in found[b.id])]
    if cannot:
        raise DomainError(
            _l(
                "The chair of %(bodies)s has no login and could not approve. Give them a "
                "login on their page in the people register first.",
                bodies="、".join(cannot),
            )
        )
    _take(db, version, MinutesStatus.DRAFT)
    version.status = MinutesStatus.SUBMITTED
    version.round += 1
    version.submitted_by = by
    version.submitted_at = utcnow()
    version.attendance_reason = without_record
    db.flush()
    notices = [
        mail.Notice(
            person=chair,
            kind=REQUEST,
            key=f"{REQUEST}:{version.id}:{version.round}:{body.id}:{chair.id}",
            subject=_l("Approval requested: minutes of %(title)s", title=session.title),
            intro=_l(
                "You are asked to approve the minutes of the following session as chair "
                "of %(body)s.",
                body=body.name,
            ),
            link=links.approval(version.id, body.id),
        )
        for body in session.bodies
        for chair in found[body.id]
    ]
    # The reason is free text: the log says only that the record was missing.
    _log_workflow(db, by, "submit", version, extra=" attendance=missing" if without_record else "")
    return mail.queue_notices(db, session, notices, organizer=by, sender=sender)


def _take(db: Session, version: MinutesVersion, status: MinutesStatus) -> None:
    """Lock the version's row while it still has ``status``, and read it afresh: two
    requests (two chairs approving, two submits) then follow one another instead of both
    acting on the same state."""
    taken = db.execute(
        update(MinutesVersion)
        .where(MinutesVersion.id == version.id, MinutesVersion.status == status)
        .values(round=MinutesVersion.round)
        .execution_options(synchronize_session=False)
    )
    db.refresh(version)
    db.expire(version, ["approvals"])
    if rowcount(taken) != 1:
        if status == MinutesStatus.DRAFT:
            raise DomainError(_l("Only a draft can be submitted for approval."))
        raise DomainError(_l("These minutes are not awaiting approval."))


def withdraw(db: Session, version: MinutesVersion, *, by: Person) -> None:
    """Take a submitted version back to draft; the decisions taken so far no longer count."""
    _require_manager(db, version.minutes.session, by)
    if version.status != MinutesStatus.SUBMITTED:
        raise DomainError(_l("Only minutes awaiting approval can be withdrawn."))
    version.status = MinutesStatus.DRAFT
    db.flush()


def decide(
    db: Session,
    version: MinutesVersion,
    body_id: int,
    *,
    approve: bool,
    comment: str = "",
    by: Person,
    links: Links,
    sender: str,
) -> mail.QueueResult:
    """A chair approves their body's part, or returns the minutes to draft with a comment."""
    session = version.minutes.session
    access = policy.session_access(db, by, session)
    if not access.can_view or body_id not in access.session_body_ids:
        raise NotFound(_l("No such body in this session."))
    if body_id not in access.chair_body_ids:
        raise Forbidden(_l("Only the chair of this body can approve its part of the minutes."))
    _take(db, version, MinutesStatus.SUBMITTED)
    if body_id in current_approvals(version):
        raise DomainError(_l("A decision for this body has already been recorded."))
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_COMMENT), "comment")
    if not approve and not comment:
        raise DomainError(_l("Say what should be changed."), "comment")
    part = minutes_document.body_part(version, body_id)
    if approve and not policy.can_use_full_view(access, part):
        raise DomainError(
            _l("Record your confidentiality pledge first: you cannot approve what you cannot see.")
        )
    approval = Approval(
        version=version,
        round=version.round,
        body_id=body_id,
        person=by,
        decision=Decision.APPROVED if approve else Decision.RETURNED,
        comment=comment,
    )
    db.add(approval)
    kind = APPROVED if approve else RETURNED
    if not approve:
        version.status = MinutesStatus.DRAFT
    elif set(current_approvals(version)) >= access.session_body_ids:
        lock(version)
    db.flush()
    _log_workflow(db, by, "approve" if approve else "return", version, body_ids=[body_id])
    return _notify_secretary(db, version, approval, kind, by=by, links=links, sender=sender)


def lock(version: MinutesVersion) -> None:
    """Approved: the cited materials are kept as they are now, and hashed with the text."""
    db = object_session(version)
    if db is not None:
        material_refs.record(db, version)
    version.status = MinutesStatus.APPROVED
    version.approved_at = utcnow()
    version.content_hash = minutes_document.content_hash(version)


def _notify_secretary(
    db: Session,
    version: MinutesVersion,
    approval: Approval,
    kind: str,
    *,
    by: Person,
    links: Links,
    sender: str,
) -> mail.QueueResult:
    submitter = version.submitted_by
    if submitter is None:
        return mail.QueueResult()
    session = version.minutes.session
    body = approval.body
    if kind == RETURNED:
        subject = _l("Returned: minutes of %(title)s", title=session.title)
        # The comment may speak of closed items: it is read in Renkei, not in the mail.
        intro = _l(
            "The chair of %(body)s returned the minutes with comments. Read them in Renkei.",
            body=body.name,
        )
    elif version.status == MinutesStatus.APPROVED:
        subject = _l("Approved: minutes of %(title)s", title=session.title)
        intro = _l("Every chair has approved the minutes; they are now final.")
    else:
        subject = _l("Approval given: minutes of %(title)s", title=session.title)
        intro = _l("The chair of %(body)s approved the minutes.", body=body.name)
    notice = mail.Notice(
        person=submitter,
        kind=kind,
        key=f"{kind}:{approval.id}",
        subject=subject,
        intro=intro,
        link=links.minutes(version.id),
    )
    return mail.queue_notices(db, session, [notice], organizer=by, sender=sender)


# --- Corrections --------------------------------------------------------------------------


def start_correction(db: Session, minutes: Minutes, *, reason: str, by: Person) -> MinutesVersion:
    """A new draft copied from the approved version; the approved one stays as it was."""
    _require_manager(db, minutes.session, by)
    latest = minutes.latest
    if latest.status != MinutesStatus.APPROVED:
        raise DomainError(_l("A correction can be started only from approved minutes."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_l("Say why the minutes are being corrected."), "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_REASON), "reason")
    old_sections = list(latest.sections)  # loaded before the new version joins the session
    version = MinutesVersion(
        minutes=minutes, number=latest.number + 1, reason=reason, created_by=by
    )
    db.add(version)
    for old in old_sections:
        version.sections.append(
            MinutesSection(
                position=old.position,
                kind=old.kind,
                agenda_item_id=old.agenda_item_id,
                body_id=old.body_id,
                visibility=old.visibility,
                title=old.title,
                case_number=old.case_number,
                text=old.text,
                revision=0,
                updated_by=by,
            )
        )
    db.flush()
    _log_workflow(db, by, "correct", version)
    return version


# --- Action items -------------------------------------------------------------------------


def add_action(
    db: Session,
    section: MinutesSection,
    *,
    text: str,
    owner_id: int | None = None,
    owner_organisation_id: int | None = None,
    due_on: date | None,
    by: Person,
) -> ActionItem:
    """Make a line of a section a follow-up task (``tasks.add_from_section``). Its owner
    must be allowed to read the section: a task from a closed item is for those entitled
    to it alone."""
    _require_manager(db, section.version.minutes.session, by)
    owner = tasks.Owner(owner_id, None if owner_id else owner_organisation_id)
    return tasks.add_from_section(db, section, text=text, owner=owner, due_on=due_on, by=by)


def set_action_done(db: Session, action: ActionItem, *, done: bool, by: Person) -> None:
    """The owner or the secretariat marks a task done (or not done after all)."""
    tasks.set_done(db, action, done=done, by=by)


def open_actions(db: Session, person: Person) -> list[ActionItem]:
    """The person's tasks not yet done, that they may still read, soonest due first."""
    actions = db.scalars(
        select(ActionItem)
        .where(ActionItem.owner_id == person.id, ActionItem.done_at.is_(None))
        .options(*tasks.WITH_ORIGIN)
    ).all()
    if not actions:
        return []
    visible = policy.readable_tasks(db, person, actions)
    shown = [a for a in actions if a.id in visible]
    return sorted(shown, key=lambda a: (a.due_on or date.max, a.id))
