"""The attendance record (出席記録) of a held session: one form, one row per invitee."""

from datetime import time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from renkei.blueprints.common import audit_confidential, me, require, session_access_or_404
from renkei.blueprints.fields import TIME_MESSAGE, whole_number
from renkei.blueprints.once import once
from renkei.blueprints.sessions import load_session
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Presence, Status
from renkei.services import attendance, minutes
from renkei.services.attendance import LineData
from renkei.services.errors import DomainError

bp = Blueprint("attendance", __name__, url_prefix="/sessions")


@bp.route("/<int:session_id>/attendance", methods=["GET", "POST"])
@login_required
@once
def record(session_id: int):
    db = get_db()
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    shown = access.owned_items_seen(session.items)
    errors: dict[int, dict[str, object]]
    entered, errors, status = None, {}, 200
    if request.method == "POST":
        entered, errors = _read_form(session)
        if not errors:
            try:
                _, refreshed = attendance.save_record(
                    db, session, entered, by=me(), shown={i.id for i in shown}
                )
            except attendance.RecordErrors as error:
                db.rollback()
                errors = error.lines
            except DomainError as error:
                db.rollback()
                flash(str(error.message), "error")
                return redirect(url_for("attendance.record", session_id=session.id))
            else:
                audit_confidential("edit", session, shown, subject_type="attendance")
                db.commit()
                _announce(refreshed)
                return redirect(url_for("sessions.show", session_id=session.id) + "#attendance")
        status = 400
    page = _render(session, shown, entered, errors)
    if request.method == "GET":
        audit_confidential("view", session, shown, subject_type="attendance")
    return page, status


def _announce(refreshed: minutes.Refreshed) -> None:
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


def _render(session: MeetingSession, shown, entered: list[LineData] | None, errors: dict):
    db = get_db()
    held = session.status == Status.HELD
    record = attendance.record_of(db, session)
    by_person = {line.person_id: line for line in entered or []}
    rows = [(line, by_person.get(line.person.id) or line.entered()) for line in record.lines]
    return render_template(
        "attendance/form.html",
        session=session,
        held=held,
        record=record,
        rows=rows,
        shown=shown,
        errors=errors,
        presences=Presence.choices(),
    )


def _read_form(session: MeetingSession) -> tuple[list[LineData], dict[int, dict[str, object]]]:
    """The rows as typed; a time that is no time is reported on its row."""
    errors: dict[int, dict[str, object]]
    entered, errors = [], {}
    for raw in request.form.getlist("person"):
        person_id = whole_number(raw)
        if person_id is None:
            continue
        line = LineData(
            person_id,
            request.form.get(f"presence-{person_id}") or None,
            proxy_name=request.form.get(f"proxy-{person_id}", ""),
            note=request.form.get(f"note-{person_id}", ""),
            item_ids=_ids(request.form.getlist(f"item-{person_id}")),
        )
        for name in ("arrived", "left"):
            text = request.form.get(f"{name}-{person_id}", "").strip()
            try:
                setattr(line, name, time.fromisoformat(text) if text else None)
            except ValueError:
                errors.setdefault(person_id, {})[name] = TIME_MESSAGE
        entered.append(line)
    if not entered:
        errors[0] = {"presence": _l("The form was empty. Nothing has been saved.")}
    return entered, errors


def _ids(values: list[str]) -> set[int]:
    return {number for number in map(whole_number, values) if number is not None}
