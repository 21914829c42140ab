"""The printed minutes' running head: the bodies and date on every A4 page, from a small
stylesheet of its own that no name can break out of."""

import re

from renkei.services import minutes
from renkei.services.dates import japanese_date
from renkei.services.prints import css_string
from tests.conftest import login
from tests.helpers import person_by_email
from tests.sessions_helpers import DAY, LAYER1, make_session, mark_held


def unescape(css: str) -> str:
    return re.sub(r"\\([0-9a-f]+) ", lambda m: chr(int(m.group(1), 16)), css)


def test_css_string_escapes_what_could_end_the_rule():
    literal = css_string('協議体"; } body { display: none } /*')
    inner = literal[1:-1]
    assert literal.startswith('"') and literal.endswith('"')
    assert not set('";{}/*\n') & set(inner.replace("\\", ""))  # only escapes remain
    assert unescape(inner) == '協議体"; } body { display: none } /*'


def test_page_css_names_the_bodies_and_date(app, client, world):
    secretary = person_by_email(world, "secretary@example.jp")
    with app.app_context():
        session = make_session(world, LAYER1)
        mark_held(world, session)
        version = minutes.open_minutes(world, session, by=secretary)
        world.commit()
    login(client, "secretary@example.jp")
    response = client.get(f"/minutes/{version.id}/page.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    css = unescape(response.get_data(as_text=True))
    assert "@top-left" in css and LAYER1 in css and japanese_date(DAY) in css
    # The page links it, so every printed page carries the head.
    page = client.get(f"/minutes/{version.id}").get_data(as_text=True)
    assert f"/minutes/{version.id}/page.css" in page
    # Like the minutes, it does not exist for those who may not know of the session.
    client.post("/logout")
    login(client, "chair.support@example.jp")
    assert client.get(f"/minutes/{version.id}/page.css").status_code == 404
