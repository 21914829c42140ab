"""The minutes as read: a version loaded for a page, its sections as one reader sees them,
the part one body's chair approves, the differences between two versions and the hash of
what was approved (docs/architecture.md, "Minutes and apportionment").

What changes the minutes — the draft, saving, the approval workflow, corrections — is in
``minutes``; who may read what is asked of the policy module.
"""

import difflib
import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from renkei.i18n import gettext as _
from renkei.models import (
    ActionItem,
    Approval,
    MeetingSession,
    Minutes,
    MinutesSection,
    MinutesVersion,
    SectionKind,
    Visibility,
)
from renkei.services import policy

# --- Loading ------------------------------------------------------------------------------


def minutes_of(db: Session, session: MeetingSession) -> Minutes | None:
    return db.scalar(
        select(Minutes)
        .where(Minutes.session_id == session.id)
        .options(
            selectinload(Minutes.versions).selectinload(MinutesVersion.approvals),
        )
    )


def load_version(db: Session, version_id: int) -> MinutesVersion | None:
    """A version with all a page shows of it, in a fixed number of queries."""
    return db.scalar(
        select(MinutesVersion)
        .where(MinutesVersion.id == version_id)
        .options(
            selectinload(MinutesVersion.sections).joinedload(MinutesSection.body),
            selectinload(MinutesVersion.sections)
            .selectinload(MinutesSection.actions)
            .joinedload(ActionItem.owner),
            selectinload(MinutesVersion.sections).joinedload(MinutesSection.updated_by),
            selectinload(MinutesVersion.approvals).joinedload(Approval.person),
            selectinload(MinutesVersion.approvals).joinedload(Approval.body),
            joinedload(MinutesVersion.minutes).selectinload(Minutes.versions),
            joinedload(MinutesVersion.minutes)
            .joinedload(Minutes.session)
            .selectinload(MeetingSession.bodies),
        )
    )


def previous_version(version: MinutesVersion) -> MinutesVersion | None:
    earlier = [v for v in version.minutes.versions if v.number < version.number]
    return earlier[-1] if earlier else None


# --- What a chair approves ----------------------------------------------------------------


def body_part(version: MinutesVersion, body_id: int) -> list[MinutesSection]:
    """The sections one body's chair approves, and its extract (抄本) holds: the general
    sections and that body's own."""
    return [s for s in version.sections if s.body_id in (None, body_id)]


# Until migration 0014 the visibilities `session` and `body` were one, stored as "members":
# a version approved before then was hashed (and printed with its hash) so.
BEFORE_FOUR_VISIBILITIES = {Visibility.SESSION: "members", Visibility.BODY: "members"}


def content_hash(version: MinutesVersion, *, before_four_visibilities: bool = False) -> str:
    """SHA-256 of what was approved: every section's place, owner, visibility and text."""
    names = BEFORE_FOUR_VISIBILITIES if before_four_visibilities else {}
    content = {
        "session": version.minutes.session_id,
        "version": version.number,
        # A case number only where there is one: hashes stored before case numbers
        # existed must still match.
        "sections": [
            [
                s.position,
                s.kind.value,
                s.body_id,
                names.get(s.visibility, s.visibility.value),
                s.title,
                s.text,
            ]
            + ([s.case_number] if s.case_number else [])
            for s in version.sections
        ],
    }
    # The cited materials only where there are some: hashes stored before minutes could
    # cite materials must still match.
    if version.material_refs:
        content["materials"] = [
            [ref.number, ref.material_id, ref.sha256] for ref in version.material_refs
        ]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def matches_hash(version: MinutesVersion) -> bool:
    """Whether an approved version is still what was approved: its content hashes to the
    stored hash, as written now or as written before migration 0014 (which changed no
    content, only the name of a visibility)."""
    stored = version.content_hash
    return stored in (content_hash(version), content_hash(version, before_four_visibilities=True))


# --- Rendering ----------------------------------------------------------------------------


@dataclass
class ShownSection:
    """A section as one reader sees it in one view: its heading, and whether its text is
    there. A hidden item's heading says only that it is closed, never its title."""

    section: MinutesSection
    heading: str
    shown: bool
    # An agenda item's number and title as the reader sees them (the 会議録's list of
    # items); 0 and the heading for the other sections.
    number: int = 0
    title: str = ""


def document(
    sections: list[MinutesSection], access: policy.SessionAccess, view: policy.MinutesView
) -> list[ShownSection]:
    result, number = [], 0
    for section in sections:
        shown = policy.shows_section(access, section, view)
        if section.kind == SectionKind.ITEM:
            number += 1
            title = section.title if shown else _("Closed agenda item")
            if shown and section.case_number:
                title = _("%(title)s (case %(case)s)", title=title, case=section.case_number)
            heading = _("Item %(n)d: %(title)s", n=number, title=title)
            result.append(ShownSection(section, heading, shown, number, title))
            continue
        if section.kind == SectionKind.ATTENDANCE and section.body is not None:
            heading = _("Attendance: %(body)s", body=section.body.name)
        elif section.kind == SectionKind.CARRIED and section.body is not None:
            heading = _("Carried over from previous sessions: %(body)s", body=section.body.name)
        else:
            heading = str(section.kind.label)
        result.append(ShownSection(section, heading, shown, title=heading))
    return result


# --- Differences between versions ---------------------------------------------------------


@dataclass
class SectionDiff:
    section: MinutesSection  # in the newer version (or the older, if removed)
    older: MinutesSection | None  # its counterpart in the older version
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" ", "+", "-"), text
    changed: bool = False


def diff(older: MinutesVersion, newer: MinutesVersion) -> list[SectionDiff]:
    """Line by line, section by section (matched by kind and item or body)."""
    before = {s.key: s for s in older.sections}
    result = []
    for section in newer.sections:
        old = before.pop(section.key, None)
        result.append(_diff_section(section, old, old.text if old else "", section.text))
    for section in before.values():
        result.append(_diff_section(section, section, section.text, ""))
    return result


def _diff_section(
    section: MinutesSection, older: MinutesSection | None, old: str, new: str
) -> SectionDiff:
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag = line[:1]
        if tag in (" ", "+", "-"):
            lines.append((tag, line[2:]))
    return SectionDiff(section=section, older=older, lines=lines, changed=old != new)
