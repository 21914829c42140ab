"""Language of the interface: Japanese first, English one switch away."""

from flask import current_app, has_request_context, request
from flask_babel import Babel

babel = Babel()

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in languages else languages[0]
