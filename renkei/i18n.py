"""Language of the interface: Japanese first, English one switch away."""

from flask import current_app, request
from flask_babel import Babel

babel = Babel()

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in languages else languages[0]
