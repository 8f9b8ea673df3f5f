"""Throttled connection attempts are counted on one row per window (issue 18, F10).

Written first as raw SQL, which left the column out of Piccolo's replayed snapshot (the next
auto migration tried to add it again); the same DDL as a manager operation keeps both right.
A database that already ran this migration is not touched again (the ID is unchanged).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connection_request.attempts"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ConnectionRequest",
        tablename="connection_request",
        column_name="attempts",
        db_column_name="attempts",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 1,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
