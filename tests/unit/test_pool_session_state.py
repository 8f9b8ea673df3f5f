"""The pool sends no reset query on release (app.db.keep_session): that is right only while the
portal leaves no session state on a pool connection. This keeps it so: any statement in app/
that would outlive its transaction on the connection fails here, with the way out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# What asyncpg's default reset (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
# RESET ALL;`) would have undone, as it appears in our SQL or our asyncpg calls.
SESSION_STATE = {
    "session advisory lock (use pg_advisory_xact_lock)":
        re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\("),
    "LISTEN / a notification listener": re.compile(r"\bLISTEN\b|add_listener\(|add_log_listener\("),
    "a session setting (use SET LOCAL inside a transaction)":
        re.compile(r"""(execute|fetch\w*)\(\s*f?(\"\"\"|"|')\s*(SET|RESET)\s+(?!LOCAL\b)"""
                   r"""|\bSET\s+SESSION\b|set_config\s*\("""),
    "a cursor that outlives its transaction": re.compile(r"\bWITH\s+HOLD\b|\bDECLARE\s+\w+"),
    "a temporary table or prepared statement":
        re.compile(r"\bCREATE\s+TEMP(ORARY)?\s+TABLE\b|\bPREPARE\s+\w+\s+(AS|\()"),
}


def sources() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_the_app_is_scanned():
    assert any(p.name == "db.py" for p in sources())


@pytest.mark.parametrize("what", sorted(SESSION_STATE))
def test_no_session_state_on_pool_connections(what):
    pattern = SESSION_STATE[what]
    found = [f"{p.relative_to(APP.parent)}:{text[:m.start()].count(chr(10)) + 1}"
             for p in sources() for text in [p.read_text()] for m in pattern.finditer(text)]
    assert not found, (
        f"{what} at {found}: it would stay on the pool connection for the next request, "
        "because the pool no longer resets released connections (app/db.py keep_session)")


@pytest.mark.parametrize("sample", [
    "await conn.execute('SELECT pg_advisory_lock(1)')",
    "await conn.add_listener('ch', cb)",
    'await conn.execute("SET statement_timeout = 5")',
    'await db.execute("""SET search_path TO x""")',
    "await conn.execute('DECLARE c CURSOR WITH HOLD FOR SELECT 1')",
    "await conn.execute('CREATE TEMP TABLE t (x int)')",
])
def test_the_patterns_catch_what_they_guard(sample):
    assert any(p.search(sample) for p in SESSION_STATE.values())


@pytest.mark.parametrize("sample", [
    "await conn.execute('SET LOCAL cursor_tuple_fraction = 1')",
    "SELECT pg_advisory_xact_lock(hashtext('import-billing'))",
    "UPDATE portal_user SET is_active = false",
    '"""UPDATE mail_outbox SET sent_at = now()"""',
])
def test_what_is_transaction_scoped_passes(sample):
    assert not any(p.search(sample) for p in SESSION_STATE.values())
