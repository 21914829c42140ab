"""Sessions (開催回): schedule, show, edit, cancel; invitees, guests and replies."""

from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
