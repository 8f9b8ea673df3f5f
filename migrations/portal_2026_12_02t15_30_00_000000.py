"""Throttled connection attempts are counted on one row per window (issue 18, F10)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connection_request.attempts"

STATEMENTS = [
    "ALTER TABLE connection_request ADD COLUMN attempts integer NOT NULL DEFAULT 1",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
