"""The fiscal-year report (年度実績): choose a year and a scope, read the figures, download them.

Who may read which report is ``policy``'s: the whole install's for administrators, a body's
for its secretariat and chair (and, unless it has a duty of secrecy, its current members).
To anyone else a report does not exist (404), as a session closed to them does not.
"""

from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from renkei.blueprints.common import csv_response, get_or_404, me
from renkei.blueprints.fields import whole_number
from renkei.blueprints.templating import date_style
from renkei.db import get_db, utcnow
from renkei.i18n import gettext as _
from renkei.models import Body
from renkei.services import annual_report, charts, policy, report_workbook
from renkei.services.dates import japanese_date, japanese_fiscal_year
from renkei.services.report_tables import Cell, Kind
from renkei.services.scheduling import FIRST_YEAR, LAST_YEAR

bp = Blueprint("reports", __name__, url_prefix="/reports")

INSTALL = "all"  # the scope choice for the whole install


def _readable_bodies() -> list[Body]:
    db = get_db()
    bodies = list(db.scalars(select(Body).order_by(Body.name)))
    allowed = set(policy.report_body_ids(db, me(), bodies))
    return [body for body in bodies if body.id in allowed]


def _year_or_404(year: int) -> int:
    """A year in range with records; anything else is not a report (404)."""
    if not FIRST_YEAR <= year <= LAST_YEAR or year not in annual_report.available_years(get_db()):
        abort(404)
    return year


@bp.route("/")
@login_required
def index():
    db = get_db()
    viewer = me()
    bodies = _readable_bodies()
    install = policy.can_see_install_report(viewer)
    if not install and not bodies:
        abort(404)
    years = annual_report.available_years(db)
    error = ""
    if "year" in request.args or "scope" in request.args:
        target = _chosen(years, bodies, install)
        if target is not None:
            return redirect(target)
        error = _("Choose a fiscal year and a scope from the lists.")
    page = render_template(
        "reports/index.html", years=years, bodies=bodies, install=install, error=error
    )
    return page, 400 if error else 200


def _chosen(years: list[int], bodies: list[Body], install: bool) -> str | None:
    """The address of the report chosen in the form; None when the choice is not offered."""
    year = whole_number(request.args.get("year", ""))
    if year is None or year not in years:
        return None
    scope = request.args.get("scope", "")
    if scope == INSTALL and install:
        return url_for("reports.install", year=year)
    body_id = whole_number(scope)
    if body_id is not None and body_id in {body.id for body in bodies}:
        return url_for("reports.body", year=year, body_id=body_id)
    return None


@bp.route("/<int:year>")
@login_required
def install(year: int):
    return _page(_install_report(year))


def _body_or_404(body_id: int) -> Body:
    body = get_or_404(Body, body_id)
    if not policy.can_see_body_report(get_db(), me(), body):
        abort(404)
    return body


@bp.route("/<int:year>/bodies/<int:body_id>")
@login_required
def body(year: int, body_id: int):
    return _page(_body_report(year, body_id))


def _page(report: annual_report.AnnualReport):
    address: dict[str, int] = {"year": report.fiscal_year}
    if report.body is not None:
        address["body_id"] = report.body.id
    return render_template(
        "reports/show.html",
        report=report,
        cell=cell_text,
        render_chart=charts.render,
        address=address,
        prefix="reports.body_" if report.body is not None else "reports.install_",
    )


# --- Downloads ------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _install_report(year: int) -> annual_report.AnnualReport:
    if not policy.can_see_install_report(me()):
        abort(404)
    return annual_report.build(get_db(), _year_or_404(year), reader=me())


def _body_report(year: int, body_id: int) -> annual_report.AnnualReport:
    chosen = _body_or_404(body_id)
    return annual_report.build(get_db(), _year_or_404(year), reader=me(), body=chosen)


def _file(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _stem(report: annual_report.AnnualReport) -> str:
    """ASCII file names: report-2025 or report-2025-body-3."""
    scope = f"-body-{report.body.id}" if report.body is not None else ""
    return f"report-{report.fiscal_year}{scope}"


def _workbook(report: annual_report.AnnualReport) -> Response:
    fiscal_year = japanese_fiscal_year(report.fiscal_year, date_style())
    content = report_workbook.workbook(
        report.tables,
        title=f"{_('Fiscal-year report')}（{fiscal_year}・{report.scope}）",
        period=(report.first, report.last),
        made_at=utcnow(),
    )
    return _file(content, XLSX, f"{_stem(report)}.xlsx")


def _csv(report: annual_report.AnnualReport, table_key: str) -> Response:
    table = next((t for t in report.tables if t.key == table_key), None)
    if table is None:
        abort(404)
    return csv_response(report_workbook.csv_file(table), f"{_stem(report)}-{table.key}.csv")


@bp.route("/<int:year>/report.xlsx")
@login_required
def install_workbook(year: int):
    return _workbook(_install_report(year))


@bp.route("/<int:year>/<table_key>.csv")
@login_required
def install_csv(year: int, table_key: str):
    return _csv(_install_report(year), table_key)


@bp.route("/<int:year>/bodies/<int:body_id>/report.xlsx")
@login_required
def body_workbook(year: int, body_id: int):
    return _workbook(_body_report(year, body_id))


@bp.route("/<int:year>/bodies/<int:body_id>/<table_key>.csv")
@login_required
def body_csv(year: int, body_id: int, table_key: str):
    return _csv(_body_report(year, body_id), table_key)


def cell_text(value: Cell, kind: Kind) -> str:
    """A cell as the page shows it: 87.5%, 1.5 (hours), 5.5 (days), 1,234; — for none."""
    if value is None:
        return "—"
    if isinstance(value, date):
        return japanese_date(value, date_style())
    if isinstance(value, str):
        return value
    if kind is Kind.PERCENT:
        return f"{value * 100:.1f}%"
    if kind is Kind.HOURS:
        return f"{value:.1f}"
    if kind is Kind.DAYS:
        return f"{value:g}"
    return f"{value:,}"
