"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy.orm import Session

from assistant.cli import MIGRATIONS
from assistant.extensions import Database
from assistant.extensions import make_engine
from assistant.hotline.feed import feed_page
from assistant.hotline.feed import take_numbers
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


def test_referrals_made_before_the_feed_come_first_in_it_in_the_order_they_were_made(tmp_path):
    """Upgrading a database with referrals in it puts them in their hotlines' feeds, so a
    hotline's system that starts polling after the upgrade gets every one of them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (id, case_number, passphrase_hash, language, categories, "
                "filed_by, must_change_passphrase, created_on, retain_until, failed_checks, "
                "lockouts) VALUES (1, 'RQ-AAAAAAAA', 'x', 'en', '[]', 'survivor', 0, "
                "'2026-11-01', '2027-11-01', 0, 0)"
            )
        )
        for referral_id, hotline in ((3, "hotline_ie"), (5, "offlimits_nl"), (8, "hotline_ie")):
            connection.execute(
                text(
                    "INSERT INTO referrals (id, case_id, hotline_id, status, created_on, due_on) "
                    "VALUES (:id, 1, :hotline, 'received', '2026-11-01', '9999-12-31')"
                ),
                {"id": referral_id, "hotline": hotline},
            )
    command.upgrade(config, "head")
    with Session(engine) as db:
        assert feed_page(db, "hotline_ie", 0).items[0].referral_id == 3
        assert [i.referral_id for i in feed_page(db, "hotline_ie", 0).items] == [3, 8]
        assert [i.referral_id for i in feed_page(db, "offlimits_nl", 0).items] == [5]
        # The next change of a hotline comes after all of them.
        assert take_numbers(db, "hotline_ie", 1) == 9
    engine.dispose()
