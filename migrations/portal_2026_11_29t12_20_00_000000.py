"""Constraints Piccolo's column API cannot express: composite/partial uniques, CHECKs, indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints and indexes"

STATEMENTS = [
    # One live reading per meter and period: retries, double clicks and two tabs
    # collapse onto this row. Rejected readings stay for history and free the slot.
    """CREATE UNIQUE INDEX reading_live_uniq ON reading (meter, period)
       WHERE status <> 'rejected'""",
    "ALTER TABLE reading ADD CONSTRAINT reading_value_nonneg CHECK (value >= 0)",
    """ALTER TABLE reading ADD CONSTRAINT reading_status_chk
       CHECK (status IN ('draft', 'transmitted', 'accepted', 'rejected'))""",
    "ALTER TABLE reading ADD CONSTRAINT reading_source_chk CHECK (source IN ('billing', 'portal'))",
    """ALTER TABLE reading ADD CONSTRAINT reading_period_month
       CHECK (period = date_trunc('month', period)::date)""",
    # Archive: meter + date range; grid: meter + period (latest accepted before a period).
    "CREATE INDEX reading_meter_read_on ON reading (meter, read_on DESC)",
    "CREATE INDEX reading_meter_period ON reading (meter, period DESC)",
    "CREATE INDEX reading_transmitted ON reading (id) WHERE status = 'transmitted'",
    "CREATE INDEX reading_batch ON reading (batch) WHERE batch IS NOT NULL",
    "ALTER TABLE meter ADD CONSTRAINT meter_kind_chk CHECK (kind IN ('cold', 'hot'))",
    "ALTER TABLE meter ADD CONSTRAINT meter_digits_chk CHECK (digits BETWEEN 1 AND 9)",
    """ALTER TABLE contract ADD CONSTRAINT contract_deadline_chk
       CHECK (deadline_day BETWEEN 1 AND 31 AND discharge_deadline_day BETWEEN 1 AND 31)""",
    "ALTER TABLE counterparty ADD CONSTRAINT counterparty_inn_chk CHECK (inn ~ '^[0-9]{10}([0-9]{2})?$')",
    "ALTER TABLE portal_user ADD CONSTRAINT user_email_lower CHECK (email = lower(email))",
    "ALTER TABLE portal_user ADD CONSTRAINT user_role_chk CHECK (role IN ('subscriber', 'operator'))",
    "CREATE UNIQUE INDEX contract_link_uniq ON contract_link (\"user\", contract)",
    """CREATE UNIQUE INDEX submission_window_uniq
       ON submission_window (contract, kind, period)""",
    "CREATE INDEX connection_request_user_time ON connection_request (\"user\", created_at DESC)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
