"""Referral pages (つなぎ) and the case view, through HTTP."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from renkei.config import load_config
from renkei.models import ActionItem, AgendaItem, Person, Referral, ReferralStatus, Topic
from renkei.services import referrals
from renkei.services.dates import japanese_date, today
from tests.conftest import client_for, login
from tests.helpers import count, counting
from tests.referrals_helpers import (
    AGENCY,
    COUNCIL,
    WELFARE,
    approved_section,
    issued,
    org_id,
    person,
    pledge,
    refer,
    support_session,
)


def text(response) -> str:
    return response.get_data(as_text=True)


def form(world, **values) -> dict:
    base = {
        "referred_on": (today() - timedelta(days=2)).isoformat(),
        "from_organisation_id": str(org_id(world, WELFARE)),
        "to_organisation_id": str(org_id(world, AGENCY)),
        "assign_case_number": "y",
        "consent": "refused",
        "note": "",
    }
    return {**base, **values}


def test_the_menu_offers_referrals_to_staff(as_secretary):
    page = as_secretary.get("/").get_data(as_text=True)
    assert "つなぎ" in page and 'href="/referrals/"' in page


def test_a_referral_is_recorded_through_the_form(as_secretary, world):
    topic = world.scalar(select(Topic).where(Topic.name == "住まい"))
    response = as_secretary.post("/referrals/new", data=form(world, topic_ids=str(topic.id)))
    assert response.status_code == 302
    referral = world.scalar(select(Referral))
    assert response.headers["Location"].endswith(f"/referrals/{referral.id}")
    page = as_secretary.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert referral.case_number in page and "住まい" in page and "本人同意" in page


def test_an_edit_posted_twice_issues_one_case_number(as_secretary, world):
    """A double click on 保存 with 「次の番号を付ける」 ticked: one number, not two."""
    as_secretary.post("/referrals/new", data=form(world))
    referral = world.scalar(select(Referral))
    page = text(as_secretary.get(f"/referrals/{referral.id}/edit"))
    token = page.split('name="form_token" value="')[1].split('"')[0]
    data = form(world, case_number="", form_token=token)
    first = as_secretary.post(f"/referrals/{referral.id}/edit", data=data)
    world.expire_all()
    number = world.get(Referral, referral.id).case_number
    second = as_secretary.post(f"/referrals/{referral.id}/edit", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    world.expire_all()
    assert world.get(Referral, referral.id).case_number == number


def refused(client, world, message: str, **values) -> None:
    response = client.post("/referrals/new", data=form(world, **values))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(world, Referral) == 0


def test_bad_input_is_refused_in_japanese(as_secretary, world):
    refused(as_secretary, world, "ケース番号", assign_case_number="", case_number="ABC")
    refused(
        as_secretary, world, "まだ採番されていません", assign_case_number="", case_number="R8-9999"
    )
    welfare = str(org_id(world, WELFARE))
    refused(as_secretary, world, "紹介元とは別の機関", to_organisation_id=welfare)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused(as_secretary, world, "未来の日付", referred_on=tomorrow)
    refused(as_secretary, world, "一覧から", topic_ids="999999")
    refused(as_secretary, world, "選んで", from_organisation_id="999999")


def test_a_name_in_the_note_is_asked_about_first(as_secretary, world):
    response = as_secretary.post("/referrals/new", data=form(world, note="山田太郎さんの件"))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "人の氏名らしき記載" in text
    assert "「山田太郎さん」" in text and "このまま保存する" in text
    assert count(world, Referral) == 0
    data = form(world, note="山田太郎さんの件", save_anyway="y")
    assert as_secretary.post("/referrals/new", data=data).status_code == 302


def test_the_receiving_side_gets_404_without_consent(app, world):
    referral = refer(world, consent="refused")
    agency = client_for(app, "chair.support")
    assert agency.get(f"/referrals/{referral.id}").status_code == 404
    assert agency.get(f"/referrals/{referral.id}/edit").status_code == 404
    assert agency.get(f"/cases/{referral.case_number}").status_code == 404
    assert referral.case_number not in agency.get("/referrals/").get_data(as_text=True)
    csv = agency.get("/referrals/export.csv").get_data()
    assert referral.case_number.encode() not in csv


def test_the_status_form_refuses_going_back_without_a_reason(as_secretary, world):
    referral = refer(world)
    url = f"/referrals/{referral.id}/status"
    day = today().isoformat()
    assert as_secretary.post(url, data={"status": "supporting", "on": day}).status_code == 302
    response = as_secretary.post(url, data={"status": "received", "on": day})
    assert response.status_code == 400 and "理由" in response.get_data(as_text=True)
    world.expire_all()
    assert world.get(Referral, referral.id).status is ReferralStatus.SUPPORTING
    data = {"status": "received", "on": day, "reason": "誤入力"}
    as_secretary.post(url, data=data)
    world.expire_all()
    assert world.get(Referral, referral.id).status is ReferralStatus.RECEIVED


def test_a_refused_status_change_keeps_what_was_entered(as_secretary, world):
    referral = refer(world)
    url = f"/referrals/{referral.id}/status"
    day = today().isoformat()
    assert as_secretary.post(url, data={"status": "supporting", "on": day}).status_code == 302
    earlier = (today() - timedelta(days=1)).isoformat()
    response = as_secretary.post(url, data={"status": "contacted", "on": earlier, "reason": " "})
    # The page comes back with the form as sent and the error on its field, not emptied.
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="reason-error"' in page
    assert f'value="{earlier}"' in page
    assert '<option selected value="contacted">' in page
    world.expire_all()
    assert world.get(Referral, referral.id).status is ReferralStatus.SUPPORTING


def test_the_support_meeting_action_adds_a_confidential_item(app, as_secretary, world):
    referral = refer(world, consent="refused")
    session = support_session(world)
    page = as_secretary.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "支援会議で検討する" in page
    response = as_secretary.post(
        f"/referrals/{referral.id}/meeting", data={"session_id": str(session.id)}
    )
    assert response.status_code == 302
    item = world.scalar(select(AgendaItem))
    assert item.case_number == referral.case_number and item.session_id == session.id
    # The pledged chair of the 支援会議 (the receiving agency) now sees the referral.
    pledge(world, "chair.support")
    agency = client_for(app, "chair.support")
    assert agency.get(f"/referrals/{referral.id}").status_code == 200
    case = agency.get(f"/cases/{referral.case_number}").get_data(as_text=True)
    assert item.title in case
    # Both pages lead to the item itself on the session's agenda.
    anchor = f'href="/sessions/{session.id}#item-{item.id}"'
    assert anchor in case and anchor in text(agency.get(f"/referrals/{referral.id}"))
    # Another 福祉課 staff member, on no 支援会議, reads the referral without the session:
    # even its date could say who is discussed.
    secretary = person(world, "secretary")
    clerk = Person(
        name="窓口 六郎",
        email="clerk@example.jp",
        organisation_id=secretary.organisation_id,
        password_hash=secretary.password_hash,
    )
    world.add(clerk)
    world.commit()
    page = client_for(app, "clerk").get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "支援会議で検討" in page and session.title not in page


def test_csv_downloads_in_both_encodings(as_secretary, world):
    refer(world, note="①𠮷")
    utf8 = as_secretary.get("/referrals/export.csv")
    assert utf8.status_code == 200 and utf8.get_data().startswith(b"\xef\xbb\xbf")
    assert "attachment" in utf8.headers["Content-Disposition"]
    cp932 = as_secretary.get("/referrals/export.csv?encoding=cp932")
    assert "紹介日" in cp932.get_data().decode("cp932")
    assert "①?" in cp932.get_data().decode("cp932")


def test_the_filters_reach_the_list_and_its_csv_links(as_secretary, world):
    kept = refer(world, target=COUNCIL)
    other = refer(world)
    council = org_id(world, COUNCIL)
    page = as_secretary.get(f"/referrals/?to={council}&encoding=x").get_data(as_text=True)
    assert kept.case_number in page and other.case_number not in page
    assert f'href="/referrals/export.csv?to={council}"' in page
    csv = as_secretary.get(f"/referrals/export.csv?to={council}").get_data().decode("utf-8-sig")
    assert kept.case_number in csv and other.case_number not in csv
    # A year no list has is no filter, not an error.
    assert as_secretary.get("/referrals/?year=99999").status_code == 200


def test_the_case_view_lists_minutes_and_tasks_to_those_entitled(app, as_secretary, world):
    session = support_session(world)
    pledge(world, "chair.support")
    referral = refer(world, consent="refused")
    item = referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    approved_section(world, item, "家計改善支援につなぐ")
    agency = client_for(app, "chair.support")
    page = agency.get(f"/cases/{referral.case_number}").get_data(as_text=True)
    assert "家計改善支援につなぐ" in page
    # Tasks are 宿題 here as on every other page, and the label takes a Japanese colon.
    assert "タスク" not in page and f"：{item.title}</li>" in page
    # The sending secretary, unpledged: the referral, not the minutes.
    mine = as_secretary.get(f"/cases/{referral.case_number}").get_data(as_text=True)
    assert referral.case_number in mine and "家計改善支援につなぐ" not in mine
    assert as_secretary.get(f"/cases/{issued(world)}").status_code == 404
    assert as_secretary.get("/cases/nonsense").status_code == 404


def test_the_case_view_names_the_organisation_that_owns_a_task(app, world):
    session = support_session(world)
    pledge(world, "chair.support")
    referral = refer(world, consent="refused")
    item = referrals.take_to_meeting(world, referral, session, by=person(world, "secretary"))
    world.commit()
    section = approved_section(world, item, "家計改善支援につなぐ")
    world.add(
        ActionItem(
            section=section,
            body_id=item.body_id,
            text="初回面談を設定する",
            owner_organisation_id=org_id(world, AGENCY),
            due_on=today() + timedelta(days=21),
        )
    )
    world.commit()
    page = client_for(app, "chair.support").get(f"/cases/{referral.case_number}")
    row = page.get_data(as_text=True).split("初回面談を設定する", 1)[1].split("</tr>", 1)[0]
    assert AGENCY in row
    due = today() + timedelta(days=21)
    # Dates as everywhere else, never ISO.
    assert japanese_date(due, weekday=False) in row and due.isoformat() not in row


def test_topics_are_for_administrators(as_admin, app, world):
    assert as_admin.get("/referrals/topics").status_code == 200
    response = as_admin.post("/referrals/topics", data={"name": "ひきこもり", "position": "11"})
    assert response.status_code == 302
    assert world.scalar(select(Topic).where(Topic.name == "ひきこもり")) is not None
    assert client_for(app, "secretary").get("/referrals/topics").status_code == 403


def test_pages_make_the_same_queries_however_many_referrals(app, world):
    engine = app.extensions["renkei.engine"]
    client = login(app.test_client(), "secretary@example.jp")
    first = refer(world)

    def statements(path: str) -> int:
        with counting(engine) as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    paths = ["/referrals/", f"/cases/{first.case_number}", "/referrals/export.csv"]
    few = [statements(p) for p in paths]
    for _ in range(8):
        refer(world, case_number=first.case_number, target=COUNCIL)
    assert [statements(p) for p in paths] == few


def test_overdue_follows_referral_contact_days(app, as_secretary, world, monkeypatch, tmp_path):
    late = refer(world, referred_on=today() - timedelta(days=20))
    assert late.case_number in as_secretary.get("/referrals/?overdue=1").get_data(as_text=True)
    app.config["REFERRAL_CONTACT_DAYS"] = 30
    assert late.case_number not in as_secretary.get("/referrals/?overdue=1").get_data(as_text=True)
    monkeypatch.setenv("REFERRAL_CONTACT_DAYS", "30")
    assert load_config(tmp_path)["REFERRAL_CONTACT_DAYS"] == 30
    monkeypatch.setenv("REFERRAL_CONTACT_DAYS", "0")
    with pytest.raises(ValueError, match="REFERRAL_CONTACT_DAYS"):
        load_config(tmp_path)
