"""Operator console in Chromium: a ZIP of the demo directory uploaded and watched to 100 %;
a late organization found in «Ход передачи показаний»; a user blocked in one browser context
is logged out in another."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import SIGNED_IN, ImportsPage, LoginPage, ProgressPage, UsersPage
from tests.helpers import DEMO_EMAIL, DEMO_PASSWORD, VAR_DIR, load_demo_sync, sql

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


def test_blocked_user_is_logged_out_in_its_other_context(server, page: Page, browser: Browser):
    subscriber = browser.new_context(locale="ru-RU")
    try:
        tab = subscriber.new_page()
        LoginPage(tab, server.url).login()
        LoginPage(page, server.url).login_operator()
        users = UsersPage(page, server.url).open_from_menu()
        users.search("demo@")
        assert users.press(DEMO_EMAIL, "Заблокировать").status == 200
        expect(users.results).to_contain_text(f"Учётная запись {DEMO_EMAIL} заблокирована")
        expect(users.row(DEMO_EMAIL)).to_contain_text("Заблокирована")
        # The subscriber's next click finds its session gone: back at the login block.
        tab.get_by_role("navigation", name="Меню").get_by_role("link", name="Профиль").click()
        expect(tab.get_by_role("button", name="Войти")).to_be_visible()
        login = LoginPage(tab, server.url)
        login.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
        expect(tab.get_by_text("Учётная запись заблокирована. Обратитесь в МУП «Ижводоканал».")
               ).to_be_visible()
        assert users.press(DEMO_EMAIL, "Разблокировать").status == 200
        login.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
        expect(tab.get_by_text(SIGNED_IN)).to_be_visible()
    finally:
        subscriber.close()
