"""The migrations folder describes app/tables.py exactly.

Piccolo builds its schema snapshot by replaying the migration managers; a column added by
raw SQL is invisible to it, and the next `piccolo migrations new portal --auto` would
then try to add that column a second time. No database is needed: this is a comparison of
the table classes with the replayed managers.
"""

from __future__ import annotations

import os

os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")


async def test_auto_migration_finds_nothing_to_do():
    from piccolo.apps.migrations.commands.new import AutoMigrationManager

    from app.piccolo_app import APP_CONFIG

    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(
        app_config=APP_CONFIG)
    pending = [s for group in statements for s in group.statements]
    assert pending == [], "tables.py differs from the migrations:\n" + "\n".join(pending)
