"""Bodies (会議体): creating and editing them, and the subcommittee tree."""

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei import textnorm
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    Authority,
    Body,
    BodyKind,
    Confidentiality,
    Layer,
    Membership,
    Person,
    Programme,
    QuorumRule,
    Role,
)
from renkei.services import audit, policy
from renkei.services.dates import today
from renkei.services.errors import DomainError, Forbidden


@dataclass
class BodyData:
    name: str
    kind: str
    area: str = ""
    parent_id: int | None = None
    programme: str | None = None  # None: derived from the kind
    confidentiality: str | None = None  # None: derived from the kind
    description: str = ""
    quorum_rule: str = QuorumRule.MAJORITY
    quorum_number: int | None = None
    quorum_counts_proxy: bool = False
    authority: str = Authority.MUNICIPALITY.value
    layer: str | None = None  # 協議体 only: "first" or "second"
    rules_title: str = ""  # the 設置要綱
    rules_enacted_on: date | None = None
    rules_amended_on: date | None = None
    retention_years: int | None = None  # 保存年限 of the materials; None: kept for ever


@dataclass(frozen=True)
class Register:
    """A body's register entry as checked: who set it up, on which rules, which layer."""

    authority: Authority
    layer: Layer | None
    rules_title: str
    rules_enacted_on: date | None
    rules_amended_on: date | None


RULES_TITLE_LENGTH = 200  # Body.rules_title
# What the audit entry of a change lists (by name, never by value).
REGISTER_FIELDS = (
    "name",
    "kind",
    "area",
    "parent_id",
    "programme",
    "confidentiality",
    "description",
    "quorum_rule",
    "quorum_number",
    "quorum_counts_proxy",
    "authority",
    "layer",
    "rules_title",
    "rules_enacted_on",
    "rules_amended_on",
    "retention_years",
)


# A body larger than this is not a meeting; a larger quorum is a typing slip.
MAX_QUORUM = 1000
MAX_RETENTION_YEARS = 100  # 永年 is "no period", not a hundred years


def list_bodies(db: Session) -> list[Body]:
    """Every body, parents before their subcommittees."""
    return tree_order(list(db.scalars(select(Body).order_by(Body.name))))


def tree_order(bodies: list[Body]) -> list[Body]:
    by_parent: dict[int | None, list[Body]] = {}
    for body in bodies:
        by_parent.setdefault(body.parent_id, []).append(body)
    ordered: list[Body] = []

    def visit(parent_id: int | None) -> None:
        for body in by_parent.get(parent_id, []):
            ordered.append(body)
            visit(body.id)

    visit(None)
    return ordered


def depth(body: Body) -> int:
    level, parent = 0, body.parent
    while parent is not None:
        level, parent = level + 1, parent.parent
    return level


E = TypeVar("E", bound=Enum)


def _enum(enum_class: type[E], value: object, field: str, message: str) -> E:
    try:
        return enum_class(value)
    except ValueError:
        raise DomainError(message, field) from None


def _check_parent(db: Session, body: Body | None, parent_id: int | None) -> Body | None:
    if parent_id is None:
        return None
    parent = db.get(Body, parent_id)
    if parent is None:
        raise DomainError(_l("The parent body does not exist."), "parent_id")
    ancestor: Body | None = parent
    while ancestor is not None:
        if body is not None and ancestor.id == body.id:
            raise DomainError(
                _l("A body cannot be a subcommittee of itself or of its own subcommittee."),
                "parent_id",
            )
        ancestor = ancestor.parent
    return parent


def save_body(db: Session, body: Body | None, data: BodyData, *, by: Person) -> Body:
    """Create (``body`` None) or update a body, as ``by``.

    Confidentiality and programme follow the kind unless an administrator sets them.
    A secretary who creates a subcommittee becomes its secretary.
    """
    if body is not None and not policy.can_manage_body(db, by, body):
        raise Forbidden(_l("Only the secretariat of this body may change it."))
    name = data.name.strip()
    if not name:
        raise DomainError(_l("Enter a name."), "name")
    kind = _enum(BodyKind, data.kind, "kind", _l("Choose a kind of body."))
    other = db.scalar(select(Body).where(Body.name == name))
    if other is not None and other is not body:
        raise DomainError(_l("A body with this name already exists."), "name")
    parent = _check_parent(db, body, data.parent_id)
    _check_may_place(db, by, body, parent)

    programme = data.programme or kind.default_programme
    programme = _enum(Programme, programme, "programme", _l("Choose a programme."))
    confidentiality = _confidentiality(body, kind, data.confidentiality, by)
    _check_loosening(db, body, confidentiality, by)
    rule = _enum(QuorumRule, data.quorum_rule, "quorum_rule", _l("Choose a quorum rule."))
    number = _quorum_number(rule, data.quorum_number)
    register = check_register(kind, data)
    retention = _retention(data.retention_years)

    created = body is None
    before = _snapshot(body)
    if body is None:
        body = Body()
        db.add(body)
    body.name, body.kind, body.area = name, kind, data.area.strip()
    body.parent = parent
    body.programme, body.confidentiality = programme, confidentiality
    body.description = data.description.strip()
    body.quorum_rule, body.quorum_number = rule, number
    body.quorum_counts_proxy = data.quorum_counts_proxy
    body.authority, body.layer = register.authority, register.layer
    body.rules_title = register.rules_title
    body.rules_enacted_on = register.rules_enacted_on
    body.rules_amended_on = register.rules_amended_on
    body.retention_years = retention
    db.flush()
    if created and not by.is_admin:
        db.add(Membership(person=by, body=body, role=Role.SECRETARY, term_start=today()))
        db.flush()
    _log(db, body, before, by)
    return body


def _retention(years: int | None) -> int | None:
    if years is not None and not 1 <= years <= MAX_RETENTION_YEARS:
        raise DomainError(
            _l(
                "Enter the retention period as a number of years from 1 to %(max)d, or leave "
                "it empty to keep the materials for ever.",
                max=MAX_RETENTION_YEARS,
            ),
            "retention_years",
        )
    return years


def check_register(kind: BodyKind, data: BodyData) -> Register:
    """The setting-up authority, the layer and the 設置要綱 of ``data``, checked; a
    DomainError names the first thing wrong."""
    authority = _enum(
        Authority,
        data.authority,
        "authority",
        _l("Choose who set the body up: the municipality, the prefecture or a wide-area union."),
    )
    title = _one_line(data.rules_title, "rules_title")
    if len(title) > RULES_TITLE_LENGTH:
        raise DomainError(
            _l("Use at most %(max)d characters.", max=RULES_TITLE_LENGTH), "rules_title"
        )
    enacted, amended = data.rules_enacted_on, data.rules_amended_on
    if (enacted or amended) and not title:
        raise DomainError(_l("Enter the title of the rules the dates belong to."), "rules_title")
    if enacted and amended and amended < enacted:
        raise DomainError(
            _l("The rules cannot have been amended before they were enacted."),
            "rules_amended_on",
        )
    return Register(authority, _layer(kind, data.layer), title, enacted, amended)


def _layer(kind: BodyKind, value: str | None) -> Layer | None:
    if value is None or value == "":
        return None
    if kind != BodyKind.CONSULTATIVE_BODY:
        raise DomainError(
            _l("Only a consultative body has a layer: leave the layer empty for this kind."),
            "layer",
        )
    return _enum(Layer, value, "layer", _l("Choose layer 1 or layer 2."))


def _one_line(value: str, field: str) -> str:
    """A one-line text as given to the service: a form has already made its control
    characters spaces (renkei.textnorm); anything else that sends one is refused, not
    silently changed."""
    if textnorm.has_controls(value):
        raise DomainError(
            _l("Write this on one line, without line breaks or control characters."), field
        )
    return value.strip()


def _snapshot(body: Body | None) -> dict[str, object]:
    return {name: getattr(body, name) for name in REGISTER_FIELDS} if body else {}


def _log(db: Session, body: Body, before: dict[str, object], by: Person) -> None:
    """A body's register entry decides how its content is treated: each creation and change
    goes to the body's audit log, naming the fields changed (their values are on the page)."""
    after = _snapshot(body)
    changed = [name for name in REGISTER_FIELDS if before and before[name] != after[name]]
    if before and not changed:
        return
    audit.record(
        db,
        by,
        audit.CONTENT,
        "body_changed" if before else "body_created",
        subject_type="body",
        subject_id=body.id,
        body_id=body.id,
        detail="fields=" + ",".join(changed) if changed else "",
    )


def _quorum_number(rule: QuorumRule, number: int | None) -> int | None:
    if rule != QuorumRule.FIXED:
        return None
    if number is None:
        raise DomainError(_l("Enter the number of members needed."), "quorum_number")
    if not 1 <= number <= MAX_QUORUM:
        raise DomainError(_l("Enter a number from 1 to %(max)d.", max=MAX_QUORUM), "quorum_number")
    return number


def _check_may_place(db: Session, by: Person, body: Body | None, parent: Body | None) -> None:
    """Only administrators place bodies at the top; a secretary places them under own bodies."""
    if by.is_admin:
        return
    if body is not None and (parent.id if parent else None) == body.parent_id:
        return
    if parent is None:
        raise Forbidden(
            _l("Only an administrator may create a body that is not a subcommittee."),
            "parent_id",
        )
    if not policy.can_manage_body(db, by, parent):
        raise Forbidden(
            _l("You can only create subcommittees of bodies whose secretariat you are."),
            "parent_id",
        )


def _confidentiality(
    body: Body | None, kind: BodyKind, wanted: str | None, by: Person
) -> Confidentiality:
    derived = kind.default_confidentiality
    if wanted is None or wanted == "":
        return body.confidentiality if body and body.kind == kind else derived
    chosen = _enum(
        Confidentiality, wanted, "confidentiality", _l("Choose a confidentiality setting.")
    )
    current = body.confidentiality if body and body.kind == kind else derived
    if chosen != current and not by.is_admin:
        raise Forbidden(
            _l("Only an administrator may change the confidentiality of a body."),
            "confidentiality",
        )
    return chosen


STRICTNESS = [Confidentiality.PUBLIC, Confidentiality.CLOSED, Confidentiality.STATUTORY]


def _check_loosening(
    db: Session, body: Body | None, confidentiality: Confidentiality, by: Person
) -> None:
    """Making a closed body less closed (by its setting or by changing its kind) would let
    whoever may then change its members read what was closed: it takes someone who may
    change its members now, so an administrator cannot open a body up to join it."""
    if body is None or body.confidentiality is None:
        return
    looser = STRICTNESS.index(confidentiality) < STRICTNESS.index(body.confidentiality)
    if looser and not policy.can_change_members(db, by, body):
        raise Forbidden(
            _l(
                "Only the secretariat of this body may make it less closed: its members "
                "would otherwise change unseen."
            ),
            "confidentiality",
        )
