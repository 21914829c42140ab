"""Search (検索): one box in the header, a page of results. A thin view over
``services/search.py``; what each viewer finds is the policy's (``policy.search_reach``).

A GET form changes nothing, so it carries no CSRF token; a filter not understood is
named on the page and narrows nothing.
"""

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required

from renkei.blueprints.common import me
from renkei.blueprints.fields import query_int, whole_number
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.models import SearchEntry, SearchKind
from renkei.services import search
from renkei.services.dates import today
from renkei.services.errors import DomainError

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_required
def index():
    db, viewer = get_db(), me()
    args = request.args
    errors: dict[str, str] = {}
    kind = None
    if args.get("kind"):
        try:
            kind = SearchKind(args["kind"])
        except ValueError:
            errors["kind"] = _("Choose a kind from the list.")
    sort = search.Sort.RELEVANCE
    if args.get("sort"):
        try:
            sort = search.Sort(args["sort"])
        except ValueError:
            errors["sort"] = _("Sort by relevance or by date.")
    years = search.fiscal_year_choices(today())
    fiscal_year = whole_number(args.get("fy"), default=None) if args.get("fy") else None
    if args.get("fy") and fiscal_year not in years:
        errors["fy"] = _("Choose a fiscal year from the list.")
        fiscal_year = None
    body_id = whole_number(args.get("body"), default=None) if args.get("body") else None
    if args.get("body") and body_id is None:
        errors["body"] = _("Choose a body from the list.")
    text = (args.get("q") or "").strip()
    query = search.Query(
        text=text,
        body_id=body_id,
        kind=kind,
        fiscal_year=fiscal_year,
        sort=sort,
        page=query_int("page", 1) or 1,
    )
    results = None
    if text:
        try:
            results = search.search(db, viewer, query)
        except DomainError as error:
            errors["q"] = error.message
    page = render_template(
        "search/index.html",
        query=query,
        results=results,
        errors=errors,
        kinds=list(SearchKind),
        sorts=[(search.Sort.RELEVANCE, _("Relevance")), (search.Sort.DATE, _("Newest first"))],
        years=years,
        args={
            "q": text,
            "kind": kind.value if kind else None,
            "body": body_id,
            "fy": fiscal_year,
            "sort": sort.value,
        },
    )
    return page, 400 if errors else 200


@bp.app_template_global("search_link")
def search_link(entry: SearchEntry) -> str:
    """Where a result leads: the page that shows the thing (an item and a minutes section
    on their session's pages, which show each reader what the policy lets them)."""
    kind = entry.kind
    if kind is SearchKind.SECTION and entry.session_id is not None:
        return url_for("minutes.index", session_id=entry.session_id)
    if kind is SearchKind.MATERIAL and entry.session_id is not None:
        # The session page lists the materials each reader may see (the secretariat's page
        # for managing them is theirs alone).
        return url_for(
            "sessions.show", session_id=entry.session_id, _anchor=f"material-{entry.object_id}"
        )
    if kind is SearchKind.ITEM and entry.session_id is not None:
        return url_for(
            "sessions.show", session_id=entry.session_id, _anchor=f"item-{entry.object_id}"
        )
    if kind is SearchKind.REFERRAL:
        return url_for("referrals.show", referral_id=entry.object_id)
    if kind is SearchKind.ISSUE:
        return url_for("local_issues.show", issue_id=entry.object_id)
    if kind is SearchKind.BODY:
        return url_for("bodies.show", body_id=entry.object_id)
    if kind is SearchKind.PERSON:
        return url_for("people.show", person_id=entry.object_id)
    return url_for("sessions.show", session_id=entry.session_id)
