"""Agenda items (議題) of a session: add, edit, reorder, remove."""

from flask import Blueprint

bp = Blueprint("agenda", __name__)
