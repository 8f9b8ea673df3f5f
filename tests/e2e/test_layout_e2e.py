"""Layout checks a screenshot review found broken: checkboxes and the reading grid's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import GridPage, LoginPage
from tests.helpers import load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()  # the demo contract's window is open on the day it is loaded
    return live_server_factory()


def test_consent_checkbox_sits_beside_its_label(server, page: Page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server.url + "/register")
    box = page.locator("input[name=consent]").bounding_box()
    label = page.get_by_text("Я даю согласие на обработку персональных данных").bounding_box()
    # a native checkbox at the start of its label's first line, not a full-width text-field box
    assert box["width"] < 30 and box["height"] < 30
    assert box["y"] < label["y"] + 30


def test_grid_with_a_transmitted_row_fits_1280px(server, page: Page):
    page.set_viewport_size({"width": 1280, "height": 900})
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold")
    meter = grid.meter_id(0)
    previous = sql("""SELECT value FROM reading WHERE meter = $1 AND status = 'accepted'
                      ORDER BY period DESC LIMIT 1""", meter)[0]["value"]
    assert grid.check(meter, str(int(previous) + 1)).status == 200
    expect(grid.feedback(meter)).to_contain_text("Расход: 1,000")
    grid.transmit()
    expect(grid.feedback(meter)).to_contain_text("передано, ожидает обработки")
    # the state column (status, billing's reasons) is on screen, not scrolled off to the right
    table, scroller = page.evaluate("""() => {
        const t = document.querySelector('table.reading-grid');
        return [t.scrollWidth, t.parentElement.clientWidth]; }""")
    assert table <= scroller
