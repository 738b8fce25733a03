"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Table

from assistant.extensions import Database
from assistant.models import Base


def test_the_migrated_database_matches_the_models(app):
    with Database.engine(app).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_missing_column_would_be_noticed(app):
    extended = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extended)
    Table("cases", extended, Column("not_migrated", Integer), extend_existing=True)
    with Database.engine(app).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), extended)
    assert any("not_migrated" in str(item) for item in differences)


def test_tables_that_never_reuse_ids_keep_autoincrement_after_every_migration(app):
    """SQLite rebuilds a table to alter it; a rebuild without AUTOINCREMENT would hand an erased
    case's ids to the next one."""
    with Database.engine(app).connect() as connection:
        if connection.dialect.name != "sqlite":
            return  # PostgreSQL sequences never go back
        created = dict(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            ).all()
        )
    wanted = [
        name
        for name, table in Base.metadata.tables.items()
        if table.dialect_options["sqlite"].get("autoincrement")
    ]
    assert wanted
    assert [name for name in wanted if "AUTOINCREMENT" not in created[name]] == []
