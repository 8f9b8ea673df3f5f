"""«Архив показаний» (R7, R8): accepted readings of the user's contracts, filters, pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app import db
from app.billing.refresh import refresh_archive
from tests.helpers import login


async def page_rows(html: str) -> list[list[str]]:
    """The result rows (cells as text) of an archive page."""
    body = html.split('class="data archive-results"', 1)[-1]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if cells:
            rows.append(cells)
    return rows


def groups(html: str) -> list[str]:
    return re.findall(r'<th colspan="\d+" scope="rowgroup">(.*?)</th>', html)


def dmy(d: date) -> str:
    return d.strftime("%d.%m.%Y")


async def test_archive_needs_login(client):
    response = await client.get("/archive")
    # to the login block, which brings the user back here afterwards
    assert response.status_code == 303 and response.headers["location"] == "/?next=%2Farchive"


async def test_archive_shows_accepted_cold_readings_grouped_newest_first(client, demo_db):
    await login(client)
    response = await client.get("/archive")
    html = response.text
    assert response.status_code == 200
    for text in ("Сведения о предыдущих показаниях", "Адрес точки подключения", "Выбрать адрес",
                 "Дата от", "Дата до", "Применить фильтр", "Сбросить фильтр", "Результаты поиска",
                 "Номер прибора учёта", "Адрес установки прибора учёта",
                 "Показания прибора учёта", "Дата показаний"):
        assert text in html, text
    assert groups(html) == ["ООО «Ромашка», №15303"]
    total = await db.fetchval(
        """SELECT count(*) FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND r.status = 'accepted'""")
    assert total == 12 * 24
    assert f"Найдено показаний: {total}. Страница 1 из 6." in html
    rows = await page_rows(html)
    assert len(rows) == 50
    newest = await db.fetchval(
        """SELECT max(read_on) FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND r.status = 'accepted'""")
    assert rows[0][3] == dmy(newest)
    dates = [date(int(r[3][6:]), int(r[3][3:5]), int(r[3][:2])) for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert {r[4] for r in rows} == {"биллинг"}
    # the last page holds the rest; a page beyond it shows the last one
    last = await client.get("/archive?page=6")
    assert len(await page_rows(last.text)) == total - 5 * 50
    assert "Страница 6 из 6" in last.text
    beyond = await client.get("/archive?page=999")
    assert "Страница 6 из 6" in beyond.text and len(await page_rows(beyond.text)) == 38


async def test_transmitted_reading_appears_after_refresh_with_portal_marker(client, demo_db):
    await login(client)
    meter = await db.fetchrow(
        """SELECT m.id, m.serial, max(r.value) AS last, max(r.read_on) AS last_on FROM meter m
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           JOIN reading r ON r.meter = m.id
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND m.digits = 5 AND m.serial <> ''
             AND r.value < 90000
           GROUP BY m.id ORDER BY m.id LIMIT 1""")
    read_on = meter["last_on"] + timedelta(days=20)
    period = date(read_on.year, read_on.month, 1) + timedelta(days=40)
    period = period.replace(day=1)
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, transmitted_at,
               created_by) VALUES ($1, $2, $3, $4, 'transmitted', 'portal', now(), $5)""",
        meter["id"], period, meter["last"] + 7, read_on, demo_db["subscriber"])
    query = f"/archive?date_from={read_on.isoformat()}&date_to={read_on.isoformat()}"

    before = await client.get(query)
    assert await page_rows(before.text) == []
    assert "Принятых показаний за выбранный период нет." in before.text

    counts = await refresh_archive()
    assert counts["accepted"] == 1

    after = await client.get(query)
    assert await page_rows(after.text) == [
        [meter["serial"], await db.fetchval("SELECT address FROM meter WHERE id = $1", meter["id"]),
         f"{meter['last'] + 7:,.3f}".replace(",", "\u00a0").replace(".", ","), dmy(read_on),
         "портал", "7,000"]]  # «Расход, м³»: since the meter's previous accepted reading


async def test_date_range_is_inclusive_and_bounds_the_reading_date(client, demo_db):
    await login(client)
    days = [r["read_on"] for r in await db.fetch(
        """SELECT DISTINCT r.read_on FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' ORDER BY r.read_on""")]
    lo, hi = days[3], days[5]
    response = await client.get(f"/archive?date_from={lo}&date_to={hi}")
    rows = await page_rows(response.text)
    assert {r[3] for r in rows} == {dmy(days[3]), dmy(days[4]), dmy(days[5])}
    assert len(rows) == 36
    assert f'value="{lo.isoformat()}"' in response.text  # the filter stays in the form
    # Russian dates typed into the URL work too
    typed = await client.get(f"/archive?date_from={dmy(lo)}&date_to={dmy(lo)}")
    assert {r[3] for r in await page_rows(typed.text)} == {dmy(lo)}


async def test_address_filter_and_foreign_ids_are_404(client, demo_db):
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at) VALUES ($1, $2, now())""",
        demo_db["subscriber"], demo_db["unlinked_contract"])
    await login(client)
    last_month = await db.fetchval("SELECT max(period) FROM reading")
    assert groups((await client.get(f"/archive?date_from={last_month}")).text) == [
        "ООО «Ромашка», №15303", "ООО «Ромашка», №15304"]
    point = await db.fetchrow(
        """SELECT p.id, p.address FROM connection_point p JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 ORDER BY p.id LIMIT 1""")
    response = await client.get(f"/archive?point={point['id']}&date_from={last_month}")
    rows = await page_rows(response.text)
    assert rows and all(r[1].startswith(point["address"]) for r in rows)
    assert groups(response.text) == ["ООО «Ромашка», №15303"]
    assert f'<option value="{point["id"]}" selected>' in response.text
    foreign_point = await db.fetchval(
        """SELECT p.id FROM connection_point p JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 16010 LIMIT 1""")
    for url in (f"/archive?point={foreign_point}", "/archive?point=abc",
                f"/archive?contract={demo_db['foreign_contract']}",
                "/archive?contract=x"):
        assert (await client.get(url)).status_code == 404, url
    # a point of the user's other contract is foreign to a chosen contract
    other_point = await db.fetchval(
        "SELECT id FROM connection_point WHERE contract = $1 LIMIT 1", demo_db["unlinked_contract"])
    url = f"/archive?contract={demo_db['linked_contract']}&point={other_point}"
    assert (await client.get(url)).status_code == 404


async def test_all_linked_contracts_are_shown_and_contract_limits(client, demo_db):
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at) VALUES ($1, $2, now())""",
        demo_db["subscriber"], demo_db["unlinked_contract"])
    await login(client)
    newest = await db.fetchval("SELECT max(period) FROM reading")  # one reading a meter
    response = await client.get(f"/archive?date_from={newest}")
    assert groups(response.text) == ["ООО «Ромашка», №15303", "ООО «Ромашка», №15304"]
    assert len(await page_rows(response.text)) == 12 + 5
    only = await client.get(f"/archive?date_from={newest}&contract={demo_db['unlinked_contract']}")
    assert groups(only.text) == ["ООО «Ромашка», №15304"]
    assert "Все договоры" in only.text


async def test_bad_dates_answer_422_with_a_message_and_keep_the_values(client, demo_db):
    await login(client)
    response = await client.get("/archive?date_from=2024-05-10&date_to=2024-05-01")
    assert response.status_code == 422
    assert "«Дата от» не может быть позже «Даты до»" in response.text
    assert 'value="2024-05-10"' in response.text and 'value="2024-05-01"' in response.text
    assert await page_rows(response.text) == []
    bad = await client.get("/archive?date_from=31.02.2024")
    assert bad.status_code == 422
    assert "Неверная дата: укажите дату в формате ДД.ММ.ГГГГ" in bad.text


async def test_htmx_gets_only_the_archive_block(client, demo_db):
    await login(client)
    response = await client.get("/archive?kind=hot", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="archive-ui"')
    assert "<html" not in response.text
    rows = await page_rows(response.text)
    assert len(rows) == 2 * 24  # two hot meters: discharge volumes
    assert all(re.fullmatch(r"\d+,\d{3}", r[2]) for r in rows)


async def test_reset_and_page_links_keep_the_filter_in_the_url(client, demo_db):
    await login(client)
    response = await client.get("/archive?kind=hot&date_from=2000-01-01")
    assert 'href="/archive?kind=hot"' in response.text  # reset: all addresses, no dates
    plain = await client.get("/archive?date_from=2000-01-01")
    assert 'href="/archive?date_from=2000-01-01&amp;page=2"' in plain.text
    assert 'href="/archive"' in plain.text


async def test_user_without_contracts_sees_where_to_connect(client, demo_db):
    from tests.helpers import create_user

    await create_user("lonely@example.ru")
    await login(client, "lonely@example.ru", "secret-pass-123")
    response = await client.get("/archive")
    assert response.status_code == 200
    assert "К вашему кабинету не подключено ни одного договора." in response.text
