"""Bodies (会議体): list, page, create and edit, and the membership overlap matrix."""

from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from renkei.blueprints.common import get_or_404, me, render_form, require
from renkei.blueprints.fields import (
    DateField,
    IdSelectField,
    InputForm,
    WholeNumberField,
    none_choice,
    query_int,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    Authority,
    Body,
    BodyKind,
    Confidentiality,
    Layer,
    Programme,
    QuorumRule,
)
from renkei.services import (
    bodies,
    local_issues,
    memberships,
    overlap,
    policy,
    quorum,
    scheduling,
)
from renkei.services.bodies import BodyData

bp = Blueprint("bodies", __name__, url_prefix="/bodies")


class BodyForm(InputForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    kind = SelectField(_l("Kind"), choices=BodyKind.choices)
    area = StringField(
        _l("Area"),
        description=_l("For example: whole town, or a junior-high-school district."),
        validators=[Length(max=200, message=_l("Use at most %(max)d characters."))],
    )
    parent_id = IdSelectField(
        _l("Parent body"),
        description=_l("Choose one to make this body a subcommittee of it."),
    )
    programme = SelectField(
        _l("Programme charged"),
        description=_l("Leave as is to follow the kind of body."),
        choices=[none_choice(_l("Follow the kind of body")), *Programme.choices()],
        default="",
    )
    confidentiality = SelectField(
        _l("Confidentiality"),
        description=_l("Follows the kind of body; only an administrator may change it."),
        choices=[none_choice(_l("Follow the kind of body")), *Confidentiality.choices()],
        default="",
    )
    quorum_rule = SelectField(
        _l("Quorum"),
        choices=QuorumRule.choices,
        default=QuorumRule.MAJORITY.value,
        validate_choice=False,  # the service names a wrong choice in plain words
    )
    quorum_number = WholeNumberField(
        _l("Members needed for a quorum"),
        description=_l("Only for a fixed number."),
        validators=[Optional()],
        message=_l("Enter the number of members as a whole number, such as 7."),
    )
    quorum_counts_proxy = BooleanField(_l("Members attending by proxy count towards the quorum"))
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=5000, message=_l("Use at most %(max)d characters."))],
    )
    layer = SelectField(
        _l("Layer"),
        description=_l("For a consultative body only: its whole-municipality or district layer."),
        choices=[none_choice(_l("Not stated (or not a consultative body)")), *Layer.choices()],
        default="",
        validate_choice=False,  # the service names a wrong choice in plain words
    )
    authority = SelectField(
        _l("Set up by"),
        description=_l(
            "A prefecture sets up the support meeting of towns without a welfare office."
        ),
        choices=Authority.choices,
        default=Authority.MUNICIPALITY.value,
        validate_choice=False,
    )
    rules_title = StringField(
        _l("Title of the setting-up rules"),
        description=_l("For example: ○○町支援会議設置要綱"),
        validators=[Length(max=200, message=_l("Use at most %(max)d characters."))],
    )
    rules_enacted_on = DateField(_l("Rules enacted on"), validators=[Optional()])
    rules_amended_on = DateField(_l("Rules last amended on"), validators=[Optional()])
    retention_years = WholeNumberField(
        _l("Retention period of materials (years)"),
        description=_l(
            "After this many years from a session's date, the secretariat may delete its "
            "materials. Leave it empty to keep them for ever."
        ),
        validators=[Optional()],
        message=_l("Enter the number of years as a whole number, such as 5."),
    )


def _parent_choices(exclude: Body | None) -> list[SelectChoice]:
    """The bodies this one may be placed under: those the person runs (an administrator, all),
    and the one it is under now, which may stay."""
    db = get_db()
    mine = policy.managed_body_ids(db, me())
    kept = exclude.parent_id if exclude is not None else None
    others = [
        b
        for b in bodies.list_bodies(db)
        if (exclude is None or b.id != exclude.id) and (b.id in mine or b.id == kept)
    ]
    indented = row_choices(others, label=lambda body: "　" * bodies.depth(body) + body.name)
    return [none_choice(_l("(not a subcommittee)")), *indented]


def _data(form: BodyForm) -> BodyData:
    return BodyData(
        name=form.name.data or "",
        kind=form.kind.data,
        area=form.area.data or "",
        parent_id=form.parent_id.data,
        programme=form.programme.data or None,
        confidentiality=form.confidentiality.data or None,
        description=form.description.data or "",
        quorum_rule=form.quorum_rule.data,
        quorum_number=form.quorum_number.data,
        quorum_counts_proxy=form.quorum_counts_proxy.data,
        authority=form.authority.data or "",
        layer=form.layer.data or None,
        rules_title=form.rules_title.data or "",
        rules_enacted_on=form.rules_enacted_on.data,
        rules_amended_on=form.rules_amended_on.data,
        retention_years=form.retention_years.data,
    )


@bp.route("/")
@login_required
def index():
    db = get_db()
    person = me()
    return render_template(
        "bodies/index.html",
        bodies=bodies.list_bodies(db),
        current_counts=memberships.current_member_counts(db),
        depth=bodies.depth,
        managed=policy.managed_body_ids(db, person),
        can_create=policy.can_create_body(db, person),
    )


@bp.route("/<int:body_id>")
@login_required
def show(body_id: int):
    db = get_db()
    body = get_or_404(Body, body_id)
    person = me()
    current, past, future = memberships.split_current(memberships.body_memberships(db, body))
    sessions: Sequence[scheduling.SessionRow]
    sessions, page, pages = [], 1, 1
    show_sessions = policy.can_see_body_sessions(db, person, body)
    if show_sessions:
        sessions, page, pages = scheduling.body_sessions(
            db, body, viewer=person, page=query_int("page", 1)
        )
    # A 協議体's local issues: for its members (and administrators), as its sessions are.
    show_issues = body.kind == BodyKind.CONSULTATIVE_BODY and policy.can_see_local_issues(
        db, person, body
    )
    return render_template(
        "bodies/show.html",
        body=body,
        show_issues=show_issues,
        issues_by_status=local_issues.by_status(db, body) if show_issues else {},
        can_raise_issue=show_issues and policy.can_manage_local_issues(db, person, body),
        sessions=sessions,
        show_sessions=show_sessions,
        page=page,
        pages=pages,
        can_schedule=body.id in policy.secretary_body_ids(db, person),
        current=current,
        past=past,
        future=future,
        can_manage=policy.can_manage_body(db, person, body),
        can_change_members=policy.can_change_members(db, person, body),
        show_contacts=policy.can_manage_people(db, person),
        fixed_quorum=quorum.fixed_number(body),
        show_towns=memberships.municipalities_known(current + past + future),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    db = get_db()
    person = me()
    require(policy.can_create_body(db, person))
    form = BodyForm()
    if request.method == "GET" and request.args.get("parent"):
        form.parent_id.data = query_int("parent")
    form.parent_id.choices = _parent_choices(None)
    if form.validate_on_submit():
        with shown_on(form) as done:
            body = bodies.save_body(db, None, _data(form), by=person)
        if done:
            shown = url_for("bodies.show", body_id=body.id)
            remember(shown)
            flash(_("The body “%(name)s” has been created.", name=body.name), "success")
            return redirect(shown)
    return render_form("bodies/form.html", form, body=None)


@bp.route("/<int:body_id>/edit", methods=["GET", "POST"])
@login_required
def edit(body_id: int):
    db = get_db()
    body = get_or_404(Body, body_id)
    person = me()
    require(policy.can_manage_body(db, person, body))
    form = BodyForm(obj=body if request.method == "GET" else None)
    form.parent_id.choices = _parent_choices(body)
    if form.validate_on_submit():
        with shown_on(form) as done:
            bodies.save_body(db, body, _data(form), by=person)
        if done:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("bodies.show", body_id=body.id))
    return render_form("bodies/form.html", form, body=body)


@bp.route("/overlap")
@login_required
def overlap_view():
    db = get_db()
    person = me()
    body_ids = policy.managed_body_ids(db, person)
    if not body_ids:
        abort(403)
    matrix = overlap.overlap_matrix(db, body_ids)
    a, b = query_int("a"), query_int("b")
    selected = None
    if a in matrix.members and b in matrix.members:
        names = {body.id: body for body in matrix.bodies}
        selected = (names[a], names[b], matrix.shared(a, b))
    return render_template("bodies/overlap.html", matrix=matrix, selected=selected)
