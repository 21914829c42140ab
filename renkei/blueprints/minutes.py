"""Minutes (議事録): open a draft, edit it section by section, ask for approval, approve or
return, correct; read any version in the full, member or public view, per body, printed or
downloaded.

As for sessions, a session the reader may not know of does not exist (404); what each section
shows is for the policy alone to decide.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from renkei.blueprints import mail_dispatch, templating
from renkei.blueprints import prints as print_views
from renkei.blueprints.common import (
    audit_confidential,
    get_or_404,
    links,
    me,
    render_form,
    require,
    safe_next,
    session_access_or_404,
)
from renkei.blueprints.fields import (
    DateField,
    IdSelectField,
    InputForm,
    OneOf,
    flash_errors,
    none_choice,
    row_choices,
    whole_number,
)
from renkei.blueprints.once import already_saved, once, remember
from renkei.blueprints.sessions import load_session
from renkei.blueprints.transaction import attempt, flashed, shown_on
from renkei.db import get_db
from renkei.i18n import LazyText
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import (
    ActionItem,
    MinutesSection,
    MinutesStatus,
    Organisation,
    SectionKind,
    Visibility,
)
from renkei.services import (
    attendance,
    material_refs,
    materials,
    minutes,
    minutes_document,
    policy,
    prints,
    scheduling,
    tasks,
)
from renkei.services.policy import MinutesView

bp = Blueprint("minutes", __name__)

VIEW_LABELS = {
    MinutesView.FULL: _l("Full"),
    MinutesView.MEMBER: _l("For members"),
    MinutesView.PUBLIC: _l("For the public"),
}


class SectionForm(InputForm):
    text = TextAreaField(_l("Text"), render_kw={"rows": 8})
    revision = HiddenField()
    visibility = SelectField(
        _l("Who may see it"),
        choices=[c for c in Visibility.choices() if c.value in minutes.GENERAL_VISIBILITIES],
        validate_choice=False,  # the service names a wrong choice
    )


class DecisionForm(InputForm):
    comment = TextAreaField(
        _l("Comment"),
        description=_l("Required when returning the minutes: say what should be changed."),
        render_kw={"rows": 4, "maxlength": minutes.MAX_COMMENT},
    )
    # The button pressed.
    decision = HiddenField(
        _l("Decision"),
        validators=[
            OneOf(("approve", "return"), _l("Choose whether to approve or return the minutes."))
        ],
    )


class ActionDoneForm(InputForm):
    """A task's button: done (the default), or not done after all ("0")."""

    done = HiddenField(default="1", validators=[OneOf(("1", "0"), _l("Choose done or not done."))])
    next = HiddenField()


class PrintedForm(InputForm):
    """What the Print button prints: the view, and the body of an extract (or none)."""

    view = HiddenField(validators=[OneOf(MinutesView, _l("Choose a view of the minutes."))])
    body = HiddenField()


class CorrectionForm(InputForm):
    reason = StringField(
        _l("Reason for the correction"), render_kw={"maxlength": minutes.MAX_REASON}
    )


class SubmitForm(InputForm):
    attendance_reason = TextAreaField(
        _l("Why the minutes are submitted without the attendance record"),
        description=_l(
            "Needed only while the attendance record is not made. The chairs read it with "
            "the minutes."
        ),
        render_kw={"rows": 2, "maxlength": minutes.MAX_REASON},
    )


class ActionForm(InputForm):
    text = StringField(
        _l("Task"),
        description=_l("Pick a line of the section or write the task."),
        render_kw={"maxlength": minutes.MAX_ACTION},
    )
    owner_id = IdSelectField(_l("Who will do it"))
    owner_organisation_id = IdSelectField(
        _l("Or an organisation"),
        description=_l("Give the task to an organisation instead of a person."),
    )
    due_on = DateField(_l("Due date"), validators=[Optional()])


# --- Loading and access -------------------------------------------------------------------


def _version(version_id: int):
    """The version and the reader's access; 404 unless the reader may read it."""
    version = minutes_document.load_version(get_db(), version_id)
    if version is None:
        abort(404)
    access = session_access_or_404(version.minutes.session)
    if not policy.can_read_minutes(access, version):
        abort(404)
    return version, access


def _view() -> MinutesView:
    try:
        return MinutesView(request.args.get("view", MinutesView.MEMBER))
    except ValueError:
        abort(404)


def _extract_body(version, raw: str | None = None):
    """The body of a per-body extract (?body=ID, or ``raw`` from a form), or None for the
    whole minutes; 404 for a body the session did not serve."""
    raw = raw if raw is not None else request.args.get("body")
    if not raw:
        return None
    session = version.minutes.session
    body = next((b for b in session.bodies if str(b.id) == raw), None)
    if body is None:
        abort(404)
    return body


def _sections(version, body) -> list:
    """The sections of the whole minutes, or of one body's extract."""
    return minutes_document.body_part(version, body.id) if body else version.sections


def _require_view(access, sections, view) -> None:
    """The full view is refused (403) to those not entitled to every section."""
    if view == MinutesView.FULL and not policy.can_use_full_view(access, sections):
        abort(403)


def _document(version, access, view, body):
    sections = _sections(version, body)
    _require_view(access, sections, view)
    return minutes_document.document(sections, access, view)


def _managed_section(section_id: int):
    """A section, its version and the editor's access: 404 unless the version is readable,
    403 unless the reader is its secretariat."""
    section = get_or_404(MinutesSection, section_id)
    version, access = _version(section.version_id)
    require(access.can_manage)
    return section, version, access


def _owner_choices(session) -> list[SelectChoice]:
    """Who may be given a task: the session's invitees (the service checks the section)."""
    return row_choices(i.person for i in scheduling.invitees(get_db(), session))


def _organisation_choices() -> list[SelectChoice]:
    rows = get_db().scalars(select(Organisation).order_by(Organisation.name))
    return [none_choice(), *row_choices(rows)]


def _log_shown(action: str, version, document, view, body, detail: str = "") -> None:
    """Log the confidential sections this rendering showed (none: nothing logged)."""
    parts = [f"view={view.value}", f"body={body.id}" if body else "", detail]
    audit_confidential(
        action,
        version.minutes.session,
        [entry.section for entry in document if entry.shown],
        subject_type="minutes_version",
        subject_id=version.id,
        detail=" ".join(p for p in parts if p),
    )


# --- The session's minutes ----------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/minutes")
@login_required
def index(session_id: int):
    db = get_db()
    session = load_session(session_id)
    access = session_access_or_404(session)
    record = minutes_document.minutes_of(db, session)
    versions = [v for v in record.versions if policy.can_read_minutes(access, v)] if record else []
    return render_template(
        "minutes/index.html",
        session=session,
        access=access,
        record=record,
        versions=versions,
        correction_form=CorrectionForm(),
    )


@bp.route("/sessions/<int:session_id>/minutes", methods=["POST"])
@login_required
@once
def start(session_id: int):
    db = get_db()
    session = load_session(session_id)
    session_access_or_404(session)
    with attempt() as done:
        version = minutes.open_minutes(db, session, by=me())
    if isinstance(done.error, minutes.AlreadyStarted):
        # Started twice (a double click, or two secretaries at once): the first draft
        # stands, and this answer is that draft.
        return already_saved(_draft_or_page(done.error.version), done.error.message)
    if not done:
        flash(done.message, "error")
        return redirect(url_for("minutes.index", session_id=session.id))
    flash(_("A draft has been laid out from the session."), "success")
    return redirect(url_for("minutes.edit", version_id=version.id))


@bp.route("/sessions/<int:session_id>/minutes/correct", methods=["POST"])
@login_required
@once
def correct(session_id: int):
    db = get_db()
    session = load_session(session_id)
    access = session_access_or_404(session)
    require(access.can_manage)
    record = minutes_document.minutes_of(db, session)
    if record is None:
        abort(404)
    form = CorrectionForm()
    if form.validate_on_submit():
        with flashed() as done:
            version = minutes.start_correction(db, record, reason=form.reason.data or "", by=me())
        if done:
            remember(url_for("minutes.edit", version_id=version.id))
            flash(_("A new version has been started from the approved minutes."), "success")
            return redirect(url_for("minutes.edit", version_id=version.id))
    return redirect(url_for("minutes.index", session_id=session.id))


def _draft_or_page(version) -> str:
    """Where a version is worked on: its editor while a draft, else its page."""
    if version.is_locked:
        return url_for("minutes.show", version_id=version.id)
    return url_for("minutes.edit", version_id=version.id)


# --- Reading ------------------------------------------------------------------------------


@bp.route("/minutes/<int:version_id>")
@login_required
def show(version_id: int):
    version, access = _version(version_id)
    view = _view()
    body = _extract_body(version)
    document = _document(version, access, view, body)
    session = version.minutes.session
    _log_shown("view", version, document, view, body)
    return render_template(
        "minutes/show.html",
        version=version,
        session=session,
        access=access,
        view=view,
        body=body,
        document=document,
        **_printed(version, access, view, body, document),
        views=_views(version, access, body),
        approvals=minutes.decisions(version, access),
        to_decide=minutes.awaiting_decision(version, access),
        previous=minutes_document.previous_version(version),
        hash_matches=minutes_document.matches_hash(version) if version.content_hash else None,
    )


def _views(version, access, body) -> list[tuple[MinutesView, LazyText]]:
    """The views this reader may switch to (full only when entitled to every section)."""
    sections = _sections(version, body)
    shown = []
    for view, label in VIEW_LABELS.items():
        if view != MinutesView.FULL or policy.can_use_full_view(access, sections):
            shown.append((view, label))
    return shown


@bp.route("/minutes/<int:version_id>/download")
@login_required
def download(version_id: int):
    """The chosen view as one self-contained HTML file, for the website or the archive."""
    version, access = _version(version_id)
    view = _view()
    body = _extract_body(version)
    document = _document(version, access, view, body)
    _log_shown("export", version, document, view, body)
    css = open_static("css/minutes.css") + page_rule(version, body, document)
    html = render_template(
        "minutes/download.html",
        version=version,
        session=version.minutes.session,
        view=view,
        body=body,
        document=document,
        css=css,
        **_printed(version, access, view, body, document, external=True),
    )
    response = make_response(html)
    response.mimetype = "text/html"
    suffix = f"-body{body.id}" if body else ""
    name = f"minutes-{version.minutes.session_id}-v{version.number}-{view.value}{suffix}.html"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/minutes/<int:version_id>/printed", methods=["POST"])
@login_required
def printed(version_id: int):
    """The Print button tells the server before the browser prints: for the audit log."""
    version, access = _version(version_id)
    form = PrintedForm()
    if not form.validate_on_submit():
        abort(400)  # the page's own hidden fields: only a forged post gets here
    view = MinutesView(form.view.data)
    body = _extract_body(version, form.body.data or "")
    _log_shown("print", version, _document(version, access, view, body), view, body)
    return "", 204


@bp.route("/minutes/<int:version_id>/page.css")
@login_required
def page_css(version_id: int):
    """The running head of the printed pages: the bodies (or the extract's body) and date,
    and for a print holding closed content its mark, the reader and the time."""
    version, access = _version(version_id)
    body = _extract_body(version)
    document = _document(version, access, _view(), body)
    return print_views.css_response(page_rule(version, body, document))


def page_rule(version, body, document) -> str:
    session = version.minutes.session
    bodies = [body] if body else session.bodies
    return print_views.running_head(session, bodies, prints.shown_content(document))


def _printed(version, access, view, body, document, external: bool = False) -> dict:
    """What the 会議録 prints beside the sections: attendance, approvals, the mark; and
    ``cite``, a section's text as HTML with the materials it cites as links (absolute in a
    downloaded copy, which is read away from Renkei)."""
    bodies = [body] if body else version.minutes.session.bodies
    return {
        "proceedings": prints.proceedings(
            get_db(), version, bodies, access, view, templating.date_style()
        ),
        "mark": prints.mark_for(prints.shown_content(document)),
        "cite": _citations(version, access, view, external),
    }


def _citations(version, access, view, external: bool):
    def href(entry: material_refs.Cited) -> str:
        if entry.at_approval:  # the file kept at the approval, replaced since
            return url_for(
                "materials.download_version",
                material_id=entry.material.id,
                material_version_id=entry.version.id,
                _external=external,
            )
        return url_for("materials.download", material_id=entry.material.id, _external=external)

    found = material_refs.cited(get_db(), version, access, view)
    return material_refs.renderer(found, href)


def open_static(path: str) -> str:
    with current_app.open_resource(f"static/{path}", "r") as file:
        return file.read()


@bp.route("/minutes/<int:version_id>/diff")
@login_required
def diff(version_id: int):
    version, access = _version(version_id)
    previous = minutes_document.previous_version(version)
    if previous is None:
        abort(404)
    view = _view()
    _require_view(access, version.sections, view)
    changes = minutes_document.diff(previous, version)
    entries = _diff_entries(changes, access, view)
    _log_shown("view", version, entries, view, None, detail="diff")
    return render_template(
        "minutes/diff.html",
        version=version,
        previous=previous,
        session=version.minutes.session,
        view=view,
        views=_views(version, access, None),
        changes=zip(changes, entries, strict=True),
    )


def _diff_entries(changes, access, view):
    """A changed section is shown only if the reader may see it in both versions: text
    once closed stays closed, even where the newer version opened the section."""
    entries = minutes_document.document([c.section for c in changes], access, view)
    for change, entry in zip(changes, entries, strict=True):
        if change.older is not None and not policy.shows_section(access, change.older, view):
            entry.shown = False
    return entries


# --- Writing ------------------------------------------------------------------------------


@bp.route("/minutes/<int:version_id>/edit")
@login_required
def edit(version_id: int):
    db = get_db()
    version, access = _version(version_id)
    require(access.can_manage)
    if version.is_locked:
        flash(str(minutes.LOCKED), "error")
        return redirect(url_for("minutes.show", version_id=version.id))
    if minutes.sync_with_agenda(db, version):
        flash(_("Sections for agenda items added since the draft was laid out were added."), "info")
    document = minutes_document.document(version.sections, access, MinutesView.FULL)
    _log_shown("view", version, document, MinutesView.FULL, None, detail="editor")
    return _render_editor(version, access)


def _render_editor(version, access, status: int = 200, conflict=None):
    session = version.minutes.session
    owners = _owner_choices(session)
    organisations = _organisation_choices()
    forms = {}
    for section in version.sections:
        if access.can_see_item(section):
            # After a conflict the box keeps the editor's own text, beside theirs.
            mine = conflict is not None and conflict["section"].id == section.id
            form = SectionForm(
                formdata=None,
                text=conflict["yours"] if mine else section.text,
                revision=section.revision,
                visibility=section.visibility.value,
                prefix=f"s{section.id}",
            )
            action = ActionForm(formdata=None, prefix=f"a{section.id}")
            action.owner_id.choices = owners
            action.owner_organisation_id.choices = organisations
            action.text.render_kw = {**action.text.render_kw, "list": f"lines-{section.id}"}
            forms[section.id] = (form, action)
    return render_template(
        "minutes/edit.html",
        version=version,
        session=session,
        access=access,
        forms=forms,
        conflict=conflict,
        returned=minutes.returns(version, access),
        max_text=minutes.MAX_TEXT,
        submit_form=SubmitForm(formdata=None),
        attendance_recorded=attendance.is_recorded(get_db(), session),
        document=minutes_document.document(version.sections, access, MinutesView.FULL),
        citable=materials.for_reader(get_db(), session, access).listed,
    ), status


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/minutes/sections/<int:section_id>", methods=["POST"])
@login_required
def save(section_id: int):
    """Save one section: from the page's form, or from the editor's autosave (JSON)."""
    db = get_db()
    section, version, access = _managed_section(section_id)
    if version.is_locked:
        if _wants_json():
            return jsonify(error=str(minutes.LOCKED)), 409
        flash(str(minutes.LOCKED), "error")
        return redirect(url_for("minutes.show", version_id=version.id))
    form = SectionForm(prefix=f"s{section.id}")
    if not form.validate_on_submit():
        return _refused(version, access, _("The form has expired. Reload the page."), 400)
    revision = whole_number(form.revision.data, minimum=0)
    if revision is None:  # not the number the page was given
        return _refused(version, access, _("The form has expired. Reload the page."), 400)
    visibility = form.visibility.data if section.kind != SectionKind.ITEM else None
    with attempt() as done:
        minutes.save_section(
            db, section, form.text.data or "", revision=revision, by=me(), visibility=visibility
        )
    if isinstance(done.error, minutes.EditConflict):
        return _conflict(version, access, done.error)
    if not done:
        return _refused(version, access, done.message, 400)
    if _wants_json():
        return jsonify(revision=section.revision, message=_("Saved."))
    flash(_("The section has been saved."), "success")
    return redirect(url_for("minutes.edit", version_id=version.id, _anchor=f"section-{section.id}"))


def _refused(version, access, message: str, status: int):
    if _wants_json():
        return jsonify(error=message), status
    flash(message, "error")
    return _render_editor(version, access, status)


def _conflict(version, access, conflict: minutes.EditConflict):
    """Both texts, never a silent overwrite: theirs is saved, yours is shown beside it."""
    theirs = conflict.section
    who = theirs.updated_by.name if theirs.updated_by else ""
    if _wants_json():
        return jsonify(
            conflict=True,
            message=_("Someone else has updated this section (%(name)s).", name=who),
            theirs=theirs.text,
            revision=theirs.revision,
        ), 409
    return _render_editor(
        version, access, 409, conflict={"section": theirs, "yours": conflict.yours, "who": who}
    )


@bp.route("/minutes/<int:version_id>/submit", methods=["POST"])
@login_required
def submit(version_id: int):
    db = get_db()
    version, access = _version(version_id)
    require(access.can_manage)
    form = SubmitForm()
    back = redirect(url_for("minutes.edit", version_id=version.id, _anchor="submit"))
    if not form.validate_on_submit():
        flash_errors(form)
        return back
    with flashed() as done:
        queued = minutes.submit(
            db,
            version,
            by=me(),
            links=links(),
            sender=mail_dispatch.mail_settings().sender,
            attendance_reason=form.attendance_reason.data or "",
        )
    if not done:
        return back
    flash(_("Approval has been asked of the chairs."), "success")
    mail_dispatch.announce_and_deliver(queued, mail_dispatch.NOTICE)
    return redirect(url_for("minutes.show", version_id=version.id))


@bp.route("/minutes/<int:version_id>/withdraw", methods=["POST"])
@login_required
def withdraw(version_id: int):
    db = get_db()
    version, _access = _version(version_id)
    with flashed() as done:
        minutes.withdraw(db, version, by=me())
    if done:
        flash(_("The request for approval has been withdrawn; the minutes are a draft again."))
    return redirect(url_for("minutes.show", version_id=version.id))


# --- Approval -----------------------------------------------------------------------------


@bp.route("/minutes/<int:version_id>/approve/<int:body_id>", methods=["GET", "POST"])
@login_required
@once
def approve(version_id: int, body_id: int):
    """A chair reads the general sections and their body's own, and approves or returns."""
    db = get_db()
    version, access = _version(version_id)
    session = version.minutes.session
    body = next((b for b in session.bodies if b.id == body_id), None)
    if body is None:
        abort(404)
    require(body_id in access.chair_body_ids)
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        with shown_on(form) as done:
            queued = minutes.decide(
                db,
                version,
                body_id,
                approve=approve,
                comment=form.comment.data or "",
                by=me(),
                links=links(),
                sender=mail_dispatch.mail_settings().sender,
            )
        if done:
            remember(url_for("minutes.show", version_id=version.id))
            if not approve:
                flash(_("The minutes have been returned to the secretariat."), "success")
            elif version.status == MinutesStatus.APPROVED:
                flash(_("Every approval is in: the minutes are approved and locked."), "success")
            else:
                flash(_("Your approval has been recorded."), "success")
            mail_dispatch.announce_and_deliver(queued, mail_dispatch.NOTICE)
            return redirect(url_for("minutes.show", version_id=version.id))
    document = minutes_document.document(
        minutes_document.body_part(version, body_id), access, MinutesView.FULL
    )
    if request.method == "GET":
        _log_shown("view", version, document, MinutesView.FULL, body, detail="approval")
    return render_form(
        "minutes/approve.html",
        form,
        version=version,
        session=session,
        access=access,
        body=body,
        view=MinutesView.FULL,
        decided=minutes.current_approvals(version).get(body_id),
        document=document,
        **_printed(version, access, MinutesView.FULL, body, document),
    )


# --- Action items -------------------------------------------------------------------------


@bp.route("/minutes/sections/<int:section_id>/actions", methods=["POST"])
@login_required
@once
def add_action(section_id: int):
    db = get_db()
    section, version, access = _managed_section(section_id)
    form = ActionForm(prefix=f"a{section.id}")
    form.owner_id.choices = _owner_choices(version.minutes.session)
    form.owner_organisation_id.choices = _organisation_choices()
    back = url_for("minutes.edit", version_id=version.id, _anchor=f"section-{section.id}")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(map(str, errors)), "error")
        return redirect(back)
    with flashed() as done:
        minutes.add_action(
            db,
            section,
            text=form.text.data or "",
            owner_id=form.owner_id.data,
            owner_organisation_id=form.owner_organisation_id.data,
            due_on=form.due_on.data,
            by=me(),
        )
    if done:
        remember(back)
        flash(_("The task has been added."), "success")
    return redirect(back)


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@login_required
def action_done(action_id: int):
    db = get_db()
    action = get_or_404(ActionItem, action_id)
    if action.section is None:  # created directly: its owner's or its body's secretariat's
        if not tasks.may_change(db, me(), action):
            abort(404)
    else:
        access = session_access_or_404(action.section.version.minutes.session)
        readable = policy.can_read_minutes(access, action.section.version)
        if action.owner_id != me().id and not (readable and access.can_see_item(action.section)):
            abort(404)
    form = ActionDoneForm()
    back = redirect(safe_next(form.next.data))
    if not form.validate_on_submit():
        flash_errors(form)
        return back
    with flashed() as done:
        minutes.set_action_done(db, action, done=form.done.data == "1", by=me())
    if done:
        flash(_("The task has been updated."), "success")
    return back
