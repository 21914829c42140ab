"""The apportionment report (按分): a page with the rule and the breakdown, and its CSV."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from renkei.blueprints.common import csv_download, me
from renkei.blueprints.fields import whole_number
from renkei.db import get_db
from renkei.models import Person
from renkei.services import apportionment, dates, policy, posts
from renkei.services.errors import DomainError

bp = Blueprint("apportionment", __name__, url_prefix="/apportionment")


def _choice(period: apportionment.Period | None) -> tuple[list[Person], str]:
    """Whose report: ``person`` from the query (an id, or "all" for an administrator);
    a person without the right sees only their own."""
    viewer = me()
    wanted = request.args.get("person", "")
    if not viewer.is_admin:
        if wanted not in ("", str(viewer.id)):
            abort(404)
        return [viewer], str(viewer.id)
    if wanted in ("", "all"):
        return (posts.holders(get_db(), period.first, period.last) if period else []), "all"
    person_id = whole_number(wanted)
    person = get_db().get(Person, person_id) if person_id is not None else None
    if person is None or not policy.can_see_apportionment(viewer, person):
        abort(404)
    return [person], wanted


def _period() -> tuple[apportionment.Period | None, str]:
    try:
        return apportionment.parse_period(request.args.get("period")), ""
    except DomainError as error:
        return None, str(error.message)


@bp.route("/")
@login_required
def index():
    db = get_db()
    period, error = _period()
    people, chosen = _choice(period)
    report = apportionment.report(db, period, people, reader=me()) if period else None
    years = apportionment.recorded_years(db)
    page = render_template(
        "apportionment/index.html",
        report=report,
        period_text=request.args.get("period") or (period.key if period else ""),
        period_error=error,
        years=years,
        outside=_outside(period, years),
        chosen=chosen,
        choices=_people_choices(period),
        # Translated once, not once per row: a year of all staff is thousands of rows.
        labels={p.value: p.label for p in report.programmes} if report else {},
        hours=apportionment.hours,
        attended_text=apportionment.attended_text,
    )
    return page, 400 if error else 200


def _outside(period, years) -> bool:
    """The period lies wholly outside the years with attendance records."""
    if period is None:
        return False
    if years is None:
        return True
    fiscal = dates.fiscal_year_of
    return fiscal(period.last) < years[0] or fiscal(period.first) > years[1]


def _people_choices(period) -> list[Person]:
    if not me().is_admin or period is None:
        return []
    return posts.holders(get_db(), period.first, period.last)


@bp.route("/report.csv")
@login_required
def download():
    period, error = _period()
    if error:
        abort(400)
    people, _chosen = _choice(period)
    report = apportionment.report(get_db(), period, people, reader=me())
    return csv_download(apportionment.csv_rows(report), f"apportionment-{period.key}.csv")
