"""Agenda items (議題) of a session: add, edit, reorder, remove; Markdown preview.

A session the viewer may not see does not exist for them (404); one they may see but not
manage refuses changes (403). What an item shows is for the policy alone to decide.
"""

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from renkei.blueprints.common import (
    audit_confidential,
    get_or_404,
    me,
    render_form,
    require,
    session_access_or_404,
)
from renkei.blueprints.fields import (
    CommaNumbersField,
    IdSelectField,
    InputForm,
    OneOf,
    WholeNumberField,
    flash_errors,
    none_choice,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import flashed, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import AgendaItem, MeetingSession, Status, Visibility
from renkei.services import agenda, case_numbers, markdown, minutes, policy
from renkei.services.agenda import ItemData

bp = Blueprint("agenda", __name__)

# The preview serves agenda descriptions and minutes sections alike.
PREVIEW_MAX = max(agenda.MAX_DESCRIPTION, minutes.MAX_TEXT)

MINUTES_MESSAGE = _l(
    "Enter the planned minutes as a number from 0 to %(max)d.", max=agenda.MAX_MINUTES
)


class CorrectionFields(InputForm):
    """On a held session, the agenda changes only as a correction, ticked and explained."""

    as_correction = BooleanField(_l("Record as a correction after the session"))
    correction_reason = StringField(
        _l("Reason for the correction"),
        description=_l(
            "Shown in the session's history to the secretariat of every body served: name "
            "no person and no case."
        ),
        render_kw={"maxlength": agenda.MAX_REASON},
    )


class ItemForm(CorrectionFields):
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
            "Formatting: **bold**, a line starting with “- ” for a bulleted list, links as "
            "[text](https://…); other formatting is not kept."
        ),
        render_kw={"rows": 8},
    )
    case_number = StringField(
        _l("Case number"),
        description=_l(
            "Name an individual case by its case number, such as R8-0012, never by the "
            "person's name: Renkei stores no names of the people supported. Type the number "
            "of a case discussed before, or tick the box below for a new case."
        ),
        render_kw={"maxlength": 24, "autocomplete": "off"},
    )
    assign_case_number = BooleanField(_l("Assign the next case number"))
    # Shown with the warning about what looks like a person's name.
    save_anyway = BooleanField(_l("Save as it is"))
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


class MoveForm(CorrectionFields):
    direction = HiddenField(validators=[OneOf(("up", "down"), _l("Choose up or down."))])


class DeleteForm(CorrectionFields):
    pass


class OrderForm(CorrectionFields):
    """The whole agenda's order, as the drag-and-drop script posts it: ``12,10,11``."""

    order = CommaNumbersField(
        message=_l("The agenda has changed meanwhile. Reload the page and try again.")
    )


def _data(form: ItemForm) -> ItemData:
    return ItemData(
        title=form.title.data or "",
        body_id=form.body_id.data,
        presenter=form.presenter.data or "",
        planned_minutes=form.planned_minutes.data,
        description=form.description.data or "",
        visibility=form.visibility.data or None,
        case_number=form.case_number.data or "",
        assign_case_number=bool(form.assign_case_number.data),
        case_prefix=current_app.config.get("CASE_NUMBER_PREFIX", ""),
        confirm_wider=bool(form.confirm_wider.data),
    )


def _correction(form: CorrectionFields) -> agenda.Correction | None:
    if not form.as_correction.data:
        return None
    return agenda.Correction(form.correction_reason.data or "")


def _unconfirmed_names(form: ItemForm) -> list[str]:
    """What looks like a person's name in the title or description, unless the secretary
    ticked "save as it is": then the form is shown again with a warning, nothing saved."""
    if not form.is_submitted() or form.save_anyway.data:
        return []
    return case_numbers.personal_names(f"{form.title.data or ''}\n{form.description.data or ''}")


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


def _back(session: MeetingSession):
    """The agenda on the session page; on a held session, with its correction box open."""
    if session.status == Status.HELD:
        return redirect(
            url_for("sessions.show", session_id=session.id, correcting=1, _anchor="agenda")
        )
    return redirect(url_for("sessions.show", session_id=session.id, _anchor="agenda"))


def _run(action, session: MeetingSession, form: InputForm | None = None):
    """Run a button's service call once its ``form`` is valid; what is wrong and a refused
    change are flashed, and the page is shown again."""
    if form is not None and not form.validate_on_submit():
        flash_errors(form)
        return _back(session)
    with flashed():
        action()
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
    names = _unconfirmed_names(form)
    if form.validate_on_submit() and not names:
        with shown_on(form) as done:
            agenda.add_item(db, session, _data(form), by=me(), correction=_correction(form))
        if done:
            remember(url_for("sessions.show", session_id=session.id, _anchor="agenda"))
            flash(_("The agenda item has been added."), "success")
            return _back(session)
    return render_form("agenda/form.html", form, session=session, item=None, names=names)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    db = get_db()
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    access = _access(session)
    # The form shows the item's content: only to those the policy lets see it.
    require(access.can_see_item(item))
    if request.method == "GET":
        form = ItemForm(obj=item, visibility=item.visibility.value)
    else:
        form = ItemForm()
    _fill_choices(form, session)
    names = _unconfirmed_names(form)
    if form.validate_on_submit() and not names:
        with shown_on(form) as done:
            agenda.update_item(db, item, _data(form), by=me(), correction=_correction(form))
        if done:
            flash(_("The changes have been saved."), "success")
            return _back(session)
    if request.method == "GET":
        audit_confidential("view", session, [item], subject_type="agenda_item", subject_id=item.id)
    return render_form("agenda/form.html", form, session=session, item=item, names=names)


@bp.route("/items/<int:item_id>/move", methods=["POST"])
@login_required
def move(item_id: int):
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    _access(session)
    form = MoveForm()
    return _run(
        lambda: agenda.move_item(
            get_db(), item, form.direction.data, by=me(), correction=_correction(form)
        ),
        session,
        form,
    )


@bp.route("/items/<int:item_id>/delete", methods=["POST"])
@login_required
def delete(item_id: int):
    item = get_or_404(AgendaItem, item_id)
    session = item.session
    _access(session)

    form = DeleteForm()

    def action():
        agenda.delete_item(get_db(), item, by=me(), correction=_correction(form))
        flash(_("The agenda item has been deleted."), "success")

    return _run(action, session, form)


@bp.route("/sessions/<int:session_id>/items/order", methods=["POST"])
@login_required
def order(session_id: int):
    session = _load_session(session_id)
    _access(session)
    form = OrderForm()
    return _run(
        lambda: agenda.reorder(
            get_db(), session, form.order.data, by=me(), correction=_correction(form)
        ),
        session,
        form,
    )


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
