"""Agenda items (議題) of a session: add, edit, reorder, remove; Markdown preview.

A session the viewer may not see does not exist for them (404); one they may see but not
manage refuses changes (403). What an item shows is for the policy alone to decide.
"""

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from renkei.blueprints.common import (
    audit_confidential,
    audit_log,
    get_or_404,
    me,
    render_form,
    require,
    session_access_or_404,
    show_error,
)
from renkei.blueprints.fields import (
    IdSelectField,
    InputForm,
    WholeNumberField,
    none_choice,
    row_choices,
    whole_number,
)
from renkei.blueprints.once import once, remember
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import AgendaItem, MeetingSession, Visibility
from renkei.services import agenda, audit, markdown, minutes, policy
from renkei.services.agenda import ItemData
from renkei.services.errors import DomainError, Forbidden

bp = Blueprint("agenda", __name__)

# The preview serves agenda descriptions and minutes sections alike.
PREVIEW_MAX = max(agenda.MAX_DESCRIPTION, minutes.MAX_TEXT)

MINUTES_MESSAGE = _l(
    "Enter the planned minutes as a number from 0 to %(max)d.", max=agenda.MAX_MINUTES
)


class ItemForm(InputForm):
    # Lengths and ranges are checked by the service, which says what is wrong in plain words.
    title = StringField(_l("Title"), render_kw={"maxlength": agenda.MAX_TITLE})
    body_id = IdSelectField(
        _l("Owning body"),
        description=_l("Its confidentiality rules apply to the item."),
    )
    presenter = StringField(_l("Presenter"), render_kw={"maxlength": agenda.MAX_PRESENTER})
    planned_minutes = WholeNumberField(
        _l("Planned minutes"),
        validators=[Optional()],
        message=MINUTES_MESSAGE,
        default=0,
        render_kw={"min": 0, "max": agenda.MAX_MINUTES, "inputmode": "numeric"},
    )
    description = TextAreaField(
        _l("Description"),
        description=_l(
            "Markdown: **bold**, lists starting with “- ”, links as [text](https://…). "
            "Other HTML is removed."
        ),
        render_kw={"rows": 8},
    )
    visibility = SelectField(
        _l("Who may see it"),
        choices=[none_choice(_l("(default for the body)")), *Visibility.choices()],
        default="",
        validate_choice=False,  # the service names an unknown choice
        description=_l(
            "Public: anyone; the title appears in calendars and e-mails. Session attendees "
            "only: everyone convened to this session, of every body. Body members only: the "
            "members of the owning body alone; in a joint session the other bodies' members "
            "see “Closed agenda item”. Confidential (statutory secrecy): members of the "
            "owning body who have pledged confidentiality. The default follows the owning "
            "body: confidential for support meetings and community care meetings, body "
            "members only for support coordination meetings and other bodies, public for "
            "consultative bodies. Calendars and e-mails carry public titles only."
        ),
    )
    confirm_wider = BooleanField(
        _l("I confirm that this item may be seen more widely than its body's rule allows"),
        description=_l(
            "Needed only for a visibility wider than the owning body's default; the change "
            "is recorded in the audit log."
        ),
    )


def _data(form: ItemForm) -> ItemData:
    return ItemData(
        title=form.title.data or "",
        body_id=form.body_id.data,
        presenter=form.presenter.data or "",
        planned_minutes=form.planned_minutes.data,
        description=form.description.data or "",
        visibility=form.visibility.data or None,
        confirm_wider=bool(form.confirm_wider.data),
    )


def _fill_choices(form: ItemForm, session: MeetingSession) -> None:
    form.body_id.choices = row_choices(session.bodies)
    if form.body_id.data is None and request.method == "GET":
        form.body_id.data = session.host_body_id


def _load_session(session_id: int) -> MeetingSession:
    session = get_db().scalar(
        select(MeetingSession)
        .where(MeetingSession.id == session_id)
        .options(selectinload(MeetingSession.bodies), selectinload(MeetingSession.items))
    )
    if session is None:
        abort(404)
    return session


def _access(session: MeetingSession, *, manage: bool = True) -> policy.SessionAccess:
    """404 for those who may not know of the session, 403 for viewers who may not change it."""
    access = session_access_or_404(session)
    if manage:
        require(access.can_manage)
    return access


def _log(action: str, item: AgendaItem, detail: str, *, confidential: bool = False) -> None:
    """Changes to a confidential item (or one that was confidential) go to its body's log."""
    if confidential or policy.is_confidential(item):
        audit_log(
            audit.CONTENT,
            action,
            subject_type="agenda_item",
            subject_id=item.id,
            body_id=item.body_id,
            session_id=item.session_id,
            detail=detail,
        )


def _log_widening(item: AgendaItem, changed: list[str] | None = None) -> None:
    """An item set wider than its body allows (confirmed on the form) goes to its body's
    log: a new one, or one whose visibility or owner changed."""
    if changed is not None and not {"visibility", "body_id"} & set(changed):
        return
    if agenda.is_wider(item):
        audit_log(
            audit.CONTENT,
            "widen",
            subject_type="agenda_item",
            subject_id=item.id,
            body_id=item.body_id,
            session_id=item.session_id,
            detail=f"visibility {item.visibility.value}",
        )


def _back(session: MeetingSession):
    return redirect(url_for("sessions.show", session_id=session.id, _anchor="agenda"))


def _run(action, session: MeetingSession):
    """Run a button's service call; a refused change is flashed, the page shown again."""
    db = get_db()
    try:
        action()
    except Forbidden:
        db.rollback()
        abort(403)
    except DomainError as error:
        db.rollback()
        flash(str(error.message), "error")
    else:
        db.commit()
    return _back(session)


@bp.route("/sessions/<int:session_id>/items/new", methods=["GET", "POST"])
@login_required
@once
def new(session_id: int):
    db = get_db()
    session = _load_session(session_id)
    _access(session)
    form = ItemForm()
    _fill_choices(form, session)
    if form.validate_on_submit():
        try:
            item = agenda.add_item(db, session, _data(form), by=me())
        except DomainError as error:
            show_error(form, error)
        else:
            _log("edit", item, "added")
            _log_widening(item)
            remember(url_for("sessions.show", session_id=session.id, _anchor="agenda"))
            db.commit()
            flash(_("The agenda item has been added."), "success")
            return _back(session)
    return render_form("agenda/form.html", form, session=session, item=None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    db = get_db()
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    access = _access(session)
    # The form shows the item's content: only to those the policy lets see it.
    require(access.can_see_item(item))
    was_confidential = policy.is_confidential(item)
    if request.method == "GET":
        form = ItemForm(obj=item, visibility=item.visibility.value)
    else:
        form = ItemForm()
    _fill_choices(form, session)
    if form.validate_on_submit():
        try:
            changed = agenda.update_item(db, item, _data(form), by=me())
        except DomainError as error:
            show_error(form, error)
        else:
            # Made public or for members: that is an edit of confidential content too.
            _log("edit", item, "changed: " + ",".join(changed), confidential=was_confidential)
            _log_widening(item, changed)
            db.commit()
            flash(_("The changes have been saved."), "success")
            return _back(session)
    if request.method == "GET":
        audit_confidential("view", session, [item], subject_type="agenda_item", subject_id=item.id)
    return render_form("agenda/form.html", form, session=session, item=item)


@bp.route("/items/<int:item_id>/move", methods=["POST"])
@login_required
def move(item_id: int):
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    _access(session)
    direction = request.form.get("direction", "")
    return _run(lambda: agenda.move_item(get_db(), item, direction, by=me()), session)


@bp.route("/items/<int:item_id>/delete", methods=["POST"])
@login_required
def delete(item_id: int):
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    _access(session)

    def action():
        _log("delete", item, f"position {item.position}")
        agenda.delete_item(get_db(), item, by=me())
        flash(_("The agenda item has been deleted."), "success")

    return _run(action, session)


def _parse_order(text: str) -> list[int]:
    ids = [whole_number(part.strip()) for part in text.split(",") if part.strip()]
    if None in ids:  # not the ids the page was given
        raise DomainError(
            _l("The agenda has changed meanwhile. Reload the page and try again."), "order"
        )
    return ids


@bp.route("/sessions/<int:session_id>/items/order", methods=["POST"])
@login_required
def order(session_id: int):
    session = _load_session(session_id)
    _access(session)
    text = request.form.get("order", "")
    return _run(lambda: agenda.reorder(get_db(), session, _parse_order(text), by=me()), session)


@bp.route("/markdown/preview", methods=["POST"])
@login_required
def preview():
    """The sanitised HTML of a Markdown text, for the preview beside a description field."""
    text = request.form.get("text", "")
    if len(text) > PREVIEW_MAX:
        response = make_response(
            _(
                "The text is too long to preview: at most %(max)d characters.",
                max=PREVIEW_MAX,
            ),
            400,
        )
        response.mimetype = "text/plain"
    else:
        response = make_response(str(markdown.render(text, keep=False)))
        response.mimetype = "text/html"
    # What is typed here may be confidential: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response
