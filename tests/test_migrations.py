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
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session

from assistant.cli import MIGRATIONS
from assistant.cli import alembic_config
from assistant.extensions import Database
from assistant.extensions import make_engine
from assistant.hotline.feed import feed_page
from assistant.hotline.feed import take_numbers
from assistant.hotline.notice_mail import notice_provider
from assistant.hotline.places import stored_host
from assistant.models import Base
from assistant.models import Location
from assistant.models import Notice
from tests.conftest import make_app


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


def test_hosts_kept_in_clear_before_are_sealed_unless_the_directory_names_them(tmp_path):
    """A database from before: its unnamed hosts are sealed by the upgrade, with the app's key,
    and still found when a notice needs them; a named platform's host stays in clear."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = make_app(url, tmp_path / "instance")
    config = alembic_config(app)
    command.upgrade(config, "0009")
    engine = Database.engine(app)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (id, case_number, passphrase_hash, language, categories, "
                "filed_by, must_change_passphrase, created_on, retain_until) VALUES (1, "
                "'RQ-AAAAAAAA', 'x', 'en', '[]', 'survivor', 0, '2026-11-01', '2027-11-01')"
            )
        )
        for position, (host, domain) in enumerate(
            [("img-4f2a.example.de", "example.de"), ("imgur.com", "imgur.com"), (None, None)]
        ):
            connection.execute(
                text(
                    "INSERT INTO locations (case_id, position, kind, value_sealed, value_hash, "
                    "host, registrable_domain, route_reasons, status, added_on, "
                    "status_changed_on) VALUES (1, :position, 'url', x'00', 'h', :host, :domain, "
                    "'[]', 'received', '2026-11-01', '2026-11-01')"
                ),
                {"position": position, "host": host, "domain": domain},
            )
        for provider in ("img-4f2a.example.de", "imgur"):
            connection.execute(
                text(
                    "INSERT INTO notices (location_id, hotline_id, notice_type, provider, "
                    "escalation, sent_on) VALUES (1, 'hotline_de', 'csam', :provider, 0, "
                    "'2026-11-02')"
                ),
                {"provider": provider},
            )
    command.upgrade(config, "head")
    services = app.extensions["assistant.services"]
    with Session(engine) as db:
        typed, named = db.scalars(select(Notice).order_by(Notice.id)).all()
        assert (typed.provider, named.provider, named.provider_sealed) == ("", "Imgur", None)
        assert notice_provider(services, typed) == "img-4f2a.example.de"
        rows = db.scalars(select(Location).order_by(Location.position)).all()
        assert [(r.host, r.registrable_domain) for r in rows] == [
            (None, None),
            ("imgur.com", "imgur.com"),
            (None, None),
        ]
        assert [stored_host(services.cipher, r) for r in rows] == [
            "img-4f2a.example.de",
            "imgur.com",
            None,
        ]
    with engine.connect() as connection:  # the log's old pages go at its next checkpoint
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = (tmp_path / "old.sqlite3").read_bytes() + (tmp_path / "old.sqlite3-wal").read_bytes()
    assert b"img-4f2a" not in raw
    engine.dispose()
