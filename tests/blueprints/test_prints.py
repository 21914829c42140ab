# ruff: noqa: F811  (the fixtures imported from test_minutes are the tests' parameters)
"""Prints through the pages (HTTP): the minutes as a 会議録 (日時, 場所, members present with the
secretariat apart and uncounted, members absent, numbered items, decisions, the approval block
with the hash beneath), the 次第 of a session, 和暦 or 西暦 as the install chose, and the mark
(「秘」 / 「取扱注意」 with the reader's name and the print time in the running head) exactly
when a print holds closed content.

The world is the joint session of tests/blueprints/test_minutes.py: a confidential item of the
支援会議 (the secretary and its chair pledged; 兼務 三郎 did not) and an attendees' item of the
第1層 協議体. Text is asserted in Japanese, as users read it.
"""

import re
from datetime import time

import pytest
from sqlalchemy import select

from renkei.models import Approval, AuditEntry, SectionKind, Visibility
from renkei.services import agenda, attendance, minutes
from renkei.services.agenda import ItemData
from renkei.services.dates import SEIREKI, japanese_date
from tests.blueprints.test_minutes import (  # noqa: F401  (fixtures)
    DECISIONS,
    LAYER1_TEXT,
    SECRET,
    SECRET_TITLE,
    approve_all,
    approved,
    draft,
    held_session,
    joint,
    people,
    secretary,
    start,
    text,
    version_of,
    write,
)
from tests.conftest import client_for
from tests.helpers import body_named
from tests.sessions_helpers import DAY, LAYER1, LAYER2, SUPPORT, make_session

SECRET_MARK = "秘"
RESTRICTED_MARK = "取扱注意"
WAREKI_DAY = japanese_date(DAY)  # the session's day
SEIREKI_DAY = japanese_date(DAY, SEIREKI)
PRINTED_BY = "印刷者："


def unescape(css: str) -> str:
    return re.sub(r"\\([0-9a-f]+) ", lambda m: chr(int(m.group(1), 16)), css)


def document_of(page: str) -> str:
    """The printed document alone (not the page's tools around it)."""
    start = page.index('<article class="minutes-document')
    return page[start : page.index("</article>", start)]


def mark_in(page: str) -> str | None:
    found = re.search(r'<p class="print-mark mark-\w+">([^<]*)</p>', page)
    return found.group(1) if found else None


def head_of(client, css_path: str) -> str:
    response = client.get(css_path)
    assert response.status_code == 200 and response.mimetype == "text/css"
    return unescape(text(response))


def page_css(page: str) -> str:
    """The address of the running head's stylesheet the page links."""
    found = re.search(r'href="([^"]*/page\.css[^"]*)"', page)
    assert found, "no running head"
    return found.group(1).replace("&amp;", "&")


@pytest.fixture
def recorded(app, world, people, joint):
    """The joint session's attendance record: 兼務 三郎 came late, 地域 さくら was absent,
    the secretary (secretariat of both bodies) was there; everyone else present."""
    with app.app_context():
        record = attendance.record_of(world, joint)
        secret = {item.id for item in record.owned_items}
        lines = []
        for line in record.lines:
            name = line.person.name
            if name == "兼務 三郎":
                lines.append(attendance.LineData(line.person.id, "partial", arrived=_at(14, 20)))
            elif name == "地域 さくら":
                lines.append(attendance.LineData(line.person.id, "absent"))
            else:
                hears = line.may_hear & secret
                lines.append(attendance.LineData(line.person.id, "present", item_ids=hears))
        attendance.save_record(world, joint, lines, by=people["secretary"], shown=secret)
        world.commit()
    return joint


def _at(hour: int, minute: int) -> time:
    return time(hour, minute)


@pytest.fixture
def printed(app, world, people, recorded, secretary, links):
    """The joint session's minutes, written and approved by both chairs, after the record."""
    version_id = start(secretary, recorded)
    write(secretary, world, version_id, SectionKind.ITEM, f"支援方針を確認した。{SECRET}", SUPPORT)
    write(secretary, world, version_id, SectionKind.ITEM, LAYER1_TEXT, LAYER1)
    write(secretary, world, version_id, SectionKind.DECISIONS, DECISIONS)
    approve_all(app, world, people, version_id, links)
    return version_id


# --- The 会議録 ------------------------------------------------------------------------------


def test_the_minutes_print_as_a_kaigiroku(secretary, world, printed):
    page = text(secretary.get(f"/minutes/{printed}?view=full"))
    doc = document_of(page)
    assert "会議録" in doc and WAREKI_DAY in doc and "14時00分から16時00分まで" in doc
    for label in (
        "日時",
        "場所",
        "出席委員",
        "欠席委員",
        "事務局",
        "議題",
        "内容",
        "決定事項",
        "承認",
    ):
        assert f">{label}<" in doc, label
    present = re.search(r"出席委員</th>(.*?)</tr>", doc, re.S).group(1)
    absent = re.search(r"欠席委員</th>(.*?)</tr>", doc, re.S).group(1)
    secretariat = re.search(r"事務局</th>(.*?)</tr>", doc, re.S).group(1)
    # The secretariat is listed apart, and neither listed nor counted among the members.
    assert "事務 花子" in secretariat and "事務 花子" not in present
    assert "兼務 三郎（14時20分から）" in present and "地域 さくら" not in present
    assert "地域 さくら" in absent and "兼務 三郎" not in absent
    # Each body's members present, counted: every name listed, no one else.
    for line in re.findall(r"</span>：([^<]*)", present):
        names, counted = re.fullmatch(r"(.*)（(\d+)人）", line.strip()).groups()
        assert names.count("、") + 1 == int(counted), line
    # Numbered items, the decisions, the approval block with each chair and the hash in it.
    assert f"1　{SECRET_TITLE}" in doc and "2　地域資源の報告" in doc
    assert "行A 資料を整理する" in doc
    approval = doc[doc.index('<section class="minutes-approval"') :]
    for chair in ("支援 一郎", "協議 次郎"):
        assert chair in approval
    assert approval.count("議長") == 2 and re.search(r"令和\d+年\d+月\d+日（.）", approval)
    assert version_of(world, printed).content_hash in approval
    assert "SHA-256" not in doc


def test_an_approval_awaited_is_shown_as_such(app, secretary, world, people, draft, links):
    with app.app_context():
        minutes.submit(
            world, version_of(world, draft), by=people["secretary"], links=links, sender="r@x.jp"
        )
        world.commit()
    approval = document_of(text(secretary.get(f"/minutes/{draft}?view=full")))
    approval = approval[approval.index('<section class="minutes-approval"') :]
    assert approval.count("未承認") == 2 and "支援 一郎" not in approval
    assert world.scalar(select(Approval)) is None


def test_a_member_not_entitled_sees_no_closed_item_in_the_print(app, world, printed):
    for name in ("member.both", "member.kyogitai"):
        client = client_for(app, name)
        page = text(client.get(f"/minutes/{printed}"))
        doc = document_of(page)
        assert SECRET not in page and SECRET_TITLE not in page, name
        assert "1　非公開議題" in doc, name
        assert mark_in(page) is None, name  # the attendees' item is closed to no one here
        head = head_of(client, page_css(page))
        assert "@top-right" not in head and PRINTED_BY not in head, name


def test_the_public_view_shows_no_attendance_of_a_closed_body(app, world, printed):
    page = text(client_for(app, "member.kyogitai").get(f"/minutes/{printed}?view=public"))
    doc = document_of(page)
    # Who attended the 支援会議 is not for the public; the 協議体's attendance is.
    assert "税務 健" not in doc and "相談 愛" not in doc
    assert f'{SUPPORT}</span>：<span class="muted">この版には掲載していません' in doc
    assert "地域 さくら" in doc
    assert mark_in(page) is None


def test_a_print_with_confidential_content_is_marked_secret(secretary, world, printed):
    page = text(secretary.get(f"/minutes/{printed}?view=full"))
    assert SECRET in page and mark_in(page) == SECRET_MARK
    head = head_of(secretary, page_css(page))
    assert "view=full" in page_css(page)
    right = re.search(r'@top-right \{ content: "([^"]*)"', head).group(1)
    assert right.startswith(SECRET_MARK) and f"{PRINTED_BY}事務 花子" in right
    assert re.search(r"印刷日時：令和\d+年\d+月\d+日（.） \d+時\d\d分）$", right), right
    # The member view leaves the confidential section out: no mark, no reader.
    member = text(secretary.get(f"/minutes/{printed}?view=member"))
    assert SECRET not in member and mark_in(member) is None
    assert "@top-right" not in head_of(secretary, page_css(member))
    # The downloaded file carries the same head.
    download = text(secretary.get(f"/minutes/{printed}/download?view=full"))
    assert f"{PRINTED_BY}事務 花子" in unescape(download) and mark_in(download) == SECRET_MARK


def test_a_per_body_extract_marks_only_what_it_holds(secretary, world, printed):
    layer1 = body_named(world, LAYER1)
    support = body_named(world, SUPPORT)
    ours = text(secretary.get(f"/minutes/{printed}?view=full&body={layer1.id}"))
    assert mark_in(ours) is None and SECRET not in ours
    theirs = text(secretary.get(f"/minutes/{printed}?view=full&body={support.id}"))
    assert mark_in(theirs) == SECRET_MARK
    assert f"body={support.id}" in page_css(theirs)
    assert SECRET_MARK in head_of(secretary, page_css(theirs))


def test_content_for_the_body_alone_is_marked_handle_with_care(app, world, people, secretary):
    session = held_session(app, world, people, LAYER1, items=[("協議体の内部検討", LAYER1, "body")])
    response = secretary.get(f"/sessions/{session.id}/order")
    page = text(response)
    assert response.status_code == 200 and mark_in(page) == RESTRICTED_MARK
    assert RESTRICTED_MARK in head_of(secretary, page_css(page))


def test_dates_follow_the_install_style(app, world, printed):
    client = client_for(app, "member.kyogitai")
    page = text(client.get(f"/minutes/{printed}"))
    assert WAREKI_DAY in page and SEIREKI_DAY not in page
    app.config["DATE_STYLE"] = "seireki"
    page = document_of(text(client.get(f"/minutes/{printed}")))
    assert SEIREKI_DAY in page and "令和" not in page
    order = text(client.get(f"/sessions/{version_of(world, printed).minutes.session_id}/order"))
    assert SEIREKI_DAY in order and "令和" not in order and "14:00から16:00まで" in order


# --- The 次第 -------------------------------------------------------------------------------


def order_path(session) -> str:
    return f"/sessions/{session.id}/order"


def test_the_order_of_business_prints_on_its_own_page(secretary, world, joint):
    session_page = text(secretary.get(f"/sessions/{joint.id}"))
    assert "次第を印刷" in session_page and order_path(joint) in session_page
    page = text(secretary.get(order_path(joint)))
    assert "次第" in page and joint.title in page and WAREKI_DAY in page
    assert "14時00分から16時00分まで" in page and "場所" in page
    items = re.findall(r'<span class="order-number">(\d+)</span>', page)
    assert items == ["1", "2"]
    assert SECRET_TITLE in page  # the pledged secretary
    assert "資料一覧" in page and "なし" in page
    assert mark_in(page) == SECRET_MARK
    head = head_of(secretary, page_css(page))
    assert f"{PRINTED_BY}事務 花子" in head and SUPPORT in head and WAREKI_DAY in head


def test_a_member_not_entitled_sees_no_closed_item_in_the_order(app, world, joint):
    for name in ("member.both", "member.kyogitai"):
        client = client_for(app, name)
        assert "次第を印刷" in text(client.get(f"/sessions/{joint.id}")), name
        page = text(client.get(order_path(joint)))
        assert SECRET_TITLE not in page and "非公開議題" in page, name
        assert "地域資源の報告" in page, name
        assert mark_in(page) is None, name
        assert "@top-right" not in head_of(client, page_css(page)), name


def test_the_order_is_for_those_who_sit_in_the_session(app, world, joint):
    admin = client_for(app, "admin")  # may know of the session, does not sit in it
    assert admin.get(order_path(joint)).status_code == 403
    assert admin.get(f"{order_path(joint)}/page.css").status_code == 403
    assert "次第を印刷" not in text(admin.get(f"/sessions/{joint.id}"))
    # Someone on no body the session serves does not know it exists.
    with app.app_context():
        north = make_session(world, LAYER2)
    outsider = client_for(app, "chair.support")
    assert outsider.get(order_path(north)).status_code == 404
    assert outsider.get(f"{order_path(north)}/page.css").status_code == 404
    assert client_for(app, "member.kyogitai").get(order_path(north)).status_code == 200


def test_viewing_a_confidential_order_is_audited(secretary, world, joint):
    before = len(list(world.scalars(select(AuditEntry))))
    secretary.get(order_path(joint))
    world.expire_all()
    entries = list(world.scalars(select(AuditEntry)))
    assert len(entries) == before + 1 and entries[-1].detail == "order"


def test_an_item_added_as_public_shows_to_everyone(app, world, people, joint):
    with app.app_context():
        agenda.add_item(
            world,
            joint,
            ItemData(
                title="公開の報告事項",
                body_id=body_named(world, LAYER1).id,
                planned_minutes=10,
                visibility=Visibility.PUBLIC.value,
            ),
            by=people["secretary"],
            correction=agenda.Correction("次第に載せ忘れた報告事項を補うため"),  # held already
        )
        world.commit()
    page = text(client_for(app, "member.kyogitai").get(order_path(joint)))
    assert "3" in re.findall(r'<span class="order-number">(\d+)</span>', page)
    assert "公開の報告事項" in page and mark_in(page) is None


# --- Other printed reports ------------------------------------------------------------------


def test_the_apportionment_report_is_headed_by_its_fiscal_year(app, world, secretary):
    page = text(secretary.get("/apportionment/?period=2025"))
    assert "<h2>令和7年度（令和7年4月1日から令和8年3月31日まで）</h2>" in page
    app.config["DATE_STYLE"] = "seireki"
    page = text(secretary.get("/apportionment/?period=2025"))
    assert "<h2>2025年度（2025年4月1日から2026年3月31日まで）</h2>" in page
