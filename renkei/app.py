"""Application factory: configuration, extensions, blueprints and CLI commands."""

from pathlib import Path

from flask import Flask, Request, abort, current_app, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from renkei import cli, db, errors, notice_timer
from renkei.blueprints import (
    agenda,
    apportionment,
    attendance,
    audit,
    auth,
    bodies,
    calendar,
    convening,
    health,
    home,
    letters,
    local_issues,
    materials,
    memberships,
    minutes,
    once,
    organisations,
    people,
    polls,
    prints,
    referrals,
    reports,
    search,
    sessions,
    tasks,
    templating,
    transaction,
)
from renkei.blueprints.fields import MAX_ID
from renkei.config import load_config
from renkei.db import get_db
from renkei.i18n import babel, format_tokyo, install_in_templates, select_locale
from renkei.services import accounts, markdown, policy, search_index
from renkei.services import audit as audit_service

csrf = CSRFProtect()

# No inline script or style anywhere: the pages work with only our own static files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _setting(value: object, *, default: bool) -> bool:
    return default if value in (None, "") else str(value).lower() in ("1", "true", "yes")


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app. ``config`` overrides what the environment gives (tests use it)."""
    app = Flask(__name__, instance_path=instance_path)
    app.request_class = NulFreeRequest
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    if "SESSION_COOKIE_SECURE" not in (config or {}):
        # Cookies only over HTTPS when the site is served over HTTPS, however that was said.
        secure = app.config["BASE_URL"].startswith("https://")
        app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure)

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Flask's documented way to wrap its WSGI app, which mypy sees as assigning a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    accounts.use_hash_method(app.config["PASSWORD_HASH_METHOD"])
    # A number too large for a database id in a URL is a 404, not a database error.
    app.url_map.converters["int"] = BoundedInt
    db.init_app(app)
    transaction.init_app(app)
    policy.install_role_cache(app.extensions["renkei.sessionmaker"])
    search_index.install(app.extensions["renkei.sessionmaker"])
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_in_templates(app.jinja_env)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["tokyo"] = format_tokyo
    app.jinja_env.filters["markdown"] = markdown.render
    templating.install(app.jinja_env)
    app.jinja_env.globals["form_token"] = once.form_token
    auth.init_login(app)

    for blueprint in (
        health.bp,
        audit.bp,
        auth.bp,
        home.bp,
        bodies.bp,
        memberships.bp,
        people.bp,
        organisations.bp,
        sessions.bp,
        convening.bp,
        letters.bp,
        agenda.bp,
        local_issues.bp,
        calendar.bp,
        minutes.bp,
        attendance.bp,
        apportionment.bp,
        polls.bp,
        prints.bp,
        materials.bp,
        tasks.bp,
        referrals.bp,
        reports.bp,
        search.bp,
    ):
        app.register_blueprint(blueprint)

    app.before_request(_no_nul_in_path)
    if _setting(app.config.get("NOTICE_TIMER"), default=not app.config.get("TESTING")):
        app.before_request(lambda: notice_timer.start_once(app))
    app.after_request(_security_headers)
    app.context_processor(_navigation)
    errors.register(app)
    cli.register(app)
    return app


class NulFree(ImmutableMultiDict):
    """Query and form values without NUL: PostgreSQL refuses it in any text, even in a
    search, and no browser sends one. (Stored text is normalised further, renkei.db.)"""

    def __init__(self, mapping=None):
        if isinstance(mapping, list):
            mapping = [(_without_nul(k), _without_nul(v)) for k, v in mapping]
        super().__init__(mapping)


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeRequest(Request):
    parameter_storage_class = NulFree


class BoundedInt(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _no_nul_in_path() -> None:
    """A path with NUL (``/calendar/%00.ics``) names nothing, and PostgreSQL would refuse
    to look its token up."""
    if "\x00" in request.path:
        abort(404)


def _navigation() -> dict:
    """What the menu offers: the people register and overlap view are for secretaries."""
    if not current_user.is_authenticated:
        return {
            "nav_can_manage": False,
            "nav_audit": False,
            "nav_apportionment": False,
            "nav_referrals": False,
            "nav_reports": False,
        }
    db = get_db()
    return {
        # A secretary manages people and follows their bodies' tasks.
        "nav_can_manage": policy.can_manage_people(db, current_user),
        "nav_audit": not audit_service.scope_for(db, current_user).empty,
        "nav_apportionment": policy.can_see_apportionment(current_user, None),
        "nav_referrals": policy.can_record_referrals(current_user),
        "nav_reports": policy.can_see_some_report(db, current_user),
    }


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Feed and online-meeting URLs must not leak to other sites through the Referer header.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Whatever a logged-in person is sent may hold closed content — pages, invitations,
    # CSV files, prints: not for the browser's cache on a shared office PC (Back after
    # logging out). Static files and feeds keep their own rules.
    if current_user.is_authenticated and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config["BASE_URL"].startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
