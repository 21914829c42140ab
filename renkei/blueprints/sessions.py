"""Sessions (開催回): schedule, show, edit, cancel; guests, replies and pledges."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from renkei.blueprints import mail_dispatch
from renkei.blueprints.common import (
    audit_confidential,
    get_or_404,
    me,
    render_form,
    require,
    safe_next,
    session_access_or_404,
)
from renkei.blueprints.fields import (
    DATE_MESSAGE,
    TIME_MESSAGE,
    CheckboxesField,
    DateField,
    IdSelectField,
    InputForm,
    OneOf,
    Required,
    TimeField,
    flash_errors,
    none_choice,
    optional_int,
    query_int,
    row_choices,
)
from renkei.blueprints.mail_dispatch import notice_args
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import flashed, shown_on
from renkei.db import get_db, utcnow
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.i18n import ngettext
from renkei.models import (
    AgendaItem,
    Answer,
    Body,
    Guest,
    MailStatus,
    MeetingSession,
    Mode,
    Participant,
    Person,
    Selection,
    Status,
)
from renkei.services import (
    agenda,
    attendance,
    convening,
    mail,
    materials,
    minutes,
    minutes_document,
    notices,
    pledges,
    policy,
    quorum,
    scheduling,
    series,
    session_list,
    tasks,
)
from renkei.services.bodies import list_bodies
from renkei.services.dates import holiday_name, in_tokyo, today, tokyo_date, tokyo_to_utc
from renkei.services.errors import Checks, DomainError
from renkei.services.mail import backlog
from renkei.services.scheduling import SessionData

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

TOO_LONG = _l("Use at most %(max)d characters.")
CHANGE_LABELS = {
    "created": _l("Registered"),
    "convened": _l("Convening notice sent"),
    "rescheduled": _l("Rescheduled"),
    "edited": _l("Details changed"),
    "cancelled": _l("Cancelled"),
    "status": _l("Status changed"),
    "agenda": _l("Agenda changed"),
    "agenda_correction": _l("Agenda corrected after the session"),
}
MAIL_KINDS = {
    mail.INVITE: _l("Invitation"),
    mail.UPDATE: _l("Change notice"),
    mail.CANCEL: _l("Cancellation notice"),
    mail.REMINDER: _l("Reminder"),
    minutes.REQUEST: _l("Request to approve the minutes"),
    minutes.APPROVED: _l("Minutes approved"),
    minutes.RETURNED: _l("Minutes returned"),
}
MAIL_STATUSES = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Not sent"),
}


class SessionForm(InputForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Enter a title.")), Length(max=200, message=TOO_LONG)],
    )
    body_ids = CheckboxesField(
        _l("Bodies served"),
        coerce=optional_int,
        validate_choice=False,  # the service names an unknown body in Japanese
        validators=[Required(_l("Choose at least one body."))],
        description=_l("Choose several bodies to hold a joint session."),
    )
    host_body_id = IdSelectField(
        _l("Host body"), description=_l("For a joint session: the body that hosts it.")
    )
    presiding_person_id = IdSelectField(_l("Presiding"))
    start_date = DateField(_l("Date"), validators=[Required(DATE_MESSAGE)])
    start_time = TimeField(_l("Starts at"), validators=[Required(TIME_MESSAGE)])
    end_time = TimeField(_l("Ends at"), validators=[Required(TIME_MESSAGE)])
    end_date = DateField(
        _l("End date"),
        description=_l("Only if the session ends on a later day."),
        validators=[Optional()],
    )
    mode = SelectField(_l("How it is held"), choices=Mode.choices, default=Mode.IN_PERSON.value)
    place = StringField(_l("Place"), validators=[Length(max=200, message=TOO_LONG)])
    online_url = URLField(_l("Online meeting link"), validators=[Length(max=500, message=TOO_LONG)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000, message=TOO_LONG)])
    repeat = SelectField(
        _l("Repeat"),
        choices=[
            SelectChoice("", _l("Does not repeat")),
            SelectChoice("weekly", _l("Every week or every few weeks")),
            SelectChoice("monthly_by_date", _l("Monthly on the same date")),
            SelectChoice(
                "monthly_by_weekday", _l("Monthly on the same weekday (e.g. 2nd Thursday)")
            ),
        ],
        default="",
    )
    repeat_interval = IntegerField(
        _l("Every how many weeks or months"),
        default=1,
        validators=[Optional(), NumberRange(1, 12, _l("Enter a number from 1 to 12."))],
    )
    repeat_until = DateField(_l("Repeat until"), validators=[Optional()])
    repeat_count = IntegerField(
        _l("Or number of sessions"),
        validators=[Optional(), NumberRange(2, 120, _l("Enter a number from 2 to 120."))],
    )
    scope = RadioField(
        _l("Change"),
        choices=[
            SelectChoice("this", _l("This session only")),
            SelectChoice("following", _l("This and following sessions")),
        ],
        default="this",
    )
    confirmed = HiddenField(default="")


REPEAT_FIELDS = ("repeat", "repeat_interval", "repeat_until", "repeat_count")


def _fill_choices(form: SessionForm, session: MeetingSession | None) -> None:
    db = get_db()
    mine = policy.secretary_body_ids(db, me())
    if session is not None:
        mine |= {b.id for b in session.bodies}
    bodies = [b for b in list_bodies(db) if b.id in mine]
    form.body_ids.choices = row_choices(bodies)
    form.host_body_id.choices = [none_choice(_l("Choose the host body")), *row_choices(bodies)]
    current = session.presiding_person_id if session is not None else None
    people = db.scalars(
        select(Person)
        .where(Person.active | (Person.id == current))
        .order_by(Person.kana, Person.name)
    )
    form.presiding_person_id.choices = [none_choice(), *row_choices(people)]


def _data(form: SessionForm) -> SessionData:
    """What the form says; a date or time it could not read stands in as today or
    midnight, for the checks that do not need it (see _times_read)."""
    start_day = form.start_date.data or tokyo_date(utcnow())
    end_day = form.end_date.data or start_day
    body_ids = list(form.body_ids.data or [])
    host = form.host_body_id.data
    if host is None and len(body_ids) == 1:
        host = body_ids[0]
    return SessionData(
        title=form.title.data or "",
        body_ids=body_ids,
        host_body_id=host,
        start=tokyo_to_utc(start_day, form.start_time.data or time(0)),
        end=tokyo_to_utc(end_day, form.end_time.data or time(0)),
        presiding_person_id=form.presiding_person_id.data,
        place=form.place.data or "",
        online_url=(form.online_url.data or "").strip(),
        mode=form.mode.data,
        notes=form.notes.data or "",
    )


def _times_read(form: SessionForm) -> bool:
    """Whether the form read the date and times: the service checks them only then."""
    fields = (form.start_date, form.start_time, form.end_time)
    return all(f.data is not None and not f.errors for f in fields) and not form.end_date.errors


def _checked(form: SessionForm) -> tuple[SessionData, series.RepeatRule | None] | None:
    """The session and its repeat rule when the form is sent and right. The service's rules
    are checked even when a field is wrong, on what can be read, so that every fault is
    shown at once rather than one per attempt."""
    if not form.is_submitted():
        return None
    fields_ok = form.validate()
    data, rule = _data(form), None
    with shown_on(form) as done:
        checks = Checks()
        with checks:
            scheduling.validate(get_db(), data, by=me(), times=_times_read(form))
        if form.repeat is not None and not any(getattr(form, n).errors for n in REPEAT_FIELDS):
            rule = _rule(form)
            if rule is not None and _times_read(form):
                with checks:
                    series.validate_rule(rule, data.start)
        checks.done()
    return (data, rule) if fields_ok and done else None


def _rule(form: SessionForm) -> series.RepeatRule | None:
    if not form.repeat.data:
        return None
    return series.RepeatRule(
        frequency=form.repeat.data,
        interval=form.repeat_interval.data or 1,
        until=form.repeat_until.data,
        count=form.repeat_count.data,
    )


def load_session(session_id: int) -> MeetingSession:
    """The session with what its page needs, or 404 for anyone not allowed to know of it."""
    session = get_db().scalar(
        select(MeetingSession)
        .where(MeetingSession.id == session_id)
        .options(
            selectinload(MeetingSession.bodies).joinedload(Body.parent),
            selectinload(MeetingSession.items).joinedload(AgendaItem.body),
            selectinload(MeetingSession.guests),
            selectinload(MeetingSession.replies),
            selectinload(MeetingSession.changes),
            selectinload(MeetingSession.selections).selectinload(Selection.members),
            selectinload(MeetingSession.participants).options(
                selectinload(Participant.items),
                joinedload(Participant.person).joinedload(Person.organisation),
            ),
            joinedload(MeetingSession.host_body),
            joinedload(MeetingSession.presiding_person),
        )
    )
    if session is None:
        abort(404)
    return session


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    db = get_db()
    require(bool(policy.secretary_body_ids(db, me())))
    form = SessionForm()
    del form.scope  # only an occurrence of a series has a scope to choose
    _fill_choices(form, None)
    if request.method == "GET":
        _preselect_body(form)
        form.start_time.data, form.end_time.data = time(14, 0), time(16, 0)
    found_warnings = []
    if (checked := _checked(form)) is not None:
        data, rule = checked
        with shown_on(form):
            found_warnings = scheduling.warnings(db, data, by=me())
            if not found_warnings or form.confirmed.data == _fingerprint(found_warnings):
                return _create(data, rule)
            form.confirmed.data = _fingerprint(found_warnings)
    return render_form("sessions/form.html", form, session=None, warnings=found_warnings)


def _preselect_body(form: SessionForm) -> None:
    """The body is chosen already when it is obvious: the page was opened from a body's
    page (?body=<id>), or the secretary serves only one body."""
    offered = [int(choice.value) for choice in form.body_ids.choices]
    body_id = query_int("body")
    if body_id not in offered:
        body_id = offered[0] if len(offered) == 1 else None
    if body_id is not None:
        form.body_ids.data = [body_id]
        form.host_body_id.data = body_id


def _fingerprint(found: list[scheduling.SchedulingWarning]) -> str:
    """What the secretary saw and accepted: going on needs the same warnings, so changing
    the date to another clash shows the new warnings first."""
    text = "|".join(
        f"{w.kind}:{w.start.isoformat()}:{w.holiday}:{w.other.id if w.other else ''}:{w.people}"
        for w in found
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _create(data: SessionData, rule):
    db = get_db()
    if rule is None:
        first = scheduling.create_session(db, data, by=me())
        count = 1
    else:
        created = series.create_series(db, data, rule, by=me())
        first, count = created.sessions[0], len(created.sessions)
    shown = url_for("sessions.show", session_id=first.id)
    remember(shown)
    if first.status == Status.HELD:
        flash(_("The session has been recorded as held. No notice is sent."), "success")
    else:
        flash(
            ngettext(
                "The session has been saved as being prepared. Members see it once you send "
                "the convening notice.",
                "%(num)d sessions have been saved as being prepared. Members see them once "
                "you send the convening notice.",
                count,
            ),
            "success",
        )
    return redirect(shown)


@bp.route("/<int:session_id>")
@login_required
def show(session_id: int):
    return _render_show(load_session(session_id))


def _render_show(session: MeetingSession, status: int = 200, **forms):
    """The session page; a form given in ``forms`` (with its errors) replaces the blank one."""
    db = get_db()
    access = session_access_or_404(session)
    people = scheduling.invitees(db, session)
    person = me()
    my_reply = next((r for r in session.replies if r.person_id == person.id), None)
    # No one answers or takes the calendar file of a session not yet convened.
    invited = not session.is_prepared and (
        access.is_participant or any(i.person.id == person.id for i in people)
    )
    # Held or cancelled: the reply recorded is shown, and no form to change it.
    answerable = invited and session.status == Status.CONVENED
    context = {
        "reply_form": ReplyForm(formdata=None, obj=my_reply) if answerable else None,
        "guest_form": GuestForm(formdata=None) if access.can_manage else None,
    }
    context.update(forms)
    record = attendance.attendances_of(db, session)
    carried = tasks.carried(db, session, access)
    listing = materials.for_reader(db, session, access)
    mail_messages = mail.session_messages(db, session) if access.can_manage else []
    page = render_template(
        "sessions/show.html",
        session=session,
        access=access,
        items=session.items,
        agenda_corrections=agenda.corrections_of(session),
        invitees=people,
        invitee_page=_invitee_page(people) if access.can_see_invitees else None,
        replies={r.person_id: r for r in session.replies},
        tally=scheduling.tally(session, people, session.replies) if access.can_see_invitees else [],
        invited=invited,
        my_reply=my_reply,
        answerable=answerable,
        pledge_bodies=access.bodies_needing_pledge(session),
        session_pledge_bodies=access.bodies_needing_session_pledge(session),
        participants=[p for p in session.participants if access.can_see_participant(p)],
        session_pledges=convening.session_pledges(db, session) if access.can_manage else set(),
        holiday=holiday_name(tokyo_date(session.start_at)),
        started=session.start_at <= utcnow(),
        notices_pending=_notices_pending(session) if access.can_manage else None,
        others=_series_others(session),
        change_labels=CHANGE_LABELS,
        mail_messages=mail_messages,
        mail_backlog=backlog.of_messages(mail_messages),
        mail_kinds=MAIL_KINDS,
        mail_statuses=MAIL_STATUSES,
        mail_to_outbox=not mail_dispatch.mail_settings().uses_smtp,
        minutes_versions=_minutes_versions(session, access),
        record=record,
        reckoning=quorum.of_session(session, people, record),
        present_for=attendance.present_for(access.owned_items_seen(session.items), people, record),
        partial_times=attendance.partial_times,
        listing=listing,
        carried=carried,
        **context,
    )
    if request.method == "GET":  # a refused form's page commits nothing, not even this
        shown: list[policy.Closable] = [i for i in session.items if access.can_see_item(i)]
        shown += [e.material for e in listing.listed]  # narrowed below their items
        audit_confidential("view", session, shown + [c.task for c in carried if c.shown])
    return page, status


INVITEES_PER_PAGE = 40


@dataclass
class InviteePage:
    """The invitees the session page lists: a page of ``INVITEES_PER_PAGE`` (``?invitees=2``)
    after the tally per body, or everyone (``?invitees=all``, for printing the list)."""

    shown: list[scheduling.Invitee]
    page: int  # 0: everyone
    pages: int
    total: int

    @property
    def is_last(self) -> bool:
        return self.page in (0, self.pages)


def _invitee_page(people: list[scheduling.Invitee]) -> InviteePage:
    pages = max(1, -(-len(people) // INVITEES_PER_PAGE))
    if request.args.get("invitees") == "all" or pages == 1:
        return InviteePage(people, 0 if pages > 1 else 1, pages, len(people))
    page = min(query_int("invitees", 1), pages)  # a page that is not one: the first
    start = (page - 1) * INVITEES_PER_PAGE
    return InviteePage(people[start : start + INVITEES_PER_PAGE], page, pages, len(people))


def _notices_pending(session: MeetingSession) -> datetime | None:
    """When the session's waiting change notices go out (its series' are sent together)."""
    sessions = session.series.sessions if session.series is not None else [session]
    marks = [s.notice_pending_since for s in sessions if s.notice_pending_since is not None]
    return min(marks) + mail_dispatch.notice_delay() if marks else None


def _minutes_versions(session: MeetingSession, access: policy.SessionAccess) -> list:
    record = minutes_document.minutes_of(get_db(), session)
    if record is None:
        return []
    return [v for v in record.versions if policy.can_read_minutes(access, v)]


def _series_others(session: MeetingSession) -> list[MeetingSession]:
    if session.series_id is None:
        return []
    return list(
        get_db().scalars(
            select(MeetingSession)
            .where(MeetingSession.series_id == session.series_id)
            .order_by(MeetingSession.start_at)
        )
    )


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit(session_id: int):
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = SessionForm()
    for name in REPEAT_FIELDS:  # a series is made when scheduling, not by editing
        delattr(form, name)
    _fill_choices(form, session)
    if request.method == "GET":
        _prefill(form, session)
    found_warnings = []
    if (checked := _checked(form)) is not None:
        data = checked[0]
        with shown_on(form):
            found_warnings = scheduling.warnings(db, data, by=me(), exclude_ids={session.id})
            if not found_warnings or form.confirmed.data == _fingerprint(found_warnings):
                if form.scope.data == "following" and session.series_id is not None:
                    series.update_following(db, session, data, by=me())
                else:
                    scheduling.update_session(db, session, data, by=me())
                flash(_("The changes have been saved."), "success")
                mail_dispatch.announce_pending(session)
                return redirect(url_for("sessions.show", session_id=session.id))
            form.confirmed.data = _fingerprint(found_warnings)
    return render_form("sessions/form.html", form, session=session, warnings=found_warnings)


def _prefill(form: SessionForm, session: MeetingSession) -> None:
    start, end = in_tokyo(session.start_at), in_tokyo(session.end_at)
    form.title.data = session.title
    form.body_ids.data = [b.id for b in session.bodies]
    form.host_body_id.data = session.host_body_id
    form.presiding_person_id.data = session.presiding_person_id
    form.start_date.data, form.start_time.data = start.date(), start.time()
    form.end_time.data = end.time()
    form.end_date.data = end.date() if end.date() != start.date() else None
    form.mode.data = session.mode.value
    form.place.data, form.online_url.data, form.notes.data = (
        session.place,
        session.online_url,
        session.notes,
    )


class CancelForm(InputForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000, message=TOO_LONG)])


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(session_id: int):
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = CancelForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            scheduling.cancel_session(db, session, by=me(), reason=form.reason.data or "")
        if done:
            # A cancellation goes at once, not with the next few minutes' changes.
            queued = notices.send_now(db, session, **notice_args())
            flash(_("The session has been cancelled."), "success")
            mail_dispatch.announce_and_deliver(queued, mail.CANCEL)
            return redirect(url_for("sessions.show", session_id=session.id))
    return render_form("sessions/cancel.html", form, session=session)


@bp.route("/<int:session_id>/mail/retry", methods=["POST"])
@login_required
def retry_mail(session_id: int):
    """Send this session's failed messages again (secretariat)."""
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    failed = [m.id for m in mail.session_messages(db, session) if m.status == MailStatus.FAILED]
    if failed:
        flash(
            ngettext(
                "Sending %(num)d message again.",
                "Sending %(num)d messages again.",
                len(failed),
            ),
            "info",
        )
        mail_dispatch.deliver(mail_dispatch.mail_settings(), failed)
    return redirect(url_for("sessions.show", session_id=session.id) + "#mail")


class StatusForm(InputForm):
    """Held, or not yet held after all (cancelling is a form of its own)."""

    status = HiddenField(
        validators=[
            OneOf((Status.CONVENED, Status.HELD), _l("Choose held or not yet held.")),
        ]
    )


@bp.route("/<int:session_id>/status", methods=["POST"])
@login_required
def set_status(session_id: int):
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = StatusForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        with flashed():
            scheduling.set_status(db, session, form.status.data, by=me())
    return redirect(url_for("sessions.show", session_id=session.id))


class ReplyForm(InputForm):
    answer = RadioField(
        _l("Your reply"),
        choices=Answer.choices,
        validators=[DataRequired(_l("Choose an answer."))],
    )
    proxy_name = StringField(
        _l("Name of the person attending for you"),
        validators=[Length(max=100, message=TOO_LONG)],
    )
    comment = StringField(_l("Comment"), validators=[Length(max=500, message=TOO_LONG)])


@bp.route("/<int:session_id>/reply", methods=["POST"])
@login_required
@once
def reply(session_id: int):
    db = get_db()
    session = load_session(session_id)
    session_access_or_404(session)
    require(scheduling.is_invitee(db, session, me()))
    form = ReplyForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            scheduling.set_reply(
                db,
                session,
                me(),
                form.answer.data,
                proxy_name=form.proxy_name.data or "",
                comment=form.comment.data or "",
            )
        if done:
            # Shown in the reply section (category "reply"), where the page comes back.
            flash(_("Your reply has been saved."), "reply")
            return redirect(url_for("sessions.show", session_id=session.id, _anchor="reply"))
    return _render_show(session, 400, reply_form=form)


class GuestForm(InputForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100, message=TOO_LONG)],
    )
    email = EmailField(
        _l("E-mail address"), validators=[Optional(), Length(max=254, message=TOO_LONG)]
    )
    organisation = StringField(_l("Organisation"), validators=[Length(max=200, message=TOO_LONG)])


@bp.route("/<int:session_id>/guests", methods=["POST"])
@login_required
@once
def add_guest(session_id: int):
    db = get_db()
    session = load_session(session_id)
    require(session_access_or_404(session).can_manage)
    form = GuestForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            guest = scheduling.add_guest(
                db,
                session,
                name=form.name.data,
                email=form.email.data or "",
                organisation=form.organisation.data or "",
                by=me(),
            )
        if done:
            shown = url_for("sessions.show", session_id=session.id) + "#invitees"
            remember(shown)
            flash(_("%(name)s has been added as a guest.", name=guest.name), "success")
            mail_dispatch.announce_pending(session)
            return redirect(shown)
    return _render_show(session, 400, guest_form=form)


@bp.route("/guests/<int:guest_id>/delete", methods=["POST"])
@login_required
def remove_guest(guest_id: int):
    db = get_db()
    guest = get_or_404(Guest, guest_id)
    session = load_session(guest.session_id)
    require(session_access_or_404(session).can_manage)
    scheduling.remove_guest(db, guest, by=me())
    flash(_("The guest has been removed."), "success")
    mail_dispatch.announce_pending(session)
    return redirect(url_for("sessions.show", session_id=session.id) + "#invitees")


@bp.route("/pledge/<int:body_id>", methods=["GET"])
@login_required
def pledge_page(body_id: int):
    """A body's pledge, to the text of its law; ``next`` is where the pledge leads back."""
    db = get_db()
    body = get_or_404(Body, body_id)
    target = request.args.get("next")
    return render_template(
        "sessions/pledge.html",
        body=body,
        text=pledges.pledge_text(body),
        pledged=pledges.has_pledge(db, me(), body),
        may_pledge=pledges.may_pledge(db, me(), body),
        back=safe_next(target) if target else url_for("bodies.show", body_id=body.id),
    )


class PledgeForm(InputForm):
    person_id = IdSelectField()  # a member's, recorded by the secretariat; none: one's own
    next = HiddenField()


@bp.route("/pledge/<int:body_id>", methods=["POST"])
@login_required
@once
def pledge(body_id: int):
    """Record a pledge: one's own, or (secretariat) a member's, given as ``person_id``."""
    db = get_db()
    body = get_or_404(Body, body_id)
    form = PledgeForm()
    back = safe_next(form.next.data)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(back)
    person_id = form.person_id.data
    person = get_or_404(Person, person_id) if person_id is not None else me()
    with flashed() as done:
        pledges.record_pledge(db, body, person, by=me())
    if done:
        remember(back)
        flash(
            _("The confidentiality pledge for %(body)s has been recorded.", body=body.name),
            "success",
        )
    return redirect(back)


# --- The list and the calendar (/sessions/) -------------------------------------------------

VIEWS = ("list", "month", "week")


@bp.route("/")
@login_required
def index():
    """Every session the viewer may know of: a list (coming, then past), a month calendar,
    or a week (the month as phones are offered it). A filter not understood is named on the
    page and narrows nothing."""
    db, viewer, on = get_db(), me(), today()
    bodies = session_list.body_choices(db, viewer)
    statuses = session_list.status_choices(db, viewer)
    filters, errors = session_list.parse_filters(request.args, bodies, statuses)
    view = request.args.get("view", "list")
    if view not in VIEWS:
        errors["view"] = _("Choose the list, the month or the week.")
        view = "list"
    shown = {"list": _list_view, "month": _month_view, "week": _week_view}[view]
    values = shown(db, viewer, filters, errors, on)
    page = render_template(
        "sessions/index.html",
        view=view,
        filters=filters,
        errors=errors,
        bodies=bodies,
        statuses=statuses,
        years=session_list.known_fiscal_years(db, viewer, on),
        args=_kept_args(filters),
        narrowed_to=session_list.narrowed_to(filters, bodies, by_year=view == "list"),
        **values,
    )
    return page, 400 if errors else 200


def _kept_args(filters: session_list.Filters) -> dict:
    """The filters understood, as links between the views carry them."""
    args = {"body": filters.body_id, "status": filters.status and filters.status.value}
    return {name: value for name, value in args.items() if value}


def _list_view(db, viewer, filters, errors, on) -> dict:
    found = session_list.listing(
        db, viewer, filters, now=utcnow(), on=on, page=query_int("page", 1)
    )
    return {"listing": found}


def _month_view(db, viewer, filters, errors, on) -> dict:
    try:
        month = session_list.parse_month(request.args.get("month"), on)
    except DomainError as error:
        errors["month"] = str(error.message)
        month = on.replace(day=1)
    return {
        "month": month,
        "month_moment": tokyo_to_utc(month, time(12)),
        "weeks": session_list.month_weeks(db, viewer, filters, month, on=on),
        "previous_month": session_list.previous_month(month),
        "next_month": session_list.next_month(month),
        "week_of": on if month == on.replace(day=1) else month,
    }


def _week_view(db, viewer, filters, errors, on) -> dict:
    try:
        sunday = session_list.parse_week(request.args.get("week"), on)
    except DomainError as error:
        errors["week"] = str(error.message)
        sunday = session_list.parse_week(None, on)
    return {
        "sunday": sunday,
        "days": session_list.week_days(db, viewer, filters, sunday, on=on),
        "previous_week": sunday - timedelta(days=7),
        "next_week": sunday + timedelta(days=7),
        "month": sunday.replace(day=1),
    }
