# The part of Flask-Login that Renkei uses, typed: Flask-Login ships no type information and
# there are no stubs for it on PyPI. Without these, Person (a UserMixin) would have a base of
# type Any, which blurs every query that selects people.
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_F = TypeVar("_F", bound=Callable[..., Any])

class UserMixin:
    __hash__ = object.__hash__
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class AnonymousUserMixin:
    @property
    def is_authenticated(self) -> bool: ...

class LoginManager:
    login_view: str | None
    login_message: str
    login_message_category: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _F) -> _F: ...

# The logged-in person, or an anonymous user: a proxy whose type depends on the request.
current_user: Any

def login_required(func: _F) -> _F: ...
def login_user(
    user: UserMixin,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
