"""Alembic environment: the URL comes from renkei.migrate, the metadata from the models."""

from alembic import context

import renkei.models  # noqa: F401  (registers every table on Base.metadata)
from renkei.db import Base, UTCDateTime, make_engine
from renkei.models.search import in_models

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, _autogen_context):
    """Write our UTC timestamp type as a plain DateTime, so migrations need no app import."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
        include_object=in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table by copying it and dropping the old one; with
            # foreign keys on, that drop would cascade and delete every row that refers to
            # it (all memberships of all people). Off for the migration, on again after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the implicit transaction, so Alembic's own commits
        # Batch mode lets later migrations alter tables on SQLite too.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            render_item=render_item,
            include_object=in_models,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
