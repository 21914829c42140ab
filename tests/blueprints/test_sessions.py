import re
from datetime import date, time, timedelta

from sqlalchemy import select

from renkei.models import (
    AgendaItem,
    Answer,
    MeetingSession,
    Membership,
    Person,
    Pledge,
    Reply,
    Role,
    Status,
    Visibility,
)
from renkei.services.dates import holiday_name, tokyo_to_utc
from tests.conftest import login
from tests.helpers import body_named, count, counting
from tests.sessions_helpers import (
    DAY,
    LAYER1,
    SUPPORT,
    holiday_after,
    make_session,
    session_form,
    shown,
)


def test_secretary_schedules_a_joint_session(as_secretary, world):
    response = as_secretary.post("/sessions/new", data=session_form(world, SUPPORT, LAYER1))
    assert response.status_code == 302
    session = world.query(MeetingSession).one()
    assert {b.name for b in session.bodies} == {SUPPORT, LAYER1}
    assert session.start_at == tokyo_to_utc(DAY, time(14))
    page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert shown(DAY, time(14)) in page and "共同開催" in page
    invitees = page.split('id="invitees"')[1].split("</section>")[0]
    assert invitees.count("兼務 三郎") == 1  # one row, however many bodies bring them in


def test_end_before_start_is_refused_in_japanese(as_secretary, world):
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, start_time="16:00", end_time="15:00")
    )
    assert response.status_code == 400
    assert "終了時刻は開始時刻より後にしてください。" in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0


def test_malformed_date_and_time_are_refused_in_japanese(as_secretary, world):
    response = as_secretary.post(
        "/sessions/new",
        data=session_form(world, SUPPORT, start_date="2026-02-30", start_time="25:99"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "日付を2026-04-01のように入力してください。" in page
    assert "時刻を14:00のように入力してください。" in page
    assert count(world, MeetingSession) == 0


def test_holiday_is_a_warning_the_secretary_can_go_past(as_secretary, world):
    holiday = holiday_after(DAY)
    data = session_form(world, SUPPORT, start_date=holiday.isoformat())
    response = as_secretary.post("/sessions/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and holiday_name(holiday) in page
    assert count(world, MeetingSession) == 0
    assert as_secretary.post("/sessions/new", data={**data, "confirmed": "yes"}).status_code == 200
    confirmed = re.search(r'name="confirmed" type="hidden" value="([^"]+)"', page).group(1)
    response = as_secretary.post("/sessions/new", data={**data, "confirmed": confirmed})
    assert response.status_code == 302
    assert count(world, MeetingSession) == 1


def test_accepting_one_warning_does_not_accept_another(as_secretary, world):
    holiday = holiday_after(DAY)
    data = session_form(world, SUPPORT, start_date=holiday.isoformat())
    page = as_secretary.post("/sessions/new", data=data).get_data(as_text=True)
    confirmed = re.search(r'name="confirmed" type="hidden" value="([^"]+)"', page).group(1)
    other = holiday_after(holiday)
    other_holiday = {**data, "start_date": other.isoformat(), "confirmed": confirmed}
    response = as_secretary.post("/sessions/new", data=other_holiday)
    assert response.status_code == 200 and holiday_name(other) in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0


def test_someone_elses_body_is_refused(client, world):
    login(client, "chair.support@example.jp")
    response = client.post("/sessions/new", data=session_form(world, SUPPORT))
    assert response.status_code == 403
    assert count(world, MeetingSession) == 0


def test_unknown_or_unrelated_session_is_404(client, world):
    session = make_session(world, SUPPORT)
    login(client, "member.kyogitai@example.jp")  # not on the 支援会議
    assert client.get(f"/sessions/{session.id}").status_code == 404
    assert client.get("/sessions/999999").status_code == 404
    assert client.get(f"/sessions/{session.id}/edit").status_code == 404


def test_member_replies_and_secretary_sees_the_tally(app, client, world):
    session = make_session(world, SUPPORT, LAYER1)
    login(client, "member.both@example.jp")
    response = client.post(f"/sessions/{session.id}/reply", data={"answer": "attend"})
    assert response.status_code == 302
    secretary = login(app.test_client(), "secretary@example.jp")
    page = secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    tally = page.split('class="list tally"')[1].split("</table>")[0]
    assert tally.count('data-label="出席">1</td>') == 2  # counted for both bodies


def test_proxy_without_a_name_is_refused_in_japanese(client, world):
    session = make_session(world, SUPPORT)
    login(client, "member.both@example.jp")
    response = client.post(f"/sessions/{session.id}/reply", data={"answer": "proxy"})
    assert response.status_code == 400
    assert "代理で出席する方の名前を入力してください。" in response.get_data(as_text=True)
    assert count(world, Reply) == 0


def test_reply_for_a_session_one_is_not_invited_to_is_refused(client, world):
    session = make_session(world, SUPPORT, LAYER1)
    login(client, "admin@example.jp")  # may view, is not invited
    response = client.post(f"/sessions/{session.id}/reply", data={"answer": "attend"})
    assert response.status_code == 403
    assert count(world, Reply) == 0


def test_cancel_keeps_the_session_and_says_so(as_secretary, world):
    session = make_session(world, SUPPORT)
    response = as_secretary.post(f"/sessions/{session.id}/cancel", data={"reason": "台風"})
    assert response.status_code == 302
    page = as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "中止" in page and "台風" in page


def test_missing_csrf_token_changes_nothing(as_secretary, world):
    session = make_session(world, SUPPORT)
    response = as_secretary.post(f"/sessions/{session.id}/cancel", data={}, csrf=False)
    assert response.status_code == 400
    world.expire_all()
    assert world.get(MeetingSession, session.id).status == Status.CONVENED


def test_guest_is_invited_by_name(as_secretary, world):
    session = make_session(world, SUPPORT)
    response = as_secretary.post(
        f"/sessions/{session.id}/guests",
        data={"name": "外部 講師", "email": "guest@example.jp", "organisation": "県"},
    )
    assert response.status_code == 302
    assert "外部 講師" in as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)


def test_member_records_a_pledge_and_then_sees_confidential_items(client, world):
    session = make_session(world, SUPPORT)
    world.add(
        AgendaItem(
            session=session,
            body=body_named(world, SUPPORT),
            position=0,
            title="CANARY-ケース検討",
            visibility=Visibility.CONFIDENTIAL,
        )
    )
    world.commit()
    login(client, "member.both@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "CANARY" not in page and "守秘義務" in page
    support = body_named(world, SUPPORT)
    response = client.post(
        f"/sessions/pledge/{support.id}", data={"next": f"/sessions/{session.id}"}
    )
    assert response.headers["Location"] == f"/sessions/{session.id}"
    assert "CANARY-ケース検討" in client.get(f"/sessions/{session.id}").get_data(as_text=True)


def test_a_status_neither_held_nor_scheduled_is_refused_in_japanese(as_secretary, world):
    session = make_session(world, SUPPORT)
    for status in ("cancelled", "HELD", ""):
        response = as_secretary.post(f"/sessions/{session.id}/status", data={"status": status})
        assert response.status_code == 302, status
        page = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
        assert "開催済にするか予定に戻すかを選んでください。" in page, status
        world.expire_all()
        assert world.get(MeetingSession, session.id).status == Status.CONVENED


def test_a_pledge_for_someone_by_a_bad_or_foreign_id_is_refused(client, world):
    support = body_named(world, SUPPORT)
    before = count(world, Pledge)
    login(client, "secretary@example.jp")
    for person_id in ("abc", "99999999999999999999", "999999"):
        response = client.post(f"/sessions/pledge/{support.id}", data={"person_id": person_id})
        assert response.status_code == 404, person_id
    # Someone else's id, from a member who is not the secretariat.
    login(client, "member.both@example.jp")
    chair = world.scalar(select(Person).where(Person.email == "chair.support@example.jp"))
    response = client.post(f"/sessions/pledge/{support.id}", data={"person_id": chair.id})
    assert response.status_code == 403
    assert count(world, Pledge) == before


def _populate(world, session, items: int, extra_members: int) -> None:
    support = body_named(world, SUPPORT)
    for i in range(items):
        world.add(
            AgendaItem(
                session=session,
                body=support,
                position=i,
                title=f"議題 {i}",
                description=f"**説明** {i}",
                visibility=list(Visibility)[i % 3],
            )
        )
    for i in range(extra_members):
        person = Person(name=f"構成員 {i}", email=f"{session.title}{i}@example.jp")
        world.add(person)
        world.add(
            Membership(person=person, body=support, role=Role.MEMBER, term_start=date(2025, 4, 1))
        )
        world.add(Reply(session=session, person=person, answer=list(Answer)[i % 4]))
    world.commit()


def test_session_page_query_count_does_not_grow(app, as_secretary, world):
    small = make_session(world, SUPPORT, title="small")
    large = make_session(world, SUPPORT, title="large", day=DAY + timedelta(weeks=1))
    _populate(world, small, items=5, extra_members=10)
    _populate(world, large, items=50, extra_members=100)
    counts = []
    for session in (small, large):
        as_secretary.get(f"/sessions/{session.id}")
        with counting(app.extensions["renkei.engine"]) as statements:
            assert as_secretary.get(f"/sessions/{session.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_bodys_sessions_are_listed_only_to_its_members(client, world):
    make_session(world, SUPPORT, title="支援会議（B氏世帯の件）")
    support = body_named(world, SUPPORT)
    login(client, "chair.kyogitai@example.jp")  # not on the 支援会議
    assert "B氏世帯" not in client.get(f"/bodies/{support.id}").get_data(as_text=True)
    login(client, "member.both@example.jp")
    assert "B氏世帯" in client.get(f"/bodies/{support.id}").get_data(as_text=True)


def test_ids_too_large_for_the_database_are_404_not_errors(as_secretary, world):
    huge = "9" * 25
    for url in (f"/sessions/{huge}", f"/bodies/{huge}", f"/items/{huge}/edit"):
        assert as_secretary.get(url).status_code == 404
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, presiding_person_id=huge)
    )
    assert response.status_code == 400
    assert count(world, MeetingSession) == 0


def test_a_year_far_away_is_refused_in_japanese(as_secretary, world):
    response = as_secretary.post(
        "/sessions/new", data=session_form(world, SUPPORT, start_date="9999-12-31")
    )
    assert response.status_code == 400
    assert "2000から2099までの日付" in response.get_data(as_text=True)
    assert count(world, MeetingSession) == 0


def test_the_online_link_is_shown_to_members_only(client, world):
    link = "https://meet.example.jp/room-7"
    session = make_session(world, SUPPORT, LAYER1, online_url=link)
    login(client, "member.kyogitai@example.jp")
    assert link in client.get(f"/sessions/{session.id}").get_data(as_text=True)
    login(client, "admin@example.jp")  # may know of the session, is no member
    page = client.get(f"/sessions/{session.id}")
    assert page.status_code == 200 and link not in page.get_data(as_text=True)


def test_a_prepared_session_takes_no_reply_and_gives_no_calendar_file(client, world):
    """Not yet convened: the secretariat (a member too) is offered neither, and a reply
    sent anyway is refused in Japanese and changes nothing."""
    session = make_session(world, SUPPORT, convened=False)
    login(client, "secretary@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "invite.ics" not in page and 'name="answer"' not in page
    assert client.get(f"/sessions/{session.id}/invite.ics").status_code == 404
    response = client.post(f"/sessions/{session.id}/reply", data={"answer": "attend"})
    assert "この会議はまだ招集されていません。" in response.get_data(as_text=True)
    assert world.scalars(select(Reply).where(Reply.session_id == session.id)).all() == []


def _many_invitees(db, n: int) -> MeetingSession:
    """A joint session of SUPPORT and LAYER1 with ``n`` more members on SUPPORT (those
    members named 追加 0000 and so on, after the demo's members by kana), and a guest."""
    from renkei.models import Guest

    body = body_named(db, SUPPORT)
    for i in range(n):
        person = Person(name=f"追加 {i:04d}", kana=f"んつい {i:04d}", email=f"many{i}@example.jp")
        db.add(Membership(person=person, body=body, role=Role.MEMBER, term_start=date(2025, 4, 1)))
    session = make_session(db, SUPPORT, LAYER1)
    session.guests.append(Guest(name="来賓 花子", organisation="県庁"))
    db.commit()
    return session


def _invitee_rows(page: str) -> list[str]:
    listed = page.split('<table class="list invitees">')[1].split("</table>")[0]
    return re.findall(r"<tr>\s*<td>([^<]+)", listed)


def test_a_large_invitee_list_comes_page_by_page_after_the_tally(client, world):
    from renkei.blueprints.sessions import INVITEES_PER_PAGE

    session = _many_invitees(world, 60)
    login(client, "member.both@example.jp")
    url = f"/sessions/{session.id}"
    first = client.get(url).get_data(as_text=True)
    section = first.split('id="invitees"')[1]
    # The tally per body comes first, for a member too, then the first page of the list.
    assert section.index('class="list tally"') < section.index('class="list invitees"')
    rows = _invitee_rows(first)
    assert len(rows) == INVITEES_PER_PAGE
    assert "来賓 花子" not in rows  # guests close the list, on its last page
    assert "1 / 2ページ" in section and f"{url}?invitees=2#invitees" in section
    assert f"{url}?invitees=all#invitees" in section
    second = client.get(f"{url}?invitees=2").get_data(as_text=True)
    rest = _invitee_rows(second)
    assert rest[-1].strip() == "来賓 花子"
    assert not set(rows) & set(rest)
    everyone = _invitee_rows(client.get(f"{url}?invitees=all").get_data(as_text=True))
    assert everyone == rows + rest
    assert [r for r in everyone if r.startswith("追加")] == [f"追加 {i:04d}" for i in range(60)]


def test_an_invitee_page_that_is_not_one_shows_the_first_or_the_last(client, world):
    session = _many_invitees(world, 60)
    login(client, "member.both@example.jp")
    url = f"/sessions/{session.id}"
    first = _invitee_rows(client.get(url).get_data(as_text=True))
    for bad in ("0", "abc", "-1", "２", "1e3"):
        response = client.get(f"{url}?invitees={bad}")
        assert response.status_code == 200
        assert _invitee_rows(response.get_data(as_text=True)) == first
    beyond = client.get(f"{url}?invitees=99").get_data(as_text=True)
    assert "2 / 2ページ" in beyond and _invitee_rows(beyond)[-1].strip() == "来賓 花子"


def test_a_small_invitee_list_has_no_pages(client, world):
    session = make_session(world, SUPPORT, LAYER1)
    login(client, "member.both@example.jp")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'class="list invitees"' in page and "invitees=all" not in page
