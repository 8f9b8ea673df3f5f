"""Cold grid → transmit → archive refresh → billing's answer in the grid and in the archive.

The demo contract №15303 has its window open on the day the demo data is loaded. Billing
rejects one of the two readings because, between transmission and the refresh, billing's
own history for that meter was corrected upwards (the transmitted value is now below it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ArchivePage, GridPage, LoginPage
from tests.helpers import ROOT, VAR_DIR, load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def two_meters() -> list[dict]:
    """Two cold meters of №15303 (not the one about to roll over) with their last value."""
    rows = sql(
        """SELECT m.id, m.serial, last.value, last.period
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           JOIN LATERAL (SELECT value, period FROM reading r WHERE r.meter = m.id
                         AND r.status = 'accepted' ORDER BY period DESC LIMIT 1) last ON true
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND last.value < 90000
           ORDER BY p.address, m.billing_id LIMIT 2""")
    return [dict(r) for r in rows]


def test_rejected_reading_shows_red_with_reason_and_accepted_one_in_archive(server, page: Page):
    accepted, rejected = two_meters()
    today = date.today()
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold")
    for meter in (accepted, rejected):
        grid.fill(meter["id"], str(int(meter["value"]) + 3))
    assert grid.transmit().status == 200
    expect(grid.feedback(accepted["id"]).locator(".status-transmitted")).to_be_visible()
    expect(grid.feedback(rejected["id"]).locator(".status-transmitted")).to_be_visible()
    saved = sql("""SELECT meter, value FROM reading WHERE meter = ANY($1::int[])
                   AND status = 'transmitted'""", [accepted["id"], rejected["id"]])
    assert {r["meter"]: int(r["value"]) for r in saved} == {
        m["id"]: int(m["value"]) + 3 for m in (accepted, rejected)}

    # billing corrects its own last reading of the second meter upwards meanwhile
    sql("""UPDATE reading SET value = value + 100 WHERE meter = $1 AND period = $2""",
        rejected["id"], rejected["period"])
    done = subprocess.run([sys.executable, "-m", "app", "refresh-archive"], cwd=ROOT,
                          env={**os.environ, "VAR_DIR": str(VAR_DIR)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"accepted": 1' in done.stdout and '"rejected": 1' in done.stdout

    page.reload()
    red = grid.feedback(rejected["id"])
    expect(red.locator(".status-rejected")).to_have_text("отклонено")
    value, last = int(rejected["value"]) + 3, int(rejected["value"]) + 100
    # billing's code + params in words, numbers grouped as the page writes them (issue 19)
    ru = {n: f"{n:,}".replace(",", "\u00a0") for n in (value, last)}
    expect(red.locator(".reject-reason")).to_have_text(
        f"Показание {ru[value]} меньше последнего принятого ({ru[last]}), переход через ноль "
        "не подтверждён")
    err = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--err')")
    reason_color = red.locator(".reject-reason").evaluate("e => getComputedStyle(e).color")
    badge_color = red.locator(".status-rejected").evaluate("e => getComputedStyle(e).color")
    probe = page.evaluate(
        "c => { const s = document.createElement('span'); s.style.color = c;"
        " document.body.append(s); const v = getComputedStyle(s).color; s.remove(); return v; }",
        err.strip())
    assert reason_color == badge_color == probe  # the theme's error red
    expect(grid.value(rejected["id"])).not_to_have_attribute("readonly", "")
    expect(grid.row(rejected["id"])).to_have_class(re.compile(r"\brow-error\b"))
    expect(grid.row(accepted["id"])).to_have_class(re.compile(r"\brow-ok\b"))
    expect(grid.feedback(accepted["id"]).locator(".status-accepted")).to_be_visible()
    expect(grid.value(accepted["id"])).to_have_attribute("readonly", "")
    with page.expect_navigation():
        page.get_by_role("button", name="EN").click()
    expect(grid.feedback(rejected["id"]).locator(".reject-reason")).to_have_text(
        f"The reading {value:,} is less than the last accepted one ({last:,}); the rollover "
        "past zero was not confirmed")
    with page.expect_navigation():
        page.get_by_role("button", name="RU").click()

    archive = ArchivePage(page, server.url).open_from_menu()
    archive.filter(date_from=today, date_to=today)
    rows = archive.rows(15303)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(accepted["serial"])
    expect(rows.first).to_contain_text("портал")
