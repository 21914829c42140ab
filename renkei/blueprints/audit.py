"""The audit log page: a secretary reads their bodies' log, a chair theirs, an
administrator the account events (logins, accounts)."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required
from sqlalchemy import select

from renkei.blueprints.common import me
from renkei.blueprints.fields import query_int
from renkei.db import get_db
from renkei.models import Body
from renkei.services import audit, audit_display

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50


@bp.route("/")
@login_required
def index():
    db = get_db()
    scope = audit.scope_for(db, me())
    if scope.empty:
        abort(403)
    body_id = query_int("body")
    if request.args.get("body") and body_id not in scope.body_ids:
        abort(404)
    page = query_int("page", 1)
    rows, total = audit.entries(db, scope, body_id=body_id, page=page, per_page=PER_PAGE)
    bodies = db.scalars(select(Body).where(Body.id.in_(scope.body_ids)).order_by(Body.name)).all()
    return render_template(
        "audit/index.html",
        entries=audit_display.show(db, rows),
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        bodies=bodies,
        body_names={b.id: b.name for b in bodies},
        body_id=body_id,
        scope=scope,
    )
