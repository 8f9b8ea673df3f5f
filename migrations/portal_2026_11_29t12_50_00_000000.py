"""Archive (R7) index: accepted readings of a meter by date, for the archive's filter query."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T12:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "archive index"

STATEMENTS = [
    # The archive reads only accepted rows, per meter of the user's contracts, newest first,
    # bounded by date: a partial index keeps transmitted/draft/rejected rows out of the way.
    """CREATE INDEX reading_accepted_meter_read_on ON reading (meter, read_on DESC)
       INCLUDE (value, source, id) WHERE status = 'accepted'""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
