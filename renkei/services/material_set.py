"""The 資料一式: one PDF of a session's public materials for the secretariat to print, numbered
資料1, 資料2 … as the 次第 and the session page number them, after a cover listing them.

Only public materials go in (public themselves and on a public item, ``materials.is_closed``):
the set is printed and handed round, so nothing closed may ride along. A public material that
is not a PDF (a spreadsheet, a picture) cannot be merged; the cover lists it as attached
separately rather than leave a silent gap in the numbers.
"""

from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Person
from renkei.services import materials, pdf_tools, policy
from renkei.services.dates import in_tokyo, install_style, japanese_date, japanese_time
from renkei.services.errors import DomainError, Forbidden
from renkei.services.material_store import MaterialStore

PDF = "application/pdf"


@dataclass(frozen=True)
class Entry:
    """One public material as the set holds it: merged if a PDF, else listed only."""

    listed: materials.Listed

    @property
    def label(self) -> str:
        return _("Material %(n)d", n=self.listed.number)

    @property
    def merged(self) -> bool:
        return self.listed.material.current.media_type == PDF


def entries(db: Session, session: MeetingSession) -> list[Entry]:
    """The session's public materials in the 次第's order, with the numbers every reader sees."""
    return [
        Entry(listed)
        for listed in materials.numbered(db, session)
        if not materials.is_closed(listed.material)
    ]


def cover_lines(session: MeetingSession, found: list[Entry], style: str) -> list[str]:
    """The cover: its heading, the session and its date as printed, then one line a material."""
    start = in_tokyo(session.start_at)
    when = f"{japanese_date(start.date(), style)}　{japanese_time(start.time(), style)}"
    lines = [_("Set of materials"), session.title, when, ""]
    for entry in found:
        title = entry.listed.material.title
        if entry.merged:
            lines.append(f"{entry.label}　{title}")
        else:
            lines.append(_("%(label)s %(title)s (not a PDF: attached separately)",
                           label=entry.label, title=title))  # fmt: skip
    return lines


def write_set(
    db: Session,
    session: MeetingSession,
    out: BinaryIO,
    *,
    by: Person,
    store: MaterialStore,
    style: str | None = None,
) -> None:
    """Write the 資料一式 of ``session`` to ``out`` (a temporary file: it is as large as the
    materials). For the secretariat of the session only."""
    if not policy.session_access(db, by, session).can_manage:
        raise Forbidden(_l("Only the secretariat of the session may print its set of materials."))
    found = entries(db, session)
    if not found:
        raise DomainError(_l("The session has no public materials to print as a set."))
    with ExitStack() as files:
        parts = []
        for entry in found:
            if not entry.merged:
                continue
            sha256 = entry.listed.material.current.sha256
            if not store.exists(sha256):
                raise DomainError(
                    _l("The file of %(label)s is missing from the store.", label=entry.label)
                )
            parts.append((entry.label, files.enter_context(store.open(sha256))))
        cover = cover_lines(session, found, style or install_style())
        pdf_tools.merge_numbered(parts, out, title_lines=cover)
