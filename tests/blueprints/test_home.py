"""The home page's list of sessions: what each person may know of."""

from tests.conftest import login
from tests.convening_helpers import case_session
from tests.helpers import person_by_email
from tests.sessions_helpers import LAYER1, SUPPORT, make_session

TITLE = "支援会議・協議体 合同会議（準備中）"


def test_a_prepared_session_is_listed_for_the_secretariat_alone_until_convened(app, world):
    """A prepared session (準備中) is the secretariat's alone: a member, who gets a 404 at
    its address, does not find its title or date on the home page either."""
    session = make_session(world, SUPPORT, LAYER1, title=TITLE, convened=False)
    # 地域 さくら sits on the 協議体 and chairs the 第2層; the chair of the 支援会議 too.
    member = login(app.test_client(), "member.kyogitai@example.jp")
    chair = login(app.test_client(), "chair.support@example.jp")
    secretary = login(app.test_client(), "secretary@example.jp")
    for reader in (member, chair):
        assert reader.get(f"/sessions/{session.id}").status_code == 404
        assert TITLE not in reader.get("/").get_data(as_text=True)
    assert TITLE in secretary.get("/").get_data(as_text=True)

    assert secretary.post(f"/sessions/{session.id}/convene", data={}).status_code == 302
    for reader in (member, chair):
        assert TITLE in reader.get("/").get_data(as_text=True)


def test_a_participant_of_a_prepared_session_does_not_find_it_at_home(app, world):
    session = case_session(app, world, convened=False)
    secretary = login(app.test_client(), "secretary@example.jp")
    sakura = person_by_email(world, "member.kyogitai@example.jp")
    added = secretary.post(
        f"/sessions/{session.id}/participants/new",
        data={"person_id": sakura.id, "item_ids": [session.items[0].id]},
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    participant = login(app.test_client(), "member.kyogitai@example.jp")
    assert session.title not in participant.get("/").get_data(as_text=True)
    assert secretary.post(f"/sessions/{session.id}/convene", data={}).status_code == 302
    assert session.title in participant.get("/").get_data(as_text=True)
