"""One transaction per request (renkei.blueprints.transaction): a success commits, an error
answer writes nothing, the services' refusals map to 404, 403 and the form's message, and
work handed to ``after_commit`` runs only once the writes are kept."""

import pytest
from flask import Blueprint, redirect
from sqlalchemy import select

from renkei.blueprints.fields import InputForm
from renkei.blueprints.transaction import after_commit, flashed, keep_writes, shown_on
from renkei.db import get_db
from renkei.models import Organisation
from renkei.services.errors import DomainError, Forbidden, NotFound

ran: list[str] = []


def _write(name: str) -> None:
    get_db().add(Organisation(name=name, kind="other"))
    get_db().flush()


def _probe_blueprint() -> Blueprint:
    bp = Blueprint("probe", __name__, url_prefix="/probe")

    @bp.post("/ok")
    def ok():
        _write("kept")
        after_commit(lambda: ran.append("ok"))
        return "done"

    @bp.post("/error-status")
    def error_status():
        _write("dropped")
        after_commit(lambda: ran.append("error-status"))
        return "no", 400

    @bp.post("/kept-error")
    def kept_error():
        _write("kept anyway")
        keep_writes()
        return "no", 429

    @bp.post("/raise/<kind>")
    def raise_(kind: str):
        _write("dropped")
        error = {"missing": NotFound, "forbidden": Forbidden, "rule": DomainError}[kind]
        raise error("規則に反しています")

    @bp.post("/form")
    def form():
        the_form = InputForm()
        with shown_on(the_form) as done:
            _write("dropped")
            raise DomainError("入力に誤りがあります")
        assert not done
        _write("after")  # written after the rollback: the 400 answer keeps nothing either
        return " ".join(the_form.form_errors), 400

    @bp.post("/button")
    def button():
        with flashed() as done:
            _write("dropped")
            raise DomainError("できません")
        if not done:
            _write("kept after a refusal")
        return redirect("/")

    @bp.post("/crash")
    def crash():
        _write("dropped")
        raise RuntimeError("boom")

    return bp


@pytest.fixture
def probe(app, world):
    app.register_blueprint(_probe_blueprint())
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    ran.clear()
    return app.test_client()


def names(world) -> set[str]:
    world.expire_all()
    return set(world.scalars(select(Organisation.name)))


def test_a_success_commits_and_then_runs_the_after_commit_work(probe, world):
    assert probe.post("/probe/ok").status_code == 200
    assert "kept" in names(world)
    assert ran == ["ok"]


def test_an_error_answer_writes_nothing_and_runs_no_after_commit_work(probe, world):
    assert probe.post("/probe/error-status").status_code == 400
    assert "dropped" not in names(world)
    assert ran == []


def test_a_view_may_keep_the_writes_of_an_error_answer(probe, world):
    assert probe.post("/probe/kept-error").status_code == 429
    assert "kept anyway" in names(world)


@pytest.mark.parametrize(("kind", "status"), [("missing", 404), ("forbidden", 403), ("rule", 400)])
def test_a_services_refusal_is_its_error_page_and_writes_nothing(probe, world, kind, status):
    response = probe.post(f"/probe/raise/{kind}")
    assert response.status_code == status
    assert "dropped" not in names(world)
    if kind == "rule":  # a rule no view expected: said on the page, in Japanese
        page = response.get_data(as_text=True)
        assert "規則に反しています" in page and "保存されませんでした" in page


def test_a_forms_refusal_is_shown_on_the_form_and_rolled_back(probe, world):
    response = probe.post("/probe/form")
    assert response.get_data(as_text=True) == "入力に誤りがあります"
    assert not names(world) & {"dropped", "after"}


def test_a_buttons_refusal_is_flashed_and_only_what_follows_is_kept(probe, world):
    response = probe.post("/probe/button")
    assert response.status_code == 302
    assert names(world) >= {"kept after a refusal"} and "dropped" not in names(world)
    with probe.session_transaction() as cookie:
        assert ("error", "できません") in cookie["_flashes"]


def test_a_crash_writes_nothing(probe, world):
    assert probe.post("/probe/crash").status_code == 500
    assert "dropped" not in names(world)
