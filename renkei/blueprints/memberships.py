"""Memberships of a body: adding a person, correcting a term, ending it, importing from CSV."""

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from renkei.blueprints import mail_dispatch
from renkei.blueprints.common import get_or_404, links, me, render_form, require
from renkei.blueprints.fields import (
    DATE_MESSAGE,
    DateField,
    IdSelectField,
    InputForm,
    Required,
    none_choice,
    query_int,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.i18n import ngettext
from renkei.models import Body, Membership, Person, Role
from renkei.services import member_import, memberships, organisations, policy
from renkei.services.dates import today
from renkei.services.memberships import MembershipData

bp = Blueprint("memberships", __name__)


class MembershipForm(InputForm):
    person_id = IdSelectField(_l("Person"), validators=[DataRequired(_l("Choose a person."))])
    role = SelectField(_l("Role"), choices=Role.choices, default=Role.MEMBER.value)
    organisation_id = IdSelectField(
        _l("Organisation represented"), description=_l("The organisation this person sits for.")
    )
    term_start = DateField(_l("Term starts"), validators=[Required(DATE_MESSAGE)], default=today)
    term_end = DateField(
        _l("Term ends"),
        description=_l("Leave empty while the term has no set end."),
        validators=[Optional()],
    )
    note = TextAreaField(
        _l("Note"), validators=[Length(max=2000, message=_l("Use at most %(max)d characters."))]
    )


def _fill_choices(form: MembershipForm) -> None:
    db = get_db()
    people = db.scalars(select(Person).where(Person.active).order_by(Person.kana, Person.name))
    form.person_id.choices = [none_choice(_l("Choose a person")), *row_choices(people)]
    form.organisation_id.choices = [
        none_choice(),
        *row_choices(organisations.list_organisations(db)),
    ]


def _data(form: MembershipForm) -> MembershipData:
    return MembershipData(
        person_id=form.person_id.data,
        role=form.role.data,
        term_start=form.term_start.data,
        term_end=form.term_end.data,
        organisation_id=form.organisation_id.data,
        note=form.note.data or "",
    )


def _announce(body: Body, changes: list[tuple[str, Membership]]) -> None:
    """Queue the chair's notice in the change's transaction; deliver it once committed."""
    queued = memberships.announce_to_chairs(
        get_db(),
        body,
        changes,
        by=me(),
        sender=mail_dispatch.mail_settings().sender,
        link=links().body_members(body.id),
    )
    if queued.messages:
        mail_dispatch.deliver(mail_dispatch.mail_settings(), queued.ids)


@bp.route("/bodies/<int:body_id>/members/new", methods=["GET", "POST"])
@login_required
@once
def new(body_id: int):
    db = get_db()
    body = get_or_404(Body, body_id)
    require(policy.can_change_members(db, me(), body))
    form = MembershipForm()
    _fill_choices(form)
    if request.method == "GET" and request.args.get("person"):
        form.person_id.data = query_int("person")
    if form.validate_on_submit():
        with shown_on(form) as done:
            membership = memberships.add_membership(db, body, _data(form), by=me())
        if done:
            remember(url_for("bodies.show", body_id=body.id))
            _announce(body, [("added", membership)])
            flash(
                _(
                    "%(name)s has been added to %(body)s.",
                    name=membership.person.name,
                    body=body.name,
                ),
                "success",
            )
            return redirect(url_for("bodies.show", body_id=body.id))
    return render_form("memberships/form.html", form, body=body, membership=None)


@bp.route("/memberships/<int:membership_id>/edit", methods=["GET", "POST"])
@login_required
def edit(membership_id: int):
    db = get_db()
    membership = get_or_404(Membership, membership_id)
    body = membership.body
    require(policy.can_change_members(db, me(), body))
    form = MembershipForm(obj=membership if request.method == "GET" else None)
    _fill_choices(form)
    form.person_id.data = membership.person_id
    if form.validate_on_submit():
        with shown_on(form) as done:
            memberships.update_membership(db, membership, _data(form), by=me())
        if done:
            _announce(body, [("corrected", membership)])
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("bodies.show", body_id=body.id))
    return render_form("memberships/form.html", form, body=body, membership=membership)


class EndForm(InputForm):
    term_end = DateField(
        _l("Last day of the term"), validators=[Required(DATE_MESSAGE)], default=today
    )


@bp.route("/memberships/<int:membership_id>/end", methods=["GET", "POST"])
@login_required
def end(membership_id: int):
    db = get_db()
    membership = get_or_404(Membership, membership_id)
    body = membership.body
    require(policy.can_change_members(db, me(), body))
    form = EndForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            memberships.end_membership(db, membership, form.term_end.data, by=me())
        if done:
            _announce(body, [("ended", membership)])
            flash(_("The term of %(name)s has been ended.", name=membership.person.name), "success")
            return redirect(url_for("bodies.show", body_id=body.id))
    return render_form("memberships/end.html", form, body=body, membership=membership)


class ImportForm(InputForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "UTF-8 or Shift_JIS, as the spreadsheet saves it; at most %(max)d lines.",
            max=member_import.MAX_ROWS,
        ),
        validators=[FileRequired(_l("Choose a CSV file."))],
    )


class ImportCommitForm(InputForm):
    """Carries the decoded text of the previewed file; the commit checks it all again."""

    text = HiddenField()


def _render_import(body: Body, form: ImportForm, preview: member_import.ImportPreview | None):
    commit_form = None
    if preview is not None and preview.ok:
        commit_form = ImportCommitForm(formdata=None, data={"text": preview.text})
    failed = bool(form.errors) or (preview is not None and not preview.ok)
    page = render_template(
        "memberships/import.html",
        body=body,
        form=form,
        preview=preview,
        commit_form=commit_form,
        headings=member_import.HEADINGS,
        role_hint=member_import.ROLE_HINT,
        max_lengths=member_import.MAX_LENGTHS,
        max_rows=member_import.MAX_ROWS,
    )
    return page, 400 if failed else 200


def _check_resendable(preview: member_import.ImportPreview) -> None:
    """The commit form posts the text back URL-encoded, which can be several times the
    file's size; say so now rather than fail with "too large" after a good preview."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or not preview.ok:
        return
    # Browsers send line breaks as CR LF.
    text = preview.text.replace("\r\n", "\n").replace("\n", "\r\n")
    if len(urlencode({"text": text})) + 1024 > limit:  # 1024: the CSRF token and the rest
        preview.reject(
            "too_large",
            _l("The file is too large to import in one go. Split it and import each part."),
        )


@bp.route("/bodies/<int:body_id>/members/import", methods=["GET", "POST"])
@login_required
def import_csv(body_id: int):
    """Upload a CSV file and see, line by line, what importing it would do."""
    db = get_db()
    body = get_or_404(Body, body_id)
    require(policy.can_change_members(db, me(), body))
    form = ImportForm()
    preview = None
    if form.validate_on_submit():
        preview = member_import.parse(db, body, form.file.data.read())
        _check_resendable(preview)
    return _render_import(body, form, preview)


@bp.route("/bodies/<int:body_id>/members/import/commit", methods=["POST"])
@login_required
@once
def import_commit(body_id: int):
    """Import the previewed text. The service reads and checks it again from scratch."""
    db = get_db()
    body = get_or_404(Body, body_id)
    require(policy.can_change_members(db, me(), body))
    form = ImportCommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        added = member_import.commit(db, body, form.text.data or "", by=me())
    except member_import.InvalidImport as error:  # nothing was written
        return _render_import(body, ImportForm(formdata=None), error.preview)
    remember(url_for("bodies.show", body_id=body.id))
    _announce(body, [("added", m) for m in added])
    flash(
        ngettext(
            "%(num)d member has been added to %(body)s.",
            "%(num)d members have been added to %(body)s.",
            len(added),
            body=body.name,
        ),
        "success",
    )
    return redirect(url_for("bodies.show", body_id=body.id))
