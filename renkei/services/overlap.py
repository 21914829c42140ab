"""How many current members each pair of bodies shares: the case for holding them jointly."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from renkei.models import Body, Membership, Person
from renkei.services.bodies import tree_order
from renkei.services.dates import today
from renkei.services.policy import current_membership_filter


@dataclass
class OverlapMatrix:
    bodies: list[Body]
    members: dict[int, set[int]] = field(default_factory=dict)  # body id -> person ids
    people: dict[int, Person] = field(default_factory=dict)
    roles: dict[tuple[int, int], str] = field(default_factory=dict)  # (body, person) -> role
    counts: dict[tuple[int, int], int] = field(default_factory=dict)  # (body, body) -> shared

    def count(self, a: int, b: int) -> int:
        return self.counts.get((a, b), 0)

    def shared(self, a: int, b: int) -> list[Person]:
        ids = self.members.get(a, set()) & self.members.get(b, set())
        return sorted((self.people[i] for i in ids), key=lambda p: (p.kana or p.name, p.id))

    def pairs(self) -> list[tuple[Body, Body, int]]:
        """Every pair of distinct bodies that share someone, most shared first."""
        found = [
            (a, b, self.count(a.id, b.id))
            for i, a in enumerate(self.bodies)
            for b in self.bodies[i + 1 :]
        ]
        return sorted((p for p in found if p[2]), key=lambda p: -p[2])


def overlap_matrix(db: Session, body_ids: set[int], on: date | None = None) -> OverlapMatrix:
    """The matrix for the given bodies, from current terms on ``on`` (default today)."""
    on = on or today()
    bodies = tree_order(
        list(db.scalars(select(Body).where(Body.id.in_(body_ids)).order_by(Body.name)))
    )
    matrix = OverlapMatrix(bodies=bodies)
    memberships = db.scalars(
        select(Membership)
        .where(Membership.body_id.in_(body_ids), current_membership_filter(on))
        .options(selectinload(Membership.person).selectinload(Person.organisation))
    )
    bodies_of: dict[int, set[int]] = {}
    for membership in memberships:
        matrix.members.setdefault(membership.body_id, set()).add(membership.person_id)
        matrix.people[membership.person_id] = membership.person
        matrix.roles[(membership.body_id, membership.person_id)] = membership.role
        bodies_of.setdefault(membership.person_id, set()).add(membership.body_id)
    # One pass over people rather than an intersection per cell: a person on k bodies adds
    # to k² cells, and people sit on a handful of bodies while cells grow with bodies².
    for body_ids_of_person in bodies_of.values():
        for a in body_ids_of_person:
            for b in body_ids_of_person:
                matrix.counts[(a, b)] = matrix.counts.get((a, b), 0) + 1
    return matrix
