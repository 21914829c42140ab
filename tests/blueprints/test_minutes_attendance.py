"""Asking for approval of minutes whose session has no attendance record: the editor says
so and asks why; without a reason nothing is submitted, with one the reason is shown to the
secretariat and the chairs beside the minutes."""

from urllib.parse import urlsplit

import pytest

from renkei.models import MailMessage, MinutesStatus, MinutesVersion, SectionKind
from renkei.services import agenda, attendance, minutes
from renkei.services.agenda import ItemData
from tests.conftest import client_for
from tests.helpers import count, person_by_email
from tests.sessions_helpers import LAYER1, make_session, mark_held

NOT_MADE = "この会議の出席記録はまだ作成されていません。"
NO_RECORD = (
    "この会議の出席記録がまだ作成されていません。先に出席を記録するか、"
    "出席記録なしで承認を依頼する理由を記入してください。"
)
REASON = "出席簿の原本を確認中のため、後日記録する"
REASON_LABEL = "出席記録なしで承認を依頼した理由"


@pytest.fixture
def session(app, world):
    """A held session of the 第1層 協議体, its attendance not recorded."""
    secretary = person_by_email(world, "secretary@example.jp")
    session = make_session(world, LAYER1)
    with app.app_context():
        data = ItemData("地域資源の報告", session.host_body_id)
        agenda.add_item(world, session, data, by=secretary)
    mark_held(world, session)
    world.commit()
    return session


@pytest.fixture
def secretary(app, world):
    return client_for(app, "secretary")


@pytest.fixture
def draft(app, world, secretary, session) -> int:
    """The minutes, started through the page, with their decisions written."""
    response = secretary.post(f"/sessions/{session.id}/minutes", data={})
    version_id = int(urlsplit(response.headers["Location"]).path.split("/")[2])
    with app.app_context():
        version = world.get(MinutesVersion, version_id)
        decisions = next(s for s in version.sections if s.kind == SectionKind.DECISIONS)
        by = person_by_email(world, "secretary@example.jp")
        minutes.save_section(world, decisions, "- 報告を了承した", revision=0, by=by)
        world.commit()
    return version_id


def status(world, version_id) -> tuple:
    world.expire_all()
    version = world.get(MinutesVersion, version_id)
    return version.status, version.round, version.attendance_reason, count(world, MailMessage)


def test_the_editor_says_the_record_is_missing_and_asks_why(secretary, session, draft):
    page = secretary.get(f"/minutes/{draft}/edit").get_data(as_text=True)
    assert NOT_MADE in page
    assert 'name="attendance_reason"' in page
    assert f'href="/sessions/{session.id}/attendance"' in page


@pytest.mark.parametrize("reason", [None, "", "　 \n"])
def test_without_a_reason_nothing_is_submitted(secretary, world, draft, smtp, reason):
    before = status(world, draft)
    data = {} if reason is None else {"attendance_reason": reason}
    response = secretary.post(f"/minutes/{draft}/submit", data=data)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.fragment) == (f"/minutes/{draft}/edit", "submit")
    assert NO_RECORD in secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert status(world, draft) == before and before[0] == MinutesStatus.DRAFT
    assert smtp.received == []


def test_with_a_reason_they_are_submitted_and_the_reason_is_shown(
    app, secretary, world, draft, smtp
):
    response = secretary.post(f"/minutes/{draft}/submit", data={"attendance_reason": REASON})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{draft}"
    page = secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "各会議体の議長に承認を依頼しました。" in page
    assert REASON_LABEL in page and REASON in page
    assert status(world, draft)[:3] == (MinutesStatus.SUBMITTED, 1, REASON)
    # The chair reads it where they approve.
    chair = client_for(app, "chair.kyogitai")
    world.expire_all()
    body_id = world.get(MinutesVersion, draft).minutes.session.host_body_id
    approve_page = chair.get(f"/minutes/{draft}/approve/{body_id}").get_data(as_text=True)
    assert REASON_LABEL in approve_page and REASON in approve_page


def test_once_attendance_is_recorded_the_editor_asks_nothing(
    app, secretary, world, session, draft, smtp
):
    with app.app_context():
        lines = [
            attendance.LineData(line.person.id, "present")
            for line in attendance.record_of(world, session).lines
        ]
        by = person_by_email(world, "secretary@example.jp")
        attendance.save_record(world, session, lines, by=by, shown=set())
        world.commit()
    page = secretary.get(f"/minutes/{draft}/edit").get_data(as_text=True)
    assert NOT_MADE not in page and 'name="attendance_reason"' not in page
    response = secretary.post(f"/minutes/{draft}/submit", data={})
    assert urlsplit(response.headers["Location"]).path == f"/minutes/{draft}"
    assert status(world, draft)[:3] == (MinutesStatus.SUBMITTED, 1, "")
    page = secretary.get(f"/minutes/{draft}").get_data(as_text=True)
    assert REASON_LABEL not in page
