"""Drill: the disk of the instance folder fills up.

A small tmpfs mounted by the drill holds the instance folder (materials, outbox, key files)
and, on SQLite, the database. gunicorn serves the demo town from it. The drill fills the
mount (with nothing free, and with a little free so that a write starts and fails half-way),
then as the secretariat uploads a material, runs the backup into the mount (SQLite: the
`backup` command; PostgreSQL: the pg_dump command it prints), and fetches a member's feed
(stored feeds) and the pages. It checks the Japanese errors, that nothing is half-written
(no material row without its file, no temporary or partial file, no backup under its name)
and that the pages answer; then it frees the space and checks that the same actions work.

Needs root (mount); without it the drill says why and exits 0 ("skipped").

    .venv/bin/python drills/drill_disk_full.py [--short] [--record]
        [--database sqlite|postgres|both]
"""

import atexit
import contextlib
import http.client
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import results  # drills/results.py: puts the repository root on sys.path

from bench import load_test as lt

TITLE = "Disk full on the instance folder (drills/drill_disk_full.py)"
FULL = "サーバーのディスクに空きがないため保存できませんでした。管理者に連絡してください。"
BACKUP_FULL = "のディスクに空きがないため、バックアップを書き込めませんでした"
SECRETARY = "secretary@example.jp"
MEMBER = "member.both@example.jp"
LEFTOVER = re.compile(r"(\.tmp$|^\.upload-|\.partial$|-journal$)")


class Mount:
    """A tmpfs of ``size`` bytes at a new temporary folder; unmounted and removed on stop."""

    def __init__(self, size: int) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="renkei-drill-disk-"))
        self.mounted = False
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            self.path.rmdir()
            raise PermissionError((result.stderr or result.stdout).strip() or "mount failed")
        self.mounted = True

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int) -> None:
        """Write filler files until only ``leave`` bytes (rounded to pages) stay free."""
        index = 0
        while self.free() > leave:
            chunk = min(self.free() - leave, 4 * 1024 * 1024)
            target = self.path / f"filler-{index}"
            index += 1
            with contextlib.suppress(OSError), open(target, "wb") as filler:
                filler.write(b"\0" * max(chunk, 1))

    def unfill(self) -> None:
        for filler in self.path.glob("filler-*"):
            filler.unlink()

    def stop(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)
            self.mounted = False
        shutil.rmtree(self.path, ignore_errors=True)


# --- HTTP ---------------------------------------------------------------------------------


def upload(browser: lt.Browser, session_id: int, size: int) -> tuple[int, str]:
    """Upload a PDF of ``size`` bytes (distinct content each time) as the materials page's
    form does; the status and the page."""
    path = f"/sessions/{session_id}/materials"
    _response, page = browser.request("materials", "GET", path, expect={200})
    fields = {
        "csrf_token": lt.csrf_of(page),
        "form_token": re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode(),
        "item_id": "",
        "title": f"訓練資料 {uuid.uuid4().hex[:6]}",
    }
    content = b"%PDF-1.4\n%" + secrets.token_bytes(max(size - 10, 1))
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="drill.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=b"".join(parts),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
                "User-Agent": "renkei-load-test",
                "Origin": f"http://127.0.0.1:{browser.port}",
                "Referer": f"http://127.0.0.1:{browser.port}{path}",
            },
        )
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def fetch(browser: lt.Browser, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=60)
    try:
        headers = {"User-Agent": "renkei-load-test"}
        if browser.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def login_answer(port: int, email: str) -> tuple[int, str]:
    """A login's status and page, whatever it is (lt.Browser.login wants a success)."""
    browser = lt.Browser(port, lt.Stats())
    _response, page = browser.request("login_page", "GET", "/login", expect={200})
    form = {"csrf_token": lt.csrf_of(page), "email": email, "password": lt.PASSWORD}
    response, page = browser.request(
        "login", "POST", "/login", form=form, expect=set(range(200, 600))
    )
    return response.status, page.decode("utf-8", "replace")


# --- The installation on the mount --------------------------------------------------------


class Installation:
    def __init__(self, mount: Mount, url: str | None, password: str = "") -> None:
        self.mount = mount
        self.password = password
        self.url = url or f"sqlite:///{mount.path / 'renkei.sqlite3'}"
        self.sqlite = url is None
        self.folder = mount.path  # Server puts its instance/ and gunicorn.log here
        self.server: lt.Server | None = None
        self.audit_key = secrets.token_hex(32)  # the demo's entries and the server's alike
        self.first_new = 0  # material versions after this id are the drill's uploads
        self.log: Path | None = None

    def build(self) -> None:
        from renkei import create_app, migrate
        from renkei.services import demo

        migrate.upgrade(self.url)
        setup = Path(tempfile.mkdtemp(prefix="renkei-drill-setup-"))
        try:
            app = create_app(
                {"DATABASE_URL": self.url, "AUDIT_KEY": self.audit_key}, instance_path=str(setup)
            )
            with app.app_context():
                db = app.extensions["renkei.sessionmaker"]()
                demo.load(db, sessions=True)
                db.commit()
                db.close()
            app.extensions["renkei.engine"].dispose()
        finally:
            shutil.rmtree(setup, ignore_errors=True)

    def start(self) -> None:
        # The server's log is kept off the mount, as /var/log would be: the drill reads it.
        self.log = Path(tempfile.mkstemp(prefix="renkei-drill-disk-", suffix=".log")[1])
        (self.folder / "gunicorn.log").symlink_to(self.log)
        self.server = lt.Server(self.url, 2, self.folder, self.audit_key)
        self.server.wait_healthy()

    @property
    def instance(self) -> Path:
        return self.folder / "instance"

    def scalar(self, sql: str):
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def materials(self) -> tuple[int, int]:
        """Material versions, and how many of those uploaded during the drill have no file
        in the store (the demo's own files were stored by the setup, elsewhere)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                hashes = connection.execute(
                    text("SELECT sha256, id > :first FROM material_versions"),
                    {"first": self.first_new},
                ).all()
        finally:
            engine.dispose()
        store = self.instance / "materials"
        missing = sum(new and not (store / s[:2] / s[2:4] / s).is_file() for s, new in hashes)
        return len(hashes), missing

    def leftovers(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.mount.path))
            for p in self.mount.path.rglob("*")
            if p.is_file() and LEFTOVER.search(p.name)
        )

    def backup(self, destination: Path) -> tuple[int, str]:
        """The backup as an operator runs it: SQLite, the `backup` command; PostgreSQL, the
        pg_dump command it prints (run as printed)."""
        assert self.server is not None
        env = dict(
            os.environ,
            DATABASE_URL=self.url,
            SECRET_KEY="drill",
            AUDIT_KEY=self.server.audit_key,
        )
        app = f"renkei:create_app(instance_path={str(self.instance)!r})"
        flask = [str(Path(sys.executable).parent / "flask"), "--app", app, "backup"]
        done = subprocess.run(
            [*flask, f"{destination}/"], capture_output=True, text=True, env=env, cwd=lt.REPO
        )
        if self.sqlite:
            return done.returncode, done.stdout + done.stderr
        dump = next(line.strip() for line in done.stdout.splitlines() if "pg_dump" in line)
        env["PGPASSWORD"] = self.password  # as the command's note says: not on the line
        ran = subprocess.run(
            ["sh", "-c", dump], capture_output=True, text=True, env=env, check=False
        )
        return ran.returncode, ran.stdout + ran.stderr

    def complete(self, path: Path) -> bool:
        """A backup file that reads back whole: SQLite's integrity check, pg_restore's list."""
        if self.sqlite:
            with sqlite3.connect(path) as copy:
                return copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        listed = subprocess.run(
            [lt.pg_bin("pg_restore"), "--list", str(path)], capture_output=True, check=False
        )
        return listed.returncode == 0

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.log is not None:
            self.log.unlink(missing_ok=True)


# --- The drill ----------------------------------------------------------------------------


def session_of_secretary(browser: lt.Browser, install: Installation) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(install.url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(
                text("SELECT id FROM sessions WHERE status <> 'cancelled' ORDER BY start_at DESC")
            ).scalars()
            ids = list(ids)
    finally:
        engine.dispose()
    for session_id in ids:
        if fetch(browser, f"/sessions/{session_id}/materials")[0] == 200:
            return session_id
    raise RuntimeError("the demo secretary manages no session")


def round_of(
    report, install, browser, session_id, feed, *, leave: int | None, size: int, label: str
):
    """Upload, backup, feed and pages once; check what each must do on a full disk (filled
    again before each action to ``leave`` bytes free: SQLite frees its write-ahead log now
    and then) or with room (``leave`` None)."""
    full = leave is not None

    def fill() -> None:
        if leave is not None:
            install.mount.fill(leave)

    backups = install.mount.path / "backups"
    backups.mkdir(exist_ok=True)
    rows_before, _missing = install.materials()
    backups_before = sorted(p.name for p in backups.iterdir())
    started = time.perf_counter()

    fill()
    status, page = upload(browser, session_id, size)
    rows_after, missing = install.materials()
    if full:
        report.check(
            status == 400 and FULL in page,
            f"{label}: upload of {size:,} bytes refused with the Japanese message (HTTP {status})",
        )
        report.check(rows_after == rows_before, f"{label}: no material row added")
    else:
        report.check(status == 302, f"{label}: upload of {size:,} bytes stored (HTTP {status})")
        report.check(rows_after == rows_before + 1, f"{label}: one material row added")
    report.check(missing == 0, f"{label}: every material row has its file ({rows_after} rows)")

    fill()
    code, output = install.backup(backups)
    made = sorted(p.name for p in backups.iterdir() if p.name not in backups_before)
    said = (output.strip().splitlines() or [""])[-1][:120]
    if full and code != 0:
        expected = BACKUP_FULL in output if install.sqlite else True
        report.check(expected, f"{label}: backup fails (exit {code}): {said}")
        report.check(made == [], f"{label}: no backup file left ({made or 'none'})")
    elif full:  # it fitted in the space left: then it must be whole
        report.check(
            len(made) == 1 and install.complete(backups / made[0]),
            f"{label}: backup fitted in the space left and is complete ({made})",
        )
        for name in made:
            (backups / name).unlink()
    else:
        report.check(code == 0 and len(made) == 1, f"{label}: backup written ({made})")
        if made and install.sqlite:
            with sqlite3.connect(backups / made[0]) as copy:
                verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            report.check(verdict == "ok", f"{label}: the backup passes integrity_check")
        for name in made:  # room for the next round
            (backups / name).unlink()

    fill()
    status, body = fetch(browser, feed)
    report.check(
        status == 200 and "BEGIN:VCALENDAR" in body, f"{label}: member's feed answers {status}"
    )
    statuses = {path: fetch(browser, path) for path in ("/", "/sessions/", "/login")}
    statuses[f"/sessions/{session_id}"] = fetch(browser, f"/sessions/{session_id}")
    served = {path: status for path, (status, _page) in statuses.items()}
    report.check(all(s == 200 for s in served.values()), f"{label}: pages answer {served}")
    if full:
        fill()
        status, page = login_answer(browser.port, MEMBER)
        report.check(
            status == 302 or (status == 503 and FULL in page),
            f"{label}: a login (it writes the audit log) answers {status}"
            + (" with the Japanese message" if FULL in page else ""),
        )
    report.check(
        install.leftovers() == [], f"{label}: no temporary or partial file ({install.leftovers()})"
    )
    install.mount.unfill()
    report.say(f"  {label}: round took {time.perf_counter() - started:.1f} s")


def drill(report: results.Report, database: str, short: bool) -> None:
    postgres = lt.Postgres() if database == "postgres" else None
    mount = Mount(24 * 1024 * 1024 if short else 64 * 1024 * 1024)
    install = None
    atexit.register(mount.stop)
    try:
        url = postgres.start() if postgres else None
        install = Installation(mount, url, postgres.password if postgres else "")
        install.build()
        install.start()
        report.say(
            f"{database}: tmpfs of {mount.free() // 1024 // 1024} MiB free at {mount.path} "
            f"after the demo town; gunicorn on port {install.server.port}"
        )
        stats = lt.Stats()
        browser = lt.Browser(install.server.port, stats)
        try:
            browser.login(SECRETARY)
        except lt.Unexpected:
            raise RuntimeError(f"could not log in: {stats.errors}") from None
        session_id = session_of_secretary(browser, install)
        token = install.scalar(f"SELECT feed_token FROM people WHERE email = '{MEMBER}'")
        feed = f"/calendar/{token}.ics"

        install.first_new = install.scalar("SELECT COALESCE(MAX(id), 0) FROM material_versions")
        common = (report, install, browser, session_id, feed)
        if not short:  # the short version sees the same actions work after the space is freed
            round_of(*common, leave=None, size=50_000, label="free")
        leaves = (0, 64 * 1024) if short else (0, 16 * 1024, 64 * 1024, 256 * 1024)
        size = 1_000_000 if short else 4_000_000
        for leave in leaves:
            round_of(*common, leave=leave, size=size, label=f"full ({leave // 1024} KiB free)")
        round_of(*common, leave=None, size=500_000, label="freed")
        problems = install.server.log_problems()
        report.say(f"  {database}: gunicorn log lines with Traceback/Error: {len(problems)}")
        if problems:  # which errors the server logged (the refused writes), once each
            lines = install.server.log.read_text().splitlines()
            kinds = sorted(
                {line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)}
            )
            report.say(f"  {database}: logged: {kinds[:5]}")
    except Exception:
        if install is not None and install.server is not None and install.server.log.exists():
            print(
                "gunicorn log, last lines:\n"
                + "\n".join(install.server.log.read_text().splitlines()[-25:])
            )
        raise
    finally:
        if install is not None:
            install.stop()
        if postgres is not None:
            postgres.stop()
        mount.stop()


def main() -> int:
    args = results.arguments(__doc__.split("\n")[0], databases=("sqlite", "postgres"))
    try:
        probe = Mount(1024 * 1024)
        probe.stop()
    except (PermissionError, OSError) as error:
        print(f"skipped: cannot mount a tmpfs here ({error}); run as root")
        return 0
    return results.run_each(TITLE, args, drill)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
