"""A member's main pages as they read them (home, a session, approved minutes): none of the
wording faults the catalogue test looks for reaches the page, whatever the templates put
together around the translations (tests/test_wording.py checks the parts)."""

import html
import re

import pytest
from sqlalchemy import select

from renkei.models import MeetingSession, Minutes, MinutesStatus, MinutesVersion
from renkei.services import demo, policy
from tests.conftest import login
from tests.helpers import person_by_email
from tests.test_wording import JP, PARTICLE

MEMBER = "member.both@example.jp"
APPROVED = MinutesStatus.APPROVED

FAULTS = {
    "half-width colon after Japanese": re.compile(f"{JP}\\s*:(?!//)"),
    # On a page, a number or a word in Latin letters before a particle or counter
    # (「5 人」, 「Renkei で」); between Japanese words a space may be part of a name.
    "space before a particle or counter": re.compile(f"[A-Za-z0-9)] +{PARTICLE}"),
    "合同": re.compile("合同"),
    "招集者": re.compile("招集者(?!対象)"),
    "outbox, SHA-256 or Markdown": re.compile(r"outbox|sha-?256|markdown", re.IGNORECASE),
}


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, styles or tags; each tag a line break, so that
    words of neighbouring cells do not run together."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def faults_on(page: str) -> list[str]:
    text = visible_text(page)
    found = []
    for name, pattern in FAULTS.items():
        found += [
            f"{name}: {text[max(m.start() - 20, 0) : m.end() + 20]!r}"
            for m in pattern.finditer(text)
        ]
    return found


@pytest.mark.parametrize(
    ("page", "fault"),
    [
        ("<p>代理: 山田</p>", "half-width colon after Japanese"),
        ("<p>構成員 <b>5</b> 人</p>", None),  # tags between: not the template's space
        ("<p>5 人</p>", "space before a particle or counter"),
        ("<p>承認された内容の SHA-256</p>", "outbox, SHA-256 or Markdown"),
        ("<p>招集者</p>", "招集者"),
    ],
)
def test_the_page_checks_find_the_faults(page, fault):
    found = faults_on(page)
    if fault is None:
        assert found == [] or all("5" in f for f in found)
    else:
        assert any(f.startswith(fault) for f in found)


def member_pages(client, world) -> dict[str, str]:
    """Home, every session the member may see, and the approved minutes of each."""
    member = person_by_email(world, MEMBER)
    pages = {"/": client.get("/").get_data(as_text=True)}
    for session in world.scalars(select(MeetingSession).order_by(MeetingSession.id)):
        if not policy.session_access(world, member, session).can_view:
            continue
        paths = [f"/sessions/{session.id}"]
        approved = (
            select(MinutesVersion.id)
            .join(Minutes)
            .where(Minutes.session_id == session.id, MinutesVersion.status == APPROVED)
        )
        paths += [f"/minutes/{v}" for v in world.scalars(approved)]
        pages.update((path, client.get(path).get_data(as_text=True)) for path in paths)
    return pages


@pytest.fixture
def town(app, db):
    """The demo town with its sessions: coming ones, last month's with approved minutes."""
    with app.app_context():
        demo.load(db)
        db.commit()
    return db


def test_a_members_pages_read_as_a_secretariat_writes(client, town):
    world = town
    login(client, MEMBER)
    pages = member_pages(client, world)
    assert any(p.startswith("/minutes/") for p in pages), "the demo's approved minutes"
    assert len([p for p in pages if p.startswith("/sessions/")]) >= 2
    found = [f"{path}: {fault}" for path, page in pages.items() for fault in faults_on(page)]
    assert found == [], "\n".join(found)
