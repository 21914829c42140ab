"""Quorum (定足数): whether enough of a body's members are present for it to meet.

Each body has its own rule, so a joint session can be quorate for one body and not another.
Only voting members count: the chair, vice-chairs and members, not the secretariat or
observers. A member of two bodies served counts for each. The same reckoning serves the
replies before a session, the attendance record after it, and date polls.
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
    total: int  # voting members on the day
    present: int  # of them, those counted as present
    required: int

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
) -> list[Quorum]:
    """Quorum per body among ``invitees`` (``scheduling.Invitee``) given the ids of people
    present, and of those represented by a proxy (counted only where the body allows it)."""
    result = []
    for body in bodies:
        voters = [i.person.id for i in invitees if i.roles.get(body.id) in VOTING_ROLES]
        counted = present | by_proxy if body.quorum_counts_proxy else present
        attending = sum(1 for person_id in voters if person_id in counted)
        result.append(Quorum(body, len(voters), attending, required(body, len(voters))))
    return result


def from_record(
    bodies: Iterable[Body], invitees: Iterable[Invitee], attendances: dict[int, Attendance]
) -> list[Quorum]:
    """Quorum per body from an attendance record (person id -> ``Attendance``)."""
    present = {pid for pid, a in attendances.items() if a.presence.attended}
    by_proxy = {pid for pid, a in attendances.items() if a.presence == Presence.PROXY}
    return reckon(bodies, invitees, present, by_proxy)


def of_session(
    session: MeetingSession, invitees: list[Invitee], record: dict[int, Attendance]
) -> Reckoning:
    """A session's quorum: from its attendance record once there is one (person id ->
    ``Attendance``); until then, what the replies promise (those attending, and those
    sending a proxy)."""
    if record:
        return Reckoning(from_record(session.bodies, invitees, record), recorded=True)
    present = {r.person_id for r in session.replies if r.answer == Answer.ATTEND}
    by_proxy = {r.person_id for r in session.replies if r.answer == Answer.PROXY}
    return Reckoning(reckon(session.bodies, invitees, present, by_proxy), recorded=False)
