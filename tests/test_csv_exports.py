"""Every CSV the app serves goes through one encoder (services/spreadsheets.py), which writes
text a spreadsheet would run as a formula (= + - @, a tab or CR) as text: a referral note
"=HYPERLINK(...)" comes out as "'=HYPERLINK(...)".

A guard: a new CSV route fails ``test_every_csv_route_is_checked`` until it has a case
below, and a CSV response built by hand (rather than by ``csv_download`` / ``csv_response``)
fails ``test_no_csv_is_built_past_the_encoder``."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from renkei.models import Body, Organisation
from renkei.services import demo_history, spreadsheets
from tests.blueprints.test_apportionment import hours  # noqa: F401 (the fixture)
from tests.conftest import login
from tests.helpers import person_by_email
from tests.polls_helpers import answer_all, make_poll
from tests.referrals_helpers import refer
from tests.sessions_helpers import LAYER1, SUPPORT

ROOT = Path(__file__).resolve().parent.parent
EVIL = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


@pytest.mark.parametrize("text", EVIL)
def test_formula_looking_text_becomes_text(text):
    assert spreadsheets.safe_cell(text) == "'" + text
    rows = list(csv.reader(io.StringIO(spreadsheets.encode_csv([[text]]).decode("utf-8-sig"))))
    assert rows == [["'" + text]]


def test_numbers_dates_and_plain_text_stay_as_they_are():
    assert [spreadsheets.safe_cell(v) for v in (-5, 2.5, "a=b", "", None)] == [
        -5,
        2.5,
        "a=b",
        "",
        None,
    ]
    data = spreadsheets.encode_csv([["見出し", -5, None, date(2026, 4, 1)]])
    assert data == "\ufeff見出し,-5,,2026-04-01\r\n".encode()
    assert spreadsheets.encode_csv([["①𠮷"]], "cp932").decode("cp932") == "①?\r\n"


def referral_csv(app, world, encoding: str) -> bytes:
    refer(world, note=EVIL[0])
    client = app.test_client()
    login(client, "secretary@example.jp")
    suffix = "?encoding=cp932" if encoding == "cp932" else ""
    return client.get(f"/referrals/export.csv{suffix}").get_data()


def poll_csv(app, world) -> bytes:
    poll = make_poll(world, SUPPORT, LAYER1)
    both = person_by_email(world, "member.both@example.jp")
    answer_all(world, poll, both, "yes", "maybe", "no", comment=EVIL[0])
    client = app.test_client()
    login(client, "secretary@example.jp")
    return client.get(f"/polls/{poll.id}/export.csv").get_data()


def apportionment_csv(app, world, person) -> bytes:
    person.name = EVIL[0]  # a name as typed into the member register
    world.commit()
    client = app.test_client()
    login(client, "admin@example.jp")
    return client.get(f"/apportionment/report.csv?period=2026&person={person.id}").get_data()


def report_csvs(app, world) -> list[bytes]:
    """The referrals' sources in the fiscal-year report of the demo's last year, for the
    whole install and for the 支援会議 (a referral from the 地域包括 was taken to it)."""
    with app.app_context():
        demo_history.load(world)
    centre = world.scalar(
        select(Organisation).where(Organisation.name == "みどり町 地域包括支援センター")
    )
    centre.name = EVIL[0]  # a name as typed into the register of organisations
    world.commit()
    support = world.scalar(select(Body).where(Body.name == SUPPORT))
    year = demo_history.year()
    client = app.test_client()
    login(client, "admin@example.jp")
    install = client.get(f"/reports/{year}/referrals_by_source.csv").get_data()
    login(client, "secretary@example.jp")
    body = client.get(f"/reports/{year}/bodies/{support.id}/referrals_by_source.csv").get_data()
    return [install, body]


CHECKED = {
    "referrals.export",
    "polls.export",
    "apportionment.download",
    "reports.install_csv",
    "reports.body_csv",
}


def test_every_csv_route_is_checked(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if ".csv" in r.rule}
    assert routes == CHECKED, "add a case for the new CSV download to tests/test_csv_exports.py"


def test_no_csv_is_built_past_the_encoder():
    """Only the blueprints' common helpers make a text/csv response (material_types names the
    type of uploaded files, served as they came)."""
    files = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "renkei").rglob("*.py")
        if "text/csv" in p.read_text("utf-8")
    }
    assert files == {"renkei/blueprints/common.py", "renkei/services/material_types.py"}


def cells(data: bytes, encoding: str = "utf-8-sig") -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode(encoding))) for c in row]


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_the_referral_csv_neutralises_a_note(app, world, encoding):
    data = referral_csv(app, world, encoding)
    shown = cells(data, "cp932" if encoding == "cp932" else "utf-8-sig")
    assert "'" + EVIL[0] in shown and EVIL[0] not in shown


def test_the_poll_csv_neutralises_a_comment(app, world):
    shown = cells(poll_csv(app, world))
    assert "'" + EVIL[0] in shown and EVIL[0] not in shown


def test_the_apportionment_csv_neutralises_a_name(app, world, hours):  # noqa: F811
    shown = cells(apportionment_csv(app, world, hours))
    assert "'" + EVIL[0] in shown and EVIL[0] not in shown


def test_the_report_csvs_neutralise_an_organisations_name(app, world):
    for data in report_csvs(app, world):
        shown = cells(data)
        assert "'" + EVIL[0] in shown and EVIL[0] not in shown
