"""The addresses of Renkei's pages that leave the browser: in e-mail, calendar files and feeds.

An address is ``BASE_URL`` (the address people use, whatever host the request came to) and
the page's path as its route builds it, so a path is written only in its ``@bp.route``.
Building needs neither a request nor an app context: the web layer makes a ``Links`` for the
request (``blueprints.common.links``), the command line from the app, a test from the app's
routes.
"""

from flask import Flask
from werkzeug.routing import Map


class Links:
    def __init__(self, url_map: Map, base_url: str):
        self.base_url = base_url
        # Only paths are built here: the host and scheme are BASE_URL's.
        self._paths = url_map.bind("localhost", script_name="/")

    @classmethod
    def of(cls, app: Flask) -> "Links":
        return cls(app.url_map, app.config["BASE_URL"])

    def _page(self, endpoint: str, anchor: str = "", **values: object) -> str:
        path = self._paths.build(endpoint, values)
        return self.base_url.rstrip("/") + path + (f"#{anchor}" if anchor else "")

    def session(self, session_id: int) -> str:
        return self._page("sessions.show", session_id=session_id)

    def session_reply(self, session_id: int) -> str:
        """Where an invitee answers whether they will attend: the session page's form."""
        return self._page("sessions.show", anchor="reply", session_id=session_id)

    def material(self, material_id: int) -> str:
        """The download of a material's current file (through the policy, after login)."""
        return self._page("materials.download", material_id=material_id)

    def minutes(self, version_id: int) -> str:
        return self._page("minutes.show", version_id=version_id)

    def approval(self, version_id: int, body_id: int) -> str:
        """Where a chair approves their body's part of a version."""
        return self._page("minutes.approve", version_id=version_id, body_id=body_id)

    def poll(self, poll_id: int) -> str:
        return self._page("polls.show", poll_id=poll_id)

    def poll_answer(self, token: str) -> str:
        """A personal link to answer a poll without logging in."""
        return self._page("polls.link", poll_token=token)

    def password_reset(self, token: str) -> str:
        return self._page("auth.reset_password", token=token)

    def body_members(self, body_id: int) -> str:
        return self._page("bodies.show", anchor="members", body_id=body_id)

    def feed(self, token: str) -> str:
        """A person's calendar feed (a secret address: the token is the only key)."""
        return self._page("calendar.feed", token=token)
