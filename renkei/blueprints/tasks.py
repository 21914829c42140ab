"""Follow-up tasks (役割分担): the secretariat's list across the bodies it runs, creating a
task for a body, and the carried tasks (「前回からの継続事項」) of a session: close, defer,
reorder. Thin views over ``services/tasks.py``; what each reader sees is the policy's."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from renkei.blueprints.common import me, render_form, require, session_access_or_404
from renkei.blueprints.fields import (
    DateField,
    IdSelectField,
    InputForm,
    flash_errors,
    none_choice,
    row_choices,
    whole_number,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.sessions import load_session
from renkei.blueprints.transaction import flashed, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Body, Visibility
from renkei.services import policy, tasks

bp = Blueprint("tasks", __name__)


class TaskForm(InputForm):
    body_id = IdSelectField(_l("Body"))
    text = StringField(_l("Task"), render_kw={"maxlength": tasks.MAX_TEXT})
    owner_id = SelectField(
        _l("Who will do it"),
        description=_l("A person, or an organisation as a whole."),
        validate_choice=False,  # the service names an unknown owner
    )
    due_on = DateField(_l("Due date"), validators=[Optional()])
    visibility = SelectField(
        _l("Who may see it"),
        choices=[
            none_choice(_l("(default for the body)")),
            *(c for c in Visibility.choices() if c.value in tasks.DIRECT_VISIBILITIES),
        ],
        default="",
        validate_choice=False,  # the service names an unknown choice
        description=_l(
            "Never wider than the body's rule: a support meeting's tasks are confidential, "
            "a support coordination meeting's for its members."
        ),
    )


class OrderForm(InputForm):
    order = HiddenField()


def _managed_bodies() -> list[Body]:
    ids = policy.managed_body_ids(get_db(), me())
    if not ids:
        return []
    return list(get_db().scalars(select(Body).where(Body.id.in_(ids)).order_by(Body.name)))


@bp.route("/tasks/")
@login_required
def index():
    bodies = _managed_bodies()
    require(bool(bodies))
    filters = tasks.Filters(
        body_id=whole_number(request.args.get("body", "")),
        owner=tasks.Owner.parse(request.args.get("owner")) if request.args.get("owner") else None,
        overdue=request.args.get("overdue") == "1",
    )
    listed = tasks.managed_tasks(get_db(), me(), filters)
    tasks.log_shown(get_db(), me(), [x.task for x in listed if x.shown])
    return render_template(
        "tasks/index.html",
        listed=listed,
        bodies=bodies,
        filters=filters,
        owners=tasks.owner_choices(get_db(), [b.id for b in bodies]),
    )


@bp.route("/tasks/new", methods=["GET", "POST"])
@login_required
@once
def new():
    bodies = _managed_bodies()
    require(bool(bodies))
    form = TaskForm(body_id=whole_number(request.args.get("body", "")))
    form.body_id.choices = [none_choice(_l("Choose a body")), *row_choices(bodies)]
    form.owner_id.choices = [
        none_choice(_l("Choose who will do it")),
        *(
            SelectChoice(v, label)
            for v, label in tasks.owner_choices(get_db(), [b.id for b in bodies])
        ),
    ]
    if form.validate_on_submit():
        with shown_on(form) as done:
            tasks.add_for_body(
                get_db(),
                form.body_id.data,
                text=form.text.data or "",
                owner=tasks.Owner.parse(form.owner_id.data),
                due_on=form.due_on.data,
                visibility=form.visibility.data,
                by=me(),
            )
        if done:
            remember(url_for("tasks.index"))
            flash(_("The task has been added."), "success")
            return redirect(url_for("tasks.index"))
    return render_form("tasks/form.html", form)


# --- A session's carried tasks -------------------------------------------------------------


def _managed_session(session_id: int):
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    return session


def _back(session_id: int):
    return redirect(url_for("sessions.show", session_id=session_id, _anchor="carried"))


@bp.route("/sessions/<int:session_id>/carried/<int:task_id>/done", methods=["POST"])
@login_required
def close(session_id: int, task_id: int):
    return _act_on_carried(
        session_id, task_id, tasks.close_carried, _("The task has been marked as done.")
    )


@bp.route("/sessions/<int:session_id>/carried/<int:task_id>/defer", methods=["POST"])
@login_required
def defer(session_id: int, task_id: int):
    return _act_on_carried(
        session_id,
        task_id,
        tasks.defer_carried,
        _("The task has been deferred to the next session."),
    )


def _act_on_carried(session_id: int, task_id: int, action, success: str):
    """A button on a carried task: the action, then back to the session's carried list."""
    session = _managed_session(session_id)
    form = InputForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return _back(session.id)
    with flashed() as done:
        action(get_db(), session, task_id, by=me())
    if done:
        flash(success, "success")
    return _back(session.id)


@bp.route("/sessions/<int:session_id>/carried/order", methods=["POST"])
@login_required
def order(session_id: int):
    session = _managed_session(session_id)
    form = OrderForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return _back(session.id)
    ids = [whole_number(part) for part in (form.order.data or "").split(",") if part.strip()]
    if any(i is None for i in ids):
        abort(400)
    with flashed() as done:
        tasks.reorder_carried(get_db(), session, [i for i in ids if i is not None], by=me())
    if done:
        flash(_("The order of the carried tasks has been saved."), "success")
    return _back(session.id)
