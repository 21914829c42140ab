"""Health check for load balancers and monitoring."""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from renkei.db import get_db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "database unavailable", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
