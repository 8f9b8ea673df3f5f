"""Smoke test of `python -m bench data`: a tiny dataset in its own database, counted and checked."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import psutil
import pytest
from stdnum.ru import inn as stdnum_inn

from app.domain.calendar import WorkingCalendar, submission_window
from app.security import verify_password
from bench import data
from devstack.embedded import _database_url, adrop_database

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def test_bench_data_command_builds_a_skewed_dataset_in_its_own_database():
    admin = os.environ["DATABASE_URL"]
    name = f"water_portal_bench_smoke_{os.getpid()}"
    url = _database_url(admin, name)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench", "data", "--scale", "0.01", "--users", "5",
             "--db", name],
            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert f"database {name}: 100 contracts, 400 meters, 9600 readings" in result.stdout
        conn = await asyncpg.connect(url)
        try:
            sizes = [r["n"] for r in await conn.fetch(
                """SELECT count(m.id) AS n FROM contract c
                   JOIN connection_point p ON p.contract = c.id
                   JOIN meter m ON m.point = p.id GROUP BY c.id""")]
            assert len(sizes) == 100 and sum(sizes) == 400
            assert sum(1 for s in sizes if s <= 5) >= 90 and max(sizes) == 100
            grid = await conn.fetchrow(
                """SELECT count(*) FILTER (WHERE m.kind = 'cold') AS cold,
                          count(DISTINCT p.id) AS points
                   FROM meter m JOIN connection_point p ON p.id = m.point
                   WHERE p.contract = 1""")
            assert (grid["cold"], grid["points"]) == (100, 10)
            per_meter = await conn.fetch(
                """SELECT count(*) AS n, min(period) AS first, max(period) AS last
                   FROM reading WHERE status = 'accepted' AND source = 'billing'
                   GROUP BY meter""")
            assert len(per_meter) == 400
            assert {(r["n"], r["first"].isoformat(), r["last"].isoformat())
                    for r in per_meter} == {(24, "2024-11-01", "2026-10-01")}
            inns = [r["inn"] for r in await conn.fetch("SELECT inn FROM counterparty")]
            assert all(stdnum_inn.is_valid(inn) for inn in inns) and len(set(inns)) == len(inns)
            calendar = WorkingCalendar({})
            for row in await conn.fetch("SELECT DISTINCT deadline_day FROM contract"):
                opens, closes = submission_window(data.CURRENT_PERIOD, row["deadline_day"],
                                                  calendar)
                assert opens <= data.BENCH_TODAY <= closes
            users = await conn.fetch(
                """SELECT u.email, u.password_hash, array_agg(l.contract) AS contracts
                   FROM portal_user u JOIN contract_link l ON l."user" = u.id
                   GROUP BY u.id ORDER BY u.id""")
            assert [u["email"] for u in users][:2] == [data.GRID_EMAIL, "bench0001@bench.example"]
            assert len(users) == 6 and all(len(u["contracts"]) == 1 for u in users)
            assert verify_password(users[-1]["password_hash"], data.PASSWORD)
            # the indexes dropped around COPY are back
            indexes = {r["indexname"] for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'reading'")}
            assert {"reading_live_uniq", "reading_meter_read_on",
                    "reading_meter_period"} <= indexes
            # the sequences continue after the copied ids: the app can insert
            await conn.execute(
                """INSERT INTO reading (meter, period, value, read_on, status, source,
                       rollover_confirmed, anomaly_confirmed, created_at, updated_at)
                   VALUES (1, '2026-11-01', 1, '2026-11-25', 'draft', 'portal', false, false,
                           now(), now())""")
        finally:
            await conn.close()
        assert (await data.dataset_meta(url))["readings"] == 9600
        # the upload scenario's contract: added on demand, once, its user linked to it only
        first = await data.ensure_upload_contract(url, meters=250)
        assert await data.ensure_upload_contract(url, meters=250) == first
        conn = await asyncpg.connect(url)
        try:
            contract, uid = first
            row = await conn.fetchrow(
                """SELECT count(m.id) AS meters, count(DISTINCT p.id) AS points,
                          count(r.id) AS readings, max(r.period) AS period
                   FROM connection_point p JOIN meter m ON m.point = p.id
                   LEFT JOIN reading r ON r.meter = m.id AND r.status = 'accepted'
                   WHERE p.contract = $1 AND m.kind = 'cold'""", contract)
            assert tuple(row) == (250, 3, 250, data.CURRENT_PERIOD.replace(month=10))
            assert [r["contract"] for r in await conn.fetch(
                'SELECT contract FROM contract_link WHERE "user" = $1', uid)] == [contract]
        finally:
            await conn.close()
    finally:
        await adrop_database(admin, name)


@pytest.mark.slow
def test_bench_stops_the_embedded_postgresql_it_started(tmp_path_factory):
    """Without DATABASE_URL the bench starts PostgreSQL under var/ and stops it at the end."""
    var = tmp_path_factory.mktemp("bv")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "data", "--scale", "0.01", "--users", "2"],
        cwd=ROOT, env={**env, "VAR_DIR": str(var)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Embedded PostgreSQL ready" in result.stderr  # it did start one
    assert not (var / "pg" / "postmaster.pid").exists()
    assert not [p for p in psutil.process_iter(["cwd"]) if (p.info["cwd"] or "").startswith(
        str(var))], "a server of the bench's var/ is still running"
