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
