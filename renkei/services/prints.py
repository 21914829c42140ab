"""Printed documents as a town hall files them: the record part of the 会議録 (who attended,
who approved), the 次第 (order of business) of a session, and the mark and running head of a
print that holds closed content.

What a print shows is for the policy module alone to decide, as on screen; this module only
arranges it. A print that shows confidential content is marked 「秘」, one that shows content
for the owning body alone 「取扱注意」, and either names its reader and the time it was made
in the head of every page (the printed copy lies on desks, not behind a login).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self

from sqlalchemy.orm import Session

from renkei.i18n import LazyText
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Approval,
    Attendance,
    Body,
    Decision,
    MeetingSession,
    MinutesSection,
    MinutesVersion,
    Presence,
    Role,
    SectionKind,
    Visibility,
)
from renkei.models.labels import LabelledEnum
from renkei.services import attendance, dates, minutes, policy, scheduling
from renkei.services.minutes_document import ShownSection
from renkei.services.policy import MinutesView, SessionAccess

# --- The mark -------------------------------------------------------------------------------


class Mark(LabelledEnum):
    SECRET = "secret"  # 秘: confidential content (a statutory secret)
    RESTRICTED = "restricted"  # 取扱注意: content for the owning body alone

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        return {cls.SECRET: _l("Secret"), cls.RESTRICTED: _l("Handle with care")}


def mark_for(shown: Iterable[policy.Closable]) -> Mark | None:
    """The mark of a print showing ``shown`` (the items or sections whose content it holds):
    none when it holds nothing closed to all but the owning body."""
    visibilities = {policy.visibility_of(thing) for thing in shown}
    if Visibility.CONFIDENTIAL in visibilities:
        return Mark.SECRET
    if Visibility.BODY in visibilities:
        return Mark.RESTRICTED
    return None


# --- The running head -----------------------------------------------------------------------


def page_rule(left: str, right: str = "") -> str:
    """The ``@page`` rule of a print's running head: ``left`` (what the document is) and
    ``right`` (the mark, reader and time, for a marked print) at the top of every page."""
    style = "font-size: 9pt; color: #222; vertical-align: bottom; padding-bottom: 2mm;"
    boxes = "@top-left { content: " + css_string(left) + "; " + style + " }"
    if right:
        boxes += " @top-right { content: " + css_string(right) + "; " + style + " }"
    return "@page { " + boxes + " }\n"


def css_string(text: str) -> str:
    """A CSS string literal: every character outside plain letters escaped, so that no name
    can end the string or the rule."""
    escaped = "".join(ch if ch.isalnum() or ch in " ・　" else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


def head_of_marked(mark: Mark | None, reader: str, when: str) -> str:
    """The right-hand running head: the mark, who printed and when; nothing for an unmarked
    print (a public document is not tied to its reader)."""
    if mark is None:
        return ""
    return _("%(mark)s  Printed by %(name)s on %(when)s", mark=mark.label, name=reader, when=when)


# --- The 会議録's record part ---------------------------------------------------------------


@dataclass
class BodyAttendance:
    """One body's part of the attendance, from the attendance record: its members present
    and absent, and its secretariat apart (事務局: not members, not counted)."""

    body: Body
    shown: bool  # the reader's view shows this body's attendance
    section: MinutesSection | None  # the body's attendance section of the minutes
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    secretariat: list[str] = field(default_factory=list)
    # The section's text when it says more than the record (written by hand, or there is
    # no record yet): printed beneath, as approved.
    note: str = ""


@dataclass
class Approved:
    """A body's approval of the minutes: its chair's decision, or None while awaited."""

    body: Body
    approval: Approval | None


@dataclass
class Proceedings:
    """What the 会議録 prints beside the sections: the attendance per body, whether there
    is an attendance record at all, the outline's text when written by hand, and each
    body's approval."""

    recorded: bool
    attendance: list[BodyAttendance]
    approvals: list[Approved]
    outline: MinutesSection | None
    outline_note: bool  # the outline section holds text of its own: printed


def proceedings(
    db: Session,
    version: MinutesVersion,
    bodies: list[Body],
    access: SessionAccess,
    view: MinutesView,
    style: str = dates.WAREKI,
) -> Proceedings:
    """The 会議録's record part for ``bodies`` (the session's, or an extract's one), as
    ``access`` reads it in ``view``; times written in the install's date ``style``."""
    session = version.minutes.session
    record = attendance.attendances_of(db, session)
    people = scheduling.invitees(db, session)
    laid_out = attendance.attendance_texts(db, session, people, record)
    sections = {s.body_id: s for s in version.sections if s.kind == SectionKind.ATTENDANCE}
    parts = []
    for body in bodies:
        section = sections.get(body.id)
        part = _attendance(body, section, people, record, access, view, style)
        if part.shown and section is not None and _says_more(section, record, laid_out):
            part.note = section.text
        parts.append(part)
    outline = next((s for s in version.sections if s.kind == SectionKind.HEADER), None)
    outline_note = (
        outline is not None
        and bool(outline.text.strip())
        and policy.shows_section(access, outline, view)
        and outline.text != minutes.outline(session)
    )
    return Proceedings(
        recorded=bool(record),
        attendance=parts,
        approvals=approvals(version, bodies),
        outline=outline,
        outline_note=outline_note,
    )


@dataclass(frozen=True)
class _General:
    """A body's attendance as closed as its section would be laid out (for minutes whose
    version has no attendance section for the body)."""

    visibility: Visibility
    body_id: int | None


def _says_more(
    section: MinutesSection, record: dict[int, Attendance], laid_out: dict[int, str]
) -> bool:
    """The attendance section says more than the record printed above it: written in by
    hand, or the only account there is (no record yet)."""
    text = section.text.strip()
    return bool(text) and (not record or section.text != laid_out.get(section.body_id or 0))


def _attendance(
    body: Body,
    section: MinutesSection | None,
    people: list[scheduling.Invitee],
    record: dict[int, Attendance],
    access: SessionAccess,
    view: MinutesView,
    style: str,
) -> BodyAttendance:
    closable = section or _General(policy.general_visibility([body]), body.id)
    part = BodyAttendance(body, policy.shows_section(access, closable, view), section)
    if not part.shown:
        return part  # who attended a closed meeting is closed too
    for invitee in people:
        role = invitee.roles.get(body.id)
        if role is None:
            continue
        entry = record.get(invitee.person.id)
        name = invitee.person.name
        if role == Role.SECRETARY:
            if entry is not None and entry.presence.attended:
                part.secretariat.append(name)
        elif entry is not None and entry.presence != Presence.ABSENT:
            part.present.append(_present(name, entry, style))
        elif record:
            part.absent.append(name)  # absent, or not in the record
    return part


def _present(name: str, entry: Attendance, style: str) -> str:
    if entry.presence == Presence.PARTIAL:
        return f"{name}（{_part_attended(entry, style)}）"
    if entry.presence == Presence.PROXY:
        return _("%(name)s (proxy: %(proxy)s)", name=name, proxy=entry.proxy_name)
    return name


def _part_attended(entry: Attendance, style: str) -> str:
    """「14時20分から」: the times of a late arrival or early departure, as the document
    writes times (``attendance.partial_times`` is the screen's 14:20)."""
    arrived, left = (
        dates.japanese_time(dates.in_tokyo(moment).time(), style) if moment else None
        for moment in (entry.arrived_at, entry.left_at)
    )
    if arrived and left:
        return _("%(start)s to %(end)s", start=arrived, end=left)
    if arrived:
        return _("from %(time)s", time=arrived)
    return _("until %(time)s", time=left)


def approvals(version: MinutesVersion, bodies: list[Body]) -> list[Approved]:
    """Each body's approval of the present submission (None until its chair approves)."""
    decided = minutes.current_approvals(version)
    result = []
    for body in bodies:
        approval = decided.get(body.id)
        approved = approval is not None and approval.decision == Decision.APPROVED
        result.append(Approved(body, approval if approved else None))
    return result


def shown_content(document: list[ShownSection]) -> list[MinutesSection]:
    """The sections whose content a rendering of the minutes holds."""
    return [entry.section for entry in document if entry.shown]


# --- The 次第 --------------------------------------------------------------------------------


@dataclass
class OrderItem:
    """One line of the 次第: the item's number, and its title where the reader may see it
    (else it is a 「非公開議題」)."""

    number: int
    item: AgendaItem
    shown: bool


def may_print_order(access: SessionAccess) -> bool:
    """The 次第 is for those who sit in the session: its secretariat, the members convened
    and the participants (not an administrator as such, nor a member not chosen)."""
    return access.can_manage or access.is_convened or access.is_participant


def order_of_business(session: MeetingSession, access: SessionAccess) -> list[OrderItem]:
    """The agenda as the reader may see it, numbered as the session page numbers it."""
    return [OrderItem(item.position, item, access.can_see_item(item)) for item in session.items]
