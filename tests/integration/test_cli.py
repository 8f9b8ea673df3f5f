"""`python -m app window` and `create-operator` as a user runs them (SPEC §6), on the test
database (the subprocess inherits DATABASE_URL / VAR_DIR from conftest)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from app import db
from tests.helpers import login

ROOT = Path(__file__).resolve().parents[2]


async def run_app(*args: str, **env: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=120, env={**os.environ, **env})


async def test_window_prints_one_line_and_honours_overrides(clean_db):
    done = await run_app("window", "--deadline-day", "8", "--period", "2018-10")
    assert (done.returncode, done.stdout) == (0, "2018-10-06 2018-10-08\n")
    # the operator declares Monday 08.10.2018 a day off: the window closes on Tuesday
    await db.execute("INSERT INTO calendar_override (day, is_working, note) VALUES ($1, false, '')",
                     date(2018, 10, 8))
    done = await run_app("window", "--deadline-day", "8", "--period", "2018-10")
    assert (done.returncode, done.stdout) == (0, "2018-10-06 2018-10-09\n")
    bad = await run_app("window", "--deadline-day", "8", "--period", "2018-13")
    assert bad.returncode != 0 and bad.stdout == ""


async def test_create_operator_then_the_operator_logs_in(client, clean_db):
    done = await run_app("create-operator", "Chief@Example.ru",
                         OPERATOR_PASSWORD="operator-pass-1")
    assert done.returncode == 0, done.stderr
    assert await db.fetchval("SELECT role FROM portal_user WHERE email = 'chief@example.ru'") \
        == "operator"
    await login(client, "chief@example.ru", "operator-pass-1")
    assert (await client.get("/operator")).status_code == 200
    short = await run_app("create-operator", "x@example.ru", OPERATOR_PASSWORD="short")
    assert short.returncode != 0
    assert await db.fetchval("SELECT count(*) FROM portal_user WHERE email = 'x@example.ru'") == 0
