"""Chromium: transmit → «Квитанция о передаче № N» link → the receipt page, whose lines show
billing's answers after an archive refresh (one accepted, one rejected with its reason);
the print stylesheet puts 40 lines on an A4 page."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import ROOT, VAR_DIR, browser_login, load_demo_sync, sql

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


def test_transmit_receipt_link_and_statuses_after_refresh(server, page: Page):
    accepted, rejected = two_meters()
    browser_login(page, server.url)
    page.goto(server.url + "/readings/cold")
    for meter in (accepted, rejected):
        page.locator(f"#value-{meter['id']}").fill(str(int(meter["value"]) + 3))
    page.get_by_role("button", name="Передать значения").click()
    link = page.locator("#grid-message a.receipt-link")
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
    expect(page).to_have_url(f"{server.url}/receipts/{number}")
    expect(page.locator("h1")).to_have_text(f"Квитанция о передаче № {number}")
    rows = page.locator("table.receipt-lines tbody tr")
    expect(rows).to_have_count(2)
    ok = rows.filter(has_text=accepted["serial"])
    bad = rows.filter(has_text=rejected["serial"])
    expect(ok.locator(".status")).to_have_text("принято")
    expect(bad.locator(".status")).to_have_text("отклонено")
    expect(bad.locator(".reject-reason")).to_contain_text("меньше последнего принятого")
    page.screenshot(path=str(VAR_DIR / "receipt.png"), full_page=True)

    # the menu has «Квитанции», listing this receipt
    page.locator("nav.menu").get_by_role("link", name="Квитанции", exact=True).click()
    expect(page.locator(f'a[href="/receipts/{number}"]')).to_be_visible()

    # printed: no menu; 40 lines per A4 sheet. A receipt of 85 lines (its two lines repeated)
    # prints on 3 pages.
    [big] = sql(
        """WITH r AS (INSERT INTO receipt (number, "user", contract, kind, period, created_at)
                      SELECT nextval('receipt_number_seq'), "user", contract, kind, period, now()
                      FROM receipt WHERE number = $1 RETURNING id, number)
           INSERT INTO receipt_line (receipt, reading, meter, value, read_on)
           SELECT r.id, l.reading, l.meter, l.value, l.read_on
           FROM r, receipt_line l JOIN receipt o ON o.id = l.receipt AND o.number = $1,
                generate_series(1, 43) g
           RETURNING (SELECT number FROM r) AS number""", number)[:1]
    sql("""DELETE FROM receipt_line WHERE id IN (SELECT l.id FROM receipt_line l
           JOIN receipt rc ON rc.id = l.receipt WHERE rc.number = $1 ORDER BY l.id LIMIT 1)""",
        big["number"])
    page.goto(f"{server.url}/receipts/{big['number']}")
    expect(page.locator("table.receipt-lines tbody tr")).to_have_count(85)
    expect(page.locator(".receipt-page")).to_have_count(3)
    page.emulate_media(media="print")
    assert page.locator("nav.menu").evaluate("e => getComputedStyle(e).display") == "none"
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 3, pages
