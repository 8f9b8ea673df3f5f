"""Piccolo configuration: the engine points at DATABASE_URL (set by the launcher or the env)."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(
    config={"dsn": os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/water_portal")},
    log_queries=False,
)

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
