"""Home and a meter's history in Chromium (SPEC §11): log in → home says the window is open
until the date → its link opens the grid of that period; the grid's serial opens the meter's
history, whose SVG has one bar per month with a consumption; axe finds nothing serious.

Deterministic: the demo is loaded as of FROZEN, so contract 15303 (deadline day = FROZEN's
day, 25) has its window 23.11–25.11.2026 open, and 24 months of accepted history behind it.
"""

from __future__ import annotations

import re
from datetime import date
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import SIGNED_IN, GridPage, HomePage, LoginPage, MeterHistoryPage
from tests.helpers import load_demo_sync, sql

pytestmark = pytest.mark.e2e

FROZEN = date(2026, 11, 25)


@pytest.fixture(scope="module")
def contract_id() -> int:
    with mock.patch("app.demo.today", lambda: FROZEN):
        load_demo_sync()
    return sql("SELECT id FROM contract WHERE billing_id = 15303")[0]["id"]


@pytest.fixture(scope="module")
def server(contract_id, live_server_factory):
    return live_server_factory(APP_TODAY=FROZEN.isoformat())


def serious_violations(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_login_home_window_link_grid_then_history(server, contract_id, page: Page):
    LoginPage(page, server.url).goto().sign_in()
    home = HomePage(page, server.url)
    expect(page.get_by_text(SIGNED_IN)).to_be_visible()
    expect(home.heading).to_be_visible()
    expect(home.window_link(contract_id)).to_have_text("Окно передачи открыто до 25.11.2026")
    expect(home.row(contract_id)).to_contain_text("Сегодня последний день передачи")
    expect(home.row(contract_id)).to_contain_text("0 из 12")
    assert serious_violations(page) == []

    home.open_grid(contract_id)
    expect(page).to_have_url(re.compile(rf"/readings/cold\?contract={contract_id}"
                                        r"&period=2026-11$"))
    grid = GridPage(page, server.url)
    expect(grid.period).to_have_value("2026-11")
    expect(page.locator("#window-state")).to_contain_text("открыта до 25.11.2026")

    meter = grid.meter_id(0)
    serial = sql("SELECT serial FROM meter WHERE id = $1", meter)[0]["serial"]
    with page.expect_navigation():
        grid.row(meter).get_by_role("link", name=serial).click()
    history = MeterHistoryPage(page, server.url)
    expect(page.get_by_role("heading", name=f"История прибора учёта {serial}")).to_be_visible()
    # 24 accepted months: 23 consumptions (the first has nothing before it in the portal)
    expect(history.bars).to_have_count(23)
    periods = history.bars.evaluate_all("bars => bars.map(b => b.dataset.period)")
    assert len(set(periods)) == 23 and "2026-10" in periods and "2026-11" not in periods
    expect(history.chart).to_have_attribute("role", "img")
    expect(history.chart.locator("title").first).to_have_text(
        f"Расход по месяцам, м³: прибор учёта {serial}")
    expect(history.summary).to_contain_text("данные есть за 23 мес.")
    expect(history.chart.locator(".mean-line")).to_have_count(1)
    expect(history.table.locator("tbody tr")).to_have_count(36)
    assert serious_violations(page) == []
