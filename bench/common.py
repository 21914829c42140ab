"""What the benchmarks need: a fresh migrated database and an app on it, timers, bulk
inserts, and the app served by gunicorn with a logged-in HTTP client."""

import http.client
import http.cookiejar
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from sqlalchemy import event, func, insert, select, text

from renkei import create_app, migrate

ROOT = Path(__file__).resolve().parent.parent


def shared_audit_key() -> str:
    """One audit key for everything a bench starts (the apps it builds in-process, the
    flask commands and gunicorn): the log sealed while building must open when served.
    AUDIT_KEY from the environment if set (to reopen a kept database), else a new one."""
    if not os.environ.get("AUDIT_KEY", "").strip():
        os.environ["AUDIT_KEY"] = secrets.token_hex(32)
    return os.environ["AUDIT_KEY"]


def fresh_app(url: str | None = None):
    """An app on a new database: ``url``, else DATABASE_URL, else a temporary SQLite file."""
    folder = tempfile.mkdtemp(prefix="renkei-bench-")
    url = url or os.environ.get("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
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


def statements(app, client, url: str, headers=None) -> int:
    """The SQL statements one GET of ``url`` runs."""
    seen = []

    def record(*_args):
        seen.append(1)

    engine = app.extensions["renkei.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(url, headers=headers or {})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0.95 for p95) by linear interpolation between ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- Bulk loading -------------------------------------------------------------------------


def next_id(db, table) -> int:
    """The first id free in ``table``: bulk rows get explicit ids, so no RETURNING is
    needed and the same inserts work on SQLite and PostgreSQL."""
    return (db.scalar(select(func.max(table.c.id))) or 0) + 1


def bulk(db, table, rows, chunk: int = 20_000) -> int:
    """Insert an iterable of dicts into a Core ``table`` in executemany chunks; the count."""
    rows, count = iter(rows), 0
    while batch := list(islice(rows, chunk)):
        db.execute(insert(table), batch)
        count += len(batch)
    return count


def fix_sequences(db, tables) -> None:
    """After explicit ids on PostgreSQL, move each ``id`` sequence past the largest id, so
    that rows the app adds later do not collide. Nothing to do on SQLite."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


@contextmanager
def phase(label: str, timings: dict):
    """Time a phase of building the dataset, print it and keep it in ``timings``."""
    start = time.perf_counter()
    yield
    timings[label] = time.perf_counter() - start
    print(f"  {label:<44}{timings[label]:>8.1f} s", flush=True)


# --- Over HTTP against gunicorn -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int = 2, log_folder: str | None = None):
    """The app served by gunicorn (sync workers) on a free loopback port, against
    ``database_url``; yields the base URL once /healthz answers, stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        BASE_URL=base,  # plain http: cookies without the Secure flag
    )
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "renkei:create_app()",
    ]
    log_path = Path(log_folder or tempfile.gettempdir()) / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if HttpClient(base).get("/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log_path}")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


class HttpClient:
    """A browser's worth of HTTP: a cookie jar for logging in, then plain http.client
    requests (a new connection each, as gunicorn's sync workers close them anyway). One
    User-Agent throughout: Flask-Login's session protection ties the login to it."""

    USER_AGENT = "renkei-bench/1"

    def __init__(self, base: str):
        self.base = base
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.jar = http.cookiejar.CookieJar()

    def login(self, email: str, password: str) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        opener.addheaders = [("User-Agent", self.USER_AGENT)]
        page = opener.open(self.base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None:
            token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        form = {"csrf_token": token.group(1), "email": email, "password": password}
        response = opener.open(self.base + "/login", urllib.parse.urlencode(form).encode())
        if response.url.rstrip("/").endswith("/login"):
            raise RuntimeError(f"could not log in as {email}")

    def _cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def get(self, path: str, headers=None) -> tuple[int, bytes, dict]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            sent = {"User-Agent": self.USER_AGENT, **(headers or {})}
            if len(self.jar):
                sent["Cookie"] = self._cookie()
            connection.request("GET", path, headers=sent)
            response = connection.getresponse()
            body = response.read()
            return response.status, body, dict(response.getheaders())
        finally:
            connection.close()

    def timed_get(self, path: str, headers=None) -> tuple[float, int, int]:
        """Milliseconds, status and size of one GET."""
        start = time.perf_counter()
        status, body, _ = self.get(path, headers)
        return (time.perf_counter() - start) * 1000, status, len(body)
