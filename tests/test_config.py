"""BASE_URL follows the port `make run` serves on unless it is configured: every link in
mail, calendar files and feeds is made from it."""

import pytest

from renkei import cli, create_app
from renkei.config import load_config
from renkei.links import Links


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return monkeypatch


@pytest.fixture
def served(monkeypatch):
    """The ports `flask serve` would serve on, without serving."""
    calls = []
    monkeypatch.setattr(cli, "run_simple", lambda host, port, app, **_: calls.append(port))
    return calls


def serve(database_url, tmp_path, *args):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True}, str(tmp_path / "i"))
    result = app.test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    return app


def test_without_base_url_the_port_makes_it(environment, tmp_path):
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:5000"
    environment.setenv("PORT", "8000")
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:8000"


def test_a_configured_base_url_is_kept(environment, tmp_path):
    environment.setenv("PORT", "8000")
    environment.setenv("BASE_URL", "https://renkei.town.example.jp")
    assert load_config(tmp_path)["BASE_URL"] == "https://renkei.town.example.jp"


@pytest.mark.parametrize("port", ["http", "0", "70000", "-1"])
def test_a_port_that_is_not_a_port_number_is_refused(environment, tmp_path, port):
    environment.setenv("PORT", port)
    with pytest.raises(ValueError, match="PORT"):
        load_config(tmp_path)


def test_make_run_with_port_serves_there_and_links_there(
    environment, served, database_url, tmp_path
):
    """`PORT=8000 make run` runs `flask serve --port 8000` with PORT=8000 in its environment."""
    environment.setenv("PORT", "8000")
    app = serve(database_url, tmp_path, "--port", "8000")
    assert served == [8000]
    assert Links.of(app).session(1) == "http://127.0.0.1:8000/sessions/1"


def test_serve_with_a_port_option_links_there(environment, served, database_url, tmp_path):
    app = serve(database_url, tmp_path, "--port", "8123")
    assert served == [8123]
    assert app.config["BASE_URL"] == "http://127.0.0.1:8123"


def test_serve_takes_the_port_from_port(environment, served, database_url, tmp_path):
    environment.setenv("PORT", "8001")
    app = serve(database_url, tmp_path)
    assert served == [8001] and app.config["BASE_URL"] == "http://127.0.0.1:8001"


def test_serve_keeps_a_configured_base_url(environment, served, database_url, tmp_path):
    environment.setenv("BASE_URL", "https://renkei.town.example.jp")
    app = serve(database_url, tmp_path, "--port", "8000")
    assert served == [8000] and app.config["BASE_URL"] == "https://renkei.town.example.jp"


def test_materials_settings_have_defaults_and_refuse_nonsense(monkeypatch, tmp_path):
    for name in ("MATERIALS_DIR", "MATERIAL_MAX_BYTES_MB", "MATERIALS_MAX_SESSION_MB"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["MATERIALS_DIR"] == str(tmp_path / "materials")
    assert config["MATERIAL_MAX_BYTES"] == 20 * 1024 * 1024
    assert config["MATERIALS_MAX_SESSION_BYTES"] == 100 * 1024 * 1024
    monkeypatch.setenv("MATERIAL_MAX_BYTES_MB", "50")
    assert load_config(tmp_path)["MATERIAL_MAX_BYTES"] == 50 * 1024 * 1024
    monkeypatch.setenv("MATERIAL_MAX_BYTES_MB", "0")
    with pytest.raises(ValueError, match="MATERIAL_MAX_BYTES_MB"):
        load_config(tmp_path)
