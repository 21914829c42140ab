"""Logging in and out, and the person's own account page."""

from flask import Blueprint, Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from renkei.blueprints.common import me, render_form, safe_next, show_error
from renkei.blueprints.fields import NewPasswordForm
from renkei.db import get_db
from renkei.models import Person
from renkei.services import accounts
from renkei.services.errors import DomainError

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(token: str) -> Person | None:
    person = get_db().scalar(select(Person).where(Person.login_token == token))
    return person if person is not None and person.is_active else None


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        person = accounts.authenticate(get_db(), form.email.data, form.password.data)
        if person is not None:
            # A fresh session on login, so an identifier planted before it is worthless.
            session.clear()
            login_user(person)
            return redirect(safe_next(request.args.get("next")))
        form.form_errors.append(_("The e-mail address or password is not correct."))
    return render_form("auth/login.html", form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_db()
        person = me()
        try:
            accounts.change_password(db, person, form.current_password.data, form.password.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db.commit()
            # The login token changed: log in again under the new one to stay logged in here.
            login_user(person)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    base = current_app.config["BASE_URL"].rstrip("/")
    feed_url = base + url_for("calendar.feed", token=me().feed_token)
    return render_form(
        "auth/account.html",
        form,
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
    )
