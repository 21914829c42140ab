"""Date polls (日程調整): make one, answer it (logged in, or through a personal link), read
the result with quorum per body, decide a slot, remind, export."""

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import login_required
from wtforms import Form, FormField, RadioField, StringField, TextAreaField
from wtforms.fields import FieldList
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from renkei.blueprints import mail_dispatch
from renkei.blueprints.common import csv_download, links, me, render_form, require
from renkei.blueprints.fields import (
    CheckboxesField,
    DateField,
    IdSelectField,
    InputForm,
    Required,
    TimeField,
    error_messages,
    none_choice,
    optional_int,
    row_choices,
)
from renkei.blueprints.once import already_saved, once, remember
from renkei.blueprints.sessions import TOO_LONG
from renkei.blueprints.transaction import shown_on
from renkei.db import get_db, utcnow
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Choice, Poll, Status
from renkei.services import policy, polls
from renkei.services.bodies import list_bodies
from renkei.services.dates import tokyo_to_utc
from renkei.services.errors import Checks, DomainError, DomainErrors, Forbidden, NotFound

bp = Blueprint("polls", __name__, url_prefix="/polls")

SLOT_ROWS = 8  # empty rows of the form are ignored
SLOT_FIELD = re.compile(r"slot-\d+")  # an answer's field, for a candidate slot of the poll
# Answering refuses those not asked with 403, as viewing refuses them with 404.
REFUSALS = (NotFound, Forbidden)


class SlotForm(Form):
    day = DateField(_l("Date"), validators=[Optional()])
    start = TimeField(_l("Starts at"), validators=[Optional()])
    end = TimeField(_l("Ends at"), validators=[Optional()])


class PollForm(InputForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Enter a title.")), Length(max=200, message=TOO_LONG)],
    )
    body_ids = CheckboxesField(
        _l("Bodies served"),
        coerce=optional_int,
        validate_choice=False,
        validators=[Required(_l("Choose at least one body."))],
        description=_l("Choose several bodies to hold a joint session."),
    )
    host_body_id = IdSelectField(
        _l("Host body"), description=_l("For a joint session: the body that hosts it.")
    )
    slots = FieldList(
        FormField(SlotForm),
        _l("Candidate slots"),
        min_entries=SLOT_ROWS,
        max_entries=polls.MAX_SLOTS,
    )
    deadline = DateField(
        _l("Deadline for answers"),
        validators=[Optional()],
        description=_l("Answers are taken until the end of this day."),
    )
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000, message=TOO_LONG)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each row's fields say which candidate they are (「候補2 開始」): a screen reader
        # reading a field, or the error summary linking to it, names the row.
        for number, entry in enumerate(self.slots.entries, start=1):
            entry.form.day.label.text = _("Slot %(n)d date", n=number)
            entry.form.start.label.text = _("Slot %(n)d start", n=number)
            entry.form.end.label.text = _("Slot %(n)d end", n=number)


class SlotAnswer:
    """An answer for one candidate slot: ○, △ or ×."""

    def __call__(self, form, field):
        if not field.data:
            raise StopValidation(str(_l("Answer every candidate slot.")))
        if field.data not in {choice.value for choice in Choice}:
            raise StopValidation(str(_l("Choose ○, △ or × for every candidate slot.")))


class AnswerForm(InputForm):
    """One person's answer to a poll: a choice for each candidate slot, posted as
    ``slot-<slot id>``, and a comment. ``for_poll`` makes the form of one poll."""

    comment = TextAreaField(
        _l("Comment"), validators=[Length(max=polls.COMMENT_LENGTH, message=TOO_LONG)]
    )

    @classmethod
    def for_poll(cls, poll: Poll, **kwargs):
        fields = {
            f"slot_{slot.id}": RadioField(
                polls.slot_label(slot),
                name=f"slot-{slot.id}",
                choices=Choice.choices(),
                validate_choice=False,  # SlotAnswer says what is wrong
                validators=[SlotAnswer()],
            )
            for slot in poll.slots
        }
        form = type(cls.__name__, (cls,), fields)(**kwargs)
        form.poll = poll
        return form

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        # An answer for a slot the poll does not have (the page is out of date, or forged)
        # is refused rather than dropped: the person would believe it was kept.
        known = {field.name for field in self}
        posted = set(formdata or ())
        self.stray = any(SLOT_FIELD.fullmatch(name) for name in posted - known)
        super().process(formdata, obj, data, extra_filters, **kwargs)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.stray:
            self.form_errors.append(str(_l("This candidate slot is not part of the poll.")))
        return valid and not self.stray

    def answers(self) -> dict[int, str]:
        """Slot id -> the choice sent for it."""
        return {slot.id: self[f"slot_{slot.id}"].data for slot in self.poll.slots}


class AnswerForForm(AnswerForm):
    """The secretariat enters the answer of someone asked."""

    person_id = IdSelectField(_l("Whose answer"))


class DecideForm(InputForm):
    slot_id = IdSelectField(_l("Candidate slot"))
    place = StringField(_l("Place"), validators=[Length(max=200, message=TOO_LONG)])


def _fill_choices(form: PollForm) -> None:
    mine = policy.secretary_body_ids(get_db(), me())
    bodies = [b for b in list_bodies(get_db()) if b.id in mine]
    form.body_ids.choices = row_choices(bodies)
    form.host_body_id.choices = [none_choice(_l("Choose the host body")), *row_choices(bodies)]


def _data(form: PollForm, checks: Checks) -> polls.PollData:
    """The poll the form describes: its rows that give a slot; a row given in part is
    kept in ``checks``, on each field it lacks, and a row the form could not read is left
    to the form's own error."""
    body_ids = list(form.body_ids.data or [])
    host = form.host_body_id.data
    if host is None and len(body_ids) == 1:
        host = body_ids[0]
    slots = []
    for number, entry in enumerate(form.slots.entries, start=1):
        row = entry.form
        given = {name: row[name].data for name in ("day", "start", "end")}
        if entry.errors or all(value is None for value in given.values()):
            continue
        with checks:
            _check_complete(row, given, number)
            day = given["day"]
            slots.append(
                polls.SlotData(
                    tokyo_to_utc(day, given["start"]),
                    tokyo_to_utc(day, given["end"]),
                    number=number,
                    field=row.day.name,
                )
            )
    return polls.PollData(
        title=form.title.data or "",
        body_ids=body_ids,
        host_body_id=host,
        slots=slots,
        deadline=form.deadline.data,
        comment=form.comment.data or "",
    )


def _check_complete(row: Form, given: dict, number: int) -> None:
    """A row with its date, start and end, or an error on each one it lacks."""
    missing = [
        DomainError(_l("Slot %(n)d: give the date, start and end.", n=number), row[name].name)
        for name, value in given.items()
        if value is None
    ]
    if missing:
        raise DomainErrors(missing)


def _checked(form: PollForm) -> polls.PollData | None:
    """The poll when the form is sent and right. The service's rules are checked even when
    a field is wrong, on what can be read, so that every fault is shown at once."""
    if not form.is_submitted():
        return None
    fields_ok = form.validate()
    slots_read = not any(entry.errors for entry in form.slots.entries)
    with shown_on(form) as done:
        checks = Checks()
        data = _data(form, checks)
        slots_read = slots_read and not checks.errors
        with checks:
            polls.validate(get_db(), data, by=me(), now=utcnow(), slots_read=slots_read)
        checks.done()
    return data if fields_ok and done else None


def load_poll(poll_id: int) -> tuple[Poll, policy.PollAccess]:
    """The poll and the viewer's access; 404 for anyone who may not know it exists."""
    poll = polls.load(get_db(), poll_id)
    access = policy.poll_access(get_db(), me(), poll) if poll else policy.PollAccess()
    if poll is None or not access.can_view:
        abort(404)
    return poll, access


@bp.route("/")
@login_required
def index():
    db = get_db()
    return render_template(
        "polls/index.html",
        polls=polls.visible_to(db, me()),
        can_create=bool(policy.secretary_body_ids(db, me())),
        now=utcnow(),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    db = get_db()
    require(bool(policy.secretary_body_ids(db, me())))
    form = PollForm()
    _fill_choices(form)
    if (data := _checked(form)) is not None:
        with shown_on(form):
            poll = polls.create_poll(db, data, by=me())
            settings = mail_dispatch.mail_settings()
            queued = polls.queue_requests(
                db,
                poll,
                organizer=me(),
                links=links(),
                sender=settings.sender,
            )
            shown = url_for("polls.show", poll_id=poll.id)
            remember(shown)
            flash(_("The date poll has been created."), "success")
            mail_dispatch.announce_and_deliver(queued, mail_dispatch.NOTICE)
            return redirect(shown)
    return render_form("polls/new.html", form)


@bp.route("/<int:poll_id>")
@login_required
def show(poll_id: int):
    poll, access = load_poll(poll_id)
    return _render_show(poll, access)


def _render_show(
    poll: Poll, access: policy.PollAccess, status: int = 200, *, refused=None, errors=()
):
    """The poll's page. What is wrong with ``refused`` (a form), or ``errors``, is said at
    the top; a refused answer is shown as it was typed."""
    db = get_db()
    result = polls.results(db, poll, me())
    mine = next((row for row in result.rows if row.invitee.person_id == me().id), None)
    page = render_template(
        "polls/show.html",
        poll=poll,
        access=access,
        result=result,
        mine=mine,
        choices=list(Choice),
        history=polls.history(db, poll) if access.can_manage else [],
        accepts=poll.accepts_answers(utcnow()),
        now=utcnow(),
        errors=[*errors, *(error_messages(refused) if refused is not None else [])],
        typed_for=refused if isinstance(refused, AnswerForForm) else None,
        typed_mine=refused if _own_answer(refused) else None,
        slot_label=polls.slot_label,
    )
    return page, status


def _own_answer(form) -> bool:
    return isinstance(form, AnswerForm) and not isinstance(form, AnswerForForm)


@bp.route("/<int:poll_id>/answer", methods=["POST"])
@login_required
@once
def answer(poll_id: int):
    db = get_db()
    poll, access = load_poll(poll_id)
    form = AnswerForm.for_poll(poll)
    if form.validate_on_submit():
        with shown_on(form, refusals=REFUSALS) as done:
            polls.answer(db, poll, me(), form.answers(), form.comment.data or "", by=me())
        if done:
            flash(_("Your answer has been saved."), "success")
            return redirect(url_for("polls.show", poll_id=poll.id))
    return _render_show(polls.load(db, poll_id), access, 400, refused=form)


@bp.route("/<int:poll_id>/answer-for", methods=["POST"])
@login_required
@once
def answer_for(poll_id: int):
    """The secretariat enters an answer heard by telephone or on paper."""
    db = get_db()
    poll, access = load_poll(poll_id)
    require(access.can_manage)
    form = AnswerForForm.for_poll(poll)
    if form.validate_on_submit():
        with shown_on(form, refusals=REFUSALS) as done:
            polls.answer_for(
                db, poll, form.person_id.data, form.answers(), form.comment.data or "", by=me()
            )
        if done:
            flash(_("The answer has been entered."), "success")
            return redirect(url_for("polls.show", poll_id=poll.id) + "#answer-for")
    return _render_show(polls.load(db, poll_id), access, 400, refused=form)


@bp.route("/<int:poll_id>/decide", methods=["POST"])
@login_required
@once
def decide(poll_id: int):
    db = get_db()
    poll, access = load_poll(poll_id)
    require(access.can_manage)
    form = DecideForm()
    if not form.validate_on_submit():
        return _render_show(polls.load(db, poll_id), access, 400, refused=form)
    with shown_on(form, refusals=REFUSALS) as done:
        session = polls.decide(db, poll, form.slot_id.data, by=me(), place=form.place.data or "")
    if isinstance(done.error, polls.AlreadyDecided):
        # Decided twice (a double click, or two secretaries at once): the first decision
        # stands, and the answer goes where the first went.
        return already_saved(_decided(db, poll_id), done.error.message)
    if not done:
        return _render_show(polls.load(db, poll_id), access, 400, refused=form)
    flash(
        _(
            "The date has been decided and the session saved as being prepared. Read the "
            "convening notice and send it."
        ),
        "success",
    )
    return redirect(url_for("convening.convene", session_id=session.id))


def _decided(db, poll_id: int) -> str:
    """Where a decision leads: its session's convening notice while that waits to be sent,
    else the poll (which links the session)."""
    poll = polls.load(db, poll_id)
    session = poll.session if poll is not None else None
    if session is not None and session.status == Status.PREPARED:
        return url_for("convening.convene", session_id=session.id)
    return url_for("polls.show", poll_id=poll_id)


@bp.route("/<int:poll_id>/remind", methods=["POST"])
@login_required
@once
def remind(poll_id: int):
    db = get_db()
    poll, access = load_poll(poll_id)
    require(access.can_manage)
    if not poll.accepts_answers(utcnow()):
        return _render_show(poll, access, 400, errors=[_("This poll no longer takes answers.")])
    queued = polls.queue_requests(
        db,
        poll,
        organizer=me(),
        links=links(),
        sender=mail_dispatch.mail_settings().sender,
        reminder=True,
    )
    if not queued.messages and not queued.without_address:
        flash(_("Nobody is waiting for a reminder today."), "info")
    mail_dispatch.announce_and_deliver(queued, mail_dispatch.NOTICE)
    return redirect(url_for("polls.show", poll_id=poll.id))


@bp.route("/<int:poll_id>/export.csv")
@login_required
def export(poll_id: int):
    poll, access = load_poll(poll_id)
    require(access.can_manage)
    result = polls.results(get_db(), poll, me())
    return csv_download(polls.csv_rows(result), f"poll-{poll.id}.csv")


# --- The personal link --------------------------------------------------------------------


@bp.route("/answer/<poll_token>", methods=["GET", "POST"])
@once
def link(poll_token: str):
    """A member without a login answers their own row: the page shows the poll and their
    answers only, never anyone else's."""
    db = get_db()
    try:
        found = polls.find_link(db, poll_token)
    except polls.LinkRefused as refused:
        return _link_refused(refused.status)
    poll, person = polls.load(db, found.poll_id), found.person
    if not policy.poll_access(db, person, poll).is_invitee:
        return _link_refused(404)  # left the poll's bodies: the link answers nothing
    form = AnswerForm.for_poll(poll)
    if form.validate_on_submit():
        with shown_on(form, refusals=REFUSALS) as done:
            polls.answer(db, poll, person, form.answers(), form.comment.data or "", by=None)
        if done:
            flash(_("Your answer has been saved."), "success")
            return redirect(url_for("polls.link", poll_token=poll_token))
    poll = polls.load(db, found.poll_id)
    row = next(i for i in poll.invitees if i.person_id == person.id)
    failed = form.is_submitted()
    page = render_template(
        "polls/link.html",
        poll=poll,
        person=person,
        row=row,
        answers=form.answers() if failed else polls.answers_of(db, poll, person),
        comment=(form.comment.data or "") if failed else row.comment,
        choices=list(Choice),
        errors=error_messages(form),
        typed=form if failed else None,
        slot_label=polls.slot_label,
    )
    return _no_store(page), 400 if failed else 200


def _link_refused(status: int):
    return _no_store(render_template("polls/link_invalid.html", status=status)), status


def _no_store(page: str) -> Response:
    """The page is reached by a secret address: no cache keeps it on a shared PC."""
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
