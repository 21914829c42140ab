"""The printed notice of a session (開催通知), for those convened whom no e-mail reaches.

A municipality still posts or hands its 開催通知 to members without an e-mail address, most
often residents (民生委員, 自治会長). The letter says what the invitation e-mail says and
nothing more: the agenda as ``calendar.agenda_lines`` writes it, so public item titles only
and every other item as 「非公開議題」, whoever reads it.

Who is convened is the mail's rule: the members a session convenes
(``scheduling.invitees``, selected members only where a body was convened with some),
its participants (関係者) and its guests, less the secretariat, who sends the letters. An
address is usable when a mail header can carry it (``mail.valid_address``).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from renkei.models import Body, MeetingSession, Membership, Person, Role
from renkei.services import scheduling
from renkei.services.dates import tokyo_date
from renkei.services.mail import valid_address


@dataclass(frozen=True)
class Addressee:
    """One letter's addressee: a person of the register, or a guest (``person`` None)."""

    name: str
    organisation: str = ""
    email: str | None = None  # the usable address, if any
    person: Person | None = None

    @property
    def answers_online(self) -> bool:
        """May log in and answer on the session's page (a guest never can)."""
        return self.person is not None and self.person.is_active


@dataclass(frozen=True)
class Host:
    """Who sends the letter: the host body, its chair and its secretariat on the day."""

    body: Body
    chair: Person | None
    secretariat: list[Membership]


def _of_person(person: Person) -> Addressee:
    organisation = person.organisation.name if person.organisation else ""
    return Addressee(person.name, organisation, valid_address(person.email), person)


def convened(db: Session, session: MeetingSession) -> list[Addressee]:
    """Everyone the session convenes, each person once: members, participants, guests. A
    member who sits on the served bodies only as their secretariat sends the letters and
    gets none."""
    people = [
        i.person
        for i in scheduling.invitees(db, session)
        if any(role != Role.SECRETARY for role in i.roles.values())
    ]
    people += [p.person for p in session.participants]
    found, seen = [], set()
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            found.append(_of_person(person))
    found += [Addressee(g.name, g.organisation, valid_address(g.email)) for g in session.guests]
    return found


def addressees(db: Session, session: MeetingSession, *, everyone: bool = False) -> list[Addressee]:
    """Those to send a letter: whom no e-mail reaches, or with ``everyone`` all convened."""
    people = convened(db, session)
    return people if everyone else [a for a in people if a.email is None]


def host(session: MeetingSession) -> Host:
    """The host body with its chair and secretariat current on the session's date."""
    return host_of(session.host_body, tokyo_date(session.start_at))


def host_of(body: Body, day: date) -> Host:
    """``body`` with its chair and secretariat current on ``day``."""
    terms = [m for m in body.memberships if m.is_current(day)]
    chair = next((m.person for m in terms if m.role == Role.CHAIR), None)
    secretariat = [m for m in terms if m.role == Role.SECRETARY]
    return Host(body, chair, secretariat)
