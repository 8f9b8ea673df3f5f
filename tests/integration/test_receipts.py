"""Receipts «Квитанция о передаче № …» on real PostgreSQL: one per transmit that changed
something, none for a no-op retry, unique numbers under concurrency, isolation (R8)."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import pytest

from app import db
from app.billing.refresh import refresh_archive
from app.domain.calendar import month_start, period_value
from app.queries.readings import ReadingWrite, write_readings
from app.settings import today
from tests.helpers import create_user, login, post_grid


async def cold_meters(contract_id: int) -> list[dict]:
    rows = await db.fetch(
        """SELECT m.id, (SELECT max(value) FROM reading r WHERE r.meter = m.id
                         AND r.status = 'accepted') AS prev
           FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' AND m.active ORDER BY m.id""",
        contract_id)
    return [dict(r) for r in rows]


def form(contract: int, meters: list[dict], step: int, action: str = "transmit") -> dict:
    data = {"action": action, "contract": str(contract),
            "period": period_value(month_start(today()))}
    for m in meters:
        data[f"value-{m['id']}"] = str(int(m["prev"] or 0) + step)
        data[f"date-{m['id']}"] = today().strftime("%d.%m.%Y")
    return data


async def receipts() -> list[dict]:
    return [dict(r) for r in await db.fetch(
        """SELECT rc.number, rc."user", rc.contract, rc.kind, rc.period,
                  (SELECT count(*) FROM receipt_line l WHERE l.receipt = rc.id) AS lines
           FROM receipt rc ORDER BY rc.number""")]


async def test_transmit_makes_one_receipt_and_a_retry_none(client, demo_db):
    await login(client)
    contract = demo_db["linked_contract"]
    meters = (await cold_meters(contract))[:3]
    first = await post_grid(client, "/readings/cold", form(contract, meters, 4))
    assert first.status_code == 200, first.text[:500]
    [made] = await receipts()
    assert made["lines"] == 3 and made["user"] == demo_db["subscriber"]
    assert made["kind"] == "cold" and made["period"] == month_start(today())
    link = re.search(r'href="/receipts/(\d+)">Квитанция о передаче № (\d+)<', first.text)
    assert link and int(link.group(1)) == int(link.group(2)) == made["number"]
    # the same transmit again (double click, retry): nothing changed, no receipt
    again = await post_grid(client, "/readings/cold", form(contract, meters, 4))
    assert again.status_code == 200 and "/receipts/" not in again.text
    assert len(await receipts()) == 1
    # saving drafts makes none either
    await post_grid(client, "/readings/cold", form(contract, meters[:1], 4, "save"))
    assert len(await receipts()) == 1
    # a correction inside the window changes something: a new receipt, with only that line
    corrected = await post_grid(client, "/readings/cold", form(contract, meters[:1], 6))
    assert "Квитанция о передаче №" in corrected.text
    numbers = [r["number"] for r in await receipts()]
    assert len(numbers) == 2 and (await receipts())[1]["lines"] == 1
    # the list and the page
    listing = await client.get("/receipts")
    assert listing.status_code == 200 and all(f"/receipts/{n}" in listing.text for n in numbers)
    page = await client.get(f"/receipts/{numbers[0]}")
    assert page.status_code == 200
    assert f"Квитанция о передаче № {numbers[0]}" in page.text
    assert page.text.count("status-transmitted") == 2  # the two untouched lines
    assert page.text.count("status-superseded") == 1   # the corrected one: see receipt 2
    assert "demo@izhvodokanal.example" in page.text


async def test_receipt_numbers_unique_under_20_concurrent_transmits(demo_db):
    contract = demo_db["linked_contract"]
    meters = await cold_meters(contract)
    users = [demo_db["subscriber"]] + [
        await create_user(f"staff{i}@example.ru", contract_billing_ids=(15303,))
        for i in range(3)]
    period = month_start(today())

    async def transmit(i: int):
        meter = meters[i % len(meters)]
        value = Decimal(int(meter["prev"] or 0) + 10 + i)  # each call changes its meter
        return await write_readings(users[i % len(users)], period,
                                    [ReadingWrite(meter["id"], value, today(), "transmitted")])

    results = await asyncio.gather(*(transmit(i) for i in range(20)))
    numbers = [n for r in results for n in r.receipts]
    assert len(numbers) == 20 and len(set(numbers)) == 20
    assert sorted(numbers) == [r["number"] for r in await receipts()]
    # every meter's stored value transmitted again (a retry): nothing changes, no receipt
    stored = await db.fetch(
        "SELECT meter, value, read_on FROM reading WHERE meter = ANY($1::int[]) AND period = $2",
        [m["id"] for m in meters], period)
    retries = await asyncio.gather(*(
        write_readings(users[k % len(users)], period,
                       [ReadingWrite(r["meter"], r["value"], r["read_on"], "transmitted")])
        for k, r in enumerate(stored)))
    assert [r.receipts for r in retries] == [[] for _ in stored]
    assert len(await receipts()) == 20


@pytest.fixture
async def two_receipts(demo_db):
    """A receipt of the demo user on №15303 and one of an outsider on №16010."""
    outsider = await create_user("outsider@example.ru", contract_billing_ids=(16010,))
    colleague = await create_user("colleague@example.ru", contract_billing_ids=(15303,))
    period = month_start(today())
    own = (await cold_meters(demo_db["linked_contract"]))[0]
    foreign = (await cold_meters(demo_db["foreign_contract"]))[0]
    mine = await write_readings(demo_db["subscriber"], period, [
        ReadingWrite(own["id"], Decimal(int(own["prev"] or 0) + 3), today(), "transmitted")])
    theirs = await write_readings(outsider, period, [
        ReadingWrite(foreign["id"], Decimal(int(foreign["prev"] or 0) + 3), today(),
                     "transmitted")])
    return {"mine": mine.receipts[0], "theirs": theirs.receipts[0], "colleague": colleague,
            "outsider": outsider}


async def test_another_users_receipt_is_404(client, two_receipts):
    await login(client)
    assert (await client.get(f"/receipts/{two_receipts['mine']}")).status_code == 200
    for number in (two_receipts["theirs"], two_receipts["mine"] + 1000, 0, 2**62, 2**63 + 5):
        response = await client.get(f"/receipts/{number}")
        assert response.status_code == 404, number
        assert "16010" not in response.text and "outsider@" not in response.text
    listing = await client.get("/receipts")
    assert f"/receipts/{two_receipts['theirs']}" not in listing.text


async def test_a_colleague_on_the_same_contract_does_not_see_my_receipt(client, two_receipts):
    await login(client, "colleague@example.ru", "secret-pass-123")
    assert (await client.get(f"/receipts/{two_receipts['mine']}")).status_code == 404
    assert f"/receipts/{two_receipts['mine']}" not in (await client.get("/receipts")).text


async def test_unlinked_contract_hides_its_receipts(client, two_receipts, demo_db):
    await db.execute("""DELETE FROM contract_link WHERE "user" = $1 AND contract = $2""",
                     demo_db["subscriber"], demo_db["linked_contract"])
    await login(client)
    assert (await client.get(f"/receipts/{two_receipts['mine']}")).status_code == 404


async def test_receipt_page_shows_billing_answers_after_a_refresh(client, two_receipts):
    await refresh_archive()
    await login(client)
    page = await client.get(f"/receipts/{two_receipts['mine']}")
    assert page.status_code == 200
    statuses = re.findall(r'class="status status-(\w+)"', page.text)
    assert statuses and all(s in ("accepted", "rejected") for s in statuses)
    assert ("принято" in page.text) or ("отклонено" in page.text)
    assert "@media print" in (await client.get("/static/app.css")).text
