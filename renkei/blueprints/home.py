"""The home page: what the logged-in person is part of; and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request
from flask_login import login_required

from renkei.blueprints.common import me, safe_next
from renkei.db import get_db, utcnow
from renkei.i18n import LANGUAGE_COOKIE
from renkei.services import dashboard, memberships, policy, polls, posts, scheduling
from renkei.services.dates import today

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    db = get_db()
    # Plain rows, not ORM objects: the list shows dates, titles, bodies and statuses.
    upcoming = scheduling.upcoming_rows(db, me(), since=utcnow())
    # A participant's sessions (関係者) join those they are invited to as a member.
    listed = {s.id for s in upcoming}
    taking_part = [
        s for s in scheduling.participating_rows(db, me(), since=utcnow()) if s.id not in listed
    ]
    if taking_part:
        upcoming = sorted([*upcoming, *taking_part], key=lambda s: (s.start_at, s.id))
    return render_template(
        "home/index.html",
        current=memberships.current_terms_of(db, me(), today()),
        sessions=upcoming,
        can_schedule=bool(policy.secretary_body_ids(db, me())),
        actions=dashboard.tasks_of(db, me()),
        tile=dashboard.secretary_tile(db, me()),
        mail_backlog=dashboard.mail_backlog(db, me()),
        chair=dashboard.chair_tile(db, me()),
        to_answer=dashboard.replies_open(db, me(), upcoming),
        listed=dashboard.LISTED,
        last_month=dashboard.last_month(db, me()),
        has_posts=bool(posts.posts_of(db, me())),
        open_polls=polls.open_for(db, me()),
    )


@bp.route("/language/<code>")
def set_language(code: str):
    """Remember the chosen language in a cookie; the choice is not secret or stateful."""
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response
