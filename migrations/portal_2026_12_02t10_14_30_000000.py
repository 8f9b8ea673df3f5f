"""Receipts and the mail outbox: what Piccolo's columns cannot say (a sequence, partial index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T10:14:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "receipt number sequence, outbox index"

STATEMENTS = [
    # Portal-wide receipt numbers: nextval() is never rolled back, so a number is never
    # handed out twice (a rolled-back transmit leaves a gap, never a reuse).
    "CREATE SEQUENCE receipt_number_seq AS bigint START 1",
    # The sender's claim: unsent rows whose retry time has come.
    "CREATE INDEX mail_outbox_unsent ON mail_outbox (next_attempt_at, id) WHERE sent_at IS NULL",
    "CREATE INDEX receipt_line_reading ON receipt_line (reading)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
