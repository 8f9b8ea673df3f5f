"""A meter's history (SPEC §11) on a real PostgreSQL: the chart's bars and gaps, the table,
rollovers, the anomaly lines, and isolation (R8)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app import db
from app.domain.calendar import add_months, month_start
from app.settings import today
from tests.helpers import create_user, login


async def meter_of(billing_id: int, kind: str = "cold", index: int = 0) -> int:
    return (await db.fetch(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract WHERE c.billing_id = $1 AND m.kind = $2
           ORDER BY m.id""", billing_id, kind))[index]["id"]


def bars(html: str) -> list[str]:
    """data-period of every bar of the chart."""
    return re.findall(r'<rect class="bar [^"]*" data-period="([0-9-]+)"', html)


async def test_chart_table_rollover_gap_and_lines(client, demo_db):
    """Demo meter 15303/0 (5 digits) stands near 99 700 after 24 accepted months. One month
    deleted → a gap; the current one transmitted as 5 → a rollover, hatched (not accepted)."""
    meter = await meter_of(15303)
    current = month_start(today())
    gap = add_months(current, -5)
    await db.execute("DELETE FROM reading WHERE meter = $1 AND period = $2", meter, gap)
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, created_at,
                                updated_at, rollover_confirmed, anomaly_confirmed)
           SELECT $1, $2, 5, $3, 'transmitted', 'portal', now(), now(), true, true
           FROM reading WHERE meter = $1 AND status = 'accepted'
           ORDER BY period DESC LIMIT 1""", meter, current, today())
    await login(client)
    response = await client.get(f"/meters/{meter}")
    assert response.status_code == 200
    html = response.text
    assert '<svg class="history-chart" role="img"' in html
    assert '<title id="chart-title">Расход по месяцам, м³: прибор учёта' in html
    desc = re.search(r'<desc id="chart-desc">(.*?)</desc>', html, re.S).group(1)
    # 36 months: 24 of history − 1 deleted + the current → 12 without a reading
    assert desc.startswith(f"Расход по месяцам с {add_months(current, -35):%m.%Y} по "
                           f"{current:%m.%Y}: данные есть за 23 мес.") and \
        "Периодов без показаний: 12." in desc and \
        "Переходов счётчика через ноль: 1." in desc, desc
    # one bar per month with a consumption: 23 accepted months after the first (24 months
    # of history, the first has no previous) − the gap's + the month after the gap (which
    # spans two) + the current → 23
    periods = bars(html)
    assert len(periods) == 23 and len(set(periods)) == 23
    assert f"{gap:%Y-%m}" not in periods
    assert html.count('class="bar bar-transmitted"') == 1
    assert f'data-period="{current:%Y-%m}"' in html
    assert "переход через ноль" in html  # 99 7xx → a small value
    assert "за 2 мес." in html  # the month after the gap
    assert 'class="mean-line"' in html and 'class="threshold-line"' in html
    assert "потребует подтверждения" in html
    # the table: 36 months, newest first, the gap a row of its own
    table = re.search(r'<table class="data meter-history".*?</table>', html, re.S).group(0)
    assert table.count("<tr") == 37
    assert table.count("нет показания") == 12
    assert table.index(f"{current:%Y}") < table.rindex(f"{add_months(current, -35):%Y}")


async def test_hot_meter_shows_volumes_without_the_anomaly_lines(client, demo_db):
    meter = await meter_of(15303, "hot")
    await login(client)
    html = (await client.get(f"/meters/{meter}")).text
    assert "Объём по месяцам, м³" in html
    assert len(bars(html)) == 24  # every accepted volume is a per-period amount
    assert 'class="mean-line"' not in html and "Расход, м³" not in html


async def test_links_from_grid_and_archive(client, demo_db):
    await login(client)
    meter = await meter_of(15303)
    grid = (await client.get("/readings/cold")).text
    assert f'href="/meters/{meter}"' in grid
    hot = await meter_of(15303, "hot")
    assert f'href="/meters/{hot}"' in (await client.get("/readings/hot")).text
    archive = (await client.get("/archive")).text
    assert f'href="/meters/{meter}"' in archive


@pytest.mark.parametrize("path", ["/meters/{foreign}", "/meters/{unlinked}", "/meters/0",
                                  "/meters/2147483648", "/meters/99999999"])
async def test_another_organizations_meter_is_404(client, demo_db, path):
    foreign = await meter_of(16010)  # АО «Ижевский хлебозавод»
    unlinked = await meter_of(15304)  # ООО «Ромашка»'s other contract, not linked
    serial = await db.fetchval("SELECT serial FROM meter WHERE id = $1", foreign)
    await login(client)
    response = await client.get(path.format(foreign=foreign, unlinked=unlinked))
    assert response.status_code == 404
    assert serial not in response.text and "хлебозавод" not in response.text


async def test_a_colleague_sees_it_and_loses_it_when_unlinked(client, demo_db):
    meter = await meter_of(15303)
    await create_user("colleague@example.ru", "secret-pass-123", contract_billing_ids=(15303,))
    await login(client, "colleague@example.ru", "secret-pass-123")
    assert (await client.get(f"/meters/{meter}")).status_code == 200
    await db.execute("""DELETE FROM contract_link WHERE "user" =
                        (SELECT id FROM portal_user WHERE email = 'colleague@example.ru')""")
    assert (await client.get(f"/meters/{meter}")).status_code == 404


async def test_anonymous_goes_to_login(client, demo_db):
    meter = await meter_of(15303)
    response = await client.get(f"/meters/{meter}")
    assert response.status_code in (303, 401)


def test_dates_are_not_frozen_here():
    assert today() == date.today()  # this module uses the real day (the demo is loaded so)
