"""«Скачать шаблон» → fill it as a user would in Excel → «Загрузить из файла» → verdicts →
«Передать значения» → green, kept after a reload; the same round trip with JavaScript off.

Deterministic like test_readings_e2e: the demo data as of FROZEN, contract 18020 (20 cold +
2 hot meters) whose cold and hot windows are both open on 18.03.2026.
"""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import GridPage, LoginPage
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
    rows = sql(
        """SELECT m.id, m.billing_id AS code, m.digits,
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


def next_value(meter: dict) -> int:
    value = int(meter["previous"]) + 1
    return value if value < 10 ** meter["digits"] else int(meter["previous"])


def test_template_round_trip_with_htmx(server, contract_id, page: Page, tmp_path):
    meters = grid_meters(contract_id, "cold")
    chosen = meters[:5]
    bad = meters[5]
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold", contract_id)
    # typed, not saved: the template (a POST of the grid form) carries it
    grid.fill(chosen[0]["id"], str(next_value(chosen[0])))

    download = grid.download_template()
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    assert template.name == "cold-18020-2026-03.xlsx"
    assert page.url.endswith(f"/readings/cold?contract={contract_id}")  # the page stays
    expect(grid.value(chosen[0]["id"])).to_have_value(str(next_value(chosen[0])))

    # As a user in Excel: type into the two coloured columns, save.
    book = openpyxl.load_workbook(template)
    sheet = book["Показания"]
    assert sheet.cell(row=1, column=6).value == "Текущее показание"
    typed_row = next(r for r in range(2, sheet.max_row + 1)
                     if sheet.cell(row=r, column=1).value == chosen[0]["code"])
    assert sheet.cell(row=typed_row, column=6).value == next_value(chosen[0])
    assert isinstance(sheet.cell(row=typed_row, column=7).value, datetime)
    assert statuses([m["id"] for m in meters]) == {}  # downloading saved nothing
    codes = {m["code"]: m for m in chosen}
    for r in range(2, sheet.max_row + 1):
        code = sheet.cell(row=r, column=1).value
        if code in codes:
            sheet.cell(row=r, column=6).value = next_value(codes[code])
            sheet.cell(row=r, column=7).value = datetime(2026, 3, 17)
        elif code == bad["code"]:
            sheet.cell(row=r, column=6).value = "12,5"
    filled = tmp_path / "filled.xlsx"
    book.save(filled)

    assert grid.upload(filled).status == 200
    expect(grid.message).to_contain_text("Из файла заполнено строк: 6")
    assert page.url.endswith(f"/readings/cold?contract={contract_id}")  # htmx: no navigation
    for m in chosen:
        expect(grid.value(m["id"])).to_have_value(str(next_value(m)))
        expect(grid.date(m["id"])).to_have_value("17.03.2026")
        expect(grid.feedback(m["id"])).to_contain_text("Расход")
    expect(grid.row(bad["id"])).to_have_class("row-error")
    expect(grid.error(bad["id"])).to_contain_text("только чёрные цифры")
    assert statuses([m["id"] for m in meters]) == {}  # the upload saved nothing

    grid.fill(bad["id"], "")  # the user drops the bad row
    assert grid.transmit().status == 200
    for m in chosen:
        expect(grid.row(m["id"])).to_have_class("row-ok")
    ids = [m["id"] for m in chosen]
    assert statuses([m["id"] for m in meters]) == dict.fromkeys(ids, "transmitted")

    page.reload()
    for m in chosen:
        expect(grid.value(m["id"])).to_have_value(str(next_value(m)))
        expect(grid.feedback(m["id"])).to_contain_text("передано, ожидает обработки")


def test_csv_upload_without_javascript(server, contract_id, browser, browser_context_args,
                                       tmp_path):
    context = browser.new_context(**{**browser_context_args, "java_script_enabled": False})
    page = context.new_page()
    try:
        meters = grid_meters(contract_id, "hot")
        LoginPage(page, server.url).login()
        grid = GridPage(page, server.url).goto("hot", contract_id)
        csv_file = tmp_path / "volumes.csv"
        lines = ["Код прибора;Текущий объем;Дата текущего показания"]
        lines += [f"{m['code']};{i + 1},25;18.03.2026" for i, m in enumerate(meters)]
        lines.append("99999999;1;18.03.2026")
        csv_file.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))

        grid_url = f"**/readings/hot?contract={contract_id}&period=2026-03"
        # a plain multipart POST answered by Post/Redirect/Get: the grid's own address
        assert grid.upload(csv_file).status == 303
        page.wait_for_url(grid_url)
        expect(grid.message).to_contain_text(
            f"Из файла заполнено строк: {len(meters)}")
        expect(page.locator("#file-notes")).to_contain_text(
            f"Строка {len(meters) + 2}: прибор учёта 99999999 не найден в договоре")
        for i, m in enumerate(meters):
            expect(grid.value(m["id"])).to_have_value(f"{i + 1},25")
        assert statuses([m["id"] for m in meters]) == {}

        # F5 reloads the grid (a GET): the file is not posted again, nothing was saved
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.reload()
        page.wait_for_url(grid_url)
        assert posts == []
        expect(grid.message).to_have_count(0)
        assert statuses([m["id"] for m in meters]) == {}

        assert grid.upload(csv_file).status == 303
        page.wait_for_url(grid_url)
        for i, m in enumerate(meters):
            expect(grid.value(m["id"])).to_have_value(f"{i + 1},25")

        assert grid.transmit().status == 303  # PRG: the result is shown by the GET after it
        page.wait_for_url(f"**/readings/hot?contract={contract_id}&period=2026-03")
        for m in meters:
            expect(grid.row(m["id"])).to_have_class("row-ok")
        assert statuses([m["id"] for m in meters]) == dict.fromkeys(
            [m["id"] for m in meters], "transmitted")
        grid.goto("hot", contract_id)
        for i, m in enumerate(meters):
            expect(grid.value(m["id"])).to_have_value(f"{i + 1},250")
    finally:
        context.close()


def test_template_round_trip_without_javascript(server, contract_id, browser,
                                                browser_context_args, tmp_path):
    """The same round trip as above with JavaScript off: the template link is a plain
    download, the upload a plain multipart POST that answers with the whole page."""
    context = browser.new_context(**{**browser_context_args, "java_script_enabled": False})
    page = context.new_page()
    try:
        meters = grid_meters(contract_id, "cold")
        chosen = meters[10:13]  # the htmx test uses the first six
        LoginPage(page, server.url).login()
        grid = GridPage(page, server.url).goto("cold", contract_id)
        template = tmp_path / "nojs-template.xlsx"
        grid.download_template().save_as(template)
        book = openpyxl.load_workbook(template)
        sheet = book["Показания"]
        codes = {m["code"]: m for m in chosen}
        for r in range(2, sheet.max_row + 1):
            if (m := codes.get(sheet.cell(row=r, column=1).value)) is not None:
                sheet.cell(row=r, column=6).value = next_value(m)
                sheet.cell(row=r, column=7).value = datetime(2026, 3, 18)
        # the template carries what is stored already (the other test's transmits, if it ran
        # first): those rows come back too
        with_values = sum(1 for r in range(2, sheet.max_row + 1)
                          if sheet.cell(row=r, column=6).value is not None)
        filled = tmp_path / "nojs-filled.xlsx"
        book.save(filled)

        assert grid.upload(filled).status == 303  # PRG: the grid's GET shows the fill
        page.wait_for_url(f"**/readings/cold?contract={contract_id}&period=2026-03")
        expect(grid.message).to_contain_text(f"Из файла заполнено строк: {with_values}")
        for m in chosen:
            expect(grid.value(m["id"])).to_have_value(str(next_value(m)))
            expect(grid.feedback(m["id"])).to_contain_text("Расход")
        ids = [m["id"] for m in chosen]
        assert statuses(ids) == {}

        assert grid.transmit().status == 303  # PRG: the result is shown by the GET after it
        page.wait_for_url(f"**/readings/cold?contract={contract_id}&period=2026-03")
        for m in chosen:
            expect(grid.row(m["id"])).to_have_class("row-ok")
        assert statuses(ids) == dict.fromkeys(ids, "transmitted")
        grid.goto("cold", contract_id)
        for m in chosen:
            expect(grid.value(m["id"])).to_have_value(str(next_value(m)))
            expect(grid.feedback(m["id"])).to_contain_text("передано, ожидает обработки")
    finally:
        context.close()
