"""Creating things once. A create form posted twice (a double click, a reload, a second tab)
or by two requests at the same moment makes one row, and the later answer is where the
earlier one led: never a second row, never an error page.

Two means, each where it fits:

- A one-time token: the form carries ``{{ form_token() }}``, the view is decorated with
  ``@once`` and calls ``remember(url)`` before committing what it created. The token and the
  place of the result are stored in the same transaction as the create (services/
  submissions.py); the same form posted again is sent to that place.
- A natural key (one attendance row per person, one answer per slot and person, one set of
  minutes per session) or a conditional update (a poll is decided only while it is open):
  the database refuses the second row, or the second update changes nothing.

Two requests that race are put one after the other: the loser's first write waits for the
winner's transaction, then hits the unique constraint (the token's or the natural key's).
``@once`` rolls the loser back and runs its view once more, which now sees the winner's rows
and answers as a second submit would: with the winner's result for a token, as an update of
the same row for an answer or an attendance record.
"""

import re
import secrets
from functools import wraps

from flask import flash, g, make_response, redirect, request, session
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from renkei.db import get_db
from renkei.i18n import lazy_gettext as _l
from renkei.services import submissions

FIELD = "form_token"
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
ALREADY_SAVED = _l("This has already been saved.")


def form_token() -> Markup:
    """The hidden field that makes a create form one-time: a new token for every page."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (
        FIELD,
        secrets.token_urlsafe(24),
    )


def already_saved(url: str, message=ALREADY_SAVED):
    """The calm answer to a form that has been acted on already: go to its result."""
    flash(str(message), "info")
    return redirect(url)


def once(view):
    """Make a create view safe to post twice, and to race (see the module's text). Put it
    below ``@login_required``: a token belongs to the person who was shown the form."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return _written(_answer(view, args, kwargs))
        except IntegrityError:
            # Lost a race: the winner's rows are committed now. Go again, after it.
            get_db().rollback()
            return _answer(view, args, kwargs)

    return wrapper


def _written(response):
    """Write the view's rows now, so that a race lost is seen here (the request commits
    them later, renkei.blueprints.transaction)."""
    get_db().flush()
    return response


def remember(url: str) -> None:
    """Remember, in the transaction about to be committed, that this form led to ``url``.
    A form posted without a token (a script) is not remembered."""
    token = _posted_token()
    if token is not None:
        submissions.record(get_db(), current_user.id, token, url)
        g.form_token_recorded = True


def _answer(view, args, kwargs):
    token = _posted_token()
    if token is None:
        return view(*args, **kwargs)
    done = _result(token)
    if done is not None:
        return already_saved(done)
    said = list(session.get("_flashes", []))
    g.form_token_recorded = False
    response = make_response(view(*args, **kwargs))
    if not g.form_token_recorded:
        # Refused ("already on record", a clash to confirm…) because a request with the
        # same form created it meanwhile: what that one made is this form's answer too,
        # and what this attempt had to say no longer applies.
        done = _result(token)
        if done is not None:
            session["_flashes"] = said
            return already_saved(done)
    return response


def _posted_token() -> str | None:
    if request.method != "POST" or not current_user.is_authenticated:
        return None
    token = request.form.get(FIELD, "")
    return token if TOKEN.fullmatch(token) else None


def _result(token: str) -> str | None:
    return submissions.result_of(get_db(), current_user.id, token)
