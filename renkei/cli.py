"""Command-line commands: `flask --app renkei <command>`."""

import click
from flask import Flask, current_app
from werkzeug.serving import WSGIRequestHandler, run_simple

from renkei import migrate
from renkei.db import get_db


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, without naming Werkzeug's and Python's versions in the
    Server header (an attacker's first question)."""

    def version_string(self) -> str:
        return "Renkei"


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
    def serve_command(host: str, port: int):
        """Serve Renkei to try it on this machine (`make run`); production runs gunicorn."""
        run_simple(
            host,
            port,
            current_app._get_current_object(),
            threaded=True,
            request_handler=QuietRequestHandler,
        )

    @app.cli.command("migrate")
    def migrate_command():
        """Bring the database schema up to date."""
        migrate.upgrade(current_app.config["DATABASE_URL"])
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

    @app.cli.command("send-mail")
    def send_mail_command():
        """Send the queued e-mail that is pending or failed (for cron or after an outage)."""
        from renkei.services import mail

        settings = mail.MailSettings.from_config(current_app.config, current_app.instance_path)
        result = mail.deliver(get_db(), settings)
        _report_delivery(result, settings)
        if result.failed:
            raise SystemExit(1)

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
        result = mail.send_reminders(
            get_db(), settings, days=days, base_url=current_app.config["BASE_URL"]
        )
        click.echo(
            f"sessions: {result.sessions}, reminders queued: {len(result.queued.messages)}, "
            f"already queued earlier: {result.queued.already_queued}"
        )
        if result.queued.without_address:
            click.echo("no e-mail address: " + ", ".join(result.queued.without_address))
        _report_delivery(result.delivery, settings)
        if result.delivery.failed:
            raise SystemExit(1)

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
        result = polls.send_reminders(
            get_db(), settings, days=days, base_url=current_app.config["BASE_URL"]
        )
        click.echo(
            f"polls: {result.polls}, reminders queued: {len(result.queued.messages)}, "
            f"already queued earlier: {result.queued.already_queued}"
        )
        if result.queued.without_address:
            click.echo("no e-mail address: " + ", ".join(result.queued.without_address))
        _report_delivery(result.delivery, settings)
        if result.delivery.failed:
            raise SystemExit(1)

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

    @app.cli.command("audit-verify")
    def audit_verify_command():
        """Check the audit log's hash chain; name the first entry that does not fit."""
        from renkei.services import audit

        result = audit.verify(get_db())
        if result.ok:
            click.echo(f"audit log intact: {result.checked} entries")
            return
        where = f"entry {result.broken_id}" if result.broken_id else "the end of the chain"
        click.echo(
            f"audit log BROKEN at {where}: {result.reason} "
            f"({result.checked} entries before it are intact)",
            err=True,
        )
        raise SystemExit(1)


def _report_delivery(result, settings) -> None:
    where = f"SMTP {settings.host}:{settings.port}" if settings.uses_smtp else settings.outbox
    click.echo(f"sent: {result.sent}, failed: {result.failed}, skipped: {result.skipped} ({where})")
    for message_id, error in result.errors.items():
        click.echo(f"  message {message_id}: {error}", err=True)
