"""Operator: billing batches with their outbox files ("take the readings out")."""

from __future__ import annotations

import shutil

from app import db
from app.billing.adapter import outbox_dir
from app.billing.refresh import refresh_archive
from tests.helpers import login, post_form

OPERATOR = ("operator@izhvodokanal.example", "operpass2026")


async def transmit_two() -> None:
    """Two readings of №15303 for the month after its history: one fine, one below the last."""
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, transmitted_at)
           SELECT r.meter, (r.period + interval '1 month')::date,
                  CASE WHEN n = 1 THEN r.value + 5 ELSE r.value - 5 END, r.read_on + 30,
                  'transmitted', 'portal', now()
           FROM (SELECT r.*, row_number() OVER (ORDER BY r.meter) AS n
                 FROM reading r JOIN meter m ON m.id = r.meter
                 JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
                 WHERE c.billing_id = 15303 AND m.kind = 'cold' AND r.value BETWEEN 10 AND 90000
                   AND r.period = (SELECT max(period) FROM reading)) r
           WHERE n <= 2""")


async def test_operator_lists_batches_and_downloads_the_file(client, demo_db):
    shutil.rmtree(outbox_dir(), ignore_errors=True)
    await login(client, *OPERATOR)
    empty = await client.get("/operator")
    assert "Пакеты показаний для биллинга" in empty.text
    assert "Пакетов ещё не было" in empty.text

    await transmit_two()
    await refresh_archive()
    batch = await db.fetchrow("SELECT uid, file_name FROM billing_batch")

    page = await client.get("/operator")
    assert page.status_code == 200
    row = page.text.split(f"<td>{batch['uid']}</td>", 1)[1].split("</tr>", 1)[0]
    cells = [c.strip() for c in row.split("<td")[1:]]
    assert "Ответ получен" in cells[0]
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in cells[1:4]] == ["2", "1", "1"]
    link = f'href="/operator/batches/{batch["uid"]}/file"'
    assert link in row

    fragment = await client.get("/operator/batches", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section class="card wide" id="batches"')

    download = await client.get(f"/operator/batches/{batch['uid']}/file")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert f'filename="{batch["file_name"]}"' in download.headers["content-disposition"]
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content == (outbox_dir() / batch["file_name"]).read_bytes()
    lines = download.text.splitlines()
    assert lines[0].startswith("batch;reading_id;contract_id;meter_id;serial;kind;period;value")
    assert len(lines) == 3

    for uid in ("no-such-batch", "..%2F..%2Fsecret_key", "x"):
        assert (await client.get(f"/operator/batches/{uid}/file")).status_code == 404


async def test_batch_times_are_izhevsk_time(client, demo_db):
    """A batch made at 21:30 UTC on 31 December is shown as 01:30 on 1 January, UTC+4 (the
    utility's zone, settings TIMEZONE), in Russian and in English."""
    await transmit_two()
    await refresh_archive()
    await db.execute("""UPDATE billing_batch SET created_at = '2026-12-31 21:30:00+00',
                                                applied_at = '2026-12-31 23:05:00+00'""")
    uid = await db.fetchval("SELECT uid FROM billing_batch")
    await login(client, *OPERATOR)
    row = (await client.get("/operator")).text.split(f"<td>{uid}</td>", 1)[1].split("</tr>")[0]
    assert "<td>01.01.2027 01:30 UTC+4</td>" in row
    assert "<td>01.01.2027 03:05 UTC+4</td>" in row
    assert "31.12.2026" not in row
    await post_form(client, "/lang", {"lang": "en", "next": "/operator"})
    fragment = await client.get("/operator/batches", headers={"HX-Request": "true"})
    row = fragment.text.split(f"<td>{uid}</td>", 1)[1].split("</tr>")[0]
    assert "<td>1 Jan 2027 01:30 UTC+4</td>" in row, row


async def test_subscribers_cannot_list_or_download_batches(client, demo_db):
    await transmit_two()
    await refresh_archive()
    uid = await db.fetchval("SELECT uid FROM billing_batch")
    await login(client)
    for url in ("/operator/batches", f"/operator/batches/{uid}/file"):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "batch;reading_id" not in response.text


async def test_operator_queues_a_refresh_for_the_worker(client, demo_db):
    from redis.asyncio import Redis

    from app.settings import get_settings

    await login(client, *OPERATOR)
    first = await post_form(client, "/operator/batches/refresh", headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "Обновление архива поставлено в очередь" in first.text
    assert first.text.lstrip().startswith('<section class="card wide" id="batches"')
    redis = Redis.from_url(get_settings().redis_url)
    try:
        keys = [k.decode() async for k in redis.scan_iter("arq:job:refresh_archive:manual:*")]
    finally:
        await redis.aclose()
    assert len(keys) == 1
    again = await post_form(client, "/operator/batches/refresh")
    assert again.status_code == 303 and again.headers["location"] == "/operator#batches"
    page = await client.get("/operator")
    assert ("Обновление архива уже запущено." in page.text
            or "Обновление архива поставлено в очередь" in page.text)
