"""What both benchmarks need: a fresh migrated database and an app on it, and a timer."""

import os
import statistics
import tempfile
import time

from sqlalchemy import event

from renkei import create_app, migrate


def fresh_app():
    """An app on a new database: a temporary SQLite file, or DATABASE_URL if set."""
    folder = tempfile.mkdtemp(prefix="renkei-bench-")
    url = os.environ.get("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    migrate.upgrade(url)
    return create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False}, instance_path=folder)


def timed(client, url: str, repeat: int, headers=None):
    """Median and worst milliseconds of ``repeat`` GETs, the size and the last response."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 304), (url, response.status_code)
    return statistics.median(times), max(times), len(response.data), response


def statements(app, client, url: str) -> int:
    """The SQL statements one GET of ``url`` runs."""
    seen = []

    def record(*_args):
        seen.append(1)

    engine = app.extensions["renkei.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)
