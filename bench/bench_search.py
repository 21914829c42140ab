"""Benchmark: the search (issue 25) on the city of bench/bench_city.py, over HTTP against gunicorn.

Builds the city with bench_city's own builder (``build``, at ``--scale``: 1.0 = 300 bodies,
60,000 held sessions over ten years, 630,000 agenda items, 360,000 minutes sections) and adds
what it leaves out: materials, ``--materials`` per held session (on its first items, as
closed as they are), each with ``--material-chars`` characters of text as the upload would
have read from its file (material_versions.text, migration 0027). Then:

1. times ``flask search-rebuild`` (the whole index, in a process of its own as an operator
   runs it) and measures the index's size: on SQLite the pages of the search tables and
   their indexes (dbstat) and the file's growth; on PostgreSQL pg_total_relation_size of
   the search tables;
2. serves the app with gunicorn (2 sync workers) and, round by round, times /healthz and
   each query (``--query``, repeatable: by default a two-character word 介護, a phrase
   買い物支援 and a date 令和8年5月) as ``--member`` sees them: p50 and p95, and each as a
   ratio to /healthz's in the same run (target ≤ 20×);
3. counts the SQL statements of each query in-process, on a small city (``--small-scale``,
   temporary SQLite) and on the large one: the count must not grow with the city.

Before it all, it times ``material_text.extract`` on files made here (a PDF, a .docx, an
.xlsx): the cost an upload pays for its text.

    PYTHONPATH=. .venv/bin/python bench/bench_search.py [--scale 1.0] [--small-scale 0.05]
        [--repeat 50] [--member member.both@example.jp] [--query 介護 --query …]

Run it with ``PYTHONPATH=.`` from the checkout's root, so that the code measured is this
checkout's. With DATABASE_URL (an empty database) the large city goes there. ``--keep``
keeps the city (and the key of its audit log); ``--reuse FOLDER`` times the queries on it
again without building anything (with DATABASE_URL for a kept PostgreSQL database, whose
server must still run). Without the search (no ``search-rebuild`` command), the index and
query parts are skipped and said so. Figures and what they mean: bench/RESULTS.md.
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from bench_city import MEMBER, PARAGRAPH, TOPICS, machine, small_app  # bench/, beside this
from bench_city import build as build_city
from common import (  # bench/common.py
    ROOT,
    HttpClient,
    bulk,
    fix_sequences,
    fresh_app,
    gunicorn,
    next_id,
    percentile,
    shared_audit_key,
    statements,
)
from sqlalchemy import create_engine, select, text, update

from renkei import create_app, migrate
from renkei.models import (
    AgendaItem,
    Material,
    MaterialVersion,
    MeetingSession,
    Membership,
    Person,
    Status,
)
from renkei.models.sessions import session_bodies
from renkei.services import demo, material_text

QUERIES = ["介護", "買い物支援", "令和8年5月"]
# The timing channel: a word written into ``--closed`` agenda items the member may not see
# (of bodies they are not on), against a word written nowhere. Their times must not differ
# beyond noise (issue 25: "timing beyond noise").
CLOSED_WORD = "閉域語"
NONSENSE = "存在しない語"
HEALTHZ = "/healthz"
AUDIT_KEY_FILE = "audit_key"  # beside a kept city: the key its audit log is sealed with
TARGET = 20  # × /healthz
# Sentences a material's text is made of: the queries' words among the city's usual ones.
SENTENCES = [
    "介護予防・日常生活支援総合事業の実施状況について報告する。",
    "買い物支援の移動販売は令和8年5月から週2回に増便した。",
    "地域包括支援センターと民生委員の情報共有の頻度を上げる。",
    PARAGRAPH,
    *TOPICS,
]


# --- The dataset: the city, and materials with their text -----------------------------------


def add_materials(app, per_session: int, chars: int) -> int:
    """``per_session`` materials on each held session's first items, each with ``chars``
    characters of text (the column the upload fills); returns how many."""
    db = app.extensions["renkei.sessionmaker"]()
    items = db.execute(
        select(AgendaItem.id, AgendaItem.session_id, AgendaItem.visibility, AgendaItem.title)
        .join(MeetingSession, MeetingSession.id == AgendaItem.session_id)
        .where(MeetingSession.status == Status.HELD, AgendaItem.position <= per_session)
        .order_by(AgendaItem.id)
    ).all()
    has_text = "text" in MaterialVersion.__table__.c  # migration 0027 (issue 25)
    first_material = next_id(db, Material.__table__)
    first_version = next_id(db, MaterialVersion.__table__)
    now = datetime.now(UTC)
    positions: dict[int, int] = {}
    materials, versions = [], []
    for n, (item_id, session_id, visibility, title) in enumerate(items):
        positions[session_id] = positions.get(session_id, 0) + 1
        material_id = first_material + n
        materials.append(
            {"id": material_id, "session_id": session_id, "agenda_item_id": item_id,
             "position": positions[session_id], "title": f"{title} 資料", "visibility": visibility,
             "created_at": now}
        )  # fmt: skip
        version = {
            "id": first_version + n, "material_id": material_id, "number": 1,
            "filename": f"{title}_{n}.pdf", "media_type": "application/pdf",
            "size": chars * 3, "sha256": f"{n:064x}", "uploaded_at": now,
        }  # fmt: skip
        if has_text:
            version["text"] = material_body(n, chars)
        versions.append(version)
        if len(materials) >= 20_000:
            bulk(db, Material.__table__, materials)
            bulk(db, MaterialVersion.__table__, versions)
            materials, versions = [], []
    bulk(db, Material.__table__, materials)
    bulk(db, MaterialVersion.__table__, versions)
    fix_sequences(db, [Material.__table__, MaterialVersion.__table__])
    db.commit()
    db.close()
    return len(items)


def material_body(n: int, chars: int) -> str:
    """``chars`` characters of sentences, starting at a different one for each material."""
    parts, size, k = [], 0, n
    while size < chars:
        sentence = SENTENCES[k % len(SENTENCES)]
        parts.append(sentence)
        size += len(sentence) + 1
        k += 1
    return "\n".join(parts)[:chars]


def plant_closed_word(app, member: str, count: int) -> int:
    """Append CLOSED_WORD to the descriptions of ``count`` agenda items of sessions that
    serve no body ``member`` has ever been on; returns how many."""
    db = app.extensions["renkei.sessionmaker"]()
    mine = select(Membership.body_id).join(Person).where(Person.email == member)
    theirs = select(session_bodies.c.session_id).where(session_bodies.c.body_id.in_(mine))
    ids = list(
        db.scalars(
            select(AgendaItem.id)
            .where(AgendaItem.session_id.not_in(theirs))
            .order_by(AgendaItem.id)
            .limit(count)
        )
    )
    for start in range(0, len(ids), 10_000):
        db.execute(
            update(AgendaItem)
            .where(AgendaItem.id.in_(ids[start : start + 10_000]))
            .values(description=AgendaItem.description + " " + CLOSED_WORD)
        )
    db.commit()
    db.close()
    return len(ids)


def city(scale: float, per_session: int, chars: int, app=None) -> tuple:
    app = app or fresh_app()
    start = time.perf_counter()
    built = build_city(app, scale, feed_target=max(10, round(1000 * scale)))
    sizes = dict(built["sizes"])
    sizes["materials"] = add_materials(app, per_session, chars)
    print(f"city at scale {scale}: built in {time.perf_counter() - start:.0f} s")
    print("  " + ", ".join(f"{k}: {v:,}" for k, v in sizes.items()))
    return app, sizes


# --- The index: built by the command, and its size -------------------------------------------


def rebuild(url: str) -> tuple[float, str] | None:
    """Seconds `flask search-rebuild` takes, in a process of its own, and what it printed;
    None if the app has no such command (the search not merged)."""
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "flask", "--app", "renkei", "search-rebuild"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        if "No such command" in done.stderr:
            return None
        raise RuntimeError(f"search-rebuild failed:\n{done.stderr}")
    return elapsed, done.stdout.strip()


def settle(app) -> None:
    """On PostgreSQL, VACUUM ANALYZE the index's table, as autovacuum would soon after the
    rebuild: the timing must not share the CPUs with it, and the planner needs the reach
    index's statistics (a million entries written at once had none)."""
    engine = app.extensions["renkei.engine"]
    if engine.dialect.name != "postgresql":
        return
    start = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE search_entries")
    print(f"VACUUM ANALYZE search_entries: {time.perf_counter() - start:.1f} s")


def search_bytes(url: str, prefix: str) -> dict[str, int]:
    """Bytes per table and index whose name starts with ``prefix`` (the FTS5 shadow tables
    and the indexes of the search tables included), and the database file on SQLite."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                rows = connection.execute(
                    text(
                        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
                        "AND c.relname LIKE :like"
                    ),
                    {"like": prefix + "%"},
                ).all()
                sizes = dict(rows)
                sizes["(database)"] = connection.scalar(
                    text("SELECT pg_database_size(current_database())")
                )
                return sizes
            # dbstat: pages per table and index, whose name or table starts with the prefix.
            rows = connection.execute(
                text(
                    "SELECT d.name, SUM(d.pgsize) FROM dbstat d "
                    "JOIN sqlite_schema s ON s.name = d.name "
                    "WHERE s.name LIKE :like OR s.tbl_name LIKE :like GROUP BY d.name"
                ),
                {"like": prefix + "%"},
            ).all()
            sizes = dict(rows)
            sizes["(database file)"] = Path(engine.url.database or "").stat().st_size
            return sizes
    finally:
        engine.dispose()


# --- Measuring ---------------------------------------------------------------------------------


def paths(queries: list[str], search_path: str) -> list[tuple[str, str]]:
    """(label, path) of /healthz then each query."""
    found = [(HEALTHZ, HEALTHZ)]
    for query in queries:
        found.append((f"q={query}", f"{search_path}?{urllib.parse.urlencode({'q': query})}"))
    return found


def query_counts(app, member: str, rows) -> dict[str, int]:
    """SQL statements of each path, in-process, as ``member`` (after a warm-up GET)."""
    client = app.test_client()
    response = client.post("/login", data={"email": member, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, f"could not log in as {member}"
    counts = {}
    for label, path in rows:
        warm = client.get(path)
        assert warm.status_code == 200, (path, warm.status_code)
        counts[label] = statements(app, client, path)
    return counts


def over_http(url: str, member: str, rows, repeat: int, warmup: int, log_folder: str):
    """Round after round, one GET of each path in turn (the machine's load falls alike on
    each); per label the milliseconds, and the size of the last response."""
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    sizes = {}
    with gunicorn(url, workers=2, log_folder=log_folder) as base:
        client = HttpClient(base)
        client.login(member, demo.DEMO_PASSWORD)
        for round_number in range(warmup + repeat):
            for label, path in rows:
                elapsed, status, size = client.timed_get(path)
                assert status == 200, (label, path, status)
                if round_number >= warmup:
                    times[label].append(elapsed)
                    sizes[label] = size
    return times, sizes


def report(times, sizes, small_counts, counts) -> None:
    p50 = {label: statistics.median(values) for label, values in times.items()}
    p95 = {label: percentile(values, 0.95) for label, values in times.items()}
    print(
        f"{'path':<24}{'p50 ms':>9}{'p95 ms':>9}{'p50 ×':>8}{'p95 ×':>8}{'KiB':>8}"
        f"{'SQL small':>10}{'SQL large':>10}  target"
    )
    for label in times:
        ratio50, ratio95 = p50[label] / p50[HEALTHZ], p95[label] / p95[HEALTHZ]
        verdict = (
            "—" if label == HEALTHZ else f"≤{TARGET}× {'met' if ratio50 <= TARGET else 'MISSED'}"
        )
        print(
            f"{label:<24}{p50[label]:>9.1f}{p95[label]:>9.1f}{ratio50:>8.1f}{ratio95:>8.1f}"
            f"{sizes[label] / 1024:>8.1f}{small_counts.get(label, '-'):>10}"
            f"{counts.get(label, '-'):>10}  {verdict}"
        )
    closed, nothing = f"q={CLOSED_WORD}", f"q={NONSENSE}"
    if closed in p50 and nothing in p50:
        noise = statistics.pstdev(times[nothing])
        print(
            f"timing channel: {CLOSED_WORD} (closed to the member) p50 {p50[closed]:.1f} ms, "
            f"{NONSENSE} (nowhere) {p50[nothing]:.1f} ms: difference "
            f"{p50[closed] - p50[nothing]:+.1f} ms, the nonsense word's own spread "
            f"(standard deviation) {noise:.1f} ms"
        )


# --- What an upload pays for the text ----------------------------------------------------------


def extraction() -> None:
    """Milliseconds of material_text.extract on a PDF, a .docx and an .xlsx made here."""
    from openpyxl import Workbook
    from reportlab.pdfgen.canvas import Canvas

    from renkei.services import pdf_tools

    line = "買い物支援の取組報告について、事務局から資料に基づき説明があった。介護予防の状況。"
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for _page in range(30):
        canvas.setFont(pdf_tools.FONT, 10)
        for n in range(40):
            canvas.drawString(40, 800 - 19 * n, line)
        canvas.showPage()
    canvas.save()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" * 1200
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{w}"><w:body>{paragraphs}</w:body></w:document>',
        )
    workbook = Workbook()
    for row in range(2000):
        workbook.active.append([f"{TOPICS[row % len(TOPICS)]}", row, row * 1.5, "備考"] * 3)
    xlsx = io.BytesIO()
    workbook.save(xlsx)
    print("material_text.extract (median of 5):")
    for label, data, name in (
        ("PDF, 30 pages × 40 lines", buffer.getvalue(), "a.pdf"),
        ("Word, 1,200 paragraphs", docx.getvalue(), "a.docx"),
        ("Excel, 2,000 rows × 12 cells", xlsx.getvalue(), "a.xlsx"),
    ):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            extracted = material_text.extract(data, name)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"  {label:<32}{len(data) / 1024:>8.0f} KiB{statistics.median(times):>9.0f} ms"
            f"{len(extracted):>10,} characters"
        )


# --- The run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 300 bodies, 60,000")
    parser.add_argument("--small-scale", type=float, default=0.05, help="0 to skip")
    parser.add_argument("--materials", type=int, default=1, help="per held session")
    parser.add_argument("--material-chars", type=int, default=2000)
    parser.add_argument("--member", default=MEMBER, help="who searches (a demo account)")
    parser.add_argument("--query", action="append", help=f"repeatable; default {QUERIES}")
    parser.add_argument("--closed", type=int, default=20_000, help="items with the closed word")
    parser.add_argument("--search-path", default="/search")
    parser.add_argument("--tables", default="search", help="prefix of the search tables")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--reuse",
        metavar="FOLDER",
        help="time the queries on the city a --keep run left in FOLDER (its SQLite file, or"
        " DATABASE_URL's database): no build, no rebuild",
    )
    args = parser.parse_args()
    if args.reuse:  # the kept city's audit log is sealed with its run's key
        os.environ["AUDIT_KEY"] = (Path(args.reuse) / AUDIT_KEY_FILE).read_text().strip()
    shared_audit_key()
    folders: list[str] = []
    try:
        if args.reuse:
            reuse(args)
            return
        run(args, folders)
    finally:
        for folder in folders if not args.keep else []:
            shutil.rmtree(folder, ignore_errors=True)
        if args.keep:
            print("kept: " + " ".join(folders))


def run(args, folders: list[str]) -> None:
    extraction()
    rows = paths([*(args.query or QUERIES), CLOSED_WORD, NONSENSE], args.search_path)
    searchable = True
    small_counts: dict[str, int] = {}
    if args.small_scale:
        small = small_app() if "DATABASE_URL" in os.environ else fresh_app()
        folders.append(small.instance_path)
        small, _sizes = city(args.small_scale, args.materials, args.material_chars, small)
        searchable = rebuild(small.config["DATABASE_URL"]) is not None
        if searchable:
            small_counts = query_counts(small, args.member, rows)
        small.extensions["renkei.engine"].dispose()

    app, _sizes = city(args.scale, args.materials, args.material_chars)
    folders.append(app.instance_path)
    # For --reuse: the key that opens the city's audit log (a made-up city: no one's data).
    (Path(app.instance_path) / AUDIT_KEY_FILE).write_text(os.environ["AUDIT_KEY"])
    planted = plant_closed_word(app, args.member, args.closed)
    print(f"{CLOSED_WORD} written into {planted:,} items {args.member} may not see")
    url = app.config["DATABASE_URL"]
    before = search_bytes(url, args.tables)
    built = rebuild(url) if searchable else None
    counts: dict[str, int] = {}
    if built is None:
        print("flask search-rebuild: no such command (the search is not merged): the index and")
        print("the queries are skipped; /healthz alone is timed.")
        rows = rows[:1]
    else:
        seconds, said = built
        print(f"flask search-rebuild: {seconds:.1f} s ({said})")
        after = search_bytes(url, args.tables)
        for name in sorted(after, key=lambda n: -after[n]):
            grown = after[name] - before.get(name, 0)
            print(f"  {name:<40}{after[name] / 2**20:>10.1f} MiB  (+{grown / 2**20:.1f} MiB)")
        settle(app)
        counts = query_counts(app, args.member, rows)
    print("\n".join(machine(app)))
    times, sizes = over_http(url, args.member, rows, args.repeat, args.warmup, app.instance_path)
    app.extensions["renkei.engine"].dispose()
    print("load after: " + subprocess.run(["uptime"], capture_output=True, text=True).stdout)
    report(times, sizes, small_counts, counts)


def reuse(args) -> None:
    """The queries timed again on a kept city (an index at scale 1.0 takes 7 minutes to
    build on SQLite and 20 on PostgreSQL): the code measured is this checkout's, its
    migrations applied first."""
    folder = Path(args.reuse)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False}, instance_path=str(folder))
    rows = paths([*(args.query or QUERIES), CLOSED_WORD, NONSENSE], args.search_path)
    settle(app)
    counts = query_counts(app, args.member, rows)
    print("\n".join(machine(app)))
    times, sizes = over_http(url, args.member, rows, args.repeat, args.warmup, str(folder))
    app.extensions["renkei.engine"].dispose()
    print("load after: " + subprocess.run(["uptime"], capture_output=True, text=True).stdout)
    report(times, sizes, {}, counts)


if __name__ == "__main__":
    main()
