"""Alembic environment: runs on the connection ``store.migrate`` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from results_online.verify_app.orgs.tables import metadata


def run() -> None:
    """Apply the migrations on the given connection, inside its transaction."""
    connection: Connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
