"""Who may do and see what. Every view, export and service asks here; nothing decides alone.

Administrators manage accounts, organisations and the structure of bodies, but are *not*
entitled to confidential content by that role alone (docs/architecture.md, "The
confidentiality rule").
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, SQLColumnExpression, event, false, or_, select, true
from sqlalchemy.orm import Session, UOWTransaction, selectinload, sessionmaker

from renkei.models import (
    ActionItem,
    AgendaItem,
    Approval,
    Body,
    Confidentiality,
    Consent,
    Material,
    MeetingSession,
    Membership,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    Participant,
    Person,
    Pledge,
    Poll,
    PollInvitee,
    Referral,
    Role,
    SearchEntry,
    SearchKind,
    SelectedMember,
    Selection,
    SessionPledge,
    Status,
    Visibility,
    participant_items,
)
from renkei.models.sessions import session_bodies
from renkei.services.dates import in_tokyo, today


def current_membership_filter(on: date) -> ColumnElement[bool]:
    return (Membership.term_start <= on) & (
        (Membership.term_end.is_(None)) | (Membership.term_end >= on)
    )


def managed_body_ids(db: Session, person: Person, on: date | None = None) -> set[int]:
    """Bodies the person runs as current secretary; an administrator runs every body."""
    if person.is_admin:
        return set(db.scalars(select(Body.id)))
    return secretary_body_ids(db, person, on)


def can_manage_body(db: Session, person: Person, body: Body) -> bool:
    """Edit the body, its membership and its subcommittees."""
    return person.is_admin or body.id in managed_body_ids(db, person)


def can_change_members(db: Session, person: Person, body: Body) -> bool:
    """Add, correct or end terms on the body. Membership decides who may see a closed body's
    content, so a body that is not public is changed by its own secretariat only; an
    administrator only while it has none (to appoint the first). An administrator can so
    not make themselves entitled, and every change is announced to the body's chair."""
    if not guards_membership(body):
        return can_manage_body(db, person, body)
    if body.id in secretary_body_ids(db, person):
        return True
    return person.is_admin and not has_secretariat(db, body)


def guards_membership(body: Body) -> bool:
    """Whether the body's membership opens closed content: any body that is not public. Its
    members are changed by its own secretariat, and each change is announced to its chairs
    (``memberships.announce_to_chairs``)."""
    return body.confidentiality != Confidentiality.PUBLIC


def has_secretariat(db: Session, body: Body, on: date | None = None) -> bool:
    found = db.scalar(
        select(Membership.id)
        .where(
            Membership.body_id == body.id,
            Membership.role == Role.SECRETARY,
            current_membership_filter(on or today()),
        )
        .limit(1)
    )
    return found is not None


def can_create_body(db: Session, person: Person) -> bool:
    """Administrators create bodies; a secretary creates subcommittees of their own bodies."""
    return person.is_admin or bool(managed_body_ids(db, person))


def can_manage_people(db: Session, person: Person) -> bool:
    """Secretaries add the people they put on bodies (most have no login); admins all."""
    return person.is_admin or bool(managed_body_ids(db, person))


def can_see_contact_details(db: Session, viewer: Person, person: Person) -> bool:
    """E-mail and telephone are for the person, administrators and secretaries: so is the
    person's page, which shows them."""
    return viewer.id == person.id or can_manage_people(db, viewer)


def can_manage_accounts(person: Person) -> bool:
    """Logins, administrator flags and deactivation are the administrators' alone."""
    return person.is_admin


def can_manage_posts(person: Person) -> bool:
    """Posts decide how funded staff's hours are charged: an administrator's matter."""
    return person.is_admin


def can_see_apportionment(viewer: Person, person: Person | None) -> bool:
    """Administrators see everyone's meeting hours; anyone else their own. The breakdown
    names sessions, and a 支援会議's date can say who is discussed, so a secretary of one
    body may not read another body's through a colleague's hours."""
    return viewer.is_admin or (person is not None and person.id == viewer.id)


def can_manage_organisations(person: Person) -> bool:
    return person.is_admin


def can_edit_person(db: Session, viewer: Person, person: Person) -> bool:
    """A secretary edits the people without a login; an account is edited by its holder or
    an administrator, so nobody can take over a login by changing its e-mail address."""
    if viewer.is_admin or viewer.id == person.id:
        return True
    return not person.has_login and can_manage_people(db, viewer)


# --- Sessions and their content -------------------------------------------------------------

# Roles that make someone a member of a body for the purpose of seeing its content. An
# observer attends but is not bound as a member is (docs/architecture.md, "The
# confidentiality rule").
ENTITLED_ROLES = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.MEMBER)


def _role_body_ids(db: Session, person: Person, role: Role, on: date | None) -> set[int]:
    return set(_current_roles(db, person.id, on or today()).get(role, ()))


_ROLES_KEY = "renkei.current_roles"
_KEEPS_ROLES_KEY = "renkei.keeps_roles"


def _current_roles(db: Session, person_id: int, on: date) -> dict[Role, set[int]]:
    """Role -> bodies, for the person's terms current on ``on``: one query, kept in the
    database session until a term changes or the transaction ends. A page asks these
    questions several times over (the menu, the page, the tile). A session made without
    the listeners that forget (``install_role_cache``) keeps nothing."""
    keeps = _keeps_roles(db)
    kept: dict[tuple[int, date], dict[Role, set[int]]] = (
        db.info.setdefault(_ROLES_KEY, {}) if keeps else {}
    )
    if _terms_pending(db):
        kept.clear()  # a term added, changed or removed but not yet flushed
    found = kept.get((person_id, on))
    if found is None:
        found = {}
        rows = db.execute(
            select(Membership.role, Membership.body_id).where(
                Membership.person_id == person_id, current_membership_filter(on)
            )
        )
        for role, body_id in rows:
            found.setdefault(role, set()).add(body_id)
        kept[(person_id, on)] = found
    return found


def _terms_pending(db: Session) -> bool:
    return any(isinstance(obj, Membership) for obj in (*db.new, *db.dirty, *db.deleted))


def install_role_cache(maker: sessionmaker[Session]) -> None:
    """Let the sessions of ``maker`` (the app's own, ``renkei.db.init_app``) keep the roles
    they read, forgetting them when a term changes and when the transaction ends. Only
    those sessions: SQLAlchemy's ``Session`` class is shared by every program in the
    process, and a listener on it would reach sessions Renkei did not make."""
    event.listen(maker, "before_flush", _forget_roles_on_term_changes)
    event.listen(maker, "after_commit", _forget_roles)
    event.listen(maker, "after_rollback", _forget_roles)
    # The mark each of its sessions carries (``info`` is copied into every new session).
    # Asking ``event.contains(type(db), ...)`` instead found no listener: they are kept
    # on the maker, not on the class of the sessions it makes, so nothing was ever kept.
    maker.configure(info={**maker.kw.get("info", {}), _KEEPS_ROLES_KEY: True})


def _keeps_roles(db: Session) -> bool:
    return bool(db.info.get(_KEEPS_ROLES_KEY))


def _forget_roles_on_term_changes(
    db: Session, _context: UOWTransaction, _instances: object
) -> None:
    if _terms_pending(db):
        db.info.pop(_ROLES_KEY, None)


def _forget_roles(db: Session, *_args: object) -> None:
    db.info.pop(_ROLES_KEY, None)


def secretary_body_ids(db: Session, person: Person, on: date | None = None) -> set[int]:
    """Bodies the person is current secretary of, whatever their administrator flag."""
    return _role_body_ids(db, person, Role.SECRETARY, on)


def chair_body_ids(db: Session, person: Person, on: date | None = None) -> set[int]:
    """Bodies the person is current chair of."""
    return _role_body_ids(db, person, Role.CHAIR, on)


class Closable(Protocol):
    """What the rule for agenda items reads: an agenda item or a minutes section."""

    @property
    def visibility(self) -> Visibility: ...

    @property
    def body_id(self) -> int | None: ...


C = TypeVar("C", bound=Closable)


@dataclass
class SessionAccess:
    """What one person may see and do in one session, worked out once per request.

    Built by ``session_access``; templates and services ask it item by item, so that a page
    with a hundred items makes no query per item.
    """

    person: Person | None
    session_body_ids: set[int]
    member_body_ids: set[int] = field(default_factory=set)  # current, any role
    entitled_body_ids: set[int] = field(default_factory=set)  # current, ENTITLED_ROLES
    pledged_body_ids: set[int] = field(default_factory=set)
    secretary_body_ids: set[int] = field(default_factory=set)
    chair_body_ids: set[int] = field(default_factory=set)
    invited: bool = False  # has a term on a served body on the session's own date
    is_admin: bool = False
    is_guest: bool = False  # invited by name: receives invitations, has no page
    # Served bodies convened with selected members (選定招集) that the person sits on but
    # was not chosen for: they know the session exists, and nothing closed in it. The sets
    # above hold only the bodies the person is convened for.
    uncalled_body_ids: set[int] = field(default_factory=set)
    # A participant (関係者): the agenda items they are assigned to, whether they may read
    # those items' minutes sections, and the owning bodies they pledged for this session.
    is_participant: bool = False
    participant_item_ids: set[int] = field(default_factory=set)
    participant_minutes: bool = False
    session_pledged_body_ids: set[int] = field(default_factory=set)
    # Prepared (準備中): the secretariat's alone until the convening notice goes out.
    is_prepared: bool = False

    @property
    def is_member(self) -> bool:
        """A member of a served body convened to this session (not merely sitting on a
        body convened with others selected)."""
        return bool(self.member_body_ids)

    @property
    def can_view(self) -> bool:
        """Members of a served body (today, or on the session's date: a member whose term
        starts next week sees next week's session), participants and administrators. A
        member not chosen for a body convened with selected members still sees that the
        session exists (the body's list of sessions shows it to every member), with every
        closed item as 「非公開議題」. To anyone else the session does not exist (404): even
        a 支援会議's date can say who is discussed. A prepared session exists only for the
        secretariat of a body it serves."""
        if self.is_prepared:
            return bool(self.session_body_ids & self.secretary_body_ids)
        return (
            self.is_member
            or self.invited
            or self.is_admin
            or self.is_participant
            or bool(self.uncalled_body_ids)
        )

    @property
    def can_manage(self) -> bool:
        """Schedule, edit, cancel and build the agenda: secretary of every body served."""
        return bool(self.session_body_ids) and self.session_body_ids <= self.secretary_body_ids

    @property
    def can_see_invitees(self) -> bool:
        """Who is invited, their replies, the attendance record and the quorum: for the
        members of a served body and the secretariat, not for an administrator as such."""
        return self.is_member or self.can_manage

    @property
    def can_see_online_link(self) -> bool:
        """The meeting link lets anyone who has it join: on the page, for those convened
        (members, and participants, whose invitation carries it as a guest's does)."""
        return self.is_member or self.is_participant

    @property
    def is_convened(self) -> bool:
        """Convened to this session: a member of a served body (today, or on the session's
        date). Who may see its ``session`` items; not a guest, who has no page, and not an
        administrator as such."""
        return self.is_member or self.invited

    def can_see_item(self, item: Closable) -> bool:
        """The one rule for agenda items (title, description, minutes section, attendance).
        ``body`` and ``confidential`` items are their owning body's alone, whoever else
        sits in the session (of a body convened with selected members, those convened).
        A participant sees the items assigned to them (a confidential one once pledged for
        the session) and nothing else that is closed."""
        visibility = visibility_of(item)
        if visibility is Visibility.PUBLIC:
            return self.can_view or self.is_guest
        if self.is_assigned(item):
            return not is_confidential(item) or item.body_id in self.session_pledged_body_ids
        if visibility is Visibility.SESSION:
            return self.is_convened
        entitled = item.body_id in self.entitled_body_ids
        if visibility is Visibility.BODY:
            return entitled
        return entitled and item.body_id in self.pledged_body_ids

    def can_see_material(self, material: Material) -> bool:
        """A material (資料) is as closed as its agenda item, and as its own visibility when
        narrowed further: the reader must pass both. A paper of the whole session has only
        its own (public, or for those convened). A deleted material is no one's to read."""
        return not material.is_deleted and self.can_see_material_record(material)

    def can_see_material_record(self, material: Material) -> bool:
        """Its title and file names, deleted or not (the record a deletion leaves)."""
        item = material.agenda_item
        if item is not None:
            if not self.can_see_item(item):
                return False
            if STRICTNESS[visibility_of(material)] <= STRICTNESS[visibility_of(item)]:
                return True  # no narrower than the item: whoever sees the item (a participant)
        return self.can_see_item(material)

    def can_see_participant(self, participant: Participant) -> bool:
        """Who takes part for which items: for the secretariat, and for members convened
        who may see every item the participant is assigned to (that someone is asked about
        an item says something of it)."""
        if self.can_manage:
            return True
        return self.is_member and all(self.can_see_item(item) for item in participant.items)

    def is_assigned(self, thing: Closable) -> bool:
        """An agenda item assigned to this participant, or the minutes section of one when
        the secretariat lets them read it."""
        if isinstance(thing, AgendaItem):
            return thing.id in self.participant_item_ids
        if isinstance(thing, MinutesSection) and self.participant_minutes:
            return thing.agenda_item_id in self.participant_item_ids
        return False

    def closed_items(self, items: Iterable[C]) -> list[C]:
        """The items (or sections) of ``items`` this person may not see: each shows only
        that it exists (「非公開議題」)."""
        return [item for item in items if not self.can_see_item(item)]

    def owned_items_seen(self, items: Iterable[C]) -> list[C]:
        """The items of ``items`` closed to all but their owning body (``owned_items``) that
        this person may see: those whose presence they may read or record."""
        return [item for item in owned_items(items) if self.can_see_item(item)]

    def needs_pledge_for(self, body_id: int) -> bool:
        """Entitled by role to a body's confidential items but without a pledge for it."""
        return body_id in self.entitled_body_ids and body_id not in self.pledged_body_ids

    def bodies_needing_pledge(self, session: MeetingSession) -> list[Body]:
        """The bodies of ``session`` owning items closed to this person that a pledge for
        the body would open: those the page offers to pledge for."""
        owners = {item.body_id for item in self.closed_items(session.items)}
        return [b for b in session.bodies if b.id in owners and self.needs_pledge_for(b.id)]

    def bodies_needing_session_pledge(self, session: MeetingSession) -> list[Body]:
        """The owning bodies of the confidential items assigned to this participant that
        they have not pledged for in this session: those the page asks them to pledge for,
        each to the text of the body's law."""
        owners = {
            item.body_id
            for item in confidential_items(session.items)
            if item.id in self.participant_item_ids
        }
        missing = owners - self.session_pledged_body_ids
        return [b for b in session.bodies if b.id in missing]


def visibility_of(thing: Closable) -> Visibility:
    """The visibility of an agenda item or minutes section, refusing anything but the enum:
    a plain string (or a misspelt one) must fail here, not be read as open or closed."""
    visibility = thing.visibility
    if not isinstance(visibility, Visibility):
        raise TypeError(f"visibility must be a Visibility, not {visibility!r}")
    return visibility


def is_confidential(thing: Closable) -> bool:
    """Closed to all but the pledged members of the owning body (an item or a section):
    the statutory secret, whose every showing goes to the audit log."""
    return visibility_of(thing) is Visibility.CONFIDENTIAL


def confidential_items(items: Iterable[C]) -> list[C]:
    """The confidential items (or sections) of ``items``, whoever asks."""
    return [item for item in items if is_confidential(item)]


def is_owned(thing: Closable) -> bool:
    """Closed to all but the owning body (``body`` or ``confidential``): in a joint session
    the other bodies' members leave the room for it, so who was present is recorded item
    by item, and only those entitled to the item may be (``may_be_present``)."""
    return visibility_of(thing) in (Visibility.BODY, Visibility.CONFIDENTIAL)


def owned_items(items: Iterable[C]) -> list[C]:
    """The items (or sections) of ``items`` closed to all but their owning body."""
    return [item for item in items if is_owned(item)]


def unreadable_items(items: Iterable[AgendaItem], reader: SessionAccess) -> frozenset[int]:
    """Ids of the items of ``items`` closed to all but their owning body that ``reader``
    (``reader_access``) may not see: who was present for them is not theirs to know."""
    return frozenset(item.id for item in owned_items(items) if not reader.can_see_item(item))


# --- Defaults and widening ------------------------------------------------------------------

# How closed each visibility is: a section follows its item only towards the closed end, and
# an item is "wider than its body allows" when it is less closed than the body's default.
STRICTNESS = {
    Visibility.PUBLIC: 0,
    Visibility.SESSION: 1,
    Visibility.BODY: 2,
    Visibility.CONFIDENTIAL: 3,
}

DEFAULT_VISIBILITY = {
    Confidentiality.STATUTORY: Visibility.CONFIDENTIAL,
    Confidentiality.CLOSED: Visibility.BODY,
    Confidentiality.PUBLIC: Visibility.PUBLIC,
}


def default_visibility(body: Body) -> Visibility:
    """An item's visibility unless the secretariat chooses another: from the body's
    confidentiality, which its kind proposes (支援会議, 地域ケア会議: confidential;
    支援調整会議, other: body; 協議体: public)."""
    return DEFAULT_VISIBILITY[body.confidentiality]


def general_visibility(bodies: Iterable[Body]) -> Visibility:
    """The default of a minutes section of no agenda item (attendance, decisions, next
    session) about ``bodies``: public if each of them is public, else for the session's
    attendees, who were all in the room for it."""
    public = all(default_visibility(body) is Visibility.PUBLIC for body in bodies)
    return Visibility.PUBLIC if public else Visibility.SESSION


def is_wider_than_allowed(body: Body, visibility: Visibility) -> bool:
    """Less closed than the body's confidentiality allows (a public item of a 支援会議, a
    session item of a 支援調整会議): only with an explicit confirmation, and audited."""
    return STRICTNESS[visibility] < STRICTNESS[default_visibility(body)]


def material_visibilities(session: MeetingSession, item: AgendaItem | None) -> list[Visibility]:
    """What a material may be set to: its item's visibility or narrower (never wider); a
    paper of the whole session, the session's general visibility or "those convened" (it
    has no owning body to close it to)."""
    widest = item.visibility if item is not None else general_visibility(session.bodies)
    allowed = [v for v in Visibility if STRICTNESS[v] >= STRICTNESS[widest]]
    if item is None:
        allowed = [v for v in allowed if STRICTNESS[v] <= STRICTNESS[Visibility.SESSION]]
    return allowed


def visibility_without_item(material: Material) -> Visibility:
    """What a material of an agenda item must be set to when it becomes a paper of the
    whole session (its item deleted): a paper of no item is read by its own visibility
    alone (``SessionAccess.can_see_material_record``), so it takes the stricter of its own
    and its item's, and no one reads it who could not before. A ``body`` or
    ``confidential`` one has no owning body left to be read by: it is no one's to read."""
    item = material.agenda_item
    if item is None or STRICTNESS[visibility_of(material)] >= STRICTNESS[visibility_of(item)]:
        return material.visibility
    return item.visibility


def session_access(db: Session, person: Person | None, session: MeetingSession) -> SessionAccess:
    body_ids = {body.id for body in session.bodies}
    access = SessionAccess(
        person=person, session_body_ids=body_ids, is_prepared=session.status == Status.PREPARED
    )
    if person is None or not body_ids:
        return access
    access.is_admin = person.is_admin
    terms = db.scalars(
        select(Membership).where(
            Membership.person_id == person.id, Membership.body_id.in_(body_ids)
        )
    ).all()
    session_day = in_tokyo(session.start_at).date()
    on_either = [t for t in terms if t.is_current(today()) or t.is_current(session_day)]
    # 選定招集: a term on a body convened with selected members counts for content only if
    # the person was chosen; managing and chairing are the role's, whoever is convened.
    called = [t for t in on_either if session.convenes(t.body_id, person.id)]
    access.uncalled_body_ids = {t.body_id for t in on_either if t not in called}
    access.invited = any(term.is_current(session_day) for term in called)
    # Entitlement to content is decided on today's terms, whatever the session's date.
    for term in (t for t in terms if t.is_current(today())):
        body_id, role = term.body_id, term.role
        if term in called:
            access.member_body_ids.add(body_id)
            if role in ENTITLED_ROLES:
                access.entitled_body_ids.add(body_id)
        if role == Role.SECRETARY:
            access.secretary_body_ids.add(body_id)
        if role == Role.CHAIR:
            access.chair_body_ids.add(body_id)
    access.pledged_body_ids = pledged_body_ids(db, person, body_ids)
    _participation(db, access, session, person)
    return access


def _participation(
    db: Session, access: SessionAccess, session: MeetingSession, person: Person
) -> None:
    """A participant's items, minutes permission and session pledges (one query for the
    pledges, none more if the session's participants are loaded)."""
    participant = next((p for p in session.participants if p.person_id == person.id), None)
    if participant is None:
        return
    access.is_participant = True
    access.participant_item_ids = participant.item_ids
    access.participant_minutes = participant.may_read_minutes
    access.session_pledged_body_ids = set(
        db.scalars(
            select(SessionPledge.body_id).where(
                SessionPledge.session_id == session.id,
                SessionPledge.person_id == person.id,
                SessionPledge.pledged_on <= today(),
            )
        )
    )


def pledged_body_ids(db: Session, person: Person, body_ids: set[int]) -> set[int]:
    """Bodies whose confidential matters the person has pledged to keep, for their current
    term: a pledge ends with the membership term it was made in, and a member appointed
    again pledges again."""
    on = today()
    term = (Membership.person_id == Pledge.person_id) & (Membership.body_id == Pledge.body_id)
    rows = db.scalars(
        select(Pledge.body_id)
        .join(Membership, term)
        .where(
            Pledge.person_id == person.id,
            Pledge.body_id.in_(body_ids),
            Pledge.pledged_on <= on,
            current_membership_filter(on),
            Pledge.pledged_on >= Membership.term_start,
        )
    )
    return set(rows)


def reader_access(db: Session, person: Person) -> SessionAccess:
    """What ``person`` may read today of the items closed to all but their owning body, in
    any session (``body``: an entitled role; ``confidential``: and a pledge in the current
    term): for reports across sessions, such as the apportionment of another's hours."""
    roles = _current_roles(db, person.id, today())
    entitled = set().union(*(roles.get(role, set()) for role in ENTITLED_ROLES))
    return SessionAccess(
        person=person,
        session_body_ids=set(),
        entitled_body_ids=entitled,
        pledged_body_ids=pledged_body_ids(db, person, entitled) if entitled else set(),
    )


def may_be_present(db: Session, items: Iterable[AgendaItem], day: date) -> set[tuple[int, int]]:
    """(person id, item id) pairs of who may be recorded as present for each of ``items``
    closed to all but their owning body, on ``day``: an entitled role on the owning body in
    a term current that day, and for a confidential item a pledge recorded in that term
    (pledges are often entered after the meeting they cover). Two queries at most."""
    owned = owned_items(items)
    if not owned:
        return set()
    body_ids = {item.body_id for item in owned}
    rows = db.execute(
        select(Membership.person_id, Membership.body_id).where(
            Membership.body_id.in_(body_ids),
            Membership.role.in_(ENTITLED_ROLES),
            current_membership_filter(day),
        )
    )
    entitled = {(row.person_id, row.body_id) for row in rows}
    secret = {item.body_id for item in owned if is_confidential(item)}
    pledged = _pledged_on(db, secret, day) if secret else set()
    return {
        (person_id, item.id)
        for item in owned
        for person_id, body_id in (pledged if is_confidential(item) else entitled)
        if body_id == item.body_id
    }


def _pledged_on(db: Session, body_ids: set[int], day: date) -> set[tuple[int, int]]:
    """(person id, body id) pairs with an entitled role on ``day`` and a pledge recorded in
    that term."""
    same = (Membership.person_id == Pledge.person_id) & (Membership.body_id == Pledge.body_id)
    rows = db.execute(
        select(Membership.person_id, Membership.body_id)
        .join(Pledge, same)
        .where(
            Membership.body_id.in_(body_ids),
            Membership.role.in_(ENTITLED_ROLES),
            current_membership_filter(day),
            Pledge.pledged_on >= Membership.term_start,
            Membership.term_end.is_(None) | (Pledge.pledged_on <= Membership.term_end),
        )
    )
    return {(row.person_id, row.body_id) for row in rows}


# --- Minutes --------------------------------------------------------------------------------


class MinutesView(StrEnum):
    """The three renderings of minutes (docs/architecture.md, "Minutes and apportionment")."""

    FULL = "full"  # every section, for those entitled to every one
    MEMBER = "member"  # confidential sections replaced by a placeholder
    PUBLIC = "public"  # public sections only: for the municipal website


def can_read_minutes(access: SessionAccess, version: MinutesVersion) -> bool:
    """Approved versions are for everyone who may know of the session; a draft is the
    secretariat's, and a submitted version also its approvers'."""
    if version.status is MinutesStatus.APPROVED:
        return access.can_view
    if version.status is MinutesStatus.SUBMITTED and access.chair_body_ids:
        return True
    return access.can_manage


def shows_section(access: SessionAccess, section: Closable, view: MinutesView) -> bool:
    """Whether a minutes section's text appears in ``view`` for this reader. A section is
    as closed as an agenda item; a view can only close more, never open. The member view
    leaves out the confidential sections only: ``session`` and ``body`` sections are shown
    there to those who may see them."""
    if not access.can_see_item(section):
        return False
    if view == MinutesView.PUBLIC:
        return visibility_of(section) is Visibility.PUBLIC
    if view == MinutesView.MEMBER:
        # A participant reads minutes in this view: their own section stays in it.
        return not is_confidential(section) or access.is_assigned(section)
    return True


def can_read_comment(
    access: SessionAccess, approval: Approval, sections: Iterable[MinutesSection]
) -> bool:
    """A chair's comment on returned minutes may speak of any of their body's sections:
    only for those of the secretariat and chairs who may read every one of them."""
    body_id = approval.body_id
    if not (access.can_manage or body_id in access.chair_body_ids):
        return False
    return all(access.can_see_item(s) for s in sections if s.body_id == body_id)


def can_use_full_view(access: SessionAccess, sections: Iterable[Closable]) -> bool:
    """The full view is for those entitled to every section it holds."""
    return all(access.can_see_item(section) for section in sections)


def readable_sections(db: Session, person: Person, sections: Iterable[MinutesSection]) -> set[int]:
    """Ids of the minutes sections (of any sessions) the person may read today, worked out
    with two queries however many sections there are: for lists such as one's tasks."""
    terms = db.scalars(
        select(Membership).where(
            Membership.person_id == person.id, current_membership_filter(today())
        )
    ).all()
    member = {t.body_id for t in terms}
    entitled = {t.body_id for t in terms if t.role in ENTITLED_ROLES}
    pledged = pledged_body_ids(db, person, entitled)
    sections = list(sections)
    if not sections:
        return set()
    uncalled = _uncalled(db, person, {s.version.minutes.session_id for s in sections})
    readable = set()
    for section in sections:
        session = section.version.minutes.session
        served = {body.id for body in session.bodies} - uncalled.get(session.id, set())
        access = SessionAccess(
            person=person,
            session_body_ids=served,
            member_body_ids=member & served,
            entitled_body_ids=entitled & served,
            pledged_body_ids=pledged & served,
            is_admin=person.is_admin,
        )
        if access.can_see_item(section):
            readable.add(section.id)
    return readable


def readable_tasks(db: Session, person: Person, tasks: Iterable[ActionItem]) -> set[int]:
    """Ids of the follow-up tasks the person may read today, in a fixed number of queries: a
    public one anyone; one from minutes if they may read its section (``readable_sections``);
    one created for a body as that body's closed items (``reader_access``)."""
    tasks = list(tasks)
    from_minutes = [t for t in tasks if t.section is not None]
    sections = readable_sections(db, person, [t.section for t in from_minutes if t.section])
    direct = [t for t in tasks if t.section is None and is_owned(t)]
    reader = reader_access(db, person) if direct else None
    readable = {t.id for t in tasks if visibility_of(t) is Visibility.PUBLIC}
    readable |= {t.id for t in from_minutes if t.section_id in sections}
    if reader is not None:
        readable |= {t.id for t in direct if reader.can_see_item(t)}
    return readable


def _uncalled(db: Session, person: Person, session_ids: set[int]) -> dict[int, set[int]]:
    """Session id -> the bodies of it convened with selected members that did not choose
    ``person``: one query for all the sessions."""
    if not session_ids:
        return {}
    chosen = (
        select(SelectedMember.person_id)
        .where(
            SelectedMember.session_id == Selection.session_id,
            SelectedMember.body_id == Selection.body_id,
            SelectedMember.person_id == person.id,
        )
        .exists()
    )
    rows = db.execute(
        select(Selection.session_id, Selection.body_id).where(
            Selection.session_id.in_(session_ids), ~chosen
        )
    )
    found: dict[int, set[int]] = {}
    for session_id, body_id in rows:
        found.setdefault(session_id, set()).add(body_id)
    return found


def calendar_access(session: MeetingSession) -> SessionAccess:
    """What a calendar file or an e-mail about ``session`` may carry: public items only,
    whoever receives it (docs/architecture.md). A calendar syncs to phones and services
    the municipality does not control, and a message is forwarded: every other item is
    「非公開議題」 there, its content on the session page."""
    return SessionAccess(
        person=None, session_body_ids={body.id for body in session.bodies}, is_guest=True
    )


def can_see_body_sessions(db: Session, person: Person, body: Body) -> bool:
    """A body's list of sessions: for its current members and administrators only, like
    the sessions themselves."""
    if person.is_admin:
        return True
    return (
        db.scalar(
            select(Membership.id)
            .where(
                Membership.person_id == person.id,
                Membership.body_id == body.id,
                current_membership_filter(today()),
            )
            .limit(1)
        )
        is not None
    )


# --- Date polls -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PollAccess:
    """What one person may do with one date poll."""

    can_manage: bool = False  # secretary of every body of the poll: decide, remind, export
    is_invitee: bool = False  # asked in the poll: answers their own row

    @property
    def can_view(self) -> bool:
        """Invitees and managers only; to anyone else (administrators included) a poll does
        not exist (404): a 支援会議's poll title and dates can say who is discussed."""
        return self.can_manage or self.is_invitee


def term_not_ended(on: date | None = None) -> ColumnElement[bool]:
    """A term current now or starting later: someone who left a body is no longer asked."""
    on = on or today()
    return Membership.term_end.is_(None) | (Membership.term_end >= on)


def poll_access(db: Session, person: Person | None, poll: Poll) -> PollAccess:
    """An invitee is someone asked when the poll was made who has not left its bodies since:
    to a former member a 支援会議's poll no longer exists, as its sessions do not."""
    body_ids = {body.id for body in poll.bodies}
    if person is None or not body_ids:
        return PollAccess()
    invited = db.scalar(
        select(PollInvitee.id).where(
            PollInvitee.poll_id == poll.id,
            PollInvitee.person_id == person.id,
            select(Membership.id)
            .where(
                Membership.person_id == person.id,
                Membership.body_id.in_(body_ids),
                term_not_ended(),
            )
            .exists(),
        )
    )
    return PollAccess(
        can_manage=body_ids <= secretary_body_ids(db, person), is_invitee=invited is not None
    )


# --- Local issues (地域課題) ----------------------------------------------------------------


def can_see_local_issues(db: Session, person: Person, body: Body) -> bool:
    """A 協議体's local issues are anonymised (no name, no case number): for its current
    members of any role (its secretariat among them) and administrators, as its list of
    sessions is."""
    if person.is_admin:
        return True
    roles = _current_roles(db, person.id, today())
    return any(body.id in ids for ids in roles.values())


def can_see_local_issue(db: Session, person: Person, body: Body, raised_by: int | None) -> bool:
    """One issue: as the 協議体's list, and for the person who raised it (a 支援会議's
    secretariat follows what became of what it raised)."""
    return raised_by == person.id or can_see_local_issues(db, person, body)


def can_manage_local_issues(db: Session, person: Person, body: Body) -> bool:
    """Raise directly, edit, and move the status: the 協議体's own secretariat."""
    return body.id in secretary_body_ids(db, person)


def can_see_issue_source(
    db: Session, person: Person, item: AgendaItem | None, session: MeetingSession | None
) -> bool:
    """The agenda item (a case) or session an issue was raised from: shown only to those
    who may see that item, or that session when it was raised from a session. For an item
    its session alone says nothing: the link is the item's."""
    if item is not None:
        access = session_access(db, person, item.session)
        return access.can_view and access.can_see_item(item)
    if session is not None:
        return session_access(db, person, session).can_view
    return False


# --- Referrals (つなぎ) ---------------------------------------------------------------------
#
# A referral is its organisations' record (docs/architecture.md, "Referrals"): with the
# person's consent the staff of both the sending and the receiving organisation see it;
# without consent, or while it is being asked, the sending side only. Once the case is
# taken to a 支援会議 (an agenda item by case number), whoever may see that item sees the
# referral through it, as the 支援会議 may share without consent (法第9条). Administrators
# see nothing by that role alone.


def readable_items(db: Session, person: Person, items: Iterable[AgendaItem]) -> set[int]:
    """Ids of the agenda items (of any sessions) the person may see today, worked out with
    a fixed number of queries however many items there are (their sessions and bodies
    loaded by the caller or here at once). Participants' items are not counted: a
    participant is asked about one session, not given the case's record."""
    items = list(items)
    if not items:
        return set()
    terms = db.scalars(
        select(Membership).where(
            Membership.person_id == person.id, current_membership_filter(today())
        )
    ).all()
    member = {t.body_id for t in terms}
    entitled = {t.body_id for t in terms if t.role in ENTITLED_ROLES}
    secretary = {t.body_id for t in terms if t.role == Role.SECRETARY}
    pledged = pledged_body_ids(db, person, entitled)
    uncalled = _uncalled(db, person, {item.session_id for item in items})
    readable = set()
    for item in items:
        session = item.session
        served = {body.id for body in session.bodies}
        called = served - uncalled.get(session.id, set())
        access = SessionAccess(
            person=person,
            session_body_ids=served,
            member_body_ids=member & called,
            entitled_body_ids=entitled & called,
            pledged_body_ids=pledged & called,
            secretary_body_ids=secretary & served,
            is_prepared=session.status == Status.PREPARED,
        )
        if session.status != Status.CANCELLED and access.can_view and access.can_see_item(item):
            readable.add(item.id)
    return readable


def _organisation_sees(person: Person) -> ColumnElement[bool]:
    """The referrals the person's organisation holds: those it sent, and with consent those
    it received."""
    org = person.organisation_id
    if org is None:
        return false()
    received = (Referral.to_organisation_id == org) & (Referral.consent == Consent.GIVEN)
    return (Referral.from_organisation_id == org) | received


def referral_ids_through_items(db: Session, person: Person) -> set[int]:
    """The referrals taken to a 支援会議 whose item the person may see (and their
    organisation does not already show them): three to five queries in all."""
    rows = db.execute(
        select(Referral.id, AgendaItem)
        .join(AgendaItem, Referral.agenda_item_id == AgendaItem.id)
        .where(~_organisation_sees(person))
        .options(selectinload(AgendaItem.session).selectinload(MeetingSession.bodies))
    ).all()
    readable = readable_items(db, person, [item for _id, item in rows])
    return {referral_id for referral_id, item in rows if item.id in readable}


def referral_filter(db: Session, person: Person) -> ColumnElement[bool]:
    """A WHERE condition for the referrals ``person`` may see: lists and counts use it, so
    that no referral is checked row by row."""
    through = referral_ids_through_items(db, person)
    if through:
        return or_(_organisation_sees(person), Referral.id.in_(through))
    return _organisation_sees(person)


def can_see_referral(db: Session, person: Person, referral: Referral) -> bool:
    if _organisation_holds(person, referral):
        return True
    item = referral.agenda_item
    return item is not None and item.id in readable_items(db, person, [item])


def _organisation_holds(person: Person, referral: Referral) -> bool:
    org = person.organisation_id
    if org is None:
        return False
    if referral.from_organisation_id == org:
        return True
    return referral.to_organisation_id == org and referral.consent == Consent.GIVEN


def can_change_referral(person: Person, referral: Referral) -> bool:
    """Its facts (date, organisations, case number, consent, note): the organisations'."""
    return _organisation_holds(person, referral)


def can_edit_referral(db: Session, person: Person, referral: Referral) -> bool:
    """Its status: the staff of the organisations that hold it; and the receiving side's
    staff who see it through the 支援会議 (they are the ones who make contact). Other
    members of the 支援会議 read it only."""
    if _organisation_holds(person, referral):
        return True
    if person.organisation_id is None or referral.to_organisation_id != person.organisation_id:
        return False
    return can_see_referral(db, person, referral)


def can_record_referrals(person: Person) -> bool:
    """Staff: a person with an organisation, who records what it sends or receives."""
    return person.organisation_id is not None


def can_manage_topics(person: Person) -> bool:
    return person.is_admin


# --- The fiscal-year report (年度実績) --------------------------------------------------------


def can_see_install_report(person: Person) -> bool:
    """The whole install's figures: administrators only (closed bodies appear as counts)."""
    return person.is_admin


def can_see_body_report(db: Session, person: Person, body: Body) -> bool:
    """A body's figures: its secretariat and chair; for a body without a duty of secrecy,
    its current members too. A 支援会議's figures (how many cases, when) are the
    secretariat's and the chair's to report, not every member's; an administrator reads
    them only as counts in the whole install's report. Anyone else: the report does not
    exist (404)."""
    roles = _current_roles(db, person.id, today())
    if body.id in roles.get(Role.SECRETARY, set()) | roles.get(Role.CHAIR, set()):
        return True
    if body.has_duty_of_secrecy:
        return False
    return any(body.id in roles.get(role, set()) for role in ENTITLED_ROLES)


def report_body_ids(db: Session, person: Person, bodies: Iterable[Body]) -> list[int]:
    """The bodies of ``bodies`` whose report ``person`` may read (``can_see_body_report``)."""
    return [body.id for body in bodies if can_see_body_report(db, person, body)]


def can_see_some_report(db: Session, person: Person) -> bool:
    """The menu's 「年度実績」: an administrator, or someone who may read a body's report."""
    if can_see_install_report(person):
        return True
    roles = _current_roles(db, person.id, today())
    if roles.get(Role.SECRETARY) or roles.get(Role.CHAIR):
        return True  # no query: the menu asks on every page
    body_ids: set[int] = set()
    for role in ENTITLED_ROLES:
        body_ids |= roles.get(role, set())
    if not body_ids:
        return False
    # ``can_see_body_report`` for a member who is neither secretary nor chair: a body of
    # theirs without a duty of secrecy. Asked in SQL, without loading their bodies.
    found = db.scalar(
        select(Body.id)
        .where(Body.id.in_(body_ids), Body.confidentiality != Confidentiality.STATUTORY)
        .limit(1)
    )
    return found is not None


# --- Search (検索) ---------------------------------------------------------------------------
#
# The search index holds content and its scope (search_entries); this condition says which
# entries a viewer may find, in SQL, so that the count, the facets, the ranking, the page
# and the snippets are all made from what the viewer may see and nothing else (an entry
# the viewer may not see is not found at all, never shown as 非公開). It is the rule of
# ``session_access`` and ``SessionAccess.can_see_item`` written over the entry's columns.


@dataclass
class _Searcher:
    """What the search condition needs of the viewer: a fixed number of small queries."""

    person: Person
    terms: list[Membership]
    member: set[int]
    entitled: set[int]
    pledged: set[int]
    secretary: set[int]
    participant_sessions: set[int]
    assigned_items: set[int]  # a participant's items
    minutes_items: set[int]  # of those, the ones whose minutes sections they may read
    session_pledges: set[tuple[int, int]]  # (session id, body id) pledged as a participant


def _searcher(db: Session, person: Person) -> _Searcher:
    on = today()
    terms = list(db.scalars(select(Membership).where(Membership.person_id == person.id)))
    current = [t for t in terms if t.is_current(on)]
    entitled = {t.body_id for t in current if t.role in ENTITLED_ROLES}
    rows = db.execute(
        select(Participant.session_id, Participant.may_read_minutes, AgendaItem.id)
        .outerjoin(participant_items, participant_items.c.participant_id == Participant.id)
        .outerjoin(AgendaItem, AgendaItem.id == participant_items.c.agenda_item_id)
        .where(Participant.person_id == person.id)
    ).all()
    pledges = db.execute(
        select(SessionPledge.session_id, SessionPledge.body_id).where(
            SessionPledge.person_id == person.id, SessionPledge.pledged_on <= on
        )
    )
    return _Searcher(
        person=person,
        terms=terms,
        member={t.body_id for t in current},
        entitled=entitled,
        pledged=pledged_body_ids(db, person, entitled) if entitled else set(),
        secretary={t.body_id for t in current if t.role == Role.SECRETARY},
        participant_sessions={row.session_id for row in rows},
        assigned_items={row.id for row in rows if row.id is not None},
        minutes_items={row.id for row in rows if row.id is not None and row.may_read_minutes},
        session_pledges={(row.session_id, row.body_id) for row in pledges},
    )


def _served(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Some body the entry's session serves meets ``condition`` (on session_bodies.body_id)."""
    return (
        select(session_bodies.c.body_id)
        .where(session_bodies.c.session_id == SearchEntry.session_id, condition)
        .exists()
    )


def _term_on_session_day(s: _Searcher, body: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """A term of the viewer on ``body`` current on the session's own day (``invited``). Its
    callers accept a term current today on its own (``member``), so only the terms not
    current today are written out here: a secretary of many bodies has many terms."""
    day = SearchEntry.day
    on = today()
    return or_(
        false(),
        *(
            (body == t.body_id)
            & (day >= t.term_start)
            & (true() if t.term_end is None else day <= t.term_end)
            for t in s.terms
            if not t.is_current(on)
        ),
    )


def _called(s: _Searcher, body: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """Convened for ``body`` in the entry's session: the body is not convened with selected
    members, or the viewer is one of them (選定招集)."""
    chosen = (
        select(SelectedMember.person_id)
        .where(
            SelectedMember.session_id == Selection.session_id,
            SelectedMember.body_id == Selection.body_id,
            SelectedMember.person_id == s.person.id,
        )
        .exists()
    )
    # Correlated by name: inside ``_served`` the entry is two queries up, where SQLAlchemy's
    # automatic correlation does not reach, and it read the selections of every session.
    uncalled = (
        select(Selection.body_id)
        .where(Selection.session_id == SearchEntry.session_id, Selection.body_id == body, ~chosen)
        .correlate(SearchEntry, session_bodies)
        .exists()
    )
    return ~uncalled


def _session_visible(s: _Searcher) -> ColumnElement[bool]:
    """``SessionAccess.can_view`` for the entry's session."""
    # Uncorrelated: the few sessions being prepared are read once a search, not twice an
    # entry (a search at city scale tests tens of thousands of entries).
    prepared = SearchEntry.session_id.in_(
        select(MeetingSession.id).where(MeetingSession.status == Status.PREPARED)
    )
    body = session_bodies.c.body_id
    knows = or_(
        true() if s.person.is_admin else false(),
        _served(body.in_(s.member) | _term_on_session_day(s, body)),
        SearchEntry.session_id.in_(s.participant_sessions),
    )
    return (prepared & _served(body.in_(s.secretary))) | (~prepared & knows)


@dataclass(frozen=True)
class _Called:
    """The viewer convened to the entry's session (through a body it serves) and entitled
    in its owning body, both called (``_called``): the same for every kind of entry, so
    made once a search (making them was a fifth of a search's time in Python)."""

    convened: ColumnElement[bool]
    entitled: ColumnElement[bool]


def _called_for(s: _Searcher) -> _Called:
    served = session_bodies.c.body_id
    convened = _served(
        (served.in_(s.member) | _term_on_session_day(s, served)) & _called(s, served)
    )
    body = SearchEntry.body_id
    return _Called(convened, body.in_(s.entitled) & _called(s, body))


def _sees(
    s: _Searcher,
    called: _Called,
    visibility: SQLColumnExpression[Any],
    assigned: set[int] | None,
) -> ColumnElement[bool]:
    """``SessionAccess.can_see_item`` for a thing of ``visibility`` owned by the entry's
    body; ``assigned``: the participant's items that count for this kind (none for a
    material's own visibility)."""
    body = SearchEntry.body_id
    by_rule = or_(
        visibility == Visibility.PUBLIC,
        (visibility == Visibility.SESSION) & called.convened,
        (visibility == Visibility.BODY) & called.entitled,
        (visibility == Visibility.CONFIDENTIAL) & called.entitled & body.in_(s.pledged),
    )
    if not assigned:
        return by_rule
    pledged_here = or_(
        false(),
        *((SearchEntry.session_id == sid) & (body == bid) for sid, bid in s.session_pledges),
    )
    is_assigned = SearchEntry.item_id.in_(assigned)
    by_assignment = (visibility != Visibility.CONFIDENTIAL) | pledged_here
    return (is_assigned & by_assignment) | (~is_assigned & by_rule)


def search_reach(db: Session, person: Person) -> tuple[ColumnElement[bool], list[str]]:
    """What ``person`` may find, their rights read once: a WHERE condition on
    ``SearchEntry`` (a session as its page would show it, an item, a minutes section (of
    approved minutes) or a material as the session page would, a referral as
    ``referral_filter``, a local issue as ``can_see_local_issue``, bodies and people for
    those who manage them; administrators find no closed item at all, as they see none),
    and the scope tokens they hold ("The search's scope tokens" below)."""
    s = _searcher(db, person)
    return _search_condition(db, s), _scope_tokens(s)


def _manages_people(s: _Searcher) -> bool:
    """``can_manage_people`` from what the searcher already read."""
    return s.person.is_admin or bool(s.secretary)


def _search_condition(db: Session, s: _Searcher) -> ColumnElement[bool]:
    person = s.person
    kind = SearchEntry.kind
    called = _called_for(s)
    visibility = SearchEntry.visibility
    in_session = _session_visible(s) & or_(
        kind == SearchKind.SESSION,
        (kind == SearchKind.ITEM) & _sees(s, called, visibility, s.assigned_items),
        (kind == SearchKind.SECTION) & _sees(s, called, visibility, s.minutes_items),
        (kind == SearchKind.MATERIAL)
        & _sees(s, called, visibility, s.assigned_items)
        & (SearchEntry.narrowed_to.is_(None) | _sees(s, called, SearchEntry.narrowed_to, None)),
    )
    referrals = (kind == SearchKind.REFERRAL) & SearchEntry.object_id.in_(
        select(Referral.id).where(referral_filter(db, person))
    )
    issue_readers = or_(
        true() if person.is_admin else false(),
        SearchEntry.body_id.in_(s.member),
        SearchEntry.raised_by_id == person.id,
    )
    issues = (kind == SearchKind.ISSUE) & issue_readers
    managed = true() if person.is_admin else SearchEntry.body_id.in_(s.secretary)
    bodies = (kind == SearchKind.BODY) & managed
    people = (kind == SearchKind.PERSON) & (true() if _manages_people(s) else false())
    session_kinds = (SearchKind.SESSION, SearchKind.ITEM, SearchKind.SECTION, SearchKind.MATERIAL)
    return or_(kind.in_(session_kinds) & in_session, referrals, issues, bodies, people)


# --- The search's scope tokens --------------------------------------------------------------
#
# The search's condition alone would make a search's time grow with every match in the index,
# visible or not (a word common in other bodies' closed minutes would be slow to search for).
# So each entry also carries scope tokens (who could possibly see it) and the viewer holds
# tokens (what they could possibly be shown); the match itself requires one in common, and
# the database never reads the entries outside the viewer's scope. The tokens are a coarse,
# necessary condition: the condition still decides, and every entry it admits shares a
# token with the viewer (tests/services/test_search_scope.py checks it for every person).
# The viewer's tokens follow pledges, terms and participation at query time; the entry's
# follow what it is written from (its session's bodies, its visibility), so no change of a
# person's standing needs reindexing.


def _scope_tokens(s: _Searcher) -> list[str]:
    """The scope tokens the searcher holds (see above)."""
    person = s.person
    found = [f"s{b}" for b in sorted({t.body_id for t in s.terms})]
    found += [f"e{b}" for b in sorted(s.entitled)]
    found += [f"c{b}" for b in sorted(s.pledged)]
    found += [f"t{sid}" for sid in sorted(s.participant_sessions)]
    found.append(f"r{person.id}")
    if person.organisation_id is not None:
        found.append(f"o{person.organisation_id}")
    if person.is_admin:
        found.append("a")
    if _manages_people(s):
        found.append("m")
    return found


def item_scope(
    visibility: Visibility, body_id: int | None, served: Iterable[int], session_id: int | None
) -> list[str]:
    """The tokens of a thing as closed as an agenda item of ``visibility`` owned by
    ``body_id`` in a session serving ``served`` (``_sees`` and ``_session_visible``)."""
    found = [f"t{session_id}"] if session_id is not None else []
    return found + _level_scope(visibility, body_id, served)


def _level_scope(visibility: Visibility, body_id: int | None, served: Iterable[int]) -> list[str]:
    if visibility is Visibility.PUBLIC:
        return ["a", *(f"s{b}" for b in served)]
    if visibility is Visibility.SESSION:
        return [f"s{b}" for b in served]
    if body_id is None:
        return []
    return [f"e{body_id}" if visibility is Visibility.BODY else f"c{body_id}"]


def material_scope(
    visibility: Visibility,
    narrowed_to: Visibility | None,
    body_id: int | None,
    served: Iterable[int],
    session_id: int,
) -> list[str]:
    """A material narrowed below its item's visibility is seen by that rule alone (being
    assigned the item does not open it)."""
    if narrowed_to is not None:
        return _level_scope(narrowed_to, body_id, served)
    return item_scope(visibility, body_id, served, session_id)


def session_scope(served: Iterable[int], session_id: int) -> list[str]:
    return ["a", f"t{session_id}", *(f"s{b}" for b in served)]


def referral_scope(referral: Referral) -> list[str]:
    """Its organisations' (consent is read at query time), and through its 支援会議 item."""
    found = [f"o{referral.from_organisation_id}", f"o{referral.to_organisation_id}"]
    item = referral.agenda_item
    if item is not None:
        served = [b.id for b in item.session.bodies]
        found += item_scope(item.visibility, item.body_id, served, item.session_id)
    return found


def issue_scope(body_id: int, raised_by_id: int | None) -> list[str]:
    found = ["a", f"s{body_id}"]
    return found + ([f"r{raised_by_id}"] if raised_by_id is not None else [])


def body_scope(body_id: int) -> list[str]:
    return ["a", f"s{body_id}"]


PERSON_SCOPE = ["m"]
