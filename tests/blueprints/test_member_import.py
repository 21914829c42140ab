"""The member import pages: upload and preview, commit, and who may use them."""

import html
import io
import re

import pytest

from renkei.models import Membership, Person
from tests.conftest import login
from tests.helpers import count, person_by_email

HEADER = "氏名,ふりがな,メールアドレス,電話番号,所属機関,役割,任期開始,任期終了"
GOOD = (
    HEADER + "\n"
    "山田 太郎,やまだ たろう,yamada@example.jp,,みどり町 社会福祉協議会,議長,2026/04/01,\n"
    "佐藤 花子,さとう はなこ,,,,構成員,2026-04-01,2028-03-31\n"
)


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so that the assertions hold whatever the Japanese catalogue says."""
    client.set_cookie("lang", "en")


def import_url(body_id: int) -> str:
    return f"/bodies/{body_id}/members/import"


def commit_url(body_id: int) -> str:
    return f"/bodies/{body_id}/members/import/commit"


def upload(client, body_id: int, content: bytes, **kwargs):
    return client.post(
        import_url(body_id),
        data={"file": (io.BytesIO(content), "members.csv")},
        content_type="multipart/form-data",
        **kwargs,
    )


def hidden_text(page: str) -> str:
    """The CSV text the preview's commit form carries, as a browser would send it."""
    match = re.search(r'<input name="text" type="hidden" value="([^"]*)"', page)
    assert match, "the preview has no commit form"
    return html.unescape(match.group(1))


def totals(db) -> tuple[int, int]:
    db.expire_all()
    return count(db, Person), count(db, Membership)


def test_the_upload_page_explains_the_columns(as_secretary, kyogitai):
    response = as_secretary.get(import_url(kyogitai.id))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    for heading in ("氏名", "所属機関", "任期開始", "term_end"):
        assert heading in page


def test_the_preview_lists_every_line_and_writes_nothing(as_secretary, world, kyogitai):
    before = totals(world)

    response = upload(as_secretary, kyogitai.id, GOOD.encode("cp932"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "山田 太郎" in page and "佐藤 花子" in page
    assert "New person" in page
    assert "Shift_JIS" in page
    assert hidden_text(page) == GOOD  # decoded, ready to be posted back
    assert totals(world) == before


def test_committing_the_previewed_text_adds_the_members(as_secretary, world, kyogitai):
    preview = upload(as_secretary, kyogitai.id, GOOD.encode("utf-8-sig"))
    before = totals(world)

    response = as_secretary.post(
        commit_url(kyogitai.id), data={"text": hidden_text(preview.get_data(as_text=True))}
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/bodies/{kyogitai.id}")
    assert totals(world) == (before[0] + 2, before[1] + 2)
    yamada = person_by_email(world, "yamada@example.jp")
    assert yamada is not None and yamada.name == "山田 太郎"
    shown = as_secretary.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 members have been added" in shown
    assert "佐藤 花子" in shown


def test_a_file_with_errors_is_previewed_with_400_and_no_commit_button(
    as_secretary, world, kyogitai
):
    content = HEADER + "\n山田 太郎,,,,知らない機関,,,\n,,,,,,,\n"
    before = totals(world)

    response = upload(as_secretary, kyogitai.id, content.encode())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 2:" in page and "知らない機関" in page
    assert "Line 3:" not in page  # an empty line is skipped, not an error
    assert 'name="text"' not in page
    assert totals(world) == before


MARKUP = "<b id=x>org</b>"


@pytest.mark.parametrize(
    "content",
    [
        HEADER + f"\n山田 太郎,,,,{MARKUP},,,\n",  # an organisation that is not registered
        HEADER + f"\n{MARKUP},,,,,,,\n{MARKUP},,,,,,,\n",  # a name on two lines
        HEADER + f",{MARKUP},{MARKUP}\n山田 太郎,,,,,,,,,\n",  # a heading twice
    ],
    ids=["organisation", "name twice", "heading twice"],
)
def test_a_preview_shows_the_files_text_as_text_never_as_markup(
    as_secretary, world, kyogitai, content
):
    response = upload(as_secretary, kyogitai.id, content.encode())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MARKUP not in page
    assert html.escape(MARKUP, quote=False) in page or html.escape(MARKUP) in page


def test_a_tampered_commit_writes_nothing_and_shows_the_errors(as_secretary, world, kyogitai):
    tampered = GOOD.replace("2028-03-31", "2025-03-31")  # now it ends before it starts
    before = totals(world)

    response = as_secretary.post(commit_url(kyogitai.id), data={"text": tampered})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 3:" in page and "Nothing has been imported" in page
    assert totals(world) == before
    assert person_by_email(world, "yamada@example.jp") is None


def test_uploading_without_a_file_is_an_error(as_secretary, kyogitai):
    response = as_secretary.post(
        import_url(kyogitai.id), data={}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_a_file_too_large_to_post_back_is_refused_at_the_preview(
    app, as_secretary, world, kyogitai
):
    lines = [f"人 {n},じんめい,,,みどり町 社会福祉協議会,構成員,2026-04-01," for n in range(100)]
    content = "\n".join([HEADER, *lines]).encode("cp932")
    # URL-encoded, the UTF-8 text is several times the CP932 file.
    app.config["MAX_CONTENT_LENGTH"] = len(content) * 2

    response = upload(as_secretary, kyogitai.id, content)

    assert response.status_code == 400
    assert "too large to import in one go" in response.get_data(as_text=True)


def test_a_member_who_is_not_secretary_is_refused(client, world, kyogitai):
    login(client, "member.kyogitai@example.jp")
    before = totals(world)

    assert client.get(import_url(kyogitai.id)).status_code == 403
    assert upload(client, kyogitai.id, GOOD.encode()).status_code == 403
    assert client.post(commit_url(kyogitai.id), data={"text": GOOD}).status_code == 403
    assert totals(world) == before


def test_a_commit_without_csrf_token_is_refused(as_secretary, world, kyogitai):
    before = totals(world)

    response = as_secretary.post(commit_url(kyogitai.id), data={"text": GOOD}, csrf=False)

    assert response.status_code == 400
    assert totals(world) == before


def test_an_upload_without_csrf_token_is_refused(as_secretary, kyogitai):
    response = upload(as_secretary, kyogitai.id, GOOD.encode(), csrf=False)

    assert response.status_code == 400
    assert "山田 太郎" not in response.get_data(as_text=True)


def test_an_unknown_body_is_not_found(as_secretary):
    assert as_secretary.get(import_url(999999)).status_code == 404
    assert as_secretary.post(commit_url(999999), data={"text": GOOD}).status_code == 404


def test_logged_out_visitors_are_sent_to_the_login_page(client, kyogitai):
    response = client.get(import_url(kyogitai.id))

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
