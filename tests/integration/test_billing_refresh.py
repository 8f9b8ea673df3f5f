"""Archive refresh (R7): hand-off to billing, answers, crash recovery and concurrent workers."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date

import pytest

from app import db
from app.billing.adapter import OUTBOX_COLUMNS, outbox_dir
from app.billing.refresh import refresh_archive
from tests.helpers import ROOT, VAR_DIR, create_user

SEPT, OCT = date(2018, 9, 1), date(2018, 10, 1)
ZERO = {"batches": 0, "resumed": 0, "handed_over": 0, "accepted": 0, "rejected": 0,
        "released": 0}


class Crash(RuntimeError):
    """Stands for the worker dying at a step boundary."""


@pytest.fixture
async def world(clean_db):
    """One contract (№15303) with `n` cold meters, one hot meter, September accepted."""
    shutil.rmtree(outbox_dir(), ignore_errors=True)
    await db.execute(
        """INSERT INTO counterparty (billing_id, name, inn)
           VALUES (501, 'ООО «Ромашка»', '7707083893')""")
    await db.execute(
        """INSERT INTO contract (billing_id, number, number_norm, counterparty, signed_on,
               deadline_day, discharge_deadline_day)
           SELECT 15303, 'Д-1', 'д-1', id, '2018-01-15', 8, 8 FROM counterparty""")
    await db.execute(
        """INSERT INTO connection_point (billing_id, contract, address)
           SELECT 70001, id, 'г Ижевск, ул. Ленина, дом 114' FROM contract""")
    uid = await create_user("org@example.ru", contract_billing_ids=(15303,))
    return {"user": uid}


async def add_meters(n: int, kind: str = "cold", first_billing_id: int = 49000) -> list[int]:
    """`n` meters with an accepted September reading of 231 (cold) / 1.250 (hot)."""
    rows = await db.fetch(
        """INSERT INTO meter (billing_id, point, serial, model, address, verification_due,
               digits, kind, active)
           SELECT $2 + g, p.id, '13 ' || (300000 + g), 'VLF-R-1.5',
                  'г Ижевск, ул. Ленина, дом 114, кв/оф ' || g, NULL, 5, $3, true
           FROM generate_series(1, $1) g, connection_point p
           RETURNING id""",
        n, first_billing_id, kind,
    )
    ids = [r["id"] for r in rows]
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
               anomaly_confirmed, created_at, updated_at, processed_at)
           SELECT m, '2018-09-01', $2, '2018-09-04', 'accepted', 'billing', false, false,
                  now(), now(), now()
           FROM unnest($1::int[]) m""",
        ids, 231 if kind == "cold" else 1.25,
    )
    return ids


async def transmit(meter_ids: list[int], value, read_on=date(2018, 10, 8), user=None,
                   rollover=False) -> list[int]:
    rows = await db.fetch(
        """INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
               anomaly_confirmed, created_by, updated_by, created_at, updated_at, transmitted_at)
           SELECT m, '2018-10-01', $2, $3, 'transmitted', 'portal', $5, false, $4, $4,
                  now(), now(), now()
           FROM unnest($1::int[]) m RETURNING id""",
        meter_ids, value, read_on, user, rollover,
    )
    return [r["id"] for r in rows]


def outbox_rows() -> list[dict]:
    rows = []
    for path in sorted(outbox_dir().glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                rows.append({**row, "_file": path.name})
    return rows


async def assert_each_once(reading_ids: list[int], status: str = "accepted") -> None:
    """Each reading in exactly one batch file, answered exactly once, batches all applied."""
    in_files = Counter(int(r["reading_id"]) for r in outbox_rows())
    assert {rid: in_files[rid] for rid in reading_ids} == {rid: 1 for rid in reading_ids}
    assert sum(in_files.values()) == len(reading_ids)
    rows = await db.fetch(
        """SELECT r.id, r.status, r.batch, r.processed_at,
                  (SELECT count(*) FROM reading_audit a
                   WHERE a.reading = r.id AND a.action LIKE 'billing_%') AS answers
           FROM reading r WHERE r.id = ANY($1::int[])""",
        reading_ids,
    )
    assert {r["status"] for r in rows} == {status}
    assert all(r["answers"] == 1 and r["batch"] and r["processed_at"] for r in rows)
    assert await db.fetchval("SELECT count(*) FROM billing_batch WHERE state <> 'applied'") == 0
    files = {r["_file"] for r in outbox_rows()}
    batch_files = {r["file_name"] for r in await db.fetch("SELECT file_name FROM billing_batch")}
    assert files == batch_files


async def test_refresh_on_nothing_returns_zero_counts(world):
    await add_meters(2)  # only billing history: nothing transmitted
    assert await refresh_archive() == ZERO
    assert await db.fetchval("SELECT count(*) FROM billing_batch") == 0
    assert not outbox_rows()


async def test_refresh_hands_over_and_records_billing_answers(world):
    cold = await add_meters(3)
    hot = await add_meters(1, kind="hot", first_billing_id=59000)
    good = await transmit(cold[:2], 240, user=world["user"])
    bad = await transmit(cold[2:], 200, user=world["user"])  # below 231, no rollover
    volume = await transmit(hot, 0.75, user=world["user"])
    await db.execute("INSERT INTO reading (meter, period, value, read_on, status, source) "
                     "VALUES ($1, '2018-11-01', 250, '2018-11-08', 'draft', 'portal')", cold[0])

    counts = await refresh_archive()

    assert counts == {**ZERO, "batches": 1, "handed_over": 4, "accepted": 3, "rejected": 1}
    rows = {r["id"]: r for r in await db.fetch(
        "SELECT id, status, reject_reason, processed_at, batch FROM reading WHERE id = ANY($1)",
        good + bad + volume)}
    assert [rows[i]["status"] for i in good + volume] == ["accepted"] * 3
    assert rows[bad[0]]["status"] == "rejected"
    assert rows[bad[0]]["reject_reason"] == (
        "Показание 200 меньше последнего принятого (231), переход через ноль не подтверждён")
    # billing's answer is a code with its parameters, put into words where it is shown
    coded = await db.fetchrow(
        "SELECT reject_code, reject_params::text AS params FROM reading WHERE id = $1", bad[0])
    assert (coded["reject_code"], json.loads(coded["params"])) == (
        "below_last", {"value": "200", "last": "231"})
    assert await db.fetchval(
        "SELECT count(*) FROM reading WHERE id = ANY($1) AND reject_code IS NOT NULL",
        good + volume) == 0
    assert all(r["processed_at"] is not None for r in rows.values())
    assert await db.fetchval("SELECT status FROM reading WHERE period = '2018-11-01'") == "draft"
    batch = await db.fetchrow("SELECT * FROM billing_batch")
    assert (batch["state"], batch["item_count"], batch["accepted_count"],
            batch["rejected_count"]) == ("applied", 4, 3, 1)
    assert batch["applied_at"] is not None
    audit = await db.fetch(
        "SELECT reading, action, old_status, new_status, note FROM reading_audit ORDER BY reading")
    assert [(a["action"], a["old_status"], a["new_status"]) for a in audit] == [
        ("billing_accepted", "transmitted", "accepted"),
        ("billing_accepted", "transmitted", "accepted"),
        ("billing_rejected", "transmitted", "rejected"),
        ("billing_accepted", "transmitted", "accepted"),
    ]
    assert audit[2]["note"].startswith(f"Пакет {batch['uid']}: Показание 200")

    path = outbox_dir() / batch["file_name"]
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(";") == OUTBOX_COLUMNS
    by_id = {int(r["reading_id"]): r for r in outbox_rows()}
    assert by_id[good[0]] == {
        "batch": batch["uid"], "reading_id": str(good[0]), "contract_id": "15303",
        "meter_id": "49001", "serial": "13 300001", "kind": "cold", "period": "2018-10",
        "value": "240.000", "read_on": "2018-10-08", "rollover": "0",
        "transmitted_at": by_id[good[0]]["transmitted_at"], "user_email": "org@example.ru",
        "_file": batch["file_name"],
    }
    assert by_id[volume[0]]["kind"] == "hot" and by_id[volume[0]]["value"] == "0.750"

    assert await refresh_archive() == ZERO  # safe to run twice


async def test_confirmed_rollover_and_inactive_meter(world):
    meters = await add_meters(2)
    await db.execute("UPDATE meter SET active = false WHERE id = $1", meters[1])
    rolled = await transmit(meters[:1], 12, rollover=True)
    retired = await transmit(meters[1:], 240)
    await refresh_archive()
    statuses = dict(await db.fetch(
        "SELECT id, coalesce(reject_reason, status) FROM reading WHERE id = ANY($1)",
        rolled + retired))
    assert statuses == {rolled[0]: "accepted",
                        retired[0]: "Прибор учёта не числится действующим в биллинге"}


@pytest.mark.parametrize("step", ["claimed", "handed_over", "written", "answers_applied",
                                  "applied"])
async def test_crash_at_any_step_then_rerun_hands_over_each_reading_once(world, step):
    readings = await transmit(await add_meters(5), 240)

    def crash(name: str) -> None:
        if name == step:
            raise Crash(name)

    with pytest.raises(Crash):
        await refresh_archive(crash_hook=crash)
    if step in ("handed_over", "written", "answers_applied"):
        assert len(outbox_rows()) == 5  # the file was written before the crash
        assert await db.fetchval("SELECT count(*) FROM reading WHERE status = 'accepted' "
                                 "AND period = '2018-10-01'") == 0

    counts = await refresh_archive()

    await assert_each_once(readings)
    assert await db.fetchval("SELECT count(*) FROM billing_batch") == 1
    assert counts["batches"] == 0
    assert counts["accepted"] == (0 if step == "applied" else 5)
    assert counts["resumed"] == (0 if step == "applied" else 1)


def run_refresh_process(crash_at: str | None = None) -> subprocess.CompletedProcess:
    """`python -m app refresh-archive`, or the same job killed hard (os._exit) at a step."""
    if crash_at is None:
        cmd = [sys.executable, "-m", "app", "refresh-archive"]
    else:
        cmd = [sys.executable, "-c", (
            "import asyncio, os\n"
            "from app import db\n"
            "from app.billing.refresh import refresh_archive\n"
            "def hook(name):\n"
            f"    if name == {crash_at!r}: os._exit(137)\n"
            "async def main():\n"
            "    await db.open_pool(max_size=2)\n"
            "    await refresh_archive(crash_hook=hook)\n"
            "asyncio.run(main())\n")]
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, "VAR_DIR": str(VAR_DIR)},
                          capture_output=True, text=True, timeout=120)


async def test_process_killed_between_file_and_statuses_then_rerun(world):
    readings = await transmit(await add_meters(20), 240)

    killed = run_refresh_process(crash_at="handed_over")

    assert killed.returncode == 137, killed.stderr
    assert len(outbox_rows()) == 20
    assert await db.fetchval("SELECT state FROM billing_batch") == "prepared"
    rerun = run_refresh_process()
    assert rerun.returncode == 0, rerun.stderr
    assert '"accepted": 20' in rerun.stdout and '"resumed": 1' in rerun.stdout
    await assert_each_once(readings)


async def test_two_concurrent_refreshes_never_share_a_reading(world):
    readings = await transmit(await add_meters(300), 240)

    first, second = await asyncio.gather(refresh_archive(batch_limit=25),
                                         refresh_archive(batch_limit=25))

    await assert_each_once(readings)
    assert first["accepted"] + second["accepted"] == 300
    assert first["handed_over"] + second["handed_over"] == 300
    per_batch = await db.fetch(
        "SELECT batch, count(*) FROM reading WHERE period = '2018-10-01' GROUP BY batch")
    assert sum(r["count"] for r in per_batch) == 300 and all(r["count"] <= 25 for r in per_batch)


async def test_two_worker_processes_never_share_a_reading(world):
    readings = await transmit(await add_meters(1500), 240)

    results = await asyncio.gather(
        asyncio.to_thread(run_refresh_process), asyncio.to_thread(run_refresh_process))

    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    await assert_each_once(readings)


@pytest.mark.parametrize("detach", [True, False], ids=["grid-detaches", "still-attached"])
async def test_reading_corrected_after_hand_over_is_handed_over_again(world, detach):
    """The grid freezes a reading while it is in a batch (may_write); should it change
    anyway (still attached, or detached from the batch), billing's answer on the old value is
    never applied to the new one: the new value goes to billing in the next batch."""
    reading = (await transmit(await add_meters(1), 240))[0]

    corrections = []

    async def user_corrects(name: str) -> None:
        if name == "written" and not corrections:  # once, while billing has the old value
            corrections.append(name)
            await db.execute(
                f"UPDATE reading SET value = 245 {', batch = NULL' if detach else ''} "
                "WHERE id = $1", reading)

    counts = await refresh_archive(crash_hook=user_corrects)

    assert counts["released"] == (0 if detach else 1)
    assert counts["accepted"] == 1  # the second batch, with 245
    assert counts["batches"] == 2
    assert [r["value"] for r in outbox_rows()] == ["240.000", "245.000"]
    row = await db.fetchrow("SELECT status, value FROM reading WHERE id = $1", reading)
    assert (row["status"], row["value"]) == ("accepted", 245)
    actions = [r["action"] for r in await db.fetch(
        "SELECT action FROM reading_audit WHERE reading = $1 ORDER BY id", reading)]
    assert actions == ([] if detach else ["billing_released"]) + ["billing_accepted"]
    first = await db.fetchrow("SELECT * FROM billing_batch ORDER BY id LIMIT 1")
    assert (first["state"], first["accepted_count"]) == ("applied", 0)


async def test_missing_outbox_file_leaves_the_batch_for_the_next_run(world):
    readings = await transmit(await add_meters(2), 240)

    def lose_file(name: str) -> None:
        if name == "written":
            for path in outbox_dir().glob("*.csv"):
                path.unlink()

    counts = await refresh_archive(crash_hook=lose_file)
    assert counts["accepted"] == 0
    assert await db.fetchval("SELECT state FROM billing_batch") == "written"
    statuses = {r["status"] for r in await db.fetch(
        "SELECT status FROM reading WHERE id = ANY($1)", readings)}
    assert statuses == {"transmitted"}


async def test_worker_job_runs_the_refresh(world):
    from app.worker import refresh_archive as job

    readings = await transmit(await add_meters(3), 240)
    counts = await job({})
    assert counts == {**ZERO, "batches": 1, "handed_over": 3, "accepted": 3}
    await assert_each_once(readings)
