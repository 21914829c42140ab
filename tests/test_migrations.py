"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import renkei.models  # noqa: F401  (registers every table on Base.metadata)
from renkei.db import Base, make_engine


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
