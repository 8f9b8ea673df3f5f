"""«Ход передачи показаний»: contracts counted by state for a period and kind, the state
filter, search by №/INN/name (metacharacters are text), pagination, the Excel export."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from app import db
from app.domain.calendar import month_start, period_value
from app.settings import today
from tests.helpers import login

OPERATOR = ("operator@izhvodokanal.example", "operpass2026")


async def set_readings(contract_billing_id: int, statuses: list[str | None],
                       kind: str = "cold") -> None:
    """Give the contract's active meters of `kind` (in id order) a reading of this period
    with these statuses (None: no reading)."""
    meters = await db.fetch(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND m.kind = $2 AND m.active ORDER BY m.id""",
        contract_billing_id, kind)
    period = month_start(today())
    await db.execute("DELETE FROM reading WHERE period = $1 AND meter = ANY($2::int[])",
                     period, [m["id"] for m in meters])
    for meter, status in zip(meters, statuses + [None] * len(meters), strict=False):
        if status:
            await db.execute(
                """INSERT INTO reading (meter, period, value, read_on, status, source,
                       rollover_confirmed, anomaly_confirmed, created_at, updated_at)
                   VALUES ($1, $2, 1, $3, $4, 'portal', false, false, now(), now())""",
                meter["id"], period, today(), status)


@pytest.fixture
async def states(demo_db):
    n = await db.fetchval(
        """SELECT count(*) FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract WHERE c.billing_id = 15303
           AND m.kind = 'cold' AND m.active""")
    await set_readings(15303, ["transmitted"] * (n - 1) + ["accepted"])  # all
    await set_readings(15304, ["transmitted"])  # some
    await set_readings(16010, [])  # none
    await set_readings(17001, [])  # none
    await set_readings(18020, ["accepted", "rejected"])  # rejected
    return demo_db


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-contract="(\d+)"', html)


def count_of(html: str, state: str) -> int:
    return int(re.search(rf'data-count="{state}">(\d+)<', html).group(1))


async def test_counts_states_and_filter(client, states):
    await login(client, *OPERATOR)
    page = await client.get("/operator/progress")
    assert page.status_code == 200
    assert {s: count_of(page.text, s) for s in ("all", "some", "none", "rejected")} == \
        {"all": 1, "some": 1, "none": 2, "rejected": 1}
    assert sorted(rows_of(page.text)) == ["15303", "15304", "16010", "17001", "18020"]
    late = await client.get("/operator/progress?state=none", headers={"HX-Request": "true"})
    assert late.text.lstrip().startswith('<section id="progress-ui"')
    assert sorted(rows_of(late.text)) == ["16010", "17001"]
    assert "АО «Ижевский хлебозавод»" in late.text
    rejected = await client.get("/operator/progress?state=rejected")
    assert rows_of(rejected.text) == ["18020"]
    assert count_of(rejected.text, "all") == 1  # the summary ignores the state filter
    hot = await client.get(f"/operator/progress?kind=hot&period={period_value(today())}")
    assert "17001" not in rows_of(hot.text)  # no hot meters: not listed
    bad = await client.get("/operator/progress?period=2026-13")
    assert bad.status_code == 422 and "ГГГГ-ММ" in bad.text


SEARCHES = [
    ("16010", ["16010"]),
    ("Хлебозавод", ["16010"]),
    ("П-17001", ["17001"]),
    ("18", ["15303", "15304", "16010", "17001", "18020"]),  # every demo INN starts with 18
    ("%", []),
    ("_", []),
    ("' OR 1=1 --", []),
    ("\\", []),
    ("<script>alert(1)</script>", []),
    # (query, contracts found): SQL/LIKE/HTML metacharacters are plain text
]


async def test_search(client, states):
    await login(client, *OPERATOR)
    for query, expected in SEARCHES:
        page = await client.get("/operator/progress", params={"q": query})
        assert page.status_code == 200, query
        assert sorted(rows_of(page.text)) == expected, query
        assert "<script>alert(1)</script>" not in page.text


async def test_pagination(client, states, monkeypatch):
    from app.controllers import operator_progress

    monkeypatch.setattr(operator_progress, "PER_PAGE", 2)
    await login(client, *OPERATOR)
    seen = []
    for n in (1, 2, 3):
        page = await client.get(f"/operator/progress?page={n}")
        seen += rows_of(page.text)
    assert len(seen) == 5 and len(set(seen)) == 5
    assert "Страница 3 из 3" in page.text


async def test_excel_export_has_every_row_of_the_filter(client, states):
    await login(client, *OPERATOR)
    r = await client.get("/operator/progress/export.xlsx?state=none")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("№", "Номер договора", "Название контрагента")
    assert sorted(row[0] for row in rows[1:]) == [16010, 17001]
    assert {row[7] for row in rows[1:]} == {"Не передано ничего"}


async def test_subscriber_403(client, states):
    await login(client)
    assert (await client.get("/operator/progress")).status_code == 403
    assert (await client.get("/operator/progress/export.xlsx")).status_code == 403
