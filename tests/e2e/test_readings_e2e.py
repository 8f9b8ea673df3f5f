"""Keyboard-only entry in the reading grids, paste of a column, Ctrl+S / Ctrl+Enter,
per-row verdicts persisted after reload; transmit refused outside the window.

Deterministic: the demo data is loaded as of FROZEN (the day the servers' APP_TODAY says),
and the grid used is contract 18020 (20 cold + 2 hot meters, deadline day 20, discharge 18):
on 18.03.2026 both windows are open (cold 18–20 March, hot 16–18 March).
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import PASTE_JS, GridPage, LoginPage
from tests.helpers import demo_contract_of_demo_user, sql

pytestmark = pytest.mark.e2e

FROZEN = date(2026, 3, 18)
PERIOD = date(2026, 3, 1)


@pytest.fixture(scope="module")
def contract_id() -> int:
    return demo_contract_of_demo_user(18020, FROZEN)


@pytest.fixture(scope="module")
def server(contract_id, live_server_factory):
    return live_server_factory(APP_TODAY=FROZEN.isoformat())


def grid_meters(contract: int, kind: str) -> list[dict]:
    """Meters in grid order with their latest accepted value before PERIOD."""
    rows = sql(
        """SELECT m.id, m.digits,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                     AND r.period < $3 ORDER BY period DESC LIMIT 1) AS previous
           FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = $2 ORDER BY p.address, m.billing_id, m.id""",
        contract, kind, PERIOD)
    return [dict(r) for r in rows]


def statuses(meter_ids: list[int]) -> dict[int, str]:
    rows = sql("""SELECT meter, status FROM reading WHERE meter = ANY($1::int[]) AND period = $2
                  AND status <> 'rejected'""", meter_ids, PERIOD)
    return {r["meter"]: r["status"] for r in rows}


def test_cold_grid_by_keyboard_and_paste(server, contract_id, page: Page):
    meters = grid_meters(contract_id, "cold")[:15]
    values = [str(int(m["previous"]) + 1 if int(m["previous"]) + 1 < 10 ** m["digits"]
                  else int(m["previous"])) for m in meters]
    bad = 4
    values[bad] = "12,5"  # not whole m³: this row must turn red
    ids = [m["id"] for m in meters]

    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold", contract_id)
    expect(page.get_by_text("Срок передачи до 20 числа текущего месяца")).to_be_visible()
    inputs = grid.inputs
    inputs.first.focus()
    grid.type_down(values[:10])
    expect(inputs.nth(10)).to_be_focused()
    page.evaluate(PASTE_JS, "\n".join(values[10:15]) + "\n")
    for i in range(10, 15):
        expect(inputs.nth(i)).to_have_value(values[i])
    expect(inputs.nth(14)).to_be_focused()
    # the inline check ran for a typed row and a pasted one, without a reload
    expect(grid.feedback(ids[0])).to_contain_text("Расход: 1,000")
    expect(grid.feedback(ids[14])).to_contain_text("Расход")
    expect(grid.error(ids[bad])).to_contain_text("только чёрные цифры")

    assert grid.save(keyboard=True).status == 422  # one row could not be saved
    expect(grid.message).to_contain_text("Сохранено строк: 14.")
    assert set(statuses(ids).values()) == {"draft"} and len(statuses(ids)) == 14

    assert grid.transmit(keyboard=True).status == 422
    expect(grid.ok_rows).to_have_count(14)
    expect(grid.error_rows).to_have_count(1)
    red = grid.row(ids[bad])
    expect(red).to_have_class("row-error")
    expect(red).to_contain_text("только чёрные цифры")
    expect(inputs.nth(bad)).to_have_value("12,5")
    got = statuses(ids)
    assert len(got) == 14 and set(got.values()) == {"transmitted"} and ids[bad] not in got

    page.reload()
    expect(page.locator("td.feedback .status-transmitted")).to_have_count(14)
    expect(inputs.nth(0)).to_have_value(values[0])


def test_hot_grid_volumes_with_decimal_comma(server, contract_id, page: Page):
    meters = grid_meters(contract_id, "hot")
    ids = [m["id"] for m in meters]
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("hot", contract_id)
    expect(page.get_by_text("Срок передачи до 18 числа текущего месяца")).to_be_visible()
    grid.inputs.first.focus()
    grid.type_down(["12,345", "1,2345"])
    expect(grid.error(ids[1])).to_contain_text("не более чем с тремя знаками")
    grid.save(keyboard=True)
    expect(grid.message).to_contain_text("Сохранено строк: 1.")
    grid.transmit(keyboard=True)
    expect(grid.row(ids[0])).to_have_class("row-ok")
    expect(grid.row(ids[1])).to_have_class("row-error")
    assert statuses(ids) == {ids[0]: "transmitted"}
    [row] = sql("SELECT value FROM reading WHERE meter = $1 AND period = $2", ids[0], PERIOD)
    assert str(row["value"]) == "12.345"
    page.reload()
    expect(grid.inputs.nth(0)).to_have_value("12,345")
    expect(grid.feedback(ids[0])).to_contain_text("передано, ожидает обработки")


def test_transmit_outside_the_window_is_refused(contract_id, live_server_factory, page: Page):
    """Before the window opens «Передать значения» is disabled with the reason beside it;
    Ctrl+Enter sends nothing; a stale page's transmit is refused with one line of its own."""
    later = live_server_factory(APP_TODAY="2026-03-25")  # March closed, April opens 18.04
    meter = grid_meters(contract_id, "cold")[0]
    LoginPage(page, later.url).login()
    grid = GridPage(page, later.url).goto("cold", contract_id)
    expect(grid.period).to_have_value("2026-04")
    expect(grid.transmit_button).to_be_disabled()
    expect(page.locator("#transmit-reason")).to_have_text(
        "Передача показаний за Апрель 2026 откроется 18.04.2026")
    expect(grid.transmit_button).to_have_attribute("aria-describedby", "transmit-reason")
    grid.inputs.first.focus()
    page.keyboard.type(str(int(meter["previous"]) + 1))
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST"
            and r.url.split("?")[0].endswith("/readings/cold") else None)
    page.keyboard.press("Control+Enter")
    expect(grid.live).to_have_text("Передача показаний за Апрель 2026 откроется 18.04.2026")
    assert posts == []
    # a page left open while the window closed: the server refuses, in one line of its own
    grid.transmit_button.evaluate("b => b.disabled = false")
    assert grid.transmit().status == 422
    expect(grid.message).to_have_text("Значения не переданы: передача сейчас недоступна — "
                                       "причина указана рядом с кнопкой «Передать значения»")
    expect(page.locator(".flash-error", has_text="откроется")).to_have_count(0)
    expect(grid.transmit_button).to_be_disabled()
    expect(grid.inputs.first).to_have_value(str(int(meter["previous"]) + 1))
    assert sql("SELECT id FROM reading WHERE meter = $1 AND period = '2026-04-01'",
               meter["id"]) == []
