"""Command-line commands: `flask --app renkei <command>`."""

import click
from flask import Flask, current_app

from renkei import migrate
from renkei.db import get_db


def register(app: Flask) -> None:
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


def _report_delivery(result, settings) -> None:
    where = f"SMTP {settings.host}:{settings.port}" if settings.uses_smtp else settings.outbox
    click.echo(f"sent: {result.sent}, failed: {result.failed}, skipped: {result.skipped} ({where})")
    for message_id, error in result.errors.items():
        click.echo(f"  message {message_id}: {error}", err=True)
