"""Printed documents: the 次第 (order of business) of a session on a print page of its own,
and the running head every print shares (blueprints/minutes.py prints the 会議録 with it).
Thin views over ``services/prints.py``; what each reader sees is the policy's to decide."""

from collections.abc import Iterable

from flask import Blueprint, abort, make_response, render_template, url_for
from flask_login import login_required

from renkei.blueprints import templating
from renkei.blueprints.common import audit_confidential, me, session_access_or_404
from renkei.blueprints.sessions import load_session
from renkei.db import get_db, utcnow
from renkei.models import Body, MeetingSession
from renkei.services import materials, prints, tasks

bp = Blueprint("prints", __name__, url_prefix="/sessions")


def running_head(session: MeetingSession, bodies: Iterable[Body], shown) -> str:
    """The ``@page`` rule of a print: the bodies and the session's date top left; for a
    print holding closed content (``shown``: what it shows), its mark, the reader and the
    time top right."""
    left = f"{'・'.join(b.name for b in bodies)}　{templating.japanese_date(session.start_at)}"
    now = utcnow()
    when = f"{templating.japanese_date(now)} {templating.japanese_time(now)}"
    return prints.page_rule(left, prints.head_of_marked(prints.mark_for(shown), me().name, when))


@bp.app_template_global()
def may_print_order(access) -> bool:
    """For the session page's link 「次第を印刷」."""
    return prints.may_print_order(access)


def css_response(rule: str):
    response = make_response(rule)
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "private, no-store"  # it names the reader and time
    return response


def _order(session_id: int):
    """The session, the reader's access, the 次第's lines, the materials the reader may see
    and the carried tasks; 404 for a session the reader may not know of, 403 for one they
    know of but do not sit in."""
    session = load_session(session_id)
    access = session_access_or_404(session)
    if not prints.may_print_order(access):
        abort(403)
    db = get_db()
    listing = materials.for_reader(db, session, access)
    carried = tasks.carried(db, session, access)
    return session, access, prints.order_of_business(session, access), listing, carried


def _shown(
    lines: list[prints.OrderItem],
    listing: materials.SessionMaterials,
    carried: list[tasks.Carried],
) -> list:
    """What the 次第 shows the content of: the items, the materials (a material may be
    narrower than its item, and so mark the print) and the carried tasks."""
    return (
        [line.item for line in lines if line.shown]
        + [e.material for e in listing.listed]
        + [c.task for c in carried if c.shown]
    )


@bp.route("/<int:session_id>/order")
@login_required
def order(session_id: int):
    session, access, lines, listing, carried = _order(session_id)
    shown = _shown(lines, listing, carried)
    audit_confidential("view", session, shown, detail="order")
    return render_template(
        "prints/order.html",
        session=session,
        access=access,
        lines=lines,
        listing=listing,
        carried=carried,
        mark=prints.mark_for(shown),
        head=url_for("prints.order_css", session_id=session.id),
    )


@bp.route("/<int:session_id>/order/page.css")
@login_required
def order_css(session_id: int):
    session, _access, lines, listing, carried = _order(session_id)
    return css_response(running_head(session, session.bodies, _shown(lines, listing, carried)))
