"""Minutes rest on the attendance record: without it they are asked for approval only with
the secretary's reason, which the version keeps and the audit log flags."""

import pytest
from sqlalchemy import select

from renkei.models import AuditEntry, MailMessage, MinutesStatus, SectionKind
from renkei.services import agenda, attendance, minutes
from renkei.services.agenda import ItemData
from renkei.services.errors import DomainError
from tests.helpers import count
from tests.sessions_helpers import LAYER1, make_session, mark_held

SENDER = "renkei@example.jp"
REASON = "出席簿の原本を確認中のため、後日記録する"
NO_RECORD = (
    "この会議の出席記録がまだ作成されていません。先に出席を記録するか、"
    "出席記録なしで承認を依頼する理由を記入してください。"
)


@pytest.fixture
def draft(world, ctx, secretary):
    """The written draft of a held 協議体 session whose attendance is not recorded."""
    session = make_session(world, LAYER1)
    agenda.add_item(world, session, ItemData("地域資源の報告", session.host_body_id), by=secretary)
    mark_held(world, session)
    version = minutes.open_minutes(world, session, by=secretary)
    decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
    minutes.save_section(world, decisions, "- 報告を了承した", revision=0, by=secretary)
    world.commit()
    return version


def submitted_entries(world, version) -> list[AuditEntry]:
    return world.scalars(
        select(AuditEntry).where(AuditEntry.subject_id == version.id, AuditEntry.action == "submit")
    ).all()


@pytest.mark.parametrize("reason", ["", "  　\n "])
def test_minutes_without_the_attendance_record_are_not_submitted_without_a_reason(
    world, draft, secretary, links, reason
):
    with pytest.raises(DomainError) as error:
        minutes.submit(
            world, draft, by=secretary, links=links, sender=SENDER, attendance_reason=reason
        )
    assert (error.value.field, str(error.value.message)) == ("attendance_reason", NO_RECORD)
    world.rollback()
    assert draft.status == MinutesStatus.DRAFT and draft.submitted_at is None
    assert count(world, MailMessage) == 0 and submitted_entries(world, draft) == []


def test_a_reason_too_long_is_refused(world, draft, secretary, links):
    with pytest.raises(DomainError) as error:
        minutes.submit(
            world, draft, by=secretary, links=links, sender=SENDER, attendance_reason="理" * 501
        )
    assert error.value.field == "attendance_reason"
    world.rollback()
    assert draft.status == MinutesStatus.DRAFT


def test_with_a_reason_they_are_submitted_and_the_reason_is_kept(world, draft, secretary, links):
    minutes.submit(
        world, draft, by=secretary, links=links, sender=SENDER, attendance_reason=f" {REASON} "
    )
    world.commit()
    assert draft.status == MinutesStatus.SUBMITTED
    assert draft.attendance_reason == REASON
    assert count(world, MailMessage) == 1  # the 協議体's chair is asked
    # The log says the record was missing; the reason, free text, stays out of it.
    (entry,) = submitted_entries(world, draft)
    assert "attendance=missing" in entry.detail and REASON not in entry.detail


def test_once_attendance_is_recorded_no_reason_is_asked(world, draft, secretary, links):
    session = draft.minutes.session
    lines = [
        attendance.LineData(line.person.id, "present")
        for line in attendance.record_of(world, session).lines
    ]
    attendance.save_record(world, session, lines, by=secretary, shown=set())
    assert attendance.is_recorded(world, session)
    # A reason given anyway means nothing: the record is there.
    minutes.submit(
        world, draft, by=secretary, links=links, sender=SENDER, attendance_reason="念のため"
    )
    world.commit()
    assert draft.status == MinutesStatus.SUBMITTED and draft.attendance_reason == ""
    (entry,) = submitted_entries(world, draft)
    assert "attendance" not in entry.detail
