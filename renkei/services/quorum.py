"""Quorum (定足数): whether enough of a body's members are present for it to meet.

Each body has its own rule, so a joint session can be quorate for one body and not another.
Only voting members count: the chair, vice-chairs and members, not the secretariat or
observers. A member of two bodies served counts for each. The same reckoning serves the
replies before a session, the attendance record after it, and date polls.

A body convened with selected members for a session (選定招集) is counted among those
convened: more than half of the chosen voting members must be present, whatever the body's
own rule. That rule (a majority of every member, or a fixed number) is written for meetings
of the whole body; a session to which the body convened only the members concerned with a
case (a 支援会議's 個別ケース検討) would be inquorate by design if counted against all of
them, which says nothing, while counted against those convened it says what matters: that
the members the secretariat judged necessary are in the room. The session page states it.
"""

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from renkei.models import Answer, Attendance, Body, MeetingSession, Presence, QuorumRule, Role
from renkei.services.scheduling import Invitee

VOTING_ROLES = (Role.CHAIR, Role.VICE_CHAIR, Role.MEMBER)


@dataclass(frozen=True)
class Quorum:
    body: Body
    total: int  # voting members on the day (of a selection: those convened)
    present: int  # of them, those counted as present
    required: int
    selected: bool = False  # convened with selected members: counted among them

    @property
    def met(self) -> bool:
        return self.total > 0 and self.present >= self.required


@dataclass(frozen=True)
class Reckoning:
    """A session's quorum per body, and where it was counted from."""

    quorums: list[Quorum]
    recorded: bool  # from the attendance record; otherwise expected from the replies


def fixed_number(body: Body) -> int | None:
    """The members needed under a fixed-number rule; None where a majority is needed."""
    if body.quorum_rule == QuorumRule.FIXED and body.quorum_number:
        return body.quorum_number
    return None


def required(body: Body, total: int) -> int:
    """Members needed: more than half of ``total``, or the body's fixed number."""
    return fixed_number(body) or total // 2 + 1


def reckon(
    bodies: Iterable[Body],
    invitees: Iterable[Invitee],
    present: AbstractSet[int],
    by_proxy: AbstractSet[int] = frozenset(),
    selected: AbstractSet[int] = frozenset(),
) -> list[Quorum]:
    """Quorum per body among ``invitees`` (``scheduling.Invitee``) given the ids of people
    present, and of those represented by a proxy (counted only where the body allows it).
    The bodies of ``selected`` (ids) were convened with selected members, whom
    ``invitees`` holds alone: a majority of them is needed."""
    result = []
    for body in bodies:
        voters = [i.person.id for i in invitees if i.roles.get(body.id) in VOTING_ROLES]
        counted = present | by_proxy if body.quorum_counts_proxy else present
        attending = sum(1 for person_id in voters if person_id in counted)
        chosen = body.id in selected
        needed = len(voters) // 2 + 1 if chosen else required(body, len(voters))
        result.append(Quorum(body, len(voters), attending, needed, selected=chosen))
    return result


def from_record(
    bodies: Iterable[Body],
    invitees: Iterable[Invitee],
    attendances: dict[int, Attendance],
    selected: AbstractSet[int] = frozenset(),
) -> list[Quorum]:
    """Quorum per body from an attendance record (person id -> ``Attendance``)."""
    present = {pid for pid, a in attendances.items() if a.presence.attended}
    by_proxy = {pid for pid, a in attendances.items() if a.presence == Presence.PROXY}
    return reckon(bodies, invitees, present, by_proxy, selected)


def of_session(
    session: MeetingSession, invitees: list[Invitee], record: dict[int, Attendance]
) -> Reckoning:
    """A session's quorum: from its attendance record once there is one (person id ->
    ``Attendance``); until then, what the replies promise (those attending, and those
    sending a proxy)."""
    selected = {selection.body_id for selection in session.selections}
    if record:
        return Reckoning(from_record(session.bodies, invitees, record, selected), recorded=True)
    present = {r.person_id for r in session.replies if r.answer == Answer.ATTEND}
    by_proxy = {r.person_id for r in session.replies if r.answer == Answer.PROXY}
    return Reckoning(reckon(session.bodies, invitees, present, by_proxy, selected), recorded=False)
