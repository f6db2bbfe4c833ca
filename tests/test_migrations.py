"""The migrations make the schema the models describe: a column or table
added to a model without its migration (or the other way round) fails here,
not on an organizer's laptop after an upgrade."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workshop.extensions import db


def test_the_migrated_database_has_the_models_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
