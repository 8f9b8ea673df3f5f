"""Transmitted readings → `python -m app refresh-archive` → «Архив показаний» in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ArchivePage, LoginPage
from tests.helpers import ROOT, VAR_DIR, load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    # the demo subscriber also holds №15304: the archive covers every linked contract
    sql("""INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, c.id, now() FROM portal_user u, contract c
           WHERE u.email = 'demo@izhvodokanal.example' AND c.billing_id = 15304""")
    return live_server_factory()


def transmit_two_and_refresh() -> dict:
    """Two readings of contract №15303 transmitted today (one below the last accepted value,
    which billing rejects), then the refresh run as the operator's command would."""
    meters = sql(
        """SELECT m.id, m.serial, m.address, p.id AS point, p.address AS point_address,
                  last.value
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           JOIN LATERAL (SELECT value FROM reading r WHERE r.meter = m.id
                         ORDER BY period DESC LIMIT 1) last ON true
           WHERE c.billing_id = 15303 AND m.kind = 'cold' AND last.value BETWEEN 100 AND 90000
           ORDER BY m.id LIMIT 2""")
    good, bad = meters
    newest = sql("SELECT (max(period) + interval '1 month')::date AS period, "
                 "max(read_on) + 1 AS day FROM reading")[0]
    today = newest["day"]
    for meter, value in ((good, good["value"] + 7), (bad, bad["value"] - 50)):
        sql("""INSERT INTO reading (meter, period, value, read_on, status, source,
                   transmitted_at, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'transmitted', 'portal', now(), now(), now())""",
            meter["id"], newest["period"], value, today)
    done = subprocess.run([sys.executable, "-m", "app", "refresh-archive"], cwd=ROOT,
                          env={**os.environ, "VAR_DIR": str(VAR_DIR)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"accepted": 1' in done.stdout and '"rejected": 1' in done.stdout
    return {"good": good, "bad": bad, "day": today, "good_value": int(good["value"]) + 7}


def test_refreshed_reading_is_in_the_archive_under_its_contract_and_dates(server, page: Page):
    data = transmit_two_and_refresh()
    day = data["day"]
    LoginPage(page, server.url).login()
    archive = ArchivePage(page, server.url).open_from_menu()
    expect(archive.point).to_have_value("")  # «Выбрать адрес»

    assert archive.filter(date_from=day, date_to=day).status == 200
    expect(page).to_have_url(re.compile(rf"date_from={day.isoformat()}&date_to={day.isoformat()}"))

    title = archive.group(15303).get_by_role("rowheader", name="ООО «Ромашка», №15303")
    expect(title).to_be_visible()
    rows = archive.rows(15303)
    expect(rows).to_have_count(1)  # the rejected one is not in the archive
    expect(rows.first).to_contain_text(data["good"]["serial"])
    expect(rows.first).to_contain_text(day.strftime("%d.%m.%Y"))
    expect(rows.first).to_contain_text(f"{data['good_value']:,}".replace(",", "\u00a0") + ",000")
    expect(rows.first).to_contain_text("портал")

    # the filter lives in the URL: a bookmark (full page load) shows the same result
    page.reload()
    expect(archive.rows(15303)).to_have_count(1)
    expect(archive.date_from).to_have_value(day.isoformat())

    # its own address keeps it; the other contract's address hides it
    archive.filter(point=data["good"]["point"])
    expect(archive.rows(15303)).to_have_count(1)
    other = sql("""SELECT p.id FROM connection_point p JOIN contract c ON c.id = p.contract
                   WHERE c.billing_id = 15304 LIMIT 1""")
    archive.filter(point=other[0]["id"])
    expect(page.get_by_text("Принятых показаний за выбранный период нет.")).to_be_visible()
    expect(archive.date_from).to_have_value(day.isoformat())

    # the reset brings back all addresses and empty dates: both contracts' groups
    archive.reset()
    expect(page).to_have_url(re.compile(r"/archive$"))
    expect(archive.point).to_have_value("")
    expect(archive.date_from).to_have_value("")
    expect(archive.date_to).to_have_value("")
    found = re.compile(r"Найдено показаний: \d+\. Страница 1 из \d+\.")
    expect(page.get_by_text(found)).to_be_visible()
    expect(archive.rows(15303).first).to_contain_text(day.strftime("%d.%m.%Y"))  # newest first
    archive.filter(date_from=day.replace(day=1))
    expect(page.get_by_role("rowheader", name="ООО «Ромашка», №15304")).to_be_visible()

    rejected = sql("SELECT status, reject_reason FROM reading WHERE meter = $1 AND read_on = $2",
                   data["bad"]["id"], day)
    assert rejected[0]["status"] == "rejected"
    assert "меньше последнего принятого" in rejected[0]["reject_reason"]


def test_date_from_after_date_to_keeps_values_and_explains(server, page: Page):
    LoginPage(page, server.url).login()
    archive = ArchivePage(page, server.url).goto()
    assert archive.filter(date_from="2024-05-10", date_to="2024-05-01").status == 422
    expect(page.get_by_text("«Дата от» не может быть позже «Даты до»")).to_be_visible()
    expect(archive.date_from).to_have_value("2024-05-10")
    expect(archive.date_to).to_have_value("2024-05-01")


def test_operator_refreshes_now_and_downloads_the_batch_file(server, page: Page):
    """The operator's button queues the job; the server's own ARQ worker runs it."""
    meter = sql("""SELECT m.id, last.value, last.period, last.read_on FROM meter m
                   JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
                   JOIN LATERAL (SELECT value, period, read_on FROM reading r
                                 WHERE r.meter = m.id ORDER BY period DESC LIMIT 1) last ON true
                   WHERE c.billing_id = 15304 AND m.kind = 'cold' AND last.value < 90000
                   ORDER BY m.id LIMIT 1""")[0]
    sql("""INSERT INTO reading (meter, period, value, read_on, status, source, transmitted_at)
           VALUES ($1, ($2::date + interval '1 month')::date, $3, $4::date + 20, 'transmitted',
                   'portal', now())""",
        meter["id"], meter["period"], meter["value"] + 1, meter["read_on"])
    before = {r["uid"] for r in sql("SELECT uid FROM billing_batch")}

    LoginPage(page, server.url).login_operator()
    page.goto(server.url + "/operator")
    with page.expect_response(re.compile(r"/operator/batches/refresh")):
        page.get_by_role("button", name="Обновить архив сейчас").click()
    expect(page.get_by_text("Обновление архива поставлено в очередь")).to_be_visible()

    deadline = time.time() + 60  # the worker picks the job up on its next poll
    new: list = []
    while time.time() < deadline and not new:
        new = [r for r in sql("SELECT uid, state FROM billing_batch")
               if r["uid"] not in before and r["state"] == "applied"]
        time.sleep(0.3)
    assert new, "the worker did not run the refresh"
    uid = new[0]["uid"]
    with page.expect_response(re.compile(r"/operator/batches$")):
        page.get_by_role("link", name="Обновить список").click()
    row = page.locator("table.batches tr", has_text=uid)
    expect(row).to_contain_text("Ответ получен")
    with page.expect_download() as download:
        row.get_by_role("link").click()
    path = download.value.path()
    text = open(path, encoding="utf-8").read()
    assert text.splitlines()[0].startswith("batch;reading_id;contract_id;meter_id")
    assert f"{uid};" in text and ";15304;" in text
