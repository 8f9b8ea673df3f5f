"""Operator console in Chromium: a ZIP of the demo directory uploaded and watched to 100 %;
a late organization found in «Ход передачи показаний»."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ImportsPage, LoginPage, ProgressPage
from tests.helpers import VAR_DIR, load_demo_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def test_upload_demo_directory_as_zip_progress_reaches_100(server, page: Page, tmp_path):
    archive = tmp_path / "billing.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((VAR_DIR / "demo-billing").glob("*.csv")):
            z.write(path, path.name)
    sql("UPDATE counterparty SET name = 'ООО «Было»' WHERE billing_id = 501")
    LoginPage(page, server.url).login_operator()
    imports = ImportsPage(page, server.url).open_from_menu()
    assert imports.upload(archive).headers.get("hx-redirect") == "/operator/imports"
    expect(imports.bar).to_have_attribute("value", "100", timeout=30_000)
    expect(imports.status).to_contain_text("100 %")
    expect(imports.status).to_contain_text("Загружено")
    expect(imports.status.locator('tr[data-file="counterparties.csv"] td').nth(1)).to_have_text("1")
    expect(imports.history).to_contain_text("operator@izhvodokanal.example")
    assert sql("SELECT name FROM counterparty WHERE billing_id = 501")[0]["name"] == \
        "ООО «Ромашка»"
    # A reload shows the finished import, no longer polling.
    page.reload()
    expect(imports.bar).to_have_attribute("value", "100")
    assert imports.status.get_attribute("hx-trigger") is None


def test_find_a_late_organization(server, page: Page):
    LoginPage(page, server.url).login_operator()
    progress = ProgressPage(page, server.url).open_from_menu()
    expect(progress.row(16010)).to_be_visible()
    assert progress.filter("Не передано ничего", "хлебозавод").status == 200
    expect(progress.row(16010)).to_contain_text("АО «Ижевский хлебозавод»")
    expect(progress.row(16010)).to_contain_text("Не передано ничего")
    expect(progress.results.locator("tbody tr")).to_have_count(1)
    assert "state=none" in page.url and "q=" in page.url  # the filter is bookmarkable
    page.reload()
    expect(progress.row(16010)).to_be_visible()
