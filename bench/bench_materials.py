"""Benchmark: memory of the server while a large material is uploaded and downloaded over HTTP.

Builds the demo town in a temporary SQLite database, serves the app with gunicorn (one sync
worker, so that one process does all the work), logs in as the secretary and, for each size
(default 5 MiB then 50 MiB), uploads a text file of that size to a session's general papers
through the upload form (a multipart POST streamed from disk by the client) and downloads it
back (read in 64 KiB chunks and thrown away); then the session's ZIP of them all. After each
step it prints the worker's peak resident memory (VmHWM in /proc/<pid>/status; the peak of
the process so far, so a step that needs more memory than any before raises it).

    .venv/bin/python bench/bench_materials.py [--sizes 5 50]
"""

import argparse
import http.client
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.common import ROOT, HttpClient, free_port, shared_audit_key  # noqa: E402
from renkei import create_app, migrate  # noqa: E402
from renkei.models import MeetingSession, Person  # noqa: E402
from renkei.services import demo, policy  # noqa: E402

BLOCK = 64 * 1024
MIB = 1024 * 1024
SECRETARY = "secretary@example.jp"


def build(folder: str) -> tuple[str, int]:
    """The demo town in a new SQLite database; its URL and a session the secretary manages."""
    url = f"sqlite:///{folder}/bench.sqlite3"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url}, instance_path=folder)
    with app.app_context():
        db = app.extensions["renkei.sessionmaker"]()
        demo.load(db)
        db.commit()
        secretary = db.scalar(select(Person).where(Person.email == SECRETARY))
        sessions = db.scalars(select(MeetingSession).order_by(MeetingSession.id))
        managed = next(s for s in sessions if policy.session_access(db, secretary, s).can_manage)
        return url, managed.id


def write_text(path: Path, mib: int) -> None:
    """A plain text file (checked by content, never watermarked) of ``mib`` MiB."""
    line = ("会議資料の本文です。" * 6 + "\n").encode()
    with path.open("wb") as handle:
        while handle.tell() < mib * MIB:
            handle.write(line * 1000)


def peak_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def worker_of(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


class Client(HttpClient):
    def form_tokens(self, session_id: int) -> dict[str, str]:
        _status, page, _headers = self.get(f"/sessions/{session_id}/materials")
        text = page.decode()
        found = {}
        for name in ("csrf_token", "form_token"):
            match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', text) or re.search(
                rf'value="([^"]+)"[^>]*name="{name}"', text
            )
            found[name] = match.group(1)
        return found

    def upload(self, session_id: int, path: Path) -> int:
        """The upload form's POST, its body streamed from disk as a browser sends it."""
        boundary = uuid.uuid4().hex
        fields = {**self.form_tokens(session_id), "item_id": "", "title": "", "visibility": ""}
        part = '--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
        head = b"".join(part.format(boundary, n, v).encode() for n, v in fields.items())
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            connection.putrequest("POST", f"/sessions/{session_id}/materials")
            for name, value in (
                ("User-Agent", self.USER_AGENT),
                ("Cookie", self._cookie()),
                ("Content-Type", f"multipart/form-data; boundary={boundary}"),
                ("Content-Length", str(len(head) + path.stat().st_size + len(tail))),
            ):
                connection.putheader(name, value)
            connection.endheaders()
            connection.send(head)
            with path.open("rb") as source:
                while block := source.read(BLOCK):
                    connection.send(block)
            connection.send(tail)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def download(self, path: str) -> int:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            connection.request(
                "GET", path, headers={"User-Agent": self.USER_AGENT, "Cookie": self._cookie()}
            )
            response = connection.getresponse()
            received = 0
            while block := response.read(BLOCK):
                received += len(block)
            assert response.status == 200, response.status
            return received
        finally:
            connection.close()


def material_ids(client: Client, session_id: int) -> list[int]:
    _status, page, _headers = client.get(f"/sessions/{session_id}")
    return sorted({int(n) for n in re.findall(r"/materials/(\d+)/download", page.decode())})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50], help="MiB, in order")
    args = parser.parse_args()
    shared_audit_key()
    with tempfile.TemporaryDirectory(prefix="renkei-bench-materials-") as folder:
        url, session_id = build(folder)
        port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=url,
            SECRET_KEY=secrets.token_hex(32),
            BASE_URL=f"http://127.0.0.1:{port}",
            MATERIALS_DIR=f"{folder}/materials",
            MATERIAL_MAX_BYTES_MB=str(max(args.sizes) + 10),
            MATERIALS_MAX_SESSION_MB=str(sum(args.sizes) + 100),
        )
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers=1",
            "--worker-class=sync",
            "--timeout=600",
            f"--bind=127.0.0.1:{port}",
            "renkei:create_app()",
        ]
        with open(Path(tempfile.gettempdir()) / f"gunicorn-materials-{port}.log", "w") as log:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            run(Client(f"http://127.0.0.1:{port}"), worker_of(server.pid), session_id, args, folder)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run(client: Client, worker: int, session_id: int, args, folder: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/healthz")[0] == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)
    client.login(SECRETARY, demo.DEMO_PASSWORD)
    client.get(f"/sessions/{session_id}")  # warm: templates compiled, the session loaded
    client.form_tokens(session_id)
    print("| step | worker's peak RSS MiB | seconds |")
    print("|---|---:|---:|")
    print(f"| after logging in and opening the pages | {peak_mib(worker):.0f} | |")
    for size in args.sizes:
        path = Path(folder) / f"資料_{size}MiB.txt"
        write_text(path, size)
        start = time.perf_counter()
        status = client.upload(session_id, path)
        assert status == 302, f"upload answered {status}"
        took = time.perf_counter() - start
        print(f"| upload of {size} MiB | {peak_mib(worker):.0f} | {took:.1f} |")
        newest = material_ids(client, session_id)[-1]
        start = time.perf_counter()
        received = client.download(f"/materials/{newest}/download")
        assert received == path.stat().st_size, received
        took = time.perf_counter() - start
        print(f"| download of {size} MiB | {peak_mib(worker):.0f} | {took:.1f} |")
        path.unlink()
    start = time.perf_counter()
    received = client.download(f"/sessions/{session_id}/materials.zip")
    took = time.perf_counter() - start
    print(
        f"| ZIP of the session's materials ({sum(args.sizes)} MiB, "
        f"{received / MIB:.1f} MiB deflated) | {peak_mib(worker):.0f} | {took:.1f} |"
    )


if __name__ == "__main__":
    main()
