"""The apportionment page and its CSV, posts on a person's page, the secretary's tile."""

import csv
import io
import re
from datetime import date, time

import pytest
from sqlalchemy import select

from renkei.models import MeetingSession, Post
from renkei.services import agenda, attendance, pledges, posts, scheduling
from renkei.services.agenda import ItemData
from renkei.services.attendance import LineData
from renkei.services.posts import PostData
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import (
    DAY,
    LAYER1,
    PAST_DAY,
    REGISTERED_AFTER,
    SUPPORT,
    make_session,
)


@pytest.fixture
def hours(app, world):
    """兼務 三郎 holds both posts and attended two held joint sessions: the worked example
    of the service tests (14:00–16:00, items 40/30/10, present for all: 60 and 60) and one
    he left at 15:20 (60 and 20)."""
    both = person_by_email(world, "member.both@example.jp")
    admin = person_by_email(world, "admin@example.jp")
    secretary = person_by_email(world, "secretary@example.jp")
    start = date(2025, 4, 1)
    with app.app_context():
        posts.add_post(world, both, PostData("livelihood", "相談支援員", start), by=admin)
        posts.add_post(
            world, both, PostData("care_insurance", "生活支援コーディネーター", start), by=admin
        )
        pledges.record_pledge(world, body_named(world, SUPPORT), both, by=both)
        for day, left in SESSIONS:
            session = make_session(world, SUPPORT, LAYER1, day=day, title=f"合同会議{day}")
            for body, minutes, visibility in (
                (SUPPORT, 40, "confidential"),
                (LAYER1, 30, "public"),
                (LAYER1, 10, "session"),
            ):
                data = ItemData(
                    title="議題",
                    body_id=body_named(world, body).id,
                    planned_minutes=minutes,
                    visibility=visibility,
                )
                agenda.add_item(world, session, data, by=secretary, correction=REGISTERED_AFTER)
            scheduling.set_status(world, session, "held", by=secretary)
            record(world, session, both, left, in_the_closed_item=True)
        world.commit()
    return both


SESSIONS = ((PAST_DAY, None), (date(2026, 10, 8), time(15, 20)))  # (day, when he left)


def record(db, session, both, left, *, in_the_closed_item: bool) -> None:
    """The attendance record: everyone else absent; 兼務 三郎 present (or until ``left``),
    and recorded present for the 支援会議's confidential item or not."""
    secretary = person_by_email(db, "secretary@example.jp")
    secret = {session.items[0].id}
    lines = [
        LineData(i.person.id, "absent")
        for i in scheduling.invitees(db, session)
        if i.person.id != both.id
    ]
    presence = "partial" if left else "present"
    heard = secret if in_the_closed_item else set()
    lines.append(LineData(both.id, presence, left=left, item_ids=heard))
    attendance.save_record(db, session, lines, by=secretary, shown=secret)


def csv_rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_page_and_the_csv_agree_to_the_minute(client, world, hours):
    login(client, "admin@example.jp")
    page = client.get(f"/apportionment/?period=2026&person={hours.id}").get_data(as_text=True)
    assert "時間の数え方" in page and "2026年度" in page
    # Totals: livelihood 60 + 60 = 120 = 2:00; care insurance 60 + 20 = 80 = 1:20; 200 = 3:20.
    for shown in ("2:00", "120分", "1:20", "80分", "3:20", "200分"):
        assert shown in page
    rows = csv_rows(client.get(f"/apportionment/report.csv?period=2026&person={hours.id}"))
    header, *lines, total = rows
    assert header[5:7] == ["生活困窮者自立支援（分）", "介護保険・生活支援体制整備事業（分）"]
    assert [line[4:8] for line in lines] == [
        ["14:00–15:20", "60", "20", "80"],
        ["14:00–16:00", "60", "60", "120"],
    ]
    assert total[5:9] == ["120", "80", "200", "3:20"]
    # Every per-session figure on the page is in the CSV, and the other way round.
    breakdown = page.split('class="list breakdown"')[1].split("</table>")[0]
    cells = re.findall(r'<td class="num" data-label="[^"]+">(\d+)', breakdown)
    assert sorted(cells) == sorted(v for line in lines for v in line[5:8])


def test_members_see_only_their_own_hours(client, world, hours):
    login(client, "member.both@example.jp")
    mine = client.get("/apportionment/?period=2026")
    assert mine.status_code == 200 and "3:20" in mine.get_data(as_text=True)
    other = person_by_email(world, "secretary@example.jp")
    assert client.get(f"/apportionment/?period=2026&person={other.id}").status_code == 404
    assert client.get("/apportionment/report.csv?period=2026&person=all").status_code == 404
    login(client, "secretary@example.jp")
    page = client.get("/apportionment/?period=2026").get_data(as_text=True)
    assert "兼務 三郎" not in page  # a secretary is not shown a colleague's sessions


def test_a_period_that_is_none_is_a_clear_error(client, world, hours):
    login(client, "admin@example.jp")
    response = client.get("/apportionment/?period=令和8年度")
    assert response.status_code == 400
    assert "年度は2026、月は2026-05のように" in response.get_data(as_text=True)
    assert client.get("/apportionment/report.csv?period=2026-13").status_code == 400


def test_a_fiscal_year_outside_the_data_is_reported(client, world, hours):
    login(client, "admin@example.jp")
    page = client.get("/apportionment/?period=2031").get_data(as_text=True)
    assert "2031年度の出席記録はありません。記録があるのは2026年度から2026年度までです。" in page


def test_all_staff_and_the_held_sessions_without_a_record(client, world, hours):
    secretary = person_by_email(world, "secretary@example.jp")
    unrecorded = make_session(world, SUPPORT, day=date(2026, 11, 5))
    scheduling.set_status(world, unrecorded, "held", by=secretary)
    world.commit()
    login(client, "admin@example.jp")
    page = client.get("/apportionment/?period=2026&person=all").get_data(as_text=True)
    assert "兼務 三郎" in page and "1件は出席記録がなく" in page


def test_an_administrator_records_posts_on_a_persons_page(client, world):
    person = person_by_email(world, "member.both@example.jp")
    login(client, "admin@example.jp")
    form = {
        "programme": "care_insurance",
        "title": "生活支援コーディネーター",
        "start_on": "2026-04-01",
    }
    response = client.post(f"/people/{person.id}/posts", data=form)
    assert response.status_code == 302 and count(world, Post) == 1
    for bad, message in (
        ({**form, "start_on": "2026-04-31"}, "2026-04-01のように"),
        ({**form, "end_on": "2026-03-01"}, "開始日より前"),
        ({**form, "title": ""}, "職名を入力"),
        ({**form, "programme": "lottery"}, "事業を選んで"),
        ({**form, "start_on": "2026-10-01"}, "重なって"),
    ):
        response = client.post(f"/people/{person.id}/posts", data=bad)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert count(world, Post) == 1
    post = world.query(Post).one()
    response = client.post(f"/people/posts/{post.id}/end", data={"end_on": "2027-03-31"})
    assert response.status_code == 302
    world.expire_all()
    assert world.get(Post, post.id).end_on == date(2027, 3, 31)


def test_only_administrators_change_posts(client, world):
    person = person_by_email(world, "member.both@example.jp")
    login(client, "secretary@example.jp")
    form = {"programme": "livelihood", "title": "相談支援員", "start_on": "2026-04-01"}
    assert client.post(f"/people/{person.id}/posts", data=form).status_code == 403
    assert count(world, Post) == 0


def test_the_secretarys_tile(client, world):
    secretary = person_by_email(world, "secretary@example.jp")
    make_session(world, SUPPORT, LAYER1, day=DAY, title="次回の合同会議")
    login(client, "secretary@example.jp")
    page = client.get("/").get_data(as_text=True)
    tile = page.split('class="tile"')[1].split("</section>")[0]
    # Invitees of the joint session: the current members of both bodies, once each.
    invited = len(scheduling.invitees(world, world.query(scheduling.MeetingSession).one()))
    assert f"<dd>{invited}</dd>" in tile and "次回の合同会議" in tile
    assert f"未回答{invited}名" in tile
    scheduling.set_reply(world, world.query(scheduling.MeetingSession).one(), secretary, "attend")
    world.commit()
    assert f"未回答{invited - 1}名" in client.get("/").get_data(as_text=True)
    login(client, "member.kyogitai@example.jp")
    assert 'class="tile"' not in client.get("/").get_data(as_text=True)


def test_the_csv_runs_no_formula_and_is_kept_by_no_cache(client, world, hours):
    session = world.query(scheduling.MeetingSession).first()
    session.title = '=HYPERLINK("https://example.com","開く")'
    world.commit()
    login(client, "admin@example.jp")
    response = client.get(f"/apportionment/report.csv?period=2026&person={hours.id}")
    assert response.headers["Cache-Control"] == "no-store"
    titles = [row[2] for row in csv_rows(response)[1:-1]]
    assert '\'=HYPERLINK("https://example.com","開く")' in titles


def test_an_administrator_cannot_tell_from_the_hours_who_stepped_out_of_a_closed_item(
    app, client, world, hours
):
    """兼務 三郎 was recorded present for the 支援会議's confidential item; recording him
    absent from it changes his own figures but not what an administrator, who is not
    entitled to the item, reads on the page or in the CSV."""
    url = f"/apportionment/report.csv?period=2026&person={hours.id}"
    login(client, "admin@example.jp")
    before = csv_rows(client.get(url))
    page_before = client.get(f"/apportionment/?period=2026&person={hours.id}").get_data(
        as_text=True
    )

    for day, left in SESSIONS:
        session = world.scalars(
            select(MeetingSession).where(MeetingSession.title == f"合同会議{day}")
        ).one()
        with app.app_context():
            record(world, session, hours, left, in_the_closed_item=False)
    world.commit()

    after = csv_rows(client.get(url))
    page_after = client.get(f"/apportionment/?period=2026&person={hours.id}").get_data(as_text=True)
    assert after == before
    # The whole page but the CSRF tokens, which are signed with the time.
    tokens = re.compile(r'name="csrf_token"[^>]*>')
    assert tokens.sub("", page_after) == tokens.sub("", page_before)
    assert [line[-1] for line in before[1:-1]] == ["†", "†"]
    login(client, "member.both@example.jp")
    own = csv_rows(client.get("/apportionment/report.csv?period=2026"))
    assert own[-1][5:8] != before[-1][5:8]  # he knows where he was: his own figures change
    assert [line[-1] for line in own[1:-1]] == ["", ""]
