"""«Ход передачи показаний» reads every reading of one period: an index that starts there."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reading (period, meter) index for the operator's progress screen"

STATEMENTS = [
    "CREATE INDEX reading_period_meter ON reading (period, meter)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
