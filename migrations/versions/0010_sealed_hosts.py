"""Hosts and providers in clear only where the provider directory names them: others are sealed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

A one-off host (``img-4f2a.example.de``) or an onion address is the reported link in all but its
path; a provider's name staff typed may be one. The upgrade seals each such host and each notice
recorded by hand to a provider the directory does not name, with the app's current master key,
and clears what was in clear; it needs the app's keys and directory, so it runs through
``assistant init-db`` (or :func:`assistant.cli.upgrade_database`), not a bare ``alembic``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

HOST_CONTEXT = "location.host"
BATCH = 500


def upgrade() -> None:
    op.add_column("locations", sa.Column("host_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("notices", sa.Column("provider_sealed", sa.LargeBinary(), nullable=True))
    op.drop_index("ix_locations_registrable_domain", table_name="locations")
    services = context.config.attributes.get("services")
    connection = op.get_bind()
    locations = sa.table(
        "locations",
        sa.column("id", sa.Integer),
        sa.column("host", sa.String),
        sa.column("host_sealed", sa.LargeBinary),
        sa.column("registrable_domain", sa.String),
    )
    named = set(services.directory.provider_hosts) if services is not None else set()
    unnamed = sa.or_(
        sa.and_(locations.c.host.is_not(None), locations.c.host.not_in(named or {""})),
        sa.and_(
            locations.c.registrable_domain.is_not(None),
            locations.c.registrable_domain.not_in(named or {""}),
        ),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(locations.c.id, locations.c.host, locations.c.registrable_domain)
            .where(unnamed, locations.c.id > last)
            .order_by(locations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        if services is None:
            raise RuntimeError(
                "Hosts stored in clear must be sealed with the app's keys: upgrade with "
                "`assistant init-db`, not a bare alembic."
            )
        for row in rows:
            host = row.host if row.host in named else None
            sealed = (
                services.cipher.seal(row.host, HOST_CONTEXT)
                if row.host and row.host not in named
                else None
            )
            domain = row.registrable_domain if row.registrable_domain in named else None
            connection.execute(
                sa.update(locations)
                .where(locations.c.id == row.id)
                .values(host=host, host_sealed=sealed, registrable_domain=domain)
            )
        last = rows[-1].id
    _seal_typed_providers(connection, services)


def _seal_typed_providers(connection: sa.Connection, services: object) -> None:
    """Notices recorded by hand name the provider as staff typed it: kept in clear only where
    the directory names it (by its name there), sealed otherwise."""
    notices = sa.table(
        "notices",
        sa.column("id", sa.Integer),
        sa.column("provider", sa.String),
        sa.column("provider_sealed", sa.LargeBinary),
        sa.column("letter_id", sa.Integer),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(notices.c.id, notices.c.provider)
            .where(notices.c.id > last, notices.c.letter_id.is_(None), notices.c.provider != "")
            .order_by(notices.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        if services is None:
            raise RuntimeError("Upgrade with `assistant init-db`: providers must be sealed.")
        directory, cipher = services.directory, services.cipher  # type: ignore[attr-defined]
        for row in rows:
            named = directory.provider_named(row.provider)
            connection.execute(
                sa.update(notices)
                .where(notices.c.id == row.id)
                .values(
                    provider=named.name if named else "",
                    provider_sealed=None if named else cipher.seal(row.provider, "notice.provider"),
                )
            )
        last = rows[-1].id


def downgrade() -> None:
    # Sealed hosts stay sealed (they cannot be opened here); the routing falls back to the link.
    op.create_index(
        "ix_locations_registrable_domain", "locations", ["registrable_domain"], unique=False
    )
    # A plain DROP COLUMN: rebuilding the table on SQLite would delete its notices with it.
    op.execute(sa.text("ALTER TABLE locations DROP COLUMN host_sealed"))
    op.execute(sa.text("ALTER TABLE notices DROP COLUMN provider_sealed"))
