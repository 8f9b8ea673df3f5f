"""API tokens and idempotency keys: what Piccolo's columns cannot say (composite unique)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T15:02:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "api idempotency key unique per user, expiry index"

STATEMENTS = [
    # One stored answer per user and key: the INSERT ... ON CONFLICT of a second request with
    # the same key waits on this index until the first one's transaction ends.
    'CREATE UNIQUE INDEX api_idempotency_user_key ON api_idempotency ("user", key)',
    "CREATE INDEX api_idempotency_created ON api_idempotency (created_at)",
    "ALTER TABLE api_token ADD CONSTRAINT api_token_scope CHECK (scope IN ('read', 'submit'))",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
