"""One transaction per request, and what the services' errors mean on the web.

A view calls services and returns; it neither commits nor rolls back. When it has answered,
the request's database session is committed if the answer is a page or a redirect (a status
below 400), and rolled back otherwise: an answer that says something is wrong — a form with
errors (400), 403, 404, an error page — has written nothing. A view whose refusal must
itself be kept (a failed login counts towards the lock-out) says so with ``keep_writes()``.
Work that must follow the commit, such as delivering the mail the request queued, is handed
to ``after_commit``. (Indico's ``RH.process`` is the model.)

What the services raise: ``NotFound`` answers 404 and ``Forbidden`` 403 wherever they are
raised (renkei.errors), except that a form says a ``Forbidden`` above itself. A
``DomainError`` is for the user to put right: a view shows it on its form (``shown_on``) or as
a message above the page it goes back to (``flashed``); one that no view expected is shown
on an error page. Either way the request's writes are rolled
back at once, so that nothing half-done is read by what the view does next.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, flash, g, request
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField

from renkei.db import get_db
from renkei.errors import UNAVAILABLE, database_unavailable
from renkei.services import audit
from renkei.services.errors import DomainError, Forbidden, NotFound, each_error


def init_app(app: Flask) -> None:
    app.before_request(_note_origin)
    app.after_request(_finish)
    app.teardown_request(_forget_origin)


def keep_writes() -> None:
    """Commit this request's writes although it answers with an error status."""
    g.keep_writes = True


def after_commit(work: Callable[[], Any]) -> None:
    """Run ``work`` once the request's writes are committed (never if they are not)."""
    g.setdefault("after_commit", []).append(work)


class Outcome:
    """How the block of ``attempt`` (``shown_on``, ``flashed``) went: true when through."""

    def __init__(self) -> None:
        self.ok = False
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.ok

    @property
    def message(self) -> str:
        return str(self.error.message) if self.error is not None else ""


@contextmanager
def attempt(
    *, refusals: tuple[type[DomainError], ...] = (NotFound, Forbidden)
) -> Iterator[Outcome]:
    """Run service calls that may refuse: a ``DomainError`` rolls the writes back and is kept
    on the outcome for the view to show; ``refusals`` go on to their error page (404, 403)."""
    outcome = Outcome()
    try:
        yield outcome
    except refusals:
        raise
    except DomainError as error:
        get_db().rollback()
        for each in each_error(error):
            if isinstance(each, refusals):
                raise each from None
        outcome.error = error
    else:
        outcome.ok = True


@contextmanager
def shown_on(
    form: FlaskForm, *, refusals: tuple[type[DomainError], ...] = (NotFound,)
) -> Iterator[Outcome]:
    """``attempt`` for a form: the error goes on the field it names, or above the form. A
    ``Forbidden`` is said above the form too, so that the person reads why, unless the view
    names it among the ``refusals`` that go on to their error page."""
    with attempt(refusals=refusals) as outcome:
        yield outcome
    if outcome.error is not None:
        _put_on_form(form, outcome.error)


@contextmanager
def flashed() -> Iterator[Outcome]:
    """``attempt`` for a button: the error is flashed, for the page the view goes back to."""
    with attempt() as outcome:
        yield outcome
    if outcome.error is not None:
        flash(outcome.message, "error")


def _put_on_form(form: FlaskForm, error: DomainError) -> None:
    """Each error on the field it names (a row's field by its full name, ``slots-1-end``),
    or above the form; a message the field or form already shows is not said twice."""
    for each in each_error(error):
        field = find_field(form, each.field) if each.field else None
        message = str(each.message)
        if field is not None and not isinstance(each, Forbidden):
            if message not in field.errors:
                field.errors = [*field.errors, message]
        elif message not in form.form_errors:
            form.form_errors.append(message)


def find_field(form, name: str):
    """The field of ``form`` called ``name``: an attribute, or a field inside a list of
    rows (``FieldList`` of ``FormField``) by the name it is posted under."""
    found = getattr(form, name, None)
    if found is not None:
        return found
    return next((field for field in _all_fields(form) if field.name == name), None)


def _all_fields(fields) -> Iterator:
    for field in fields:
        yield field
        if isinstance(field, FieldList | FormField):
            yield from _all_fields(field)


def _finish(response: Response) -> Response:
    db = g.get("db_session")
    if db is None:
        return response
    if response.status_code >= 400 and not g.get("keep_writes"):
        db.rollback()
        return response
    try:
        db.commit()
    except UNAVAILABLE as error:
        # The database went away at the commit (a restart, a killed connection): the
        # writes may not be kept, so the answer must not say they were.
        db.rollback()
        g.pop("after_commit", None)
        return database_unavailable(error)
    for work in g.pop("after_commit", []):
        work()
    return response


def _note_origin() -> None:
    """The audit log records where a change came from; services read it from there."""
    g.audit_origin = audit.set_origin(request.remote_addr or "")


def _forget_origin(_exc: BaseException | None) -> None:
    token = g.pop("audit_origin", None)
    if token is not None:
        audit.reset_origin(token)
