"""What the templates get from Python rather than work out themselves: a form field's
attributes for screen readers, and the enums they compare with."""

import re
from pathlib import Path

import renkei
from renkei.models import MeetingSession
from tests.helpers import count
from tests.sessions_helpers import SUPPORT, session_form


def tag(page: str, element: str, field_id: str) -> str:
    return re.search(rf'<{element}[^>]*\bid="{field_id}"[^>]*>', page).group(0)


def test_a_refused_field_names_its_hint_and_error_and_is_marked_invalid(as_secretary, world):
    data = session_form(world, SUPPORT, title="", end_date="x")
    response = as_secretary.post("/sessions/new", data=data)
    assert response.status_code == 400 and count(world, MeetingSession) == 0
    page = response.get_data(as_text=True)
    title = tag(page, "input", "title")
    assert 'aria-describedby="title-error"' in title and 'aria-invalid="true"' in title
    assert " required" in title
    end_date = tag(page, "input", "end_date")  # a hint and an error, not required
    assert 'aria-describedby="end_date-hint end_date-error"' in end_date
    assert 'aria-invalid="true"' in end_date and " required" not in end_date
    host = tag(page, "select", "host_body_id")  # a hint only
    assert 'aria-describedby="host_body_id-hint"' in host and "aria-invalid" not in host
    place = tag(page, "input", "place")  # nothing to name
    assert "aria-describedby" not in place and "aria-invalid" not in place


# A date or moment (due_on, done_at, …) written out as it is, or through |string, reads
# 2026-04-24 or 2026-04-24 05:00:00+00:00 (UTC) among pages that say 令和8年4月24日.
RAW_DATE = re.compile(r"\w+_(?:on|at)\s*(?:\|\s*string\b|\s*}})")


def test_no_template_writes_a_date_out_raw():
    templates = Path(renkei.__file__).parent / "templates"
    raw = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in RAW_DATE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert raw == [], "use |japanese_date or |tokyo: " + "; ".join(raw)
