"""Chromium: transmit → «Квитанция о передаче № N» link → the receipt page, whose lines show
billing's answers after an archive refresh (one accepted, one rejected with its reason);
the print stylesheet puts 40 lines on an A4 sheet."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import GridPage, LoginPage, ReceiptPage
from tests.helpers import ROOT, VAR_DIR, load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def two_meters() -> list[dict]:
    rows = sql(
        """SELECT m.id, m.serial, last.value, last.period
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           JOIN LATERAL (SELECT value, period FROM reading r WHERE r.meter = m.id
                         AND r.status = 'accepted' ORDER BY period DESC LIMIT 1) last ON true
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND last.value < 90000
           ORDER BY p.address, m.billing_id LIMIT 2""")
    return [dict(r) for r in rows]


def copy_receipt_with_lines(number: int, lines: int) -> int:
    """A receipt of the same user, contract and readings with `lines` lines (print layout)."""
    [row] = sql(
        """WITH r AS (INSERT INTO receipt (number, "user", contract, kind, period, created_at)
                      SELECT nextval('receipt_number_seq'), "user", contract, kind, period, now()
                      FROM receipt WHERE number = $1 RETURNING id, number),
                src AS (SELECT l.reading, l.meter, l.value, l.read_on,
                               row_number() OVER () AS n
                        FROM receipt_line l JOIN receipt o ON o.id = l.receipt
                        WHERE o.number = $1),
                ins AS (INSERT INTO receipt_line (receipt, reading, meter, value, read_on)
                        SELECT r.id, s.reading, s.meter, s.value, s.read_on
                        FROM r, generate_series(0, $2 - 1) g
                        JOIN src s ON s.n = g % (SELECT count(*) FROM src) + 1)
           SELECT number FROM r""", number, lines)
    return row["number"]


def test_transmit_receipt_link_and_statuses_after_refresh(server, page: Page):
    accepted, rejected = two_meters()
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold")
    for meter in (accepted, rejected):
        grid.fill(meter["id"], str(int(meter["value"]) + 3))
    assert grid.transmit().status == 200
    link = grid.receipt_link()
    expect(link).to_have_text(re.compile(r"Квитанция о передаче № \d+"))
    number = int(re.search(r"\d+", link.inner_text()).group())

    # billing corrects its own last reading of the second meter upwards: it will reject ours
    sql("UPDATE reading SET value = value + 100 WHERE meter = $1 AND period = $2",
        rejected["id"], rejected["period"])
    done = subprocess.run([sys.executable, "-m", "app", "refresh-archive"], cwd=ROOT,
                          env={**os.environ, "VAR_DIR": str(VAR_DIR)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    link.click()
    receipt = ReceiptPage(page, server.url)
    expect(page).to_have_url(f"{server.url}/receipts/{number}")
    expect(receipt.title).to_have_text(f"Квитанция о передаче № {number}")
    expect(receipt.lines).to_have_count(2)
    expect(receipt.status(accepted["serial"])).to_have_text("принято")
    expect(receipt.status(rejected["serial"])).to_have_text("отклонено")
    expect(receipt.reason(rejected["serial"])).to_contain_text("меньше последнего принятого")
    page.screenshot(path=str(VAR_DIR / "receipt.png"), full_page=True)

    # «Квитанции» in the menu lists it
    receipt.open_list_from_menu()
    expect(page.locator(f'a[href="/receipts/{number}"]')).to_be_visible()

    # printed: no menu; 40 lines per A4 sheet, so 85 lines take exactly 3 pages
    big = copy_receipt_with_lines(number, 85)
    receipt.goto(big)
    expect(receipt.lines).to_have_count(85)
    expect(receipt.sheets).to_have_count(3)
    page.emulate_media(media="print")
    assert page.locator("nav.menu").evaluate("e => getComputedStyle(e).display") == "none"
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 3
