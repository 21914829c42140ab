"""Logging in and out (with a lock-out after repeated failures), setting a forgotten
password through an e-mailed link, and the person's own account page."""

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from renkei.blueprints import mail_dispatch
from renkei.blueprints.common import links, me, render_form, safe_next
from renkei.blueprints.fields import InputForm, NewPasswordForm
from renkei.blueprints.transaction import after_commit, keep_writes, shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Person
from renkei.services import accounts, logins, mail

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


class LoginForm(InputForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ForgotPasswordForm(InputForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))]
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_form("auth/login.html", form)
    db = get_db()
    email, ip = form.email.data, request.remote_addr or ""
    if not logins.begin_attempt(db, email, ip):
        # One message whether or not the address has an account; the password is not tried.
        logins.refused(db, email, ip, locked=True)
        keep_writes()
        form.form_errors.append(_locked_message())
        return render_form("auth/login.html", form)[0], 429
    # The attempt counts as a failure before the password is checked (services/logins.py),
    # so it is committed now, not with the answer.
    db.commit()
    person = accounts.authenticate(db, email, form.password.data)
    if person is None:
        logins.refused(db, email, ip, locked=False)
        keep_writes()
        form.form_errors.append(
            _("The e-mail address or the password is not correct. Please check them and try again.")
        )
        return render_form("auth/login.html", form)
    logins.succeeded(db, person, ip)
    # A fresh session on login, so an identifier planted before it is worthless.
    session.clear()
    login_user(person)
    return redirect(safe_next(request.args.get("next")))


def _locked_message() -> str:
    return _(
        "Too many failed logins: you cannot log in for a while. "
        "Please try again in about %(minutes)d minutes.",
        minutes=int(logins.LOCKOUT.total_seconds()) // 60,
    )


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.log_out(get_db(), me())
    logout_user()
    session.clear()
    flash(_("You have logged out, here and on any other device or browser."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_db()
        person = me()
        with shown_on(form) as done:
            accounts.change_password(db, person, form.current_password.data, form.password.data)
        if done:
            # The login token changed: log in again under the new one to stay logged in here.
            login_user(person)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    feed_url = links().feed(me().feed_token)
    return render_form(
        "auth/account.html",
        form,
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
    )


# --- Forgotten password -------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_form("auth/forgot.html", form)
    db = get_db()
    settings = mail_dispatch.mail_settings()
    message = logins.request_reset(db, form.email.data, links=links(), sender=settings.sender)
    if message is not None:
        _deliver_quietly(settings, [message.id])
    return render_template("auth/reset_requested.html")


def _deliver_quietly(settings: mail.MailSettings, ids: list[int]) -> None:
    """Deliver as the session views do, but never tell whether it worked: mail_dispatch's
    failure notice (sync) would show a stranger that the address has an account. A failed
    message stays queued for `send-mail`."""
    if settings.delivery == "sync":
        after_commit(lambda: mail.deliver(get_db(), settings, ids))
    else:
        mail_dispatch.deliver(settings, ids)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = get_db()
    if logins.find_reset(db, token) is None:
        return _invalid_link()
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with shown_on(form) as done:
                logins.use_reset(db, token, form.password.data)
        except logins.InvalidReset:  # used meanwhile by another request
            return _invalid_link()
        if done:
            flash(_("Your new password has been set. Please log in with it."), "success")
            return redirect(url_for("auth.login"))
    page, status = render_form("auth/reset.html", form)
    return _no_store(page), status


def _invalid_link():
    return _no_store(render_template("auth/reset_invalid.html")), 404


def _no_store(page: str):
    """The token is in the URL and the page: keep both out of caches."""
    response = current_app.make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
