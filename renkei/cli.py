"""Command-line commands: `flask --app renkei <command>`."""

import click
from flask import Flask, current_app
from werkzeug.serving import WSGIRequestHandler, run_simple

from renkei import config, migrate
from renkei.db import get_db
from renkei.links import Links


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, without naming Werkzeug's and Python's versions in the
    Server header (an attacker's first question)."""

    def version_string(self) -> str:
        return "Renkei"


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option(
        "--port",
        type=click.IntRange(1, 65535),
        default=config.DEFAULT_PORT,
        envvar="PORT",
        show_default=True,
    )
    def serve_command(host: str, port: int):
        """Serve Renkei to try it on this machine (`make run`); production runs gunicorn.
        Without BASE_URL, links in mail, calendar files and feeds point at this port."""
        if not config.base_url_configured():
            app.config["BASE_URL"] = config.local_base_url(port)
        run_simple(
            host,
            port,
            app,
            threaded=True,
            request_handler=QuietRequestHandler,
        )

    @app.cli.command("migrate")
    def migrate_command():
        """Bring the database schema up to date."""
        from renkei.services import search_index

        migrate.upgrade(current_app.config["DATABASE_URL"])
        db = get_db()
        written = search_index.rebuild_if_empty(db)
        db.commit()
        if written is not None:
            click.echo(f"search index written: {written} entries")
        click.echo("database is up to date")

    @app.cli.command("load-demo")
    def load_demo_command():
        """Load the demo town into an empty database; leave a database with data alone."""
        from renkei.services import demo

        db = get_db()
        if demo.load_if_empty(db):
            db.commit()
            click.echo("demo data loaded (all demo accounts use the password renkei-demo)")
        else:
            click.echo("database already has data; demo not loaded")

    @app.cli.command("search-rebuild")
    def search_rebuild_command():
        """Write the whole search index again (after a restore, or to check it)."""
        from renkei.services import search_index

        db = get_db()
        count = search_index.rebuild(db)
        db.commit()
        click.echo(f"search index rebuilt: {count} entries")

    @app.cli.command("send-mail")
    @click.option(
        "--now",
        is_flag=True,
        help="Try every waiting message at once, not only those due for a retry (after an outage).",
    )
    def send_mail_command(now: bool):
        """Send the queued e-mail that is pending, due for a retry, or left by a process that
        died (for cron every few minutes, or after an outage)."""
        from renkei.services import mail

        settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        result = mail.deliver(get_db(), settings, now=now)
        _report_delivery(result, settings)
        if result.failed:
            raise SystemExit(1)

    @app.cli.command("send-notices")
    def send_notices_command():
        """Send the change notices that have waited NOTICE_DELAY_MINUTES (cron, every
        minute, when the servers' own timer is off: NOTICE_TIMER=0)."""
        from renkei import notice_timer

        queued = notice_timer.send_due(app)
        click.echo(f"change notices queued: {len(queued.messages)}")

    @app.cli.command("send-reminders")
    @click.option(
        "--days",
        type=click.IntRange(0, 365),
        default=3,
        show_default=True,
        help="Remind of the sessions starting this many days from today (Tokyo date).",
    )
    def send_reminders_command(days: int):
        """E-mail invitees of the sessions starting in --days days; once per session and day,
        however often it runs (for a daily cron job)."""
        from renkei.services import mail

        settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        result = mail.send_reminders(get_db(), settings, days=days, links=Links.of(app))
        _report_reminders(f"sessions: {result.sessions}", result, settings)

    @app.cli.command("send-poll-reminders")
    @click.option(
        "--days",
        type=click.IntRange(0, 365),
        default=2,
        show_default=True,
        help="Remind of the open date polls whose deadline (or first slot) is this many days "
        "away or less.",
    )
    def send_poll_reminders_command(days: int):
        """E-mail the invitees who have not answered an open date poll due within --days
        days; once per invitee and day, however often it runs (for a daily cron job)."""
        from renkei.services import mail, polls

        settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        result = polls.send_reminders(get_db(), settings, days=days, links=Links.of(app))
        _report_reminders(f"polls: {result.polls}", result, settings)

    @app.cli.command("backup")
    @click.argument("destination", metavar="DEST", type=click.Path(path_type=str))
    @click.option("--force", is_flag=True, help="Overwrite DEST if it exists.")
    def backup_command(destination: str, force: bool):
        """Copy the SQLite database to DEST (a file, or a folder for a dated
        renkei-YYYYMMDD-HHMMSS.sqlite3) while the app runs. On PostgreSQL: print the pg_dump
        and pg_restore commands to use and exit with status 2."""
        from renkei.services import backup

        url = current_app.config["DATABASE_URL"]
        try:
            if backup.backend(url) == "postgresql":
                commands = backup.postgresql_commands(url, destination)
                click.echo("Renkei does not copy a PostgreSQL database itself. Back it up with:")
                click.echo(f"  {commands.dump}")
                click.echo("and restore it (with the app stopped) with:")
                click.echo(f"  {commands.restore}")
                click.echo("(the password is not shown: give it in ~/.pgpass or PGPASSWORD)")
                raise SystemExit(2)
            made = backup.backup_sqlite(url, destination, force=force)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"backup written: {made.path} ({made.size:,} bytes)")

    @app.cli.command("material-text")
    def material_text_command():
        """Read the text of the materials' files stored before their text was read on
        upload, for the search (run once after upgrading; again does no harm)."""
        from renkei.services import materials
        from renkei.services.material_store import store_of

        read, missing = materials.read_missing_texts(get_db(), store_of())
        click.echo(f"material texts read: {read}")
        if missing:
            click.echo(f"files missing from the material store (left unread): {missing}")

    _register_audit(app)


def _anchor_options(command):
    command = click.option(
        "--anchors",
        "anchor_file",
        type=click.File(encoding="utf-8"),
        help="A file of anchor lines, one a line (blank lines and # comments skipped).",
    )(command)
    return click.option(
        "--anchor",
        "anchor_lines",
        multiple=True,
        metavar="LINE",
        help="An anchor line printed by audit-anchor (may be given several times).",
    )(command)


def _register_audit(app: Flask) -> None:
    @app.cli.command("audit-verify")
    @_anchor_options
    def audit_verify_command(anchor_lines, anchor_file):
        """Check the audit log's chain with the audit key, and that it has exactly the hash
        of each anchor at the anchor's length; name the first entry or anchor that fails."""

        anchors = _anchors(anchor_lines, anchor_file)
        db = get_db()
        result = _verified(db)
        _check_anchors(db, anchors)
        matched = f"; {len(anchors)} anchors match" if anchors else ""
        click.echo(f"audit log intact: {result.checked} entries{matched}")

    @app.cli.command("audit-anchor")
    @click.option(
        "--mail",
        "address",
        metavar="ADDRESS",
        help="Also e-mail the anchor to ADDRESS (a mailbox that the server cannot change).",
    )
    def audit_anchor_command(address: str | None):
        """Verify the audit log and print its anchor line (length and last hash) for
        keeping elsewhere, e.g. from a daily cron job; with --mail, e-mail it too (or that
        the log failed its check)."""
        from renkei.services import audit_chain, mail

        settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        if address is not None and not mail.valid_address(address):
            raise click.BadParameter(f"not an e-mail address: {address!r}", param_hint="--mail")
        db = get_db()
        result = audit_chain.verify(db)
        anchor = audit_chain.anchor_of(result) if result.ok else None
        if anchor is not None:
            click.echo(anchor.line)
        else:
            click.echo(f"no anchor: {_describe(result)}", err=True)
        if address is not None:
            message = audit_chain.anchor_message(
                address, anchor=anchor, problem=_describe(result), sender=settings.sender
            )
            db.add(message)
            db.commit()
            _mail_anchor(db, settings, message.id)
        if anchor is None:
            raise SystemExit(1)

    @app.cli.command("audit-reseal")
    @click.option(
        "--accept-broken",
        is_flag=True,
        help="Seal the log as it stands even where it does not fit (say why in your records).",
    )
    @_anchor_options
    def audit_reseal_command(accept_broken: bool, anchor_lines, anchor_file):
        """Once, after upgrading from a version without the audit key: check the log written
        before the key and seal it with the key. Refuses a log that does not fit, or whose
        re-sealed chain does not match every anchor given."""
        from renkei.services import audit_chain

        anchors = _anchors(anchor_lines, anchor_file)
        db = get_db()
        try:
            result = audit_chain.reseal(db, accept_broken=accept_broken)
        except audit_chain.AuditKeyError as error:
            raise click.ClickException(str(error)) from None
        where = f"entry {result.broken_id}" if result.broken_id else "the end of the chain"
        if result.reason and not result.done:
            db.rollback()
            click.echo(
                f"audit log NOT re-sealed: it does not fit at {where}: {result.reason}. "
                "Nothing was changed; see the README before using --accept-broken.",
                err=True,
            )
            raise SystemExit(1)
        if not result.done:
            db.rollback()
            click.echo(f"nothing to re-seal: all {result.entries} entries are sealed with the key")
            return
        _check_anchors(db, anchors)  # exits, and nothing is committed, if one fails
        db.commit()
        if result.reason:
            click.echo(f"WARNING: sealed although it did not fit at {where}: {result.reason}")
        click.echo(
            f"audit log re-sealed: {result.entries} entries, {result.unkeyed} of them written "
            "before the key; keep this anchor elsewhere:"
        )
        click.echo(audit_chain.anchor_of(audit_chain.verify(db)).line)


def _anchors(lines, file) -> list:
    from renkei.services import audit_chain

    try:
        anchors = [audit_chain.parse_anchor(line) for line in lines]
        if file is not None:
            anchors += audit_chain.read_anchors(file, file.name)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return anchors


def _check_anchors(db, anchors) -> None:
    """Exit with status 1, naming the first anchor the chain does not match."""
    from renkei.services import audit_chain

    mismatch = audit_chain.anchor_mismatch(db, anchors)
    if mismatch:
        anchor, problem = mismatch
        click.echo(f"audit log does NOT match the anchor {anchor.line}: {problem}", err=True)
        raise SystemExit(1)


def _verified(db):
    """The chain's verification; when it fails, say where and exit with status 1."""
    from renkei.services import audit_chain

    result = audit_chain.verify(db)
    if not result.ok:
        click.echo(f"audit log BROKEN {_describe(result)}", err=True)
        raise SystemExit(1)
    return result


def _describe(result) -> str:
    from renkei.services import audit_chain

    if result.ok:
        return f"intact: {result.checked} entries"
    if result.reason == audit_chain.WRONG_KEY:
        return f"- {result.reason}"
    where = f"entry {result.broken_id}" if result.broken_id else "the end of the chain"
    return f"at {where}: {result.reason} ({result.checked} entries before it are intact)"


def _mail_anchor(db, settings, message_id: int) -> None:
    from renkei.services import mail

    result = mail.deliver(db, settings, [message_id])
    if result.failed:
        _report_delivery(result, settings)
        raise SystemExit(1)
    if not settings.uses_smtp:
        click.echo(
            f"no SMTP server configured: the message was only written to {settings.outbox}, "
            "on this server",
            err=True,
        )


def _report_reminders(counted: str, result, settings) -> None:
    """What a reminder run queued and sent; a failed delivery ends it with status 1 (for
    cron to tell)."""
    click.echo(
        f"{counted}, reminders queued: {len(result.queued.messages)}, "
        f"already queued earlier: {result.queued.already_queued}"
    )
    if result.queued.without_address:
        click.echo("no e-mail address: " + ", ".join(result.queued.without_address))
    _report_delivery(result.delivery, settings)
    if result.delivery.failed:
        raise SystemExit(1)


def _report_delivery(result, settings) -> None:
    where = f"SMTP {settings.host}:{settings.port}" if settings.uses_smtp else settings.outbox
    click.echo(
        f"sent: {result.sent}, failed: {result.failed}, skipped: {result.skipped}, "
        f"held: {result.held} ({where})"
    )
    for message_id, error in result.errors.items():
        click.echo(f"  message {message_id}: {error}", err=True)
