"""Health check for load balancers and monitoring.

200 "ok" when the database answers, 503 while it does not, so that a load balancer takes
the server out of service during a database outage and back once it is over. It answers
quickly either way: a pooled connection is checked before use (pre-ping) and a new one may
take at most ``renkei.db.CONNECT_TIMEOUT`` seconds. Never cached: each probe asks again.
"""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from renkei.db import get_db

bp = Blueprint("health", __name__)

HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/healthz")
def healthz():
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        # No log line: a probe every few seconds would fill the log during an outage, and
        # the requests that fail say so themselves (renkei.errors.database_unavailable).
        return "database unavailable", 503, HEADERS
    return "ok", 200, HEADERS
