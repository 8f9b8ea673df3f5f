"""Operator console: one billing import at a time, and the indexes the console's lists need."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T15:03:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "one active billing import; journal and user search indexes"

STATEMENTS = [
    # At most one import queued or running: a second upload's INSERT violates this index and
    # the operator is told that an import is already under way.
    "CREATE UNIQUE INDEX billing_import_one_active ON billing_import ((true)) "
    "WHERE state IN ('queued', 'running')",
    "CREATE INDEX billing_import_created ON billing_import (created_at DESC)",
    # «Журнал», newest first.
    "CREATE INDEX audit_event_created ON audit_event (created_at DESC, id DESC)",
    "CREATE INDEX reading_audit_changed ON reading_audit (changed_at DESC, id DESC)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
