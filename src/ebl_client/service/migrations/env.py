"""Alembic environment of the service database: run by `store.MIGRATIONS.upgrade` on the connection it passes in."""

from __future__ import annotations

from alembic import context

from ebl_client.service.tables import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
