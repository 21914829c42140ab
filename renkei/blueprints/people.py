"""People: the register of everyone on a body, with or without a login."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from renkei.blueprints.common import get_or_404, me, render_form, require
from renkei.blueprints.fields import (
    DateField,
    IdSelectField,
    InputForm,
    NewPasswordForm,
    Required,
    none_choice,
    query_int,
    row_choices,
)
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import flashed, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Person, Post, Programme
from renkei.services import accounts, memberships, organisations, policy, posts
from renkei.services.accounts import PersonData
from renkei.services.posts import PostData

bp = Blueprint("people", __name__, url_prefix="/people")

TOO_LONG = _l("Use at most %(max)d characters.")
PAGE_SIZE = 100


class PersonForm(InputForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100, message=TOO_LONG)],
    )
    kana = StringField(
        _l("Name in kana"),
        description=_l("Used to sort names in Japanese order."),
        validators=[Length(max=100, message=TOO_LONG)],
    )
    email = EmailField(
        _l("E-mail address"),
        description=_l("Invitations are sent here. Leave empty for someone without e-mail."),
        validators=[Optional(), Length(max=254, message=TOO_LONG)],
    )
    phone = StringField(_l("Telephone"), validators=[Length(max=40, message=TOO_LONG)])
    organisation_id = IdSelectField(_l("Organisation"))


class LoginForm(NewPasswordForm):
    """An administrator gives a login or sets a new password."""


class AccountForm(InputForm):
    is_admin = BooleanField(_l("Administrator"))
    active = BooleanField(_l("Active"))


def _fill_choices(form: PersonForm) -> None:
    form.organisation_id.choices = [
        none_choice(),
        *row_choices(organisations.list_organisations(get_db())),
    ]


def _data(form: PersonForm) -> PersonData:
    return PersonData(
        name=form.name.data or "",
        kana=form.kana.data or "",
        email=form.email.data,
        phone=form.phone.data or "",
        organisation_id=form.organisation_id.data,
    )


@bp.route("/")
@login_required
def index():
    db = get_db()
    require(policy.can_manage_people(db, me()))
    query = request.args.get("q", "").strip()
    statement = (
        select(Person).options(selectinload(Person.organisation)).order_by(Person.kana, Person.name)
    )
    if query:
        like = f"%{query}%"
        statement = statement.where(
            Person.name.ilike(like) | Person.kana.ilike(like) | Person.email.ilike(like)
        )
    total = db.scalar(select(func.count()).select_from(statement.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(query_int("page", 1), pages)
    people = db.scalars(statement.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template(
        "people/index.html", people=people, query=query, page=page, pages=pages, total=total
    )


@bp.route("/<int:person_id>")
@login_required
def show(person_id: int):
    db = get_db()
    person = get_or_404(Person, person_id)
    viewer = me()
    require(policy.can_see_contact_details(db, viewer, person))
    return _render_show(person)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    db = get_db()
    require(policy.can_manage_people(db, me()))
    form = PersonForm()
    _fill_choices(form)
    if form.validate_on_submit():
        with shown_on(form) as done:
            person = accounts.create_person(db, _data(form))
        if done:
            shown = url_for("people.show", person_id=person.id)
            remember(shown)
            flash(_("%(name)s has been registered.", name=person.name), "success")
            return redirect(shown)
    return render_form("people/form.html", form, person=None)


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit(person_id: int):
    db = get_db()
    person = get_or_404(Person, person_id)
    require(policy.can_edit_person(db, me(), person))
    form = PersonForm(obj=person if request.method == "GET" else None)
    _fill_choices(form)
    if form.validate_on_submit():
        with shown_on(form) as done:
            accounts.update_person(db, person, _data(form))
        if done:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("people.show", person_id=person.id))
    return render_form("people/form.html", form, person=person)


@bp.route("/<int:person_id>/login", methods=["POST"])
@login_required
def set_login(person_id: int):
    """Give a person a login, or set a new password for them (administrators)."""
    db = get_db()
    person = get_or_404(Person, person_id)
    require(policy.can_manage_accounts(me()))
    form = LoginForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            accounts.give_login(db, person, form.password.data, by=me())
        if done:
            flash(_("The login of %(name)s has been set.", name=person.name), "success")
            return redirect(url_for("people.show", person_id=person.id))
    return _show_with_errors(person, login_form=form)


@bp.route("/<int:person_id>/account", methods=["POST"])
@login_required
def set_account(person_id: int):
    """Administrator flag and deactivation (administrators)."""
    db = get_db()
    person = get_or_404(Person, person_id)
    viewer = me()
    require(policy.can_manage_accounts(viewer))
    form = AccountForm()
    if form.validate_on_submit():
        with shown_on(form) as done:
            accounts.set_account(
                db, person, is_admin=form.is_admin.data, active=form.active.data, by=viewer
            )
        if done:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("people.show", person_id=person.id))
    return _show_with_errors(person, account_form=form)


def _show_with_errors(person: Person, **forms):
    return _render_show(person, 400, **forms)


def _render_show(person: Person, status: int = 200, **forms):
    """The person's page; a form given in ``forms`` (with its errors) replaces the blank one."""
    db = get_db()
    viewer = me()
    context = {
        "login_form": LoginForm(formdata=None),
        "account_form": AccountForm(obj=person),
        "post_form": PostForm(formdata=None),
    }
    context.update(forms)
    page = render_template(
        "people/show.html",
        person=person,
        terms=memberships.person_memberships(db, person),
        posts=posts.posts_of(db, person),
        suggested_titles=posts.SUGGESTED_TITLES,
        can_edit=policy.can_edit_person(db, viewer, person),
        can_manage_account=policy.can_manage_accounts(viewer),
        can_manage_posts=policy.can_manage_posts(viewer),
        can_see_hours=policy.can_see_apportionment(viewer, person),
        **context,
    )
    return page, status


# --- Posts (職) -----------------------------------------------------------------------------


class PostForm(InputForm):
    programme = SelectField(_l("Programme"), choices=Programme.choices, validate_choice=False)
    title = StringField(
        _l("Post"),
        description=_l("For example 相談支援員 or 生活支援コーディネーター."),
        render_kw={"list": "post-titles", "maxlength": posts.MAX_TITLE},
    )
    start_on = DateField(_l("From"), validators=[Required(_l("Enter the first day."))])
    end_on = DateField(
        _l("Until"), description=_l("Leave empty while the post is held."), validators=[Optional()]
    )


class EndPostForm(InputForm):
    end_on = DateField(_l("Last day"), validators=[Required(_l("Enter the last day."))])


@bp.route("/<int:person_id>/posts", methods=["POST"])
@login_required
@once
def add_post(person_id: int):
    db = get_db()
    person = get_or_404(Person, person_id)
    require(policy.can_manage_posts(me()))
    form = PostForm()
    if form.validate_on_submit():
        data = PostData(
            programme=form.programme.data or "",
            title=form.title.data or "",
            start_on=form.start_on.data,
            end_on=form.end_on.data,
        )
        with shown_on(form) as done:
            posts.add_post(db, person, data, by=me())
        if done:
            shown = url_for("people.show", person_id=person.id) + "#posts"
            remember(shown)
            flash(_("The post has been recorded."), "success")
            return redirect(shown)
    return _render_show(person, 400, post_form=form)


@bp.route("/posts/<int:post_id>/end", methods=["POST"])
@login_required
def end_post(post_id: int):
    db = get_db()
    post = get_or_404(Post, post_id)
    require(policy.can_manage_posts(me()))
    form = EndPostForm()
    if form.validate_on_submit():
        with flashed() as done:
            posts.end_post(db, post, form.end_on.data, by=me())
        if done:
            flash(_("The end of the post has been recorded."), "success")
    else:
        flash(" ".join(str(e) for e in form.end_on.errors) or _("Enter the last day."), "error")
    return redirect(url_for("people.show", person_id=post.person_id) + "#posts")


@bp.route("/posts/<int:post_id>/delete", methods=["POST"])
@login_required
def delete_post(post_id: int):
    db = get_db()
    post = get_or_404(Post, post_id)
    require(policy.can_manage_posts(me()))
    person_id = post.person_id
    posts.delete_post(db, post, by=me())
    flash(_("The post has been deleted."), "success")
    return redirect(url_for("people.show", person_id=person_id) + "#posts")
