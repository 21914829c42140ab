"""Materials cited in the minutes: the secretary writes 「[資料2]」 in a section, as the paper
itself is called in the meeting, and the rendered minutes turn it into a link to the material
(「資料2「計画案」」) for a reader who may see it, or plain 「資料2」 (no title) for another.

A draft cites the materials by their numbers now (``materials.numbered``). When the minutes are
approved, each cited material is recorded with the file version then current and its SHA-256
(``MaterialRef``): numbers can shift afterwards (a material added to an earlier item) and files
can be replaced, but the approved minutes keep pointing at what the chairs approved, and say
「承認時の版」 beside a material replaced since.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from renkei.i18n import gettext as _
from renkei.models import (
    Material,
    MaterialRef,
    MaterialVersion,
    MeetingSession,
    MinutesStatus,
    MinutesVersion,
    Visibility,
)
from renkei.services import markdown, materials, policy
from renkei.services.policy import MinutesView

# 「[資料2]」, with half- or full-width brackets and digits as an IME may type them.
REFERENCE = re.compile(r"[\[［]資料\s*([0-9０-９]{1,4})[\]］]")
# In rendered HTML: code is left as written, so that the shorthand itself can be shown.
_IN_HTML = re.compile(r"(<code>.*?</code>)|" + REFERENCE.pattern, re.DOTALL)


def cited_numbers(texts: Iterable[str]) -> set[int]:
    return {_number(found) for text in texts for found in REFERENCE.findall(text or "")}


def _number(digits: str) -> int:
    return int(unicodedata.normalize("NFKC", digits))


def record(db: Session, version: MinutesVersion) -> None:
    """On approval: keep each material the sections cite as it is now (file version, hash).
    A number no material has is left as text."""
    numbers = cited_numbers(section.text for section in version.sections)
    if not numbers:
        return
    listed = {entry.number: entry.material for entry in materials.numbered(db, _session(version))}
    for number in sorted(numbers & listed.keys()):
        current = listed[number].current
        version.material_refs.append(
            MaterialRef(
                number=number,
                material=listed[number],
                material_version=current,
                sha256=current.sha256,
            )
        )
    db.flush()  # their ids, which the approval hash holds


def _session(version: MinutesVersion) -> MeetingSession:
    return version.minutes.session


# --- Rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cited:
    """A material a reader may follow from the minutes: the file to link and whether it is
    the one kept at the approval though the material has been replaced since."""

    number: int
    material: Material
    version: MaterialVersion
    at_approval: bool


def cited(
    db: Session, version: MinutesVersion, access: policy.SessionAccess, view: MinutesView
) -> dict[int, Cited]:
    """The materials ``version`` may link to for this reader in ``view``, by number."""
    if version.status is MinutesStatus.APPROVED:
        files = {r.number: (r.material, r.material_version) for r in version.material_refs}
    else:
        files = {
            entry.number: (entry.material, entry.material.current)
            for entry in materials.numbered(db, _session(version))
        }
    return {
        number: Cited(number, material, file, at_approval=file.id != material.current.id)
        for number, (material, file) in files.items()
        if _shown(access, material, view)
    }


def _shown(access: policy.SessionAccess, material: Material, view: MinutesView) -> bool:
    """As a section is shown in a view: the public view links only public materials (it is
    what the municipal website gets), the member view none that is confidential."""
    if not access.can_see_material(material):
        return False
    if view == MinutesView.PUBLIC:
        return not materials.is_closed(material)
    if view == MinutesView.MEMBER:
        item = material.agenda_item
        if item is not None and policy.visibility_of(item) is Visibility.CONFIDENTIAL:
            return False
        return material.visibility is not Visibility.CONFIDENTIAL
    return True


def renderer(found: dict[int, Cited], href: Callable[[Cited], str]) -> Callable[[str], Markup]:
    """A function from a section's Markdown to its HTML with the citations as links; ``href``
    gives a cited file's address (absolute in a downloaded copy)."""

    def render(text: str) -> Markup:
        html = str(markdown.render(text))
        return Markup(_IN_HTML.sub(lambda match: _replaced(match, found, href), html))

    return render


def _replaced(match: re.Match[str], found: dict[int, Cited], href: Callable[[Cited], str]) -> str:
    if match.group(1):
        return str(match.group(1))
    number = _number(match.group(2))
    label = _("Material %(n)d", n=number)
    entry = found.get(number)
    if entry is None:
        return str(escape(label))
    text = _("%(label)s “%(title)s”", label=label, title=entry.material.title)
    link = f'<a class="material-ref" href="{escape(href(entry))}">{escape(text)}</a>'
    if entry.at_approval:
        badge = _("Version at approval")
        link += f'<span class="badge">{escape(badge)}</span>'
    return link
