"""A world for the leak test (tests/test_leaks.py): the demo town with sessions whose agenda
items carry canary strings in every field that may be closed to a reader.

- a joint session of the 支援会議 (SUPPORT, statutory secrecy) and the 第1層 協議体 (LAYER1)
  with a public item, an attendees' (`session`) item of LAYER1 and a confidential item of
  SUPPORT, and a guest with an e-mail address;
- a joint session of the 支援調整会議 (COORDINATION, closed) and LAYER1 with a public item
  and the 支援調整会議's plan review (`body`), held, with attendance and approved minutes,
  and a member of LAYER1 alone (kyogitai.only@example.jp) invited to it;
- a SUPPORT-only session whose items are all confidential;
- a weekly SUPPORT series whose occurrences carry different confidential items (so that
  calendar files write the series with an exception event of its own);
- pledges for the SUPPORT body of secretary@example.jp and chair.support@example.jp only;
- a second secretary of SUPPORT and LAYER1 (secretary.unpledged@example.jp) with no pledge;
- the joint session and the series prepared, then convened by their convening notices
  (one invitation marked failed, so that the session pages list mail); the other sessions
  convened as sessions from before the notices were kept (no message recorded);
- a 支援会議 個別ケース検討 convened with selected members (選定招集: the pledged secretary and
  chair only), whose three items are a members-only one and two confidential cases; a
  participant (関係者, with a login, on no body) is assigned to case 2 and has pledged for the
  session, without leave to read the minutes; a pledged member of the 支援会議 is not
  convened (member.uncalled@example.jp). Its approved minutes hold both cases' sections;
- a session of the 支援会議 and the 協議体 still being prepared (準備中): its convening
  notice not sent, so it exists for the secretariat of its bodies alone. Its title, place
  and public item are canaries (``PREPARED``) for everyone else — members, the participant
  assigned to it, a guest and the administrator — and it overlaps a slot of both polls, so
  that their pages would name it as a clash.

- two referrals (つなぎ) without consent: one from the 地域包括支援センター (member.both's
  organisation) to the 自立相談支援センター, kept by its sender alone; one from the 福祉課
  (the secretaries' and the administrator's organisation) taken to the SUPPORT-only session,
  whose item (renamed to a canary) its pledged members read, and through it the referral.

Canaries are grouped: ``CONFIDENTIAL`` ones may reach only the pledged current members of
SUPPORT; ``BODY`` ones only the members of COORDINATION; ``ATTENDEES`` ones only those
convened to the SUPPORT + LAYER1 session (docs/architecture.md, "The confidentiality
rule"). None of them ever reaches a calendar file or an e-mail, whoever receives it.
``PREPARED`` ones only the secretariat of the prepared session's bodies, and no calendar
file or e-mail until it is convened.
"""

import io
from dataclasses import dataclass, field
from datetime import time, timedelta

from flask import current_app
from sqlalchemy import select

from renkei.links import Links
from renkei.models import (
    ActionItem,
    AgendaItem,
    Body,
    Guest,
    MailMessage,
    MailStatus,
    Material,
    MaterialVersion,
    MeetingSession,
    Membership,
    MinutesSection,
    MinutesVersion,
    Organisation,
    Person,
    Pledge,
    Post,
    Referral,
    Role,
    SectionKind,
    Topic,
    Visibility,
)
from renkei.services import (
    agenda,
    attendance,
    convening,
    local_issues,
    materials,
    minutes,
    notices,
    polls,
    referrals,
    scheduling,
    series,
    tasks,
)
from renkei.services.dates import today, tokyo_to_utc
from renkei.services.demo import TERM_START
from renkei.services.material_store import store_of
from tests.helpers import body_named, person_by_email
from tests.referrals_helpers import AGENCY, CENTRE, WELFARE
from tests.sessions_helpers import (
    COORDINATION,
    DAY,
    LAYER1,
    SUPPORT,
    make_session,
    mark_held,
    record_attendance,
    session_data,
)

BASE_URL = "https://renkei.example.jp"
SENDER = "renkei@example.jp"
PLEDGED = ("secretary@example.jp", "chair.support@example.jp")
UNPLEDGED_SECRETARY = "secretary.unpledged@example.jp"
GUEST_NAME = "来賓 一葉"
GUEST_EMAIL = "guest.visitor@example.org"

# The joint session's confidential item (owned by SUPPORT).
JOINT_TITLE = "CANARY-TITLE-7f3a"
JOINT_DESCRIPTION = "CANARY-DESCRIPTION-7f3a"
JOINT_PRESENTER = "CANARY-PRESENTER-7f3a"
# The joint confidential item's case number is issued under this prefix: A-R8-0001 or so.
JOINT_CASE_PREFIX = "LEAK7F3A"
# What that item said before it was made confidential (only the history could keep it).
DRAFT_TITLE = "CANARY-DRAFT-TITLE-7f3a"
DRAFT_DESCRIPTION = "CANARY-DRAFT-DESCRIPTION-7f3a"
# The SUPPORT-only session's confidential items.
SOLO_TITLE = "CANARY-SOLO-TITLE-91c2"
SOLO_DESCRIPTION = "CANARY-SOLO-DESCRIPTION-91c2"
SOLO_PRESENTER = "CANARY-SOLO-PRESENTER-91c2"
SOLO_SECOND_TITLE = "CANARY-SOLO-SECOND-TITLE-91c2"
# The SUPPORT series' confidential items, one per occurrence (each different).
SERIES_TITLES = tuple(f"CANARY-SERIES-TITLE-{n}-5d0e" for n in range(1, 4))
SERIES_DESCRIPTION = "CANARY-SERIES-DESCRIPTION-5d0e"
SERIES_PRESENTER = "CANARY-SERIES-PRESENTER-5d0e"
# The joint session's attendees' item (`session`, owned by LAYER1).
ATTENDEES_TITLE = "SESSION-CANARY-TITLE-b8e1"
ATTENDEES_DESCRIPTION = "SESSION-CANARY-DESCRIPTION-b8e1"
ATTENDEES_PRESENTER = "SESSION-CANARY-PRESENTER-b8e1"
# The joint session's minutes: the confidential item's section (approved version 1 and the
# correction being drafted as version 2), a task taken from it, the attendees' item's
# section and the decisions (for the attendees by default).
MINUTES_TITLE_SECTION = "CANARY-MINUTES-SECTION-c41d"
MINUTES_CORRECTION = "CANARY-MINUTES-CORRECTION-c41d"
MINUTES_TASK = "CANARY-MINUTES-TASK-c41d"
# Follow-up tasks created directly: a 支援会議 one (confidential by default) and a
# 支援調整会議 one (its members'), carried onto those bodies' sessions and their minutes.
TASK_CONFIDENTIAL = "CANARY-TASK-CONFIDENTIAL-2a7b"
TASK_BODY = "BODY-CANARY-TASK-6c2b"
MINUTES_ATTENDEES_SECTION = "SESSION-CANARY-MINUTES-SECTION-e2a7"
MINUTES_DECISIONS = "SESSION-CANARY-MINUTES-DECISIONS-e2a7"
# The 支援調整会議 + 協議体 session: the 支援調整会議's plan review (`body`), named by a case
# number, and its minutes section; and the public item beside it.
COORDINATION_JOINT_TITLE = "支援調整会議・協議体（漏えい試験）"
BODY_TITLE = "プラン協議：R8-0003（BODY-CANARY-TITLE-6c2b）"
BODY_DESCRIPTION = "BODY-CANARY-DESCRIPTION-6c2b"
BODY_PRESENTER = "BODY-CANARY-PRESENTER-6c2b"
MINUTES_BODY_SECTION = "BODY-CANARY-MINUTES-SECTION-6c2b"
COORDINATION_PUBLIC_TITLE = "PUBLIC-COORDINATION-ITEM-open"
KYOGITAI_ONLY = "kyogitai.only@example.jp"
# A date poll of the 支援会議 alone: its title and an invitee's comment are for the
# 支援会議's members (invitees) and secretariat only; to anyone else the poll does not exist.
# The personal link of one invitee (民生 ふみ, no login) shows the title to its holder only,
# and never anyone else's comment.
POLL_TITLE = "POLL-CANARY-TITLE-3e9f"
POLL_COMMENT = "POLL-CANARY-COMMENT-3e9f"
POLLS = (POLL_TITLE, POLL_COMMENT)
# The 支援会議's weekly series, which the polls' second slot overlaps: a 協議体-only member
# may not learn of it, even as a clash.
SERIES_SESSION_TITLE = "支援会議（定例・漏えい試験）"
# The joint session's public item: no canary, the positive control for calendars and mail.
PUBLIC_TITLE = "PUBLIC-ITEM-TITLE-open"

# The selected-members session (選定招集): item 2, assigned to the participant, and item 3.
SELECTED_SESSION_TITLE = "個別ケース検討（選定招集・漏えい試験）"
CASE2_TITLE = "CANARY-CASE2-TITLE-a61b"
CASE2_DESCRIPTION = "CANARY-CASE2-DESCRIPTION-a61b"
CASE2_PRESENTER = "CANARY-CASE2-PRESENTER-a61b"
CASE3_TITLE = "CANARY-CASE3-TITLE-a61b"
CASE3_DESCRIPTION = "CANARY-CASE3-DESCRIPTION-a61b"
CASE3_PRESENTER = "CANARY-CASE3-PRESENTER-a61b"
# Their minutes sections: the participant may not read case 2's (no leave), nor case 3's.
CASE2_MINUTES = "CANARY-CASE2-MINUTES-a61b"
CASE3_MINUTES = "CANARY-CASE3-MINUTES-a61b"
# Its members-only item: for the members convened (the secretary and the chair) alone.
SELECTED_MEMBERS_TITLE = "SELECTED-MEMBERS-CANARY-TITLE-d09c"
SELECTED_MEMBERS_DESCRIPTION = "SELECTED-MEMBERS-CANARY-DESCRIPTION-d09c"
UNCALLED = "member.uncalled@example.jp"
PARTICIPANT = "participant@school.example.jp"
CONVENED = ("secretary@example.jp", "chair.support@example.jp")

# The session being prepared (準備中) by the secretariat of the 支援会議 and the 協議体: its
# title, place and public item, its confidential item, and a guest of it. The participant
# (PARTICIPANT) is assigned to its public item.
PREPARED_TITLE = "PREPARED-CANARY-SESSION-TITLE-4b7d"
PREPARED_PLACE = "PREPARED-CANARY-PLACE-4b7d"
PREPARED_ITEM_TITLE = "PREPARED-CANARY-ITEM-TITLE-4b7d"
PREPARED_SECRET_TITLE = "CANARY-PREPARED-SECRET-TITLE-4b7d"
PREPARED_SECRET_DESCRIPTION = "CANARY-PREPARED-SECRET-DESCRIPTION-4b7d"
PREPARED_GUEST_EMAIL = "guest.prepared@example.org"
PREPARED = (PREPARED_TITLE, PREPARED_PLACE, PREPARED_ITEM_TITLE)
# The local issues of the 協議体 (anonymised: for its members, the link to the case they
# came from for those who may see the case alone).
LOCAL_ISSUE_TITLE = "LOCAL-ISSUE-open-from-case"
LOCAL_ISSUE_TAKEN = "LOCAL-ISSUE-open-taken-up"
# Who may know of it: the secretariat of its bodies.
PREPARERS = ("secretary@example.jp", UNPLEDGED_SECRETARY)

# Materials (資料): each canary is the title, in the file name and in the file's content, so
# that a list, a Content-Disposition header or a download shows it alike. The joint
# session's confidential item's material; its attendees' item's; the public item's, one
# narrowed to the attendees and one public (the positive control); the 支援調整会議's plan
# review's; and case 2's, which its participant may read.
MATERIAL_SECRET = "CANARY-MATERIAL-SECRET-9d4e"
MATERIAL_ATTENDEES = "SESSION-CANARY-MATERIAL-9d4e"
MATERIAL_NARROWED = "SESSION-CANARY-MATERIAL-NARROWED-9d4e"
MATERIAL_PUBLIC = "PUBLIC-MATERIAL-open"
MATERIAL_BODY = "BODY-CANARY-MATERIAL-9d4e"
CASE2_MATERIAL = "CANARY-CASE2-MATERIAL-a61b"

CASE2 = (CASE2_TITLE, CASE2_DESCRIPTION, CASE2_PRESENTER, CASE2_MATERIAL)

# Referrals: the note of one kept by its sender (member.both's 地域包括) alone; the note of
# one the 福祉課 took to the 支援会議 (its staff and the pledged members convened see it),
# and that item's title (the pledged members convened only).
REFERRAL_SENDER_NOTE = "REFERRAL-CANARY-SENDER-NOTE-a1f0"
REFERRAL_MEETING_NOTE = "REFERRAL-CANARY-MEETING-NOTE-a1f0"
REFERRAL_ITEM_TITLE = "CANARY-REFERRAL-ITEM-TITLE-a1f0"
SELECTED_MEMBERS = (SELECTED_MEMBERS_TITLE, SELECTED_MEMBERS_DESCRIPTION)
# Everything closed in the selected session: the member not convened reads none of it.
SELECTED = (
    *CASE2,
    CASE3_TITLE,
    CASE3_DESCRIPTION,
    CASE3_PRESENTER,
    CASE2_MINUTES,
    CASE3_MINUTES,
    *SELECTED_MEMBERS,
)

CONFIDENTIAL = (
    TASK_CONFIDENTIAL,
    JOINT_TITLE,
    JOINT_DESCRIPTION,
    JOINT_PRESENTER,
    f"{JOINT_CASE_PREFIX}-R",
    DRAFT_TITLE,
    DRAFT_DESCRIPTION,
    SOLO_TITLE,
    SOLO_DESCRIPTION,
    SOLO_PRESENTER,
    SOLO_SECOND_TITLE,
    *SERIES_TITLES,
    SERIES_DESCRIPTION,
    SERIES_PRESENTER,
    MINUTES_TITLE_SECTION,
    MINUTES_CORRECTION,
    MINUTES_TASK,
    *(canary for canary in SELECTED if canary not in SELECTED_MEMBERS),
    PREPARED_SECRET_TITLE,
    PREPARED_SECRET_DESCRIPTION,
    MATERIAL_SECRET,
    REFERRAL_ITEM_TITLE,
)
ATTENDEES_ITEM = (ATTENDEES_TITLE, ATTENDEES_DESCRIPTION, ATTENDEES_PRESENTER)
ATTENDEES = (
    *ATTENDEES_ITEM,
    MINUTES_ATTENDEES_SECTION,
    MINUTES_DECISIONS,
    MATERIAL_ATTENDEES,
    MATERIAL_NARROWED,
)
BODY_ITEM = (BODY_TITLE, BODY_DESCRIPTION, BODY_PRESENTER)
BODY = (*BODY_ITEM, MINUTES_BODY_SECTION, MATERIAL_BODY, TASK_BODY)


@dataclass
class LeakWorld:
    joint_id: int
    coordination_joint_id: int
    coordination_version_id: int
    solo_id: int
    series_id: int
    series_session_ids: list[int]
    session_ids: list[int]
    item_ids: list[int]
    body_ids: list[int]
    person_ids: list[int]
    membership_ids: list[int]
    guest_ids: list[int]
    version_ids: list[int]
    section_ids: list[int]
    action_ids: list[int]
    organisation_ids: list[int]
    post_ids: list[int]
    # feed token -> e-mail (or name, for people without one) of its holder
    feed_tokens: dict[str, str]
    # holders (e-mail or name) invited to the joint session: its attendees' item is theirs
    joint_invitees: set[str] = field(default_factory=set)
    # holders invited to the 支援調整会議 + 協議体 session
    coordination_invitees: set[str] = field(default_factory=set)
    # the 支援会議 poll, then the joint poll (支援会議 and 第1層協議体)
    poll_ids: list[int] = field(default_factory=list)
    # personal answer-link token -> name of its holder
    poll_tokens: dict[str, str] = field(default_factory=dict)
    # the session convened with selected members, and its participants
    selected_id: int = 0
    participant_ids: list[int] = field(default_factory=list)
    # the session being prepared, its items and the 支援会議 (the body of its page)
    prepared_id: int = 0
    prepared_item_ids: list[int] = field(default_factory=list)
    support_id: int = 0
    # materials (in the order made: MATERIAL_SECRET first) and their file versions
    material_ids: list[int] = field(default_factory=list)
    material_version_ids: list[int] = field(default_factory=list)
    # the local issues of LAYER1: raised from the joint confidential case, and taken onto
    # the prepared session's agenda
    issue_ids: list[int] = field(default_factory=list)
    # the referral kept by its sender, then the one taken to the 支援会議; their case numbers
    referral_ids: list[int] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    topic_ids: list[int] = field(default_factory=list)


def _holder(person: Person) -> str:
    return person.email or person.name


def _item(db, session, body, title, visibility, *, description="", presenter="", by):
    return agenda.add_item(
        db,
        session,
        agenda.ItemData(
            title=title,
            body_id=body.id,
            presenter=presenter,
            planned_minutes=15,
            description=description,
            visibility=visibility.value,
            confirm_wider=True,  # the draft of the confidential item was for the attendees
        ),
        by=by,
    )


def _material(db, session, item, canary, by, visibility=None):
    """A material of ``item`` carrying ``canary`` in its title, file name and content."""
    file = materials.Upload(io.BytesIO(f"{canary}-CONTENT\n".encode()), f"{canary}-FILE.txt")
    return materials.upload(
        db,
        session,
        file,
        by=by,
        store=store_of(),
        limits=materials.Limits.of(current_app),
        item=item,
        title=canary,
        visibility=visibility.value if visibility else None,
    )


def _item_titled(session, title):
    return next(item for item in session.items if item.title == title)


def _write(db, version, kind, text, by, title=""):
    """Write ``text`` into the section of ``kind`` (an item's: the one titled ``title``)."""
    section = next(s for s in version.sections if s.kind == kind and s.title == title)
    minutes.save_section(db, section, text, revision=section.revision, by=by)
    return section


def _minutes(db, joint, support, layer1, links: Links) -> None:
    """The joint session held and minuted: version 1 approved by both chairs, version 2 (a
    correction) in draft, and a task from the confidential section for the secretary."""
    secretary = person_by_email(db, "secretary@example.jp")
    mark_held(db, joint)
    record_attendance(db, joint)
    first = minutes.open_minutes(db, joint, by=secretary)
    secret = _write(db, first, SectionKind.ITEM, MINUTES_TITLE_SECTION, secretary, JOINT_TITLE)
    _write(db, first, SectionKind.ITEM, MINUTES_ATTENDEES_SECTION, secretary, ATTENDEES_TITLE)
    _write(db, first, SectionKind.DECISIONS, f"- {MINUTES_DECISIONS}", secretary)
    sender = "renkei@example.jp"
    minutes.submit(db, first, by=secretary, links=links, sender=sender)
    for body, chair in ((support, "chair.support"), (layer1, "chair.kyogitai")):
        chair = person_by_email(db, f"{chair}@example.jp")
        minutes.decide(db, first, body.id, approve=True, by=chair, links=links, sender=sender)
    minutes.add_action(
        db, secret, text=MINUTES_TASK, owner_id=secretary.id, due_on=None, by=secretary
    )
    second = minutes.start_correction(db, first.minutes, reason="訂正", by=secretary)
    _write(db, second, SectionKind.ITEM, MINUTES_CORRECTION, secretary, JOINT_TITLE)


def _tasks(db, support, secretary) -> None:
    """A task of the 支援会議 and one of the 支援調整会議, created directly for each body
    (each with its body's default visibility) and owned by the chair of both."""
    chair = person_by_email(db, "chair.support@example.jp")
    for body, text in ((support, TASK_CONFIDENTIAL), (body_named(db, COORDINATION), TASK_BODY)):
        tasks.add_for_body(
            db,
            body.id,
            text=text,
            owner=tasks.Owner(person_id=chair.id),
            due_on=None,
            visibility=None,
            by=secretary,
        )


def _coordination_joint(
    db, layer1, secretary, links: Links
) -> tuple[MeetingSession, MinutesVersion]:
    """The 支援調整会議 and the 第1層 協議体 sit together: a public item of the 協議体 and
    the 支援調整会議's plan review for its members only (`body`, no pledge needed). Held,
    everyone present (the plan review's presence recorded for the 支援調整会議's members),
    minutes approved by both chairs; and a member of the 協議体 alone, with a login."""
    coordination = body_named(db, COORDINATION)
    only = Person(
        name="協議 のみ",
        kana="きょうぎ のみ",
        email=KYOGITAI_ONLY,
        password_hash=secretary.password_hash,  # the demo password
    )
    db.add(only)
    db.add(Membership(person=only, body=layer1, role=Role.MEMBER, term_start=TERM_START))
    db.flush()
    session = make_session(
        db, COORDINATION, LAYER1, title=COORDINATION_JOINT_TITLE, day=DAY + timedelta(days=2)
    )
    _item(db, session, layer1, COORDINATION_PUBLIC_TITLE, Visibility.PUBLIC, by=secretary)
    _item(
        db,
        session,
        coordination,
        BODY_TITLE,
        Visibility.BODY,
        description=f"- {BODY_DESCRIPTION}",
        presenter=BODY_PRESENTER,
        by=secretary,
    )
    _material(db, session, _item_titled(session, BODY_TITLE), MATERIAL_BODY, secretary)
    mark_held(db, session)
    _everyone_present(db, session, secretary)
    version = minutes.open_minutes(db, session, by=secretary)
    _write(db, version, SectionKind.ITEM, MINUTES_BODY_SECTION, secretary, BODY_TITLE)
    sender = "renkei@example.jp"
    minutes.submit(db, version, by=secretary, links=links, sender=sender)
    for body, chair in ((coordination, "chair.support"), (layer1, "chair.kyogitai")):
        chair = person_by_email(db, f"{chair}@example.jp")
        minutes.decide(db, version, body.id, approve=True, by=chair, links=links, sender=sender)
    db.commit()
    return session, version


def _everyone_present(db, session, secretary) -> None:
    """Everyone present, and for each closed item those entitled to it."""
    owned = {
        i.id for i in session.items if i.visibility in (Visibility.BODY, Visibility.CONFIDENTIAL)
    }
    record = attendance.record_of(db, session)
    lines = [
        attendance.LineData(line.person.id, "present", item_ids=line.may_hear & owned)
        for line in record.lines
    ]
    attendance.save_record(db, session, lines, by=secretary, shown=owned)


def _attendance(db, joint) -> None:
    """Everyone present at the joint session, the pledged entitled for its confidential item;
    and member.both holding both posts, so that the apportionment report has lines."""
    secretary = person_by_email(db, "secretary@example.jp")
    _everyone_present(db, joint, secretary)
    both = person_by_email(db, "member.both@example.jp")
    for programme, title in (
        ("livelihood", "相談支援員"),
        ("care_insurance", "生活支援コーディネーター"),
    ):
        db.add(Post(person=both, programme=programme, title=title, start_on=TERM_START))
    db.flush()


def build(app, db) -> LeakWorld:
    """Build the world in ``db`` (the demo town must be loaded) and commit it.

    Runs in an application context of its own (gettext for history lines and mail), left
    before returning: each request of the test client gets its own context.
    """
    with app.app_context():
        return _build(db, Links(app.url_map, BASE_URL))


def _build(db, links: Links) -> LeakWorld:
    secretary = person_by_email(db, "secretary@example.jp")
    support, layer1 = body_named(db, SUPPORT), body_named(db, LAYER1)
    # A second secretariat member of both bodies, without a pledge: manages the sessions
    # (history, replies, mail, agenda buttons) but may not read confidential items.
    unpledged = Person(
        name="事務 次郎",
        kana="じむ じろう",
        email=UNPLEDGED_SECRETARY,
        organisation_id=secretary.organisation_id,
        password_hash=secretary.password_hash,  # the demo password
    )
    db.add(unpledged)
    for body in (support, layer1):
        db.add(Membership(person=unpledged, body=body, role=Role.SECRETARY, term_start=TERM_START))
    db.flush()

    joint = make_session(
        db, SUPPORT, LAYER1, title="合同会議（漏えい試験）", place="役場", convened=False
    )
    _item(db, joint, layer1, PUBLIC_TITLE, Visibility.PUBLIC, by=secretary)
    _item(
        db,
        joint,
        layer1,
        ATTENDEES_TITLE,
        Visibility.SESSION,
        description=f"- {ATTENDEES_DESCRIPTION}",
        presenter=ATTENDEES_PRESENTER,
        by=secretary,
    )
    # Added as a draft for the attendees, then made confidential with its final text by the
    # pledged secretary: the history records the change, and must not carry the draft's
    # text either.
    draft = _item(
        db,
        joint,
        support,
        DRAFT_TITLE,
        Visibility.SESSION,
        description=DRAFT_DESCRIPTION,
        by=secretary,
    )
    db.add(Guest(session=joint, name=GUEST_NAME, email=GUEST_EMAIL, organisation="来賓の所属"))

    solo = make_session(db, SUPPORT, title="支援会議（漏えい試験）", day=DAY + timedelta(days=1))
    _item(
        db,
        solo,
        support,
        SOLO_TITLE,
        Visibility.CONFIDENTIAL,
        description=SOLO_DESCRIPTION,
        presenter=SOLO_PRESENTER,
        by=secretary,
    )
    _item(db, solo, support, SOLO_SECOND_TITLE, Visibility.CONFIDENTIAL, by=secretary)

    weekly = series.create_series(
        db,
        session_data(db, SUPPORT, title=SERIES_SESSION_TITLE, day=DAY + timedelta(days=7)),
        series.RepeatRule(frequency="weekly", count=3),
        by=secretary,
    )
    db.flush()
    assert all(s.is_prepared for s in weekly.sessions)
    for occurrence, title in zip(weekly.sessions, SERIES_TITLES, strict=True):
        _item(
            db,
            occurrence,
            support,
            title,
            Visibility.CONFIDENTIAL,
            description=SERIES_DESCRIPTION,
            presenter=SERIES_PRESENTER,
            by=secretary,
        )

    for email in PLEDGED:
        db.add(Pledge(person=person_by_email(db, email), body=support, pledged_on=today()))
    db.flush()
    agenda.update_item(
        db,
        draft,
        agenda.ItemData(
            title=JOINT_TITLE,
            body_id=support.id,
            presenter=JOINT_PRESENTER,
            planned_minutes=40,
            description=f"**事例** {JOINT_DESCRIPTION}",
            visibility=Visibility.CONFIDENTIAL.value,
            assign_case_number=True,
            case_prefix=JOINT_CASE_PREFIX,
        ),
        by=secretary,
    )
    # The convening notices of the joint session (with its agenda as it now stands) and of
    # the series (one for its three occurrences): invitations on record, so that the
    # secretariat's session page lists mail (one failed).
    queued = notices.convene(db, joint, by=secretary, links=links, sender=SENDER)
    queued.messages[0].status = MailStatus.FAILED
    queued.messages[0].error = "550 test failure"
    notices.convene(db, weekly.sessions[0], by=secretary, links=links, sender=SENDER)
    db.commit()
    _material(db, joint, draft, MATERIAL_SECRET, secretary)
    _material(db, joint, _item_titled(joint, ATTENDEES_TITLE), MATERIAL_ATTENDEES, secretary)
    public = _item_titled(joint, PUBLIC_TITLE)
    _material(db, joint, public, MATERIAL_NARROWED, secretary, Visibility.SESSION)
    _material(db, joint, public, MATERIAL_PUBLIC, secretary)
    db.commit()

    _tasks(db, support, secretary)
    _minutes(db, joint, support, layer1, links)
    _attendance(db, joint)
    coordination, coordination_version = _coordination_joint(db, layer1, secretary, links)

    db.commit()

    selected_id, participant_ids = _selected(db, support, secretary, links)
    db.commit()
    prepared = _prepared(db, support, layer1, secretary)
    db.commit()
    issue_ids = _local_issues(db, joint, layer1, prepared, secretary)
    db.commit()

    poll_ids, poll_tokens = _polls(db, support, layer1, secretary)
    db.commit()
    kept, taken = _referrals(db, solo, secretary)
    db.commit()

    people = db.scalars(select(Person).order_by(Person.id)).all()
    invited = {_holder(i.person) for i in scheduling.invitees(db, joint)}
    coordination_invited = {_holder(i.person) for i in scheduling.invitees(db, coordination)}
    sessions = db.scalars(select(MeetingSession.id).order_by(MeetingSession.id)).all()
    assert db.scalar(select(MailMessage.id).limit(1)) is not None
    return LeakWorld(
        joint_id=joint.id,
        coordination_joint_id=coordination.id,
        coordination_version_id=coordination_version.id,
        solo_id=solo.id,
        series_id=weekly.id,
        series_session_ids=[s.id for s in weekly.sessions],
        session_ids=list(sessions),
        item_ids=list(db.scalars(select(AgendaItem.id).order_by(AgendaItem.id))),
        body_ids=list(db.scalars(select(Body.id).order_by(Body.id))),
        person_ids=[p.id for p in people],
        membership_ids=list(db.scalars(select(Membership.id).order_by(Membership.id))),
        guest_ids=list(db.scalars(select(Guest.id).order_by(Guest.id))),
        version_ids=list(db.scalars(select(MinutesVersion.id).order_by(MinutesVersion.id))),
        section_ids=list(db.scalars(select(MinutesSection.id).order_by(MinutesSection.id))),
        action_ids=list(db.scalars(select(ActionItem.id).order_by(ActionItem.id))),
        organisation_ids=list(db.scalars(select(Organisation.id).order_by(Organisation.id))),
        post_ids=list(db.scalars(select(Post.id).order_by(Post.id))),
        feed_tokens={p.feed_token: _holder(p) for p in people},
        joint_invitees=invited,
        coordination_invitees=coordination_invited,
        poll_ids=poll_ids,
        poll_tokens=poll_tokens,
        selected_id=selected_id,
        participant_ids=[*participant_ids, *(p.id for p in prepared.participants)],
        prepared_id=prepared.id,
        prepared_item_ids=[i.id for i in prepared.items],
        support_id=support.id,
        material_ids=list(db.scalars(select(Material.id).order_by(Material.id))),
        material_version_ids=list(
            db.scalars(select(MaterialVersion.id).order_by(MaterialVersion.id))
        ),
        issue_ids=issue_ids,
        referral_ids=[kept.id, taken.id],
        case_numbers=[kept.case_number, taken.case_number],
        topic_ids=list(db.scalars(select(Topic.id).order_by(Topic.id))),
    )


def _referrals(db, solo, secretary) -> tuple[Referral, Referral]:
    orgs = {o.name: o.id for o in db.scalars(select(Organisation))}

    def refer(by, source, target, note):
        data = referrals.ReferralData(
            referred_on=today() - timedelta(days=3),
            from_organisation_id=orgs[source],
            to_organisation_id=orgs[target],
            assign_case_number=True,
            consent="refused",
            note=note,
        )
        return referrals.create(db, data, by=by)

    centre = person_by_email(db, "member.both@example.jp")
    kept = refer(centre, CENTRE, AGENCY, REFERRAL_SENDER_NOTE)
    taken = refer(secretary, WELFARE, AGENCY, REFERRAL_MEETING_NOTE)
    item = referrals.take_to_meeting(db, taken, solo, by=secretary)
    data = agenda.ItemData(
        title=REFERRAL_ITEM_TITLE,
        body_id=item.body_id,
        visibility=Visibility.CONFIDENTIAL.value,
        case_number=taken.case_number,
    )
    agenda.update_item(db, item, data, by=secretary)
    return kept, taken


def _with_login(db, name, kana, email, like):
    person = Person(name=name, kana=kana, email=email, password_hash=like.password_hash)
    db.add(person)
    return person


def _selected(db, support, secretary, links: Links) -> tuple[int, list[int]]:
    """The 個別ケース検討 convened with the pledged secretary and chair only; a pledged member
    not convened; a participant of case 2 pledged for the session, without the minutes."""
    uncalled = _with_login(db, "選外 四郎", "せんがい しろう", UNCALLED, secretary)
    db.add(Membership(person=uncalled, body=support, role=Role.MEMBER, term_start=TERM_START))
    db.add(Pledge(person=uncalled, body=support, pledged_on=today()))
    outsider = _with_login(db, "関係 五郎", "かんけい ごろう", PARTICIPANT, secretary)
    db.flush()
    session = make_session(
        db, SUPPORT, title=SELECTED_SESSION_TITLE, day=DAY + timedelta(days=2), convened=False
    )
    _item(
        db,
        session,
        support,
        SELECTED_MEMBERS_TITLE,
        Visibility.SESSION,
        description=SELECTED_MEMBERS_DESCRIPTION,
        by=secretary,
    )
    case2 = _item(
        db,
        session,
        support,
        CASE2_TITLE,
        Visibility.CONFIDENTIAL,
        description=CASE2_DESCRIPTION,
        presenter=CASE2_PRESENTER,
        by=secretary,
    )
    _item(
        db,
        session,
        support,
        CASE3_TITLE,
        Visibility.CONFIDENTIAL,
        description=CASE3_DESCRIPTION,
        presenter=CASE3_PRESENTER,
        by=secretary,
    )
    convened = [person_by_email(db, email).id for email in CONVENED]
    convening.set_selection(db, session, support.id, convened, by=secretary)
    data = convening.ParticipantData(item_ids=[case2.id], person_id=outsider.id)
    participant = convening.add_participant(db, session, data, by=secretary)
    convening.record_session_pledge(db, session, support.id, outsider, by=outsider)
    _material(db, session, case2, CASE2_MATERIAL, secretary)
    notices.convene(db, session, by=secretary, links=links, sender=SENDER)
    _selected_minutes(db, session, secretary, links)
    return session.id, [participant.id]


def _prepared(db, support, layer1, secretary) -> MeetingSession:
    """A session of the 支援会議 and the 協議体 two weeks after DAY, at the hour of the
    polls' second slot, being prepared: a public item (the participant assigned to it), a
    confidential one, and a guest. No convening notice: nothing is mailed."""
    session = make_session(
        db,
        SUPPORT,
        LAYER1,
        title=PREPARED_TITLE,
        place=PREPARED_PLACE,
        day=DAY + timedelta(days=14),
        convened=False,
    )
    public = _item(db, session, layer1, PREPARED_ITEM_TITLE, Visibility.PUBLIC, by=secretary)
    _item(
        db,
        session,
        support,
        PREPARED_SECRET_TITLE,
        Visibility.CONFIDENTIAL,
        description=PREPARED_SECRET_DESCRIPTION,
        by=secretary,
    )
    outsider = person_by_email(db, PARTICIPANT)
    data = convening.ParticipantData(item_ids=[public.id], person_id=outsider.id)
    convening.add_participant(db, session, data, by=secretary)
    scheduling.add_guest(
        db, session, name="来賓 準備", email=PREPARED_GUEST_EMAIL, organisation="", by=secretary
    )
    assert session.is_prepared
    return session


def _local_issues(db, joint, layer1, prepared, secretary) -> list[int]:
    """Two local issues of LAYER1: one raised from the joint session's confidential case
    (its link, with the item's title, for the pledged only), one taken onto the agenda of
    the session being prepared (named on the issue's page to its secretariat only)."""
    case = next(item for item in joint.items if item.title == JOINT_TITLE)
    from_case = local_issues.raise_from_item(
        db,
        case,
        local_issues.IssueData(LOCAL_ISSUE_TITLE, "見守りの担い手が足りない。", body_id=layer1.id),
        by=secretary,
    )
    taken = local_issues.raise_directly(
        db,
        local_issues.IssueData(LOCAL_ISSUE_TAKEN, "移動販売がない。", body_id=layer1.id),
        by=secretary,
    )
    local_issues.take_onto_agenda(db, prepared, [taken.id], by=secretary)
    return [from_case.id, taken.id]


def _selected_minutes(db, session, secretary, links: Links) -> None:
    mark_held(db, session)
    record_attendance(db, session)
    version = minutes.open_minutes(db, session, by=secretary)
    _write(db, version, SectionKind.ITEM, CASE2_MINUTES, secretary, CASE2_TITLE)
    _write(db, version, SectionKind.ITEM, CASE3_MINUTES, secretary, CASE3_TITLE)
    sender = "renkei@example.jp"
    minutes.submit(db, version, by=secretary, links=links, sender=sender)
    chair = person_by_email(db, "chair.support@example.jp")
    minutes.decide(
        db, version, session.host_body_id, approve=True, by=chair, links=links, sender=sender
    )


def _polls(db, support, layer1, secretary) -> tuple[list[int], dict[str, str]]:
    """A 支援会議 poll answered by 兼務 三郎 with a comment, and a joint poll; both with a
    slot overlapping the 支援会議's weekly series (a clash to flag). No request is mailed:
    the mail test counts the kinds it expects."""
    slots = [
        polls.SlotData(tokyo_to_utc(day, time(14)), tokyo_to_utc(day, time(16)))
        for day in (DAY + timedelta(days=2), DAY + timedelta(days=14))
    ]
    made = []
    for title, bodies in (
        (POLL_TITLE, [support]),
        ("合同会議の日程（漏えい試験）", [support, layer1]),
    ):
        data = polls.PollData(title, [b.id for b in bodies], bodies[-1].id, slots)
        made.append(polls.create_poll(db, data, by=secretary))
    member = person_by_email(db, "member.both@example.jp")
    polls.answer(db, made[0], member, {s.id: "yes" for s in made[0].slots}, POLL_COMMENT, by=member)
    fumi = db.scalar(select(Person).where(Person.name == "民生 ふみ"))
    token = polls.issue_link(db, made[0], fumi)
    return [p.id for p in made], {token: fumi.name}
