"""Forms as a careful municipal web form behaves: every fault said at once, in a summary
that links to each field and on the fields themselves; required fields marked 必須 (and
only those); errors tied to their fields for screen readers; the obvious choice made."""

import importlib
import pkgutil
import re
from datetime import date, timedelta

import wtforms

import renkei.blueprints
from renkei.models import MeetingSession, Membership, Person, Poll, Role
from tests.conftest import login
from tests.helpers import body_named, count, person_by_email
from tests.polls_helpers import make_poll
from tests.sessions_helpers import DAY, SUPPORT

SUMMARY = re.compile(
    r'<div class="error-summary" role="alert" tabindex="-1"[^>]*>(.*?)</div>', re.S
)


def summary_of(page: str) -> str:
    found = SUMMARY.search(page)
    assert found, "no error summary"
    return found.group(1)


def summary_links(page: str) -> list[tuple[str, str]]:
    """(target id, link text) of each link in the error summary."""
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary_of(page))


def element(page: str, element_id: str) -> str:
    """The opening tag of the element with ``element_id`` (exactly one)."""
    tags = re.findall(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert len(tags) == 1, (element_id, tags)
    return tags[0]


def element_text(page: str, element_id: str) -> str:
    return page.split(element(page, element_id), 1)[1].split("<", 1)[0]


def described_by(page: str, element_id: str) -> list[str]:
    found = re.search(r'aria-describedby="([^"]+)"', element(page, element_id))
    return found.group(1).split() if found else []


def test_a_session_form_with_several_faults_says_them_all_at_once(as_secretary, world):
    """Empty title, no body, end before start, a web address that is none: four faults,
    from the form's fields and from the service's rules, all shown in one answer."""
    before = count(world, MeetingSession)
    response = as_secretary.post(
        "/sessions/new",
        data={
            "title": "",
            "start_date": DAY.isoformat(),
            "start_time": "16:00",
            "end_time": "14:00",
            "mode": "in_person",
            "online_url": "zoom",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "入力内容を確認してください" in summary_of(page)
    links = dict(summary_links(page))
    assert links == {
        "title": "件名",
        "body_ids-0": "対象の会議体",
        "end_time": "終了時刻",
        "online_url": "オンライン会議のリンク",
    }
    for target in links:
        assert element(page, target)  # each link leads somewhere
    # On the fields too, each tied to its field.
    for field_id in ("title", "end_time", "online_url"):
        tag = element(page, field_id)
        assert 'aria-invalid="true"' in tag
        assert f"{field_id}-error" in described_by(page, field_id)
        assert element(page, f"{field_id}-error").startswith('<p class="field-error"')
    assert count(world, MeetingSession) == before


def test_a_field_error_does_not_hide_the_services_rules(as_secretary, world):
    """A date the form cannot read is said; the body missing (the service's rule) is said
    with it, not only once the date is put right."""
    page = as_secretary.post(
        "/sessions/new",
        data={"title": "定例会", "start_date": "2026-02-30", "start_time": "14:00",
              "end_time": "16:00", "mode": "in_person", "online_url": "zoom"},
    ).get_data(as_text=True)  # fmt: skip
    assert {target for target, _text in summary_links(page)} == {
        "start_date",
        "body_ids-0",
        "online_url",
    }


def test_a_checkbox_groups_error_is_tied_to_each_box(as_secretary, world):
    page = as_secretary.post(
        "/sessions/new",
        data={"title": "定例会", "start_date": DAY.isoformat(), "start_time": "14:00",
              "end_time": "16:00", "mode": "in_person"},
    ).get_data(as_text=True)  # fmt: skip
    boxes = re.findall(r'<input[^>]*name="body_ids"[^>]*>', page)
    assert boxes
    for box in boxes:
        box_id = re.search(r'\sid="([^"]+)"', box).group(1)
        assert 'aria-invalid="true"' in box
        assert "body_ids-error" in described_by(page, box_id)
    assert (
        "会議体を1つ以上選んでください。" in page.split('id="body_ids-error">')[1].split("</p>")[0]
    )
    assert re.search(r'<fieldset class="field has-error">\s*<legend>対象の会議体', page)


REQUIRED_MARK = '<span class="required">必須</span>'


def marked_required(page: str) -> set[str]:
    """The labels (by their ``for``) and legends (by their group's first box) marked 必須."""
    marked = set(re.findall(rf'<label for="([^"]+)">[^<]*{REQUIRED_MARK}', page))
    for legend in re.finditer(
        rf"<legend>([^<]*){REQUIRED_MARK}</legend>\s*(.{{0,400}})", page, re.S
    ):
        first = re.search(r'\sid="([^"]+)"', legend.group(2))
        marked.add(first.group(1) if first else legend.group(1).strip())
    return marked


def required_inputs(page: str) -> set[str]:
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    return {
        re.search(r'\sid="([^"]+)"', tag).group(1)
        for tag in tags
        if re.search(r"\brequired\b", tag) and 'aria-required="true"' in tag
    }


def test_required_fields_are_marked_and_only_those(as_secretary, world):
    page = as_secretary.get("/sessions/new").get_data(as_text=True)
    assert marked_required(page) == {"title", "body_ids-0", "start_date", "start_time", "end_time"}
    assert required_inputs(page) == {"title", "start_date", "start_time", "end_time"}


def test_every_form_page_marks_what_it_requires_consistently(app, world):
    """On each form page the 必須 mark and the required attribute go together, both made
    from the field's validators: a field with one has the other."""
    support = body_named(world, SUPPORT)
    pages = {
        "secretary": ["/sessions/new", "/polls/new", f"/bodies/{support.id}/members/new"],
        "admin": ["/people/new", "/bodies/new", "/organisations/new", "/account"],
    }
    for name, urls in pages.items():
        client = login(app.test_client(), f"{name}@example.jp")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.get_data(as_text=True)
            labelled = set(re.findall(rf'<label for="([^"]+)">[^<]*{REQUIRED_MARK}', page))
            assert labelled, url
            assert labelled == required_inputs(page), url


def test_the_host_body_is_chosen_when_the_page_comes_from_a_body(as_secretary, world):
    support = body_named(world, SUPPORT)
    page = as_secretary.get(f"/sessions/new?body={support.id}").get_data(as_text=True)
    assert re.search(
        rf'<input[^>]*checked[^>]*value="{support.id}"|<input[^>]*value="{support.id}"[^>]*checked',
        page,
    )
    assert re.search(
        rf'<option selected value="{support.id}"|<option value="{support.id}" selected', page
    )


def test_the_host_body_is_chosen_when_the_secretary_serves_only_one(app, world):
    support = body_named(world, SUPPORT)
    secretary = person_by_email(world, "secretary@example.jp")
    single = Person(name="事務 一人", kana="じむ ひとり", email="single@example.jp",
                    password_hash=secretary.password_hash)  # fmt: skip
    world.add(single)
    world.add(
        Membership(person=single, body=support, role=Role.SECRETARY, term_start=date(2020, 4, 1))
    )
    world.commit()
    client = login(app.test_client(), "single@example.jp")
    page = client.get("/sessions/new").get_data(as_text=True)
    assert re.search(
        rf'<option selected value="{support.id}"|<option value="{support.id}" selected', page
    )
    # With several bodies, none is chosen for the secretary.
    several = login(app.test_client(), "secretary@example.jp").get("/sessions/new")
    host = re.search(
        r'<select[^>]*id="host_body_id".*?</select>', several.get_data(as_text=True), re.S
    )
    assert not re.search(r'<option selected value="\d|value="\d+" selected', host.group(0))


def test_poll_slots_are_labelled_with_their_number(as_secretary, world):
    page = as_secretary.get("/polls/new").get_data(as_text=True)
    for number, row in ((1, 0), (2, 1), (8, 7)):
        assert f'<label for="slots-{row}-day">候補{number}の日付</label>' in page
        assert f'<label for="slots-{row}-start">候補{number}の開始時刻</label>' in page
        assert f'<label for="slots-{row}-end">候補{number}の終了時刻</label>' in page
    assert '<label for="slots-0-day">日付</label>' not in page


def test_a_poll_with_several_faults_says_them_all_on_their_slots(as_secretary, world):
    """No title, no body, the first slot ending before it starts, the third without its
    end, the fourth with a date that is none: each said at once, on its own field."""
    before = count(world, Poll)
    friday = (DAY + timedelta(days=1)).isoformat()
    data = {
        "title": "",
        "slots-0-day": DAY.isoformat(), "slots-0-start": "16:00", "slots-0-end": "14:00",
        "slots-1-day": "", "slots-1-start": "", "slots-1-end": "",
        "slots-2-day": friday, "slots-2-start": "14:00", "slots-2-end": "",
        "slots-3-day": "2026-02-30", "slots-3-start": "14:00", "slots-3-end": "16:00",
    }  # fmt: skip
    response = as_secretary.post("/polls/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert summary_links(page) == [
        ("title", "件名"),
        ("body_ids-0", "対象の会議体"),
        ("slots-0-day", "候補1の日付"),
        ("slots-2-end", "候補3の終了時刻"),
        ("slots-3-day", "候補4の日付"),
    ]
    for field_id in ("slots-0-day", "slots-2-end", "slots-3-day"):
        assert 'aria-invalid="true"' in element(page, field_id)
        assert f"{field_id}-error" in described_by(page, field_id)
        assert element(page, f"{field_id}-error").startswith('<p class="field-error"')
    assert "候補日時1の終了時刻は開始時刻より後にしてください。" in page
    assert 'aria-invalid="true"' not in element(page, "slots-1-day")  # the empty row
    assert count(world, Poll) == before


def test_no_slot_at_all_is_said_on_the_group_of_slots(as_secretary, world):
    support = body_named(world, SUPPORT)
    page = as_secretary.post(
        "/polls/new", data={"title": "日程", "body_ids": support.id, "host_body_id": support.id}
    ).get_data(as_text=True)
    assert summary_links(page) == [("slots-0-day", "候補日時")]
    assert (
        "slots-error" in described_by(page, "slots-hint")
        or 'aria-describedby="slots-hint slots-error"' in page
    )


def test_an_unanswered_slot_is_said_in_its_row_and_tied_to_its_buttons(client, world):
    poll = make_poll(world, SUPPORT)
    first, second, third = poll.slots
    login(client, "member.both@example.jp")
    response = client.post(
        f"/polls/{poll.id}/answer", data={f"slot-{first.id}": "yes", f"slot-{second.id}": "no"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "入力内容を確認してください" in summary_of(page)
    error_id = f"slot-{third.id}-error"
    assert element_text(page, error_id) == "すべての候補日時に回答してください。"
    buttons = re.findall(rf'<input type="radio" name="slot-{third.id}"[^>]*>', page)
    assert len(buttons) == 3
    for button in buttons:
        assert f'aria-describedby="{error_id}"' in button and 'aria-invalid="true"' in button
    answered = re.findall(rf'<input type="radio" name="slot-{first.id}"[^>]*>', page)
    assert not any("aria-invalid" in button for button in answered)


def test_no_multiple_choice_field_falls_back_on_english_messages():
    """WTForms' message for an unknown value among several ("'%(value)s' is not a valid
    choice…") has no Japanese translation: every such field leaves the check to its service,
    which names the unknown choice in Japanese."""
    checked = []
    for module_info in pkgutil.iter_modules(renkei.blueprints.__path__):
        module = importlib.import_module(f"renkei.blueprints.{module_info.name}")
        for form in vars(module).values():
            if not (isinstance(form, type) and issubclass(form, wtforms.Form)):
                continue
            for name in dir(form):
                unbound = getattr(form, name)
                if isinstance(unbound, wtforms.fields.core.UnboundField) and issubclass(
                    unbound.field_class, wtforms.SelectMultipleField
                ):
                    checked.append(f"{form.__name__}.{name}")
                    assert unbound.kwargs.get("validate_choice") is False, checked[-1]
    assert len(checked) >= 5, checked
