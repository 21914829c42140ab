"""The attendance record (出席記録) of a held session: one form, one row per invitee."""

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, StopValidation

from renkei.blueprints.common import audit_confidential, me, require, session_access_or_404
from renkei.blueprints.fields import (
    InputForm,
    OneOf,
    RowForm,
    TimeField,
    WholeNumbersField,
    error_messages,
    none_choice,
)
from renkei.blueprints.once import once
from renkei.blueprints.sessions import TOO_LONG, load_session
from renkei.blueprints.transaction import flashed
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Presence, Status
from renkei.services import attendance
from renkei.services.attendance import LineData

bp = Blueprint("attendance", __name__, url_prefix="/sessions")

EXPIRED = _l("The form has expired. Reload the page.")
NOT_AN_ITEM = _l("That item is not one of the closed items of this session.")
# A time as the browser's time field sends it, with or without seconds.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class LineForm(RowForm):
    """One invitee's line, posted as ``presence-<person id>``, ``arrived-<person id>``…
    The form checks what each field is; the service checks what the line means (a proxy's
    name, times within the session, who may be present for a confidential item)."""

    presence = SelectField(
        _l("Attendance"),
        choices=[none_choice(_l("(choose)")), *Presence.choices()],
        validate_choice=False,
        validators=[OneOf(Presence, _l("Choose present, late or left early, proxy, or absent."))],
    )
    arrived = TimeField(_l("Arrived"), validators=[Optional()], format=TIME_FORMATS)
    left = TimeField(_l("Left"), validators=[Optional()], format=TIME_FORMATS)
    proxy_name = StringField(
        _l("Proxy"),
        name="proxy",
        validators=[Length(max=attendance.MAX_PROXY, message=TOO_LONG)],
    )
    note = StringField(_l("Note"), validators=[Length(max=attendance.MAX_NOTE, message=TOO_LONG)])
    # The confidential items the person was present for (the ticked boxes).
    item_ids = WholeNumbersField(_l("Confidential items"), name="item", message=NOT_AN_ITEM)

    def __init__(self, formdata=None, *, key: int, shown_ids: set[int], **kwargs):
        self.shown_ids = shown_ids
        super().__init__(formdata, key=key, **kwargs)

    def validate_item_ids(self, field):
        """Only the items the form showed can be ticked."""
        if not set(field.data) <= self.shown_ids:
            raise StopValidation(str(NOT_AN_ITEM))

    def entry(self) -> LineData:
        return LineData(
            self.key,
            self.presence.data or None,
            arrived=self.arrived.data,
            left=self.left.data,
            proxy_name=self.proxy_name.data or "",
            note=self.note.data or "",
            item_ids=set(self.item_ids.data),
        )

    def show_problems(self, problems: dict[str, object]) -> None:
        """The service's messages for this line (``RecordErrors``), on their fields."""
        for name, message in problems.items():
            field = self["item_ids" if name == "items" else name]
            field.errors = [*field.errors, str(message)]


class AttendanceForm(InputForm):
    """The whole record: the people it lists (a hidden ``person`` per line) and their lines."""

    person = WholeNumbersField(message=EXPIRED)

    def __init__(self, *, shown_ids: set[int], **kwargs):
        super().__init__(**kwargs)
        formdata = request.form if self.is_submitted() else None
        self.lines = [
            LineForm(formdata, key=person_id, shown_ids=shown_ids) for person_id in self.person.data
        ]

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not self.lines:
            self.form_errors.append(str(_l("The form was empty. Nothing has been saved.")))
        lines_valid = [line.validate() for line in self.lines]  # every line, for its errors
        return valid and bool(self.lines) and all(lines_valid)

    def entries(self) -> list[LineData]:
        return [line.entry() for line in self.lines]


@bp.route("/<int:session_id>/attendance", methods=["GET", "POST"])
@login_required
@once
def record(session_id: int):
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    shown = access.owned_items_seen(session.items)
    form = AttendanceForm(shown_ids={item.id for item in shown})
    if form.validate_on_submit():
        answer = _save(session, form, shown)
        if answer is not None:
            return answer
    page = _render(session, shown, form)
    if request.method == "GET":
        audit_confidential("view", session, shown, subject_type="attendance")
    return page, 400 if form.is_submitted() else 200


def _save(session: MeetingSession, form: AttendanceForm, shown):
    """Save the record; the redirect that follows, or None when a line is refused (the
    form then shows why, and nothing is kept)."""
    with flashed() as done:
        try:
            _, refreshed = attendance.save_record(
                get_db(), session, form.entries(), by=me(), shown={i.id for i in shown}
            )
        except attendance.RecordErrors as error:
            lines = {line.key: line for line in form.lines}
            for person_id, problems in error.lines.items():
                lines[person_id].show_problems(problems)
            return None
    if not done:
        return redirect(url_for("attendance.record", session_id=session.id))
    _announce(refreshed)
    return redirect(url_for("sessions.show", session_id=session.id) + "#attendance")


def _announce(refreshed: attendance.Refreshed) -> None:
    flash(_("The attendance record has been saved."), "success")
    if refreshed.updated:
        flash(_("The attendance in the draft minutes has been brought up to date."), "success")
    if refreshed.kept:
        flash(
            _(
                "The attendance in the minutes was left as it was, because it has been edited "
                "or the minutes are awaiting approval or approved. Check it against the record."
            ),
            "warning",
        )


def _render(session: MeetingSession, shown, form: AttendanceForm):
    """The form: each invitee's line as posted, or else as saved or as the reply suggests."""
    record = attendance.record_of(get_db(), session)
    posted = {line.key: line for line in form.lines}
    shown_ids = {item.id for item in shown}
    rows = [
        (
            line,
            posted.get(line.person.id)
            or LineForm(key=line.person.id, shown_ids=shown_ids, data=asdict(line.entered())),
        )
        for line in record.lines
    ]
    return render_template(
        "attendance/form.html",
        session=session,
        held=session.status == Status.HELD,
        record=record,
        rows=rows,
        shown=shown,
        problems=error_messages(form),
        failed=form.is_submitted(),
    )
