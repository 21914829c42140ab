"""The fiscal-year report's pages and downloads (/reports/): who reads which, the figures as
the page, the workbook and the CSV show them, and bad addresses.

The figures are the demo town's last fiscal year (services/demo_history.py), counted by hand
in tests/services/test_annual_report.py; here they are read back from each output."""

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from renkei.models import MeetingSession, Participant, Person
from renkei.services import demo, demo_history
from renkei.services.dates import fiscal_year_of, today
from tests.conftest import login
from tests.helpers import body_named, counting, person_by_email

SVG = "{http://www.w3.org/2000/svg}"
PARTICIPANT = "report.participant@example.jp"


@pytest.fixture
def history(app, world):
    """The demo's last fiscal year, and a participant (関係者) of its June case review who
    sits on no body."""
    with app.app_context():
        demo_history.load(world)
    secretary = person_by_email(world, "secretary@example.jp")
    guest = Person(
        name="学校 職員", kana="がっこう しょくいん", email=PARTICIPANT,
        password_hash=secretary.password_hash,
    )  # fmt: skip
    world.add(guest)
    world.flush()
    june = world.scalar(
        select(MeetingSession).where(MeetingSession.title == "支援会議 6月事例検討")
    )
    world.add(Participant(session=june, person=guest))
    world.commit()
    return world


def year() -> int:
    return demo_history.year()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def body_id(db, name: str) -> int:
    return body_named(db, name).id


# --- Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "install", "bodies"),
    [
        ("admin@example.jp", 200, {}),
        ("secretary@example.jp", 404, {demo.SUPPORT: 200, demo.COORDINATION: 200, demo.NORTH: 200}),
        # Chair of the 支援会議 (a duty of secrecy): its figures are theirs.
        ("chair.support@example.jp", 404, {demo.SUPPORT: 200, demo.KYOGITAI: 404}),
        # A member of the 支援会議 is not told its figures; of the 協議体 they are.
        ("member.both@example.jp", 404, {demo.SUPPORT: 404, demo.KYOGITAI: 200}),
        ("member.kyogitai@example.jp", 404, {demo.KYOGITAI: 200, demo.COORDINATION: 404}),
        # Staff of another body: the prefecture's 支援会議 only.
        ("pref.secretary@example.jp", 404, {demo.PREFECTURE: 200, demo.SUPPORT: 404}),
        # A participant (関係者) of a case review sits on no body.
        (PARTICIPANT, 404, {demo.SUPPORT: 404, demo.KYOGITAI: 404}),
    ],
)
def test_who_reads_which_report(client, history, email, install, bodies):
    login(client, email)
    y = year()
    assert client.get(f"/reports/{y}").status_code == install
    assert client.get(f"/reports/{y}/report.xlsx").status_code == install
    assert client.get(f"/reports/{y}/sessions_by_body.csv").status_code == install
    for name, status in bodies.items():
        base = f"/reports/{y}/bodies/{body_id(history, name)}"
        for path in (base, f"{base}/report.xlsx", f"{base}/sessions_by_body.csv"):
            assert client.get(path).status_code == status, path
    index = client.get("/reports/")
    menu = "年度実績" in text_of(client.get("/"))
    if install == 200 or 200 in bodies.values():
        assert index.status_code == 200 and menu
    else:
        assert index.status_code == 404 and not menu


def test_logged_out_goes_to_the_login(client, history):
    response = client.get(f"/reports/{year()}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_choice_offers_the_years_with_records_and_the_readers_scopes(client, history):
    login(client, "chair.support@example.jp")
    page = client.get("/reports/").get_data(as_text=True)
    years = re.findall(r'<option value="(\d{4})"', page)
    assert years == [str(fiscal_year_of(today())), str(year())]
    scopes = re.findall(r'<option value="(\w+)">([^<]*)<', page)
    assert {label for value, label in scopes if not value.isdigit() or len(value) < 4} == {
        demo.SUPPORT,
        demo.COORDINATION,
    }
    chosen = client.get(f"/reports/?year={year()}&scope={body_id(history, demo.SUPPORT)}")
    assert chosen.status_code == 302
    assert chosen.headers["Location"].endswith(
        f"/reports/{year()}/bodies/{body_id(history, demo.SUPPORT)}"
    )


@pytest.mark.parametrize(
    "query",
    [
        "year=abc&scope=all",
        "year=1999&scope=all",
        "scope=all",
        "year={y}&scope=all",
        "year={y}&scope={kyogitai}",
    ],
)
def test_a_choice_not_offered_is_refused_in_japanese(client, history, query):
    """The chair of the 支援会議 may not choose the whole install nor the 協議体."""
    login(client, "chair.support@example.jp")
    path = "/reports/?" + query.format(y=year(), kyogitai=body_id(history, demo.KYOGITAI))
    response = client.get(path)
    assert response.status_code == 400
    assert "年度と対象を一覧から選んでください。" in text_of(response)


@pytest.mark.parametrize(
    "path",
    [
        "/reports/1999",  # out of range
        "/reports/2010",  # no records
        "/reports/abc",
        "/reports/{y}/bodies/999999",
        "/reports/{y}/nothing_like_it.csv",
        "/reports/2010/report.xlsx",
    ],
)
def test_bad_addresses_are_not_found(client, history, path):
    login(client, "admin@example.jp")
    response = client.get(path.format(y=year()))
    assert response.status_code == 404
    assert "見つかりません" in text_of(response)


# --- The page -------------------------------------------------------------------------------


def test_the_install_page_shows_the_figures_and_charts(client, history):
    login(client, "admin@example.jp")
    response = client.get(f"/reports/{year()}")
    page = text_of(response)
    assert "令和" in page and "年度実績" in page
    # Held by form: 17 単独, 1 共同, 2 分科会, 1 書面 = 21, 1 cancelled.
    assert "合計（共同開催は1回） 17 1 2 1 21 1" in page
    assert "みどり町支援調整会議 12 83.3% 12" in page  # 10/12 average, 12 quorate
    assert "6 4 5.5" in page  # referrals, contacted, median days
    assert "兼務 三郎 1.5 2.5 4.0" in page
    html = response.get_data(as_text=True)
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 4
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
    assert f'href="/reports/{year()}/report.xlsx"' in html
    assert f'href="/reports/{year()}/sessions_by_body.csv"' in html


def test_a_bodys_page(client, history):
    login(client, "secretary@example.jp")
    support = body_id(history, demo.SUPPORT)
    response = client.get(f"/reports/{year()}/bodies/{support}")
    page = text_of(response)
    assert response.status_code == 200
    assert "みどり町支援会議 3 1 0 0 4 0" in page
    assert "みどり町支援調整会議" not in page  # its own figures only
    assert f'href="/reports/{year()}/bodies/{support}/report.xlsx"' in response.get_data(
        as_text=True
    )


def test_the_page_makes_as_many_statements_whatever_the_year_holds(app, client, history):
    login(client, "admin@example.jp")
    engine = app.extensions["renkei.engine"]
    path = f"/reports/{year()}"
    client.get(path)
    with counting(engine) as before:
        assert client.get(path).status_code == 200
    with app.app_context():
        demo_history.load(history)  # the year twice over
        history.commit()
    with counting(engine) as after:
        page = text_of(client.get(path))
    assert "合計（共同開催は1回） 34 2 4 2 42 2" in page
    assert len(after) == len(before)


# --- Downloads ------------------------------------------------------------------------------


def sheet_rows(content: bytes, title: str) -> list[list]:
    book = load_workbook(io.BytesIO(content))
    (sheet,) = [s for s in book.worksheets if s.cell(1, 1).value == title]
    return [list(row) for row in sheet.iter_rows(min_row=3, values_only=True) if any(row)]


def test_the_workbook_holds_the_same_figures(client, history):
    login(client, "admin@example.jp")
    response = client.get(f"/reports/{year()}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    content = response.get_data()
    by_body = sheet_rows(content, "会議体別・開催形態別の開催回数")
    assert [demo.SUPPORT, 3, 1, 0, 0, 4, 0] in by_body
    assert ["合計（共同開催は1回）", 17, 1, 2, 1, 21, 1] in by_body
    attendance = {row[0]: row[1:] for row in sheet_rows(content, "会議体別の出席と定足数")}
    assert attendance[demo.COORDINATION][0] == 12
    assert attendance[demo.COORDINATION][1] == pytest.approx(10 / 12)
    assert sheet_rows(content, "つなぎ")[0][:3] == [6, 4, 5.5]
    hours = sheet_rows(content, "事業別の会議時間（兼務職員）")
    assert ["兼務 三郎", 1.5, 2.5, 4.0] in hours
    tasks = sheet_rows(content, "会議体別の役割分担（宿題）")
    assert [demo.COORDINATION, 2, 1, 1] in tasks


def test_a_csv_per_table(client, history):
    login(client, "admin@example.jp")
    response = client.get(f"/reports/{year()}/tasks.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    content = response.get_data()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["会議体", "発生", "完了", "期限超過"]
    assert [demo.COORDINATION, "2", "1", "1"] in rows
    assert rows[-1] == ["合計", "4", "2", "1"]
