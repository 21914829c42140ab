"""Who a session convenes: a body's selected members (選定招集), participants (関係者) and
their pledges for the session. Thin views over ``services/convening.py``."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select
from wtforms import BooleanField, EmailField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional

from renkei.blueprints import mail_dispatch
from renkei.blueprints.common import (
    get_or_404,
    links,
    me,
    render_form,
    require,
    session_access_or_404,
)
from renkei.blueprints.fields import (
    CheckboxesField,
    IdSelectField,
    InputForm,
    flash_errors,
    none_choice,
    optional_int,
    row_choices,
)
from renkei.blueprints.mail_dispatch import mail_settings, notice_args
from renkei.blueprints.once import once, remember
from renkei.blueprints.sessions import load_session
from renkei.blueprints.transaction import attempt, flashed, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import MeetingSession, Participant, Person
from renkei.services import convening, mail, notices, organisations, policy
from renkei.services.accounts import PersonData

bp = Blueprint("convening", __name__)

TOO_LONG = _l("Use at most %(max)d characters.")
ALL, SELECTED = "all", "selected"


class SelectionForm(InputForm):
    mode = RadioField(
        _l("Who is convened"),
        choices=[
            SelectChoice(ALL, _l("Convene every member")),
            SelectChoice(SELECTED, _l("Convene selected members")),
        ],
        validators=[DataRequired(_l("Choose whom to convene."))],
    )
    person_ids = CheckboxesField(
        _l("Members convened"),
        coerce=optional_int,
        validate_choice=False,  # the service names a member who cannot be convened
        description=_l(
            "Only the members chosen are invited, counted for the quorum and may see this "
            "body's closed items in this session."
        ),
    )


@bp.route("/sessions/<int:session_id>/convene/<int:body_id>", methods=["GET", "POST"])
@login_required
def select_members(session_id: int, body_id: int):
    """Convene every member of a served body, or only those chosen (secretariat)."""
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    body = next((b for b in session.bodies if b.id == body_id), None)
    if body is None:
        abort(404)
    terms = convening.members_on_the_day(db, session, body)
    form = SelectionForm()
    form.person_ids.choices = [
        SelectChoice(str(t.person_id), f"{t.person.name}（{t.role.label}）") for t in terms
    ]
    selection = session.selection_of(body.id)
    if request.method == "GET":
        form.mode.data = SELECTED if selection else ALL
        form.person_ids.data = sorted(selection.person_ids) if selection else [me().id]
    if form.validate_on_submit():
        chosen = list(form.person_ids.data or []) if form.mode.data == SELECTED else None
        with shown_on(form) as done:
            changed = convening.set_selection(db, session, body.id, chosen, by=me())
        if done:
            if changed:
                flash(_("Who is convened from %(body)s has been saved.", body=body.name), "success")
                mail_dispatch.announce_pending(session)
            return redirect(url_for("sessions.show", session_id=session.id) + "#convening")
    return render_form("convening/select.html", form, session=session, body=body)


class ParticipantItemsForm(InputForm):
    item_ids = CheckboxesField(
        _l("Agenda items"),
        coerce=optional_int,
        validate_choice=False,  # the service names an item of another session
        description=_l(
            "The participant sees these items once they have pledged for the session, and "
            "nothing else that is closed."
        ),
    )
    may_read_minutes = BooleanField(_l("May read the minutes of these items"))


class ParticipantForm(ParticipantItemsForm):
    person_id = IdSelectField(_l("Registered person"))
    name = StringField(_l("Or a new person: name"), validators=[Length(max=100, message=TOO_LONG)])
    kana = StringField(_l("Name in kana"), validators=[Length(max=100, message=TOO_LONG)])
    email = EmailField(
        _l("E-mail address"),
        description=_l("The invitation is sent here."),
        validators=[Optional(), Length(max=254, message=TOO_LONG)],
    )
    organisation_id = IdSelectField(_l("Organisation"))


def _item_choices(form: ParticipantItemsForm, session: MeetingSession, access) -> None:
    """The items the secretary may see: assigning one opens it to the participant."""
    form.item_ids.choices = [
        SelectChoice(str(item.id), f"{item.position}. {item.title}")
        for item in session.items
        if access.can_see_item(item)
    ]


def _person_choices(form: ParticipantForm) -> None:
    db = get_db()
    people = db.scalars(select(Person).where(Person.active).order_by(Person.kana, Person.name))
    form.person_id.choices = [none_choice(_l("Choose a person")), *row_choices(people)]
    form.organisation_id.choices = [
        none_choice(),
        *row_choices(organisations.list_organisations(db)),
    ]


def _participant_data(form: ParticipantForm) -> convening.ParticipantData:
    new = None
    if (form.name.data or "").strip():
        new = PersonData(
            name=form.name.data or "",
            kana=form.kana.data or "",
            email=form.email.data,
            organisation_id=form.organisation_id.data,
        )
    return convening.ParticipantData(
        item_ids=list(form.item_ids.data or []),
        person_id=form.person_id.data,
        new_person=new,
        may_read_minutes=bool(form.may_read_minutes.data),
    )


@bp.route("/sessions/<int:session_id>/participants/new", methods=["GET", "POST"])
@login_required
@once
def new_participant(session_id: int):
    db = get_db()
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    form = ParticipantForm()
    _item_choices(form, session, access)
    _person_choices(form)
    if form.validate_on_submit():
        with shown_on(form) as done:
            participant = convening.add_participant(db, session, _participant_data(form), by=me())
        if done:
            shown = url_for("sessions.show", session_id=session.id) + "#participants"
            remember(shown)
            flash(
                _("%(name)s has been added as a participant.", name=participant.person.name),
                "success",
            )
            mail_dispatch.announce_pending(session)
            return redirect(shown)
    return render_form("convening/participant.html", form, session=session, participant=None)


def _load_participant(participant_id: int) -> tuple[Participant, MeetingSession]:
    participant = get_or_404(Participant, participant_id)
    session = load_session(participant.session_id)
    require(session_access_or_404(session).can_manage)
    return participant, session


@bp.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@login_required
def edit_participant(participant_id: int):
    db = get_db()
    participant, session = _load_participant(participant_id)
    access = policy.session_access(db, me(), session)
    form = ParticipantItemsForm()
    _item_choices(form, session, access)
    if request.method == "GET":
        form.item_ids.data = sorted(participant.item_ids)
        form.may_read_minutes.data = participant.may_read_minutes
    if form.validate_on_submit():
        with shown_on(form) as done:
            changed = convening.update_participant(
                db,
                participant,
                list(form.item_ids.data or []),
                bool(form.may_read_minutes.data),
                by=me(),
            )
        if done:
            if changed:
                flash(_("The participant's items have been saved."), "success")
            return redirect(url_for("sessions.show", session_id=session.id) + "#participants")
    return render_form("convening/participant.html", form, session=session, participant=participant)


@bp.route("/participants/<int:participant_id>/delete", methods=["POST"])
@login_required
def remove_participant(participant_id: int):
    db = get_db()
    participant, session = _load_participant(participant_id)
    name = participant.person.name
    with flashed() as done:
        convening.remove_participant(db, participant, by=me())
    if done:
        flash(_("%(name)s is no longer a participant.", name=name), "success")
        mail_dispatch.announce_pending(session)
    return redirect(url_for("sessions.show", session_id=session.id) + "#participants")


@bp.route("/sessions/<int:session_id>/session-pledge/<int:body_id>", methods=["POST"])
@login_required
@once
def pledge(session_id: int, body_id: int):
    """A participant's pledge for this session: their own, or (secretariat) a participant's,
    given as ``person_id``."""
    db = get_db()
    session = load_session(session_id)
    session_access_or_404(session)
    person_id = request.form.get("person_id")
    person = get_or_404(Person, optional_int(person_id)) if person_id else me()
    back = url_for("sessions.show", session_id=session.id)
    with flashed() as done:
        pledge = convening.record_session_pledge(db, session, body_id, person, by=me())
    if done:
        remember(back)
        flash(
            _(
                "The confidentiality pledge of %(name)s for this session (%(body)s) has been "
                "recorded.",
                name=person.name,
                body=pledge.body.name,
            ),
            "success",
        )
    return redirect(back)


# --- The convening notice and change notices ------------------------------------------------


class SendForm(InputForm):
    """A button: the CSRF token is its only field."""


@bp.route("/sessions/<int:session_id>/convene", methods=["GET", "POST"])
@login_required
def convene(session_id: int):
    """The convening notice (招集通知): read what goes to whom, then send it."""
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = SendForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            queued = notices.convene(db, session, **notice_args())
        if done:
            flash(_("The convening notice has been sent."), "success")
            mail_dispatch.announce_and_deliver(queued, mail.INVITE)
            return redirect(url_for("sessions.show", session_id=session.id))
    with attempt() as previewed:
        plan = notices.preview(db, session, links=links(), sender=mail_settings().sender)
    if not previewed.ok:
        flash(previewed.message, "error")
        return redirect(url_for("sessions.show", session_id=session.id))
    return render_form(
        "convening/convene.html",
        form,
        session=session,
        plan=plan,
        occurrences=notices.convenable(session),
    )


@bp.route("/sessions/<int:session_id>/notices", methods=["POST"])
@login_required
def send_notices(session_id: int):
    """Send the session's waiting change notices now, not with the next few minutes'."""
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = SendForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        queued = notices.send_now(db, session, **notice_args())
        if not queued.messages:
            flash(_("No one needed to be told of a change."), "info")
        mail_dispatch.announce_and_deliver(queued, mail.UPDATE)
    return redirect(url_for("sessions.show", session_id=session.id) + "#mail")
