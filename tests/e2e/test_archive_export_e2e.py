"""«Выгрузить в Excel» / «Выгрузить CSV» in Chromium: filter the archive, download through the
buttons, open the files as a spreadsheet program would; their rows are the rows on screen."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ArchivePage, LoginPage
from tests.helpers import load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def m3(value: float) -> str:
    """What the screen shows for a volume: «1 234,000»."""
    return f"{value:,.3f}".replace(",", "\u00a0").replace(".", ",")


def screen_rows(page: Page) -> list[list[str]]:
    """[group title, serial, address, value, date, source] of every result row on screen."""
    rows = []
    for group in page.locator("table.archive-results tbody").all():
        title = group.locator("tr.group-title th").inner_text().strip()
        for tr in group.locator("tr:not(.group-title)").all():
            rows.append([title, *(td.inner_text().strip() for td in tr.locator("td").all())])
    return rows


def apply_small_filter(page: Page, url: str) -> ArchivePage:
    """One connection point of №15303, three months: a few dozen rows, one page."""
    point = sql("""SELECT p.id FROM connection_point p JOIN contract c ON c.id = p.contract
                   JOIN meter m ON m.point = p.id
                   WHERE c.billing_id = 15303 AND m.kind = 'cold'
                   GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1""")[0]["id"]
    days = [r["read_on"] for r in sql(
        """SELECT DISTINCT r.read_on FROM reading r JOIN meter m ON m.id = r.meter
           WHERE m.point = $1 AND m.kind = 'cold' AND r.status = 'accepted'
           ORDER BY r.read_on DESC""", point)]
    LoginPage(page, url).login()
    archive = ArchivePage(page, url).open_from_menu()
    assert archive.filter(days[4], days[2], point=point).status == 200
    expect(page.get_by_text("Страница 1 из 1.", exact=False)).to_be_visible()
    return archive


def test_excel_and_csv_downloads_hold_the_rows_on_screen(server, page: Page, tmp_path):
    archive = apply_small_filter(page, server.url)
    on_screen = screen_rows(page)
    assert 3 <= len(on_screen) <= 50, len(on_screen)
    assert {r[0] for r in on_screen} == {"ООО «Ромашка», №15303"}

    # every column of the screen, «Расход, м³» included, is in the export (+ «Источник»)
    assert all(len(row) == 7 for row in on_screen)
    assert any(row[6] for row in on_screen)

    download = archive.export("Выгрузить в Excel")
    assert re.fullmatch(r"archive_cold_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.xlsx",
                        download.suggested_filename)
    saved = tmp_path / download.suggested_filename  # where a user's browser puts it
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert header == ("Контрагент", "Договор", "Номер прибора учёта",
                      "Адрес установки прибора учёта", "Показания прибора учёта",
                      "Дата показаний", "Источник", "Расход, м³")
    in_excel = [[f"{name}, №{number}", serial or "", address or "", m3(value),
                 day.strftime("%d.%m.%Y"), source.lower(), "" if used is None else m3(used)]
                for name, number, serial, address, value, day, source, used in cells]
    assert in_excel == on_screen

    download = archive.export("Выгрузить CSV")
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with open(saved, encoding="utf-8-sig", newline="") as f:
        header, *lines = list(csv.reader(f, delimiter=";"))
    assert header[0] == "Контрагент" and header[-1] == "Расход, м³" and len(header) == 8
    in_csv = [[f"{name}, №{number}", serial, address, m3(float(value.replace(",", "."))),
               datetime.strptime(day, "%d.%m.%Y").strftime("%d.%m.%Y"), source.lower(),
               used and m3(float(used.replace(",", ".")))]
              for name, number, serial, address, value, day, source, used in lines]
    assert in_csv == on_screen
    # the download left the page as it was
    assert screen_rows(page) == on_screen
