"""Local issues (地域課題): an issue's page, raising one (from an agenda item, a session, or
a 協議体's page), editing it, moving its status, and taking open issues onto a session's
agenda. Who sees what is for the policy: the issue to the 協議体's members, the case item it
came from only to those who may see that item.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import SelectField, StringField, TextAreaField
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
    DateField,
    IdSelectField,
    InputForm,
    WholeNumbersField,
    none_choice,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.templating import has_errors, japanese_date
from renkei.blueprints.transaction import shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    AgendaItem,
    Body,
    BodyKind,
    IssueStatus,
    LocalIssue,
    LocalIssueEvent,
    MeetingSession,
)
from renkei.services import local_issues, policy
from renkei.services.local_issues import IssueData

bp = Blueprint("local_issues", __name__)


class IssueForm(InputForm):
    # Lengths and names are checked by the service, which says what is wrong in plain words.
    body_id = IdSelectField(
        _l("Consultative body"),
        description=_l("The layer-1 or layer-2 consultative body the issue goes to."),
    )
    title = StringField(_l("Title"), render_kw={"maxlength": local_issues.MAX_TITLE})
    text = TextAreaField(
        _l("The issue"),
        description=_l(
            "Write what the cases show about the area, without names or case numbers: the "
            "whole consultative body reads it, and it may go onto a public agenda."
        ),
        render_kw={"rows": 8, "maxlength": local_issues.MAX_TEXT},
    )
    area = StringField(
        _l("Area"),
        description=_l("A district or layer-2 area. Left empty: the consultative body's own area."),
        render_kw={"maxlength": local_issues.MAX_AREA, "list": "areas", "autocomplete": "off"},
    )


class StatusForm(InputForm):
    status = SelectField(
        _l("New status"),
        choices=IssueStatus.choices,
        validate_choice=False,  # the service names an unknown choice
    )
    on = DateField(_l("Since"), description=_l("Left empty: today."), validators=[Optional()])
    reason = StringField(
        _l("Reason"),
        description=_l("Needed to move the issue back, or from one outcome to another."),
        render_kw={"maxlength": local_issues.MAX_REASON},
    )


class TakeUpForm(InputForm):
    issue_ids = WholeNumbersField(
        _l("Issues to take up"), message=_l("Choose among the issues listed.")
    )


def _data(form: IssueForm, body_id: int | None = None) -> IssueData:
    return IssueData(
        title=form.title.data or "",
        text=form.text.data or "",
        area=form.area.data or "",
        body_id=body_id if body_id is not None else form.body_id.data,
    )


def _body_choices(form: IssueForm) -> None:
    form.body_id.choices = [
        none_choice(_l("(choose)")),
        *row_choices(local_issues.consultative_bodies(get_db())),
    ]


def _load(issue_id: int) -> LocalIssue:
    """The issue, or 404 for anyone who may not see it (it exists for them no more than
    the 協議体's list of sessions does)."""
    issue = local_issues.load(get_db(), issue_id)
    if issue is None or not policy.can_see_local_issue(
        get_db(), me(), issue.body, issue.created_by_id
    ):
        abort(404)
    return issue


def _shown(issue: LocalIssue) -> str:
    return url_for("local_issues.show", issue_id=issue.id)


def _raise_form(template_context: dict, action, *, fixed_body: Body | None = None):
    """The raise form, from wherever: ``action`` creates the issue from the form's data."""
    form = IssueForm()
    if fixed_body is None:
        _body_choices(form)
    else:
        del form.body_id
    if form.validate_on_submit():
        with shown_on(form) as done:
            issue = action(_data(form, fixed_body.id if fixed_body else None))
        if done:
            remember(_shown(issue))
            flash(_("The local issue has been raised."), "success")
            return redirect(_shown(issue))
    context = {"areas": local_issues.areas_used(get_db()), "fixed_body": fixed_body}
    return render_form("local_issues/form.html", form, issue=None, **context, **template_context)


@bp.route("/local-issues/<int:issue_id>")
@login_required
def show(issue_id: int):
    issue = _load(issue_id)
    can_manage = policy.can_manage_local_issues(get_db(), me(), issue.body)
    return _show(issue, StatusForm(formdata=None) if can_manage else None)


def _show(issue: LocalIssue, status_form: StatusForm | None):
    """The issue's page, with its status form as given (one sent back with errors keeps
    what was entered, and answers 400)."""
    db = get_db()
    person = me()
    source_shown = policy.can_see_issue_source(db, person, issue.source_item, issue.source_session)
    # A session that discussed it, as far as the viewer may know of it (one being
    # prepared is its secretariat's alone).
    sessions = [
        d.session
        for d in sorted(issue.discussions, key=lambda d: d.session.start_at)
        if policy.session_access(db, person, d.session).can_view
    ]
    visible = {s.id for s in sessions}
    page = render_template(
        "local_issues/show.html",
        issue=issue,
        source_shown=source_shown,
        sessions=sessions,
        can_manage=status_form is not None,
        status_form=status_form,
        history_line=lambda event: _history_line(event, visible),
    )
    item = issue.source_item
    if source_shown and item is not None:
        audit_confidential(
            "view", item.session, [item], subject_type="agenda_item", subject_id=item.id
        )
    return page, 400 if status_form is not None and has_errors(status_form) else 200


def _history_line(event: LocalIssueEvent, visible_session_ids: set[int]) -> str:
    """What one history entry says, in the reader's language. A session is named only to
    those who may know of it (one being prepared is its secretariat's alone)."""
    day = japanese_date(event.effective_on, weekday=False)
    moved = ""
    if event.old_status is not None and event.new_status is not None:
        moved = _(
            "Status: %(old)s → %(new)s.", old=event.old_status.label, new=event.new_status.label
        )
    if event.kind == local_issues.RAISED:
        return _("Raised.")
    if event.kind == local_issues.EDITED:
        labels = local_issues.FIELD_LABELS
        names = "、".join(str(labels.get(n, n)) for n in event.fields.split(",") if n)
        return _("Changed: %(fields)s.", fields=names)
    if event.kind == local_issues.STATUS and event.old_status and event.new_status:
        return _(
            "Status: %(old)s → %(new)s (as of %(date)s).",
            old=event.old_status.label,
            new=event.new_status.label,
            date=day,
        )
    if event.session is not None and event.session_id in visible_session_ids:
        line = _("Taken onto the agenda of “%(session)s”.", session=event.session.title)
    else:
        line = _("Taken onto the agenda of a session.")
    return f"{line} {moved}".strip()


@bp.route("/local-issues/new/body/<int:body_id>", methods=["GET", "POST"])
@login_required
@once
def new_for_body(body_id: int):
    db = get_db()
    body = get_or_404(Body, body_id)
    if body.kind != BodyKind.CONSULTATIVE_BODY:
        abort(404)
    require(policy.can_manage_local_issues(db, me(), body))
    return _raise_form(
        {"back": url_for("bodies.show", body_id=body.id, _anchor="local-issues")},
        lambda data: local_issues.raise_directly(db, data, by=me()),
        fixed_body=body,
    )


@bp.route("/local-issues/new/item/<int:item_id>", methods=["GET", "POST"])
@login_required
@once
def new_from_item(item_id: int):
    db = get_db()
    item = get_or_404(AgendaItem, item_id)
    access = session_access_or_404(item.session)
    require(access.can_manage and access.can_see_item(item))
    return _raise_form(
        {
            "source_item": item,
            "back": url_for("sessions.show", session_id=item.session_id, _anchor="agenda"),
        },
        lambda data: local_issues.raise_from_item(db, item, data, by=me()),
    )


@bp.route("/local-issues/new/session/<int:session_id>", methods=["GET", "POST"])
@login_required
@once
def new_from_session(session_id: int):
    db = get_db()
    session = get_or_404(MeetingSession, session_id)
    require(session_access_or_404(session).can_manage)
    return _raise_form(
        {"source_session": session, "back": url_for("sessions.show", session_id=session.id)},
        lambda data: local_issues.raise_from_session(db, session, data, by=me()),
    )


@bp.route("/local-issues/<int:issue_id>/edit", methods=["GET", "POST"])
@login_required
def edit(issue_id: int):
    db = get_db()
    issue = _load(issue_id)
    require(policy.can_manage_local_issues(db, me(), issue.body))
    form = IssueForm(obj=issue if request.method == "GET" else None)
    del form.body_id
    if form.validate_on_submit():
        with shown_on(form) as done:
            local_issues.edit(db, issue, _data(form, issue.body_id), by=me())
        if done:
            flash(_("The changes have been saved."), "success")
            return redirect(_shown(issue))
    return render_form(
        "local_issues/form.html",
        form,
        issue=issue,
        areas=local_issues.areas_used(db),
        fixed_body=issue.body,
        back=_shown(issue),
    )


@bp.route("/local-issues/<int:issue_id>/status", methods=["POST"])
@login_required
def set_status(issue_id: int):
    db = get_db()
    issue = _load(issue_id)
    require(policy.can_manage_local_issues(db, me(), issue.body))
    form = StatusForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            local_issues.change_status(
                db, issue, form.status.data, on=form.on.data, reason=form.reason.data or "", by=me()
            )
        if done:
            flash(_("The status has been changed."), "success")
            return redirect(_shown(issue))
    return _show(issue, form)


@bp.route("/sessions/<int:session_id>/local-issues/take-up", methods=["GET", "POST"])
@login_required
def take_up(session_id: int):
    """「議題に取り上げる」: the open issues of the session's 協議体, chosen, onto its agenda."""
    db = get_db()
    session = get_or_404(MeetingSession, session_id)
    require(session_access_or_404(session).can_manage)
    form = TakeUpForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            items = local_issues.take_onto_agenda(db, session, form.issue_ids.data, by=me())
        if done:
            flash(_("Issues taken onto the agenda: %(n)d.", n=len(items)), "success")
            return redirect(url_for("sessions.show", session_id=session.id, _anchor="agenda"))
    return render_form(
        "local_issues/take_up.html",
        form,
        session=session,
        issues=local_issues.open_issues_for(db, session),
        kyogitai=local_issues.served_kyogitai(session),
    )
