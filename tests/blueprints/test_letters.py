"""The printed notice (開催通知) for those convened without e-mail: who gets a letter, what it
says (和暦, 公印省略, public agenda titles only), and who may print them."""

import re

from sqlalchemy import select

from renkei.models import Guest, Organisation, Person, Status
from renkei.services import convening, dates
from renkei.services.accounts import PersonData
from tests.conftest import login
from tests.convening_helpers import CASE2, CASE2_TEXT, CASE3, CASE3_TEXT, OPENING, case_session
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import DAY, SUPPORT

# The 支援会議's members without an e-mail address (demo town), and two with one.
UNREACHABLE = ("民生 ふみ", "税務 健", "介護 由美", "相談 愛")
REACHABLE = ("支援 一郎", "兼務 三郎")


def person_named(db, name: str) -> Person:
    return db.scalar(select(Person).where(Person.name == name))


def letters(client, session, query: str = ""):
    return client.get(f"/sessions/{session.id}/letters{query}")


def letter_of(page: str, name: str) -> str:
    """The one letter addressed to ``name`` (the test fails unless there is exactly one)."""
    found = [
        letter for letter in page.split('<article class="letter"')[1:] if f"{name}　様" in letter
    ]
    assert len(found) == 1, f"{len(found)} letters for {name}"
    return found[0].split("</article>")[0]


def addressed(page: str) -> list[str]:
    return re.findall(r'<span class="letter-name">(.*?)　様</span>', page)


def test_a_letter_for_each_member_without_e_mail(app, as_secretary, world):
    session = case_session(app, world)
    response = letters(as_secretary, session)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert sorted(addressed(page)) == sorted(UNREACHABLE)
    assert "電子メールの届かない方への開催通知4通" in page
    assert "印刷する" in page


def test_everyone_convened_with_all(app, as_secretary, world):
    session = case_session(app, world)
    page = letters(as_secretary, session, "?all=1").get_data(as_text=True)
    assert sorted(addressed(page)) == sorted(UNREACHABLE + REACHABLE)  # each person once
    assert "招集した全員への開催通知6通" in page
    # The secretariat (事務 花子, its only role) sends the letters and is sent none.
    assert "事務 花子　様" not in page


def test_a_member_not_selected_gets_no_letter(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    chosen = [
        person_by_email(world, "chair.support@example.jp").id,
        person_named(world, "民生 ふみ").id,
    ]
    response = as_secretary.post(
        f"/sessions/{session.id}/convene/{support.id}",
        data={"mode": "selected", "person_ids": chosen},
    )
    assert response.status_code == 302
    assert addressed(letters(as_secretary, session).get_data(as_text=True)) == ["民生 ふみ"]
    everyone = addressed(letters(as_secretary, session, "?all=1").get_data(as_text=True))
    assert sorted(everyone) == ["支援 一郎", "民生 ふみ"]


def test_participants_and_guests_without_address_get_a_letter(app, as_secretary, world):
    session = case_session(app, world)
    secretary = person_by_email(world, "secretary@example.jp")
    school = Organisation(name="みどり町立北小学校", kind="other", contact="")
    world.add(school)
    world.flush()
    opening = next(i for i in session.items if i.title == OPENING)
    with app.app_context():
        new = PersonData(name="山田 良子", kana="やまだ よしこ", organisation_id=school.id)
        data = convening.ParticipantData(item_ids=[opening.id], new_person=new)
        convening.add_participant(world, session, data, by=secretary)
    world.add(Guest(session_id=session.id, name="外部 次郎", organisation="みどり町自治会"))
    world.add(Guest(session_id=session.id, name="外部 三郎", email="gaibu@example.org"))
    world.commit()
    page = letters(as_secretary, session).get_data(as_text=True)
    assert "外部 三郎" not in page  # has an address
    assert "外部 次郎" in addressed(page) and "山田 良子" in addressed(page)
    guest = letter_of(page, "外部 次郎")
    assert guest.index("みどり町自治会") < guest.index("外部 次郎　様")  # organisation above
    assert "みどり町立北小学校" in letter_of(page, "山田 良子")


def test_closed_items_never_appear_by_title(app, as_secretary, world):
    session = case_session(app, world)
    page = letters(as_secretary, session, "?all=1").get_data(as_text=True)
    assert OPENING in page and "非公開議題" in page
    for secret in (CASE2, CASE2_TEXT, CASE3, CASE3_TEXT, "R8-0002", "R8-0003"):
        assert secret not in page


def test_the_letter_reads_as_a_municipal_notice(app, as_secretary, world):
    session = case_session(app, world)
    page = letters(as_secretary, session, "?all=1").get_data(as_text=True)
    letter = letter_of(page, "民生 ふみ")
    today = dates.japanese_date(dates.today(), weekday=False)
    assert re.search(r"(令和|平成)(元|\d+)年\d+月\d+日", today)
    order = [
        "第　　　　　号",
        today,
        "みどり町 民生委員児童委員協議会",
        "民生 ふみ　様",
        "みどり町支援会議<br>議長　支援 一郎",
        "（公印省略）",
        "みどり町支援会議　支援会議 個別ケース検討の開催について（通知）",
        "下記のとおり開催しますので、御出席くださいますようお願いいたします。",
        ">記<",
        "1　日時",
        f"{dates.japanese_date(DAY)}　14時00分から16時00分まで",
        "2　場所",
        "3　議題",
        f"1. {OPENING}",
        "2. 非公開議題",
        "4　出欠の回答",
        "出欠を、事務局（下記5）まで電話または文書でお知らせください。",
        "5　問い合わせ先",
        "みどり町支援会議事務局",
        "みどり町 福祉課　事務 花子",
        "役場1階 0120-000-001",
        "以上",
    ]
    positions = [letter.find(text) for text in order]
    assert -1 not in positions, [t for t, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    # Someone with a login is sent to the session's page to answer.
    chair = letter_of(page, "支援 一郎")
    assert f"http://127.0.0.1:5000/sessions/{session.id}" in chair
    assert "/sessions/" not in letter


def test_without_a_chair_the_secretariat_signs(app, as_secretary, world):
    session = case_session(app, world)
    support = body_named(world, SUPPORT)
    for term in support.memberships:
        if term.role.value == "chair":
            term.term_end = dates.today()
            term.term_start = min(term.term_start, term.term_end)
    world.commit()
    letter = letter_of(letters(as_secretary, session).get_data(as_text=True), "民生 ふみ")
    assert "議長" not in letter
    sender = letter.split('class="letter-sender">')[1].split("</p>")[0]
    assert "みどり町支援会議事務局" in sender and "（公印省略）" in sender


def test_the_letters_are_japanese_in_an_english_interface(app, as_secretary, world):
    session = case_session(app, world)
    as_secretary.set_cookie("lang", "en")
    page = letters(as_secretary, session).get_data(as_text=True)
    assert "Printed notices" in page  # the screen's own text follows the interface
    assert "（公印省略）" in letter_of(page, "民生 ふみ") and dates.japanese_date(DAY) in page


def test_the_seireki_setting(app, as_secretary, world):
    app.config["DATE_STYLE"] = "seireki"
    session = case_session(app, world)
    page = letters(as_secretary, session).get_data(as_text=True)
    written = dates.japanese_date(DAY, dates.SEIREKI)
    assert f"{written}　14:00から16:00まで" in page and "令和" not in page


def test_each_letter_is_a_page_of_a4(app, as_secretary, world):
    page = letters(as_secretary, case_session(app, world)).get_data(as_text=True)
    assert "css/letters.css" in page
    css = as_secretary.get("/static/css/letters.css").get_data(as_text=True)
    assert re.search(r"@page\s*\{\s*size:\s*A4", css)
    assert "page-break-after: always" in css


def test_a_plain_member_is_refused_and_others_never_learn_of_it(app, client, world):
    session = case_session(app, world)
    login(client, "member.both@example.jp")  # a member of the 支援会議, not its secretariat
    assert letters(client, session).status_code == 403
    outsider = login(app.test_client(), "member.kyogitai@example.jp")
    assert letters(outsider, session).status_code == 404
    assert outsider.get("/sessions/999999/letters").status_code == 404
    # Only the secretariat is offered the letters on the session's page.
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"/sessions/{session.id}/letters" not in page


def test_an_unknown_session_is_not_found(as_secretary):
    assert as_secretary.get("/sessions/999999/letters").status_code == 404


def test_the_session_page_links_the_letters(app, as_secretary, world):
    session = case_session(app, world)
    page = as_secretary.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"/sessions/{session.id}/letters" in page


def test_a_cancelled_session_is_refused(app, as_secretary, world):
    session = case_session(app, world)
    session.status = Status.CANCELLED
    world.commit()
    response = letters(as_secretary, session)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "この会議は中止されたため、開催通知は印刷できません。" in page
    assert '<article class="letter"' not in page
    assert f"/sessions/{session.id}/letters" not in as_secretary.get(
        f"/sessions/{session.id}"
    ).get_data(as_text=True)
