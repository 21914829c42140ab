"""The confidentiality pledge (守秘義務の確認) of each kind of body, to the text of its own law."""

from datetime import date

import pytest
from sqlalchemy import select

from renkei.models import AgendaItem, Membership, Pledge, Role, Visibility
from renkei.services import bodies
from renkei.services.bodies import BodyData
from tests.conftest import login
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import COORDINATION, SUPPORT, make_session

CARE = "みどり町地域ケア会議"
MULTI = "みどり町重層的支援会議"

ARTICLES = {
    SUPPORT: "生活困窮者自立支援法第9条第5項",
    CARE: "介護保険法第115条の48第5項",
    MULTI: "社会福祉法第106条の6第5項",
}


@pytest.fixture
def statutory(world):
    """A 地域ケア会議 and a 重層 支援会議 beside the demo town's 支援会議; 兼務 三郎 sits on
    all three and has pledged for none."""
    admin = person_by_email(world, "admin@example.jp")
    both = person_by_email(world, "member.both@example.jp")
    secretary = person_by_email(world, "secretary@example.jp")
    for name, kind in ((CARE, "community_care"), (MULTI, "multi_agency")):
        body = bodies.save_body(world, None, BodyData(name=name, kind=kind), by=admin)
        for person, role in ((both, Role.MEMBER), (secretary, Role.SECRETARY)):
            world.add(Membership(person=person, body=body, role=role, term_start=date(2025, 4, 1)))
    world.commit()
    return world


def pledge_page(client, world, name):
    return client.get(f"/sessions/pledge/{body_named(world, name).id}")


@pytest.mark.parametrize("name", [SUPPORT, CARE, MULTI])
def test_the_pledge_page_of_each_statutory_kind_cites_its_article(client, statutory, name):
    response = pledge_page(login(client, "member.both@example.jp"), statutory, name)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert ARTICLES[name] in text
    assert "事務に従事する者又は従事していた者" in text
    assert [article for article in ARTICLES.values() if article in text] == [ARTICLES[name]]
    assert "守秘義務の確認" in text and "秘密を守ることを確認します" in text


def test_the_support_meetings_text_states_its_penalty(client, statutory):
    text = pledge_page(login(client, "member.both@example.jp"), statutory, SUPPORT)
    assert "1年以下の拘禁刑又は100万円以下の罰金" in text.get_data(as_text=True)
    # Not confirmed against the statutes here: no amounts for the other two.
    for name in (CARE, MULTI):
        text = pledge_page(client, statutory, name).get_data(as_text=True)
        assert "拘禁刑" not in text and "同法の罰則の対象となります" in text


def test_the_english_source_says_engaged_or_formerly_engaged(client, statutory):
    client = login(client, "member.both@example.jp")
    client.get("/language/en")
    text = pledge_page(client, statutory, MULTI).get_data(as_text=True)
    assert "Article 106-6(5) of the Social Welfare Act" in text
    assert "anyone engaged, or formerly engaged, in the affairs of" in text


def test_a_body_closed_under_municipal_rules_cites_no_statute(client, statutory):
    text = pledge_page(login(client, "secretary@example.jp"), statutory, COORDINATION)
    text = text.get_data(as_text=True)
    assert "自治体の定めにより" in text and "法第" not in text


def test_pledging_on_the_page_records_it(client, statutory):
    client = login(client, "member.both@example.jp")
    care = body_named(statutory, CARE)
    response = client.post(f"/sessions/pledge/{care.id}", data={"next": f"/bodies/{care.id}"})
    assert response.status_code == 302
    pledge = statutory.scalar(select(Pledge).where(Pledge.body_id == care.id))
    assert pledge.person.email == "member.both@example.jp"
    assert "記録済みです" in pledge_page(client, statutory, CARE).get_data(as_text=True)


def test_someone_not_on_the_body_reads_the_text_but_cannot_pledge(client, statutory):
    text = pledge_page(login(client, "member.kyogitai@example.jp"), statutory, CARE)
    text = text.get_data(as_text=True)
    assert ARTICLES[CARE] in text
    assert "現在の構成員だけです" in text and "秘密を守ることを確認します" not in text


def test_the_session_page_offers_each_body_its_own_text(client, statutory):
    session = make_session(statutory, SUPPORT, CARE)
    for position, name in enumerate((SUPPORT, CARE), start=1):
        statutory.add(
            AgendaItem(
                session=session,
                body=body_named(statutory, name),
                position=position,
                title=f"個別ケース検討{position}",
                visibility=Visibility.CONFIDENTIAL,
            )
        )
    statutory.commit()
    page = login(client, "member.both@example.jp").get(f"/sessions/{session.id}")
    text = page.get_data(as_text=True)
    assert ARTICLES[SUPPORT] in text and ARTICLES[CARE] in text and ARTICLES[MULTI] not in text


def test_an_unknown_body_has_no_pledge_page(client, statutory):
    assert login(client, "member.both@example.jp").get("/sessions/pledge/999999").status_code == 404
