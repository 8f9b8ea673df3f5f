"""The archive query at a realistic scale: indexes, never a sequential scan of `reading`."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from app import db
from app.queries.archive import ArchiveFilter, archive_count_sql, archive_page, archive_page_sql
from tests.helpers import create_user, truncate_all

CONTRACTS = 100  # × 20 meters = 2 000 meters, × 24 months = 48 000 accepted readings
BIG_CONTRACT_METERS = 400  # one large organization on top: + 9 600 readings


@pytest.fixture(scope="module")
async def city(pool):
    """A utility's worth of billing data, built by generate_series, then ANALYZEd."""
    await truncate_all()
    await db.execute(
        """INSERT INTO counterparty (billing_id, name, inn)
           SELECT g, 'ООО «Абонент ' || g || '»', lpad((1800000000 + g)::text, 10, '0')
           FROM generate_series(1, $1 + 1) g""", CONTRACTS)
    await db.execute(
        """INSERT INTO contract (billing_id, number, number_norm, counterparty, signed_on,
               deadline_day, discharge_deadline_day)
           SELECT 20000 + cp.billing_id, 'Д-' || cp.billing_id, 'д-' || cp.billing_id, cp.id,
                  '2018-01-15', 1 + cp.billing_id % 28, 1 + cp.billing_id % 28
           FROM counterparty cp""")
    await db.execute(
        """INSERT INTO connection_point (billing_id, contract, address)
           SELECT c.billing_id * 10 + g, c.id,
                  'г Ижевск, ул. Ленина, дом ' || (c.billing_id * 10 + g)
           FROM contract c, generate_series(1, 4) g""")
    await db.execute(
        """INSERT INTO meter (billing_id, point, serial, model, address, digits, kind, active)
           SELECT p.billing_id * 1000 + g, p.id, (p.billing_id * 1000 + g)::text, 'ВСХ-15',
                  p.address || ', кв/оф ' || g, 5, CASE WHEN g = 1 THEN 'hot' ELSE 'cold' END, true
           FROM connection_point p JOIN contract c ON c.id = p.contract,
                generate_series(
                    1, CASE WHEN c.billing_id = 20000 + $1 + 1 THEN $2 / 4 ELSE 5 END) g""",
        CONTRACTS, BIG_CONTRACT_METERS)
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
               anomaly_confirmed, created_at, updated_at, processed_at)
           SELECT m.id, (date '2017-01-01' + make_interval(months => k))::date, k * 10 + m.id % 7,
                  (date '2017-01-01' + make_interval(months => k))::date + m.id % 25,
                  'accepted', 'billing', false, false, now(), now(), now()
           FROM meter m, generate_series(0, 23) k""")
    # the current month in flight: some transmitted, some rejected, a few drafts
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, reject_reason)
           SELECT m.id, '2019-01-01', 300, '2019-01-05',
                  (ARRAY['transmitted', 'rejected', 'draft'])[1 + m.id % 3], 'portal',
                  CASE WHEN m.id % 3 = 1 THEN 'Показание меньше последнего принятого' END
           FROM meter m""")
    await db.execute("VACUUM ANALYZE reading")
    await db.execute("ANALYZE")
    small = await create_user("small@example.ru", contract_billing_ids=(20001, 20002))
    big = await create_user("big@example.ru", contract_billing_ids=(20000 + CONTRACTS + 1,))
    await db.execute("ANALYZE contract_link")
    return {"small": small, "big": big}


def scans(plan: dict) -> list[tuple[str, str | None, str | None]]:
    """(node type, relation, index) of every node of an EXPLAIN (FORMAT JSON) plan."""
    out = [(plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        out += scans(child)
    return out


async def explain(sql: str, args: list) -> list[tuple[str, str | None, str | None]]:
    raw = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return scans((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"])


async def test_dataset_is_realistic(city):
    assert await db.fetchval("SELECT count(*) FROM meter") == CONTRACTS * 20 + BIG_CONTRACT_METERS
    assert await db.fetchval("SELECT count(*) FROM reading") >= 50_000


@pytest.mark.parametrize("who", ["small", "big"])
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"date_from": date(2018, 1, 1), "date_to": date(2018, 3, 31)},
        {"date_from": date(2018, 11, 1)},
        {"kind": "hot"},
        {"point": True},
        {"contract": True, "date_to": date(2017, 6, 30)},
    ],
    ids=["all", "quarter", "from", "hot", "point", "contract-to"],
)
async def test_archive_query_never_scans_reading_sequentially(city, who, shape, capsys):
    user = city[who]
    contract_id, point_id = await db.fetchrow(
        """SELECT c.id, min(p.id) FROM contract_link l JOIN contract c ON c.id = l.contract
           JOIN connection_point p ON p.contract = c.id
           WHERE l."user" = $1 GROUP BY c.id ORDER BY c.id LIMIT 1""", user)
    f = ArchiveFilter(
        user_id=user,
        contract_id=contract_id if shape.get("contract") else None,
        point_id=point_id if shape.get("point") else None,
        kind=shape.get("kind", "cold"),
        date_from=shape.get("date_from"),
        date_to=shape.get("date_to"),
    )
    page_sql, page_args = archive_page_sql(f, 2)
    for sql, args in ((page_sql, page_args), archive_count_sql(f)):
        nodes = await explain(sql, args)
        on_reading = [n for n in nodes if n[1] == "reading"]
        assert on_reading, nodes
        assert all(n[0] != "Seq Scan" for n in on_reading), nodes
        assert {n[2] for n in on_reading} == {"reading_accepted_meter_read_on"}, nodes

    started = time.perf_counter()
    rows, total, _page = await archive_page(f, 1)
    elapsed = time.perf_counter() - started
    assert total > 0 and rows
    with capsys.disabled():
        print(f"\n  archive {who}/{shape}: {total} rows, page 1 in {elapsed * 1000:.1f} ms; "
              f"reading scans: {sorted({n[0] for n in on_reading})}")
