"""The home page: what the logged-in person is part of; and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request
from flask_login import login_required

from renkei.blueprints.common import me, safe_next
from renkei.db import get_db
from renkei.i18n import LANGUAGE_COOKIE
from renkei.services import memberships
from renkei.services.dates import today

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    on = today()
    mine = memberships.person_memberships(get_db(), me())
    return render_template("home/index.html", current=[m for m in mine if m.is_current(on)])


@bp.route("/language/<code>")
def set_language(code: str):
    """Remember the chosen language in a cookie; the choice is not secret or stateful."""
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response
