"""Referrals (つなぎ) and the case view: thin views over services/referrals.py.

What a viewer may see is the policy's: lists are filtered in SQL, a referral or case the
viewer may not see is not found (404), never an empty page.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from renkei.blueprints.common import csv_download, me, render_form, require
from renkei.blueprints.fields import (
    CheckboxesField,
    DateField,
    IdSelectField,
    InputForm,
    Required,
    WholeNumberField,
    flash_errors,
    none_choice,
    optional_int,
    query_int,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.templating import has_errors
from renkei.blueprints.transaction import flashed, shown_on
from renkei.db import get_db
from renkei.i18n import format_tokyo
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Consent, MeetingSession, Organisation, Person, ReferralStatus, Topic
from renkei.services import audit, case_numbers, policy, referrals, spreadsheets
from renkei.services.dates import fiscal_year_of, today
from renkei.services.errors import Forbidden, NotFound
from renkei.services.organisations import list_organisations

bp = Blueprint("referrals", __name__)

TOO_LONG = _l("Use at most %(max)d characters.")


class ReferralForm(InputForm):
    referred_on = DateField(_l("Date referred"), validators=[Required(_l("Enter the date."))])
    from_organisation_id = IdSelectField(
        _l("Referred from"), validators=[Required(_l("Choose one."))]
    )
    to_organisation_id = IdSelectField(_l("Referred to"), validators=[Required(_l("Choose one."))])
    responsible_id = IdSelectField(_l("Responsible staff member"))
    case_number = StringField(
        _l("Case number"),
        description=_l(
            "Name the case by its case number, such as R8-0012, never by the person's name. "
            "Type the number of a case known before, or tick the box below for a new case."
        ),
        render_kw={"maxlength": 24, "autocomplete": "off"},
    )
    assign_case_number = BooleanField(_l("Assign the next case number"))
    topic_ids = CheckboxesField(_l("Topics"), coerce=optional_int, validate_choice=False)
    consent = SelectField(
        _l("Consent to share"),
        choices=[none_choice(_l("(choose)")), *Consent.choices()],
        validate_choice=False,  # the service names an unknown choice
        description=_l(
            "Without consent, or while it is being asked, only the referring organisation "
            "sees the referral, until the case is taken to a support meeting."
        ),
    )
    note = TextAreaField(
        _l("Note"),
        description=_l("A short note, without names: at most 500 characters."),
        validators=[Length(max=500, message=TOO_LONG)],
        render_kw={"rows": 3},
    )
    save_anyway = BooleanField(_l("Save as it is"))


class StatusForm(InputForm):
    status = SelectField(_l("New status"), choices=ReferralStatus.choices, validate_choice=False)
    on = DateField(_l("Date of the change"), validators=[Required(_l("Enter the date."))])
    reason = StringField(
        _l("Reason"),
        description=_l("Needed when the status goes back."),
        validators=[Length(max=500, message=TOO_LONG)],
    )


class MeetingForm(InputForm):
    session_id = IdSelectField(
        _l("Support meeting session"), validators=[Required(_l("Choose one."))]
    )


class TopicForm(InputForm):
    name = StringField(_l("Name"), validators=[Required(_l("Enter a name."))])
    position = WholeNumberField(_l("Order"), message=_l("Enter a whole number."), default=0)
    active = BooleanField(_l("In use"), default=True)


def _contact_days() -> int:
    value = current_app.config.get("REFERRAL_CONTACT_DAYS") or referrals.DEFAULT_CONTACT_DAYS
    return int(value)


def _prefix() -> str:
    return current_app.config.get("CASE_NUMBER_PREFIX", "")


def _organisations() -> list[Organisation]:
    return list_organisations(get_db())


def _filters() -> referrals.Filters:
    status = request.args.get("status", "")
    return referrals.Filters(
        status=status if status in {s.value for s in ReferralStatus} else "",
        from_organisation_id=query_int("from"),
        to_organisation_id=query_int("to"),
        fiscal_year=_year(query_int("year")),
        overdue=request.args.get("overdue") == "1",
        contact_days=_contact_days(),
    )


def _year(value: int | None) -> int | None:
    """A fiscal year the list can ask for; any other number is no filter."""
    return value if value is not None and 2000 <= value <= 2099 else None


FILTER_ARGS = ("status", "from", "to", "year", "overdue")


def _filter_args() -> dict[str, str]:
    """The list's filters as sent, for the CSV links (without any other parameter)."""
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


def _referral_or_404(referral_id: int):
    try:
        return referrals.get_referral(get_db(), me(), referral_id)
    except NotFound:
        abort(404)


@bp.route("/referrals/")
@login_required
def index():
    filters = _filters()
    found = referrals.list_referrals(get_db(), me(), filters)
    this_year = fiscal_year_of(today())
    return render_template(
        "referrals/index.html",
        referrals=found,
        filters=filters,
        organisations=_organisations(),
        statuses=list(ReferralStatus),
        years=list(range(this_year, this_year - 6, -1)),
        can_record=policy.can_record_referrals(me()),
        can_manage_topics=policy.can_manage_topics(me()),
        is_overdue=lambda r: referrals.is_overdue(r, filters.contact_days),
        filter_args=_filter_args(),
    )


@bp.route("/referrals/export.csv")
@login_required
def export():
    db = get_db()
    found = referrals.list_referrals(db, me(), _filters())
    encoding = spreadsheets.CP932 if request.args.get("encoding") == "cp932" else spreadsheets.UTF8
    referrals.record_export(db, me(), len(found))
    return csv_download(referrals.csv_rows(found), "referrals.csv", encoding)


def _fill_choices(form: ReferralForm) -> None:
    db = get_db()
    organisations = _organisations()
    form.from_organisation_id.choices = [none_choice(_l("(choose)")), *row_choices(organisations)]
    form.to_organisation_id.choices = [none_choice(_l("(choose)")), *row_choices(organisations)]
    form.responsible_id.choices = [none_choice(), *row_choices(_staff(db), _staff_label)]
    form.topic_ids.choices = row_choices(referrals.list_topics(db, active_only=True))


def _staff(db: Session) -> list[Person]:
    return list(
        db.scalars(
            select(Person)
            .where(Person.active, Person.organisation_id.is_not(None))
            .order_by(Person.kana, Person.name)
        )
    )


def _staff_label(person: Person) -> str:
    return f"{person.name}（{person.organisation.name}）" if person.organisation else person.name


def _data(form: ReferralForm) -> referrals.ReferralData:
    return referrals.ReferralData(
        referred_on=form.referred_on.data,
        from_organisation_id=form.from_organisation_id.data,
        to_organisation_id=form.to_organisation_id.data,
        case_number=form.case_number.data or "",
        assign_case_number=bool(form.assign_case_number.data),
        case_prefix=_prefix(),
        responsible_id=form.responsible_id.data,
        topic_ids=[i for i in (form.topic_ids.data or []) if i is not None],
        consent=form.consent.data or "",
        note=form.note.data or "",
    )


def _unconfirmed_names(form: ReferralForm) -> list[str]:
    """What looks like a person's name in the note, unless "save as it is" was ticked."""
    if not form.is_submitted() or form.save_anyway.data:
        return []
    return case_numbers.personal_names(form.note.data or "")


@bp.route("/referrals/new", methods=["GET", "POST"])
@login_required
@once
def new():
    require(policy.can_record_referrals(me()))
    form = ReferralForm()
    _fill_choices(form)
    if request.method == "GET":
        form.referred_on.data = today()
        form.from_organisation_id.data = me().organisation_id
    names = _unconfirmed_names(form)
    if form.validate_on_submit() and not names:
        with shown_on(form) as done:
            referral = referrals.create(get_db(), _data(form), by=me())
        if done:
            target = url_for("referrals.show", referral_id=referral.id)
            remember(target)
            flash(_("The referral has been recorded."), "success")
            return redirect(target)
    return render_form("referrals/form.html", form, referral=None, names=names)


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
@login_required
@once  # posted twice with 「次の番号を付ける」, it would issue a second case number
def edit(referral_id: int):
    referral = _referral_or_404(referral_id)
    require(policy.can_change_referral(me(), referral))
    if request.method == "GET":
        form = ReferralForm(
            obj=referral,
            consent=referral.consent.value,
            topic_ids=[t.id for t in referral.topics],
        )
    else:
        form = ReferralForm()
    _fill_choices(form)
    names = _unconfirmed_names(form)
    if form.validate_on_submit() and not names:
        with shown_on(form) as done:
            referrals.edit(get_db(), referral, _data(form), by=me())
        if done:
            target = url_for("referrals.show", referral_id=referral.id)
            remember(target)
            flash(_("The changes have been saved."), "success")
            return redirect(target)
    return render_form("referrals/form.html", form, referral=referral, names=names)


@bp.route("/referrals/<int:referral_id>")
@login_required
def show(referral_id: int):
    return _show(_referral_or_404(referral_id), StatusForm(on=today()))


def _show(referral, status_form: StatusForm):
    """The referral's page, with its status form as given (one sent back with errors keeps
    what was entered)."""
    db = get_db()
    sessions = referrals.upcoming_support_sessions(db, me()) if not referral.agenda_item else []
    meeting_form = MeetingForm()
    meeting_form.session_id.choices = [none_choice(_l("(choose)")), *_session_choices(sessions)]
    page = render_template(
        "referrals/show.html",
        referral=referral,
        status_form=status_form,
        meeting_form=meeting_form,
        sessions=sessions,
        can_change=policy.can_change_referral(me(), referral),
        # The session is named only to those who may know of it: a 支援会議's date alone
        # can say who is discussed.
        meeting_shown=_meeting_shown(referral),
        can_edit=policy.can_edit_referral(db, me(), referral),
        overdue=referrals.is_overdue(referral, _contact_days()),
    )
    return page, 400 if has_errors(status_form) else 200


def _meeting_shown(referral) -> bool:
    item = referral.agenda_item
    return item is not None and policy.session_access(get_db(), me(), item.session).can_view


def _session_choices(sessions: list[MeetingSession]) -> list[SelectChoice]:
    return [
        SelectChoice(str(s.id), f"{format_tokyo(s.start_at, 'date')} {s.title}") for s in sessions
    ]


@bp.route("/referrals/<int:referral_id>/status", methods=["POST"])
@login_required
def change_status(referral_id: int):
    referral = _referral_or_404(referral_id)
    form = StatusForm()
    if form.validate_on_submit():
        # Someone without the form on their page gets its error page, not an error there.
        with shown_on(form, refusals=(NotFound, Forbidden)) as done:
            referrals.change_status(
                get_db(),
                referral,
                form.status.data or "",
                on=form.on.data,
                reason=form.reason.data or "",
                by=me(),
            )
        if done:
            flash(_("The status has been changed."), "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return _show(referral, form)


@bp.route("/referrals/<int:referral_id>/meeting", methods=["POST"])
@login_required
def take_to_meeting(referral_id: int):
    db = get_db()
    referral = _referral_or_404(referral_id)
    form = MeetingForm()
    session = db.get(MeetingSession, form.session_id.data) if form.session_id.data else None
    if session is None:
        flash(_("Choose an upcoming support meeting session whose agenda you prepare."), "error")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    if form.validate_on_submit():
        with flashed() as done:
            referrals.take_to_meeting(db, referral, session, by=me(), case_prefix=_prefix())
        if done:
            flash(_("The case has been put on the support meeting's agenda."), "success")
    else:
        flash_errors(form)  # an expired page: said, not silently ignored
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/cases/<case_number>")
@login_required
def case(case_number: str):
    db = get_db()
    try:
        record = referrals.case_record(db, me(), case_number)
    except NotFound:
        abort(404)
    # Reading a case's confidential items and sections is logged per body, as on their
    # own pages.
    for item in record.items:
        audit.content_shown(db, me(), "view", item.session, [item], subject_type="case")
    for section in record.sections:
        session = section.version.minutes.session
        audit.content_shown(db, me(), "view", session, [section], subject_type="case")
    return render_template("referrals/case.html", record=record)


@bp.route("/referrals/topics", methods=["GET", "POST"])
@login_required
def topics():
    db = get_db()
    require(policy.can_manage_topics(me()))
    form = TopicForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            referrals.save_topic(
                db,
                None,
                name=form.name.data or "",
                position=form.position.data or 0,
                active=True,
                by=me(),
            )
        if done:
            flash(_("The topic has been saved."), "success")
            return redirect(url_for("referrals.topics"))
    return render_form("referrals/topics.html", form, topics=referrals.list_topics(db))


@bp.route("/referrals/topics/<int:topic_id>", methods=["POST"])
@login_required
def topic(topic_id: int):
    db = get_db()
    require(policy.can_manage_topics(me()))
    found = db.get(Topic, topic_id)
    if found is None:
        abort(404)
    form = TopicForm()
    if form.validate_on_submit():
        with flashed() as done:
            referrals.save_topic(
                db,
                found,
                name=form.name.data or "",
                position=form.position.data or 0,
                active=bool(form.active.data),
                by=me(),
            )
        if done:
            flash(_("The topic has been saved."), "success")
    else:
        flash_errors(form)
    return redirect(url_for("referrals.topics"))
