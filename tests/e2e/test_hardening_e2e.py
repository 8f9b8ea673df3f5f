"""Issue 18 in Chromium: the language switch on a router 404 page (F12) and the co-users of a
contract on «Мои договора» (F13)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ContractsPage, LoginPage
from tests.helpers import create_user, load_demo_sync, run_sync, sql

pytestmark = pytest.mark.e2e

COLLEAGUE = "kolya.petrov@izhvodokanal.example"


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    run_sync(lambda: create_user(COLLEAGUE, contract_billing_ids=(15303,)))
    sql("""UPDATE contract_link SET created_at = '2026-11-20 10:00+00'
           WHERE "user" = (SELECT id FROM portal_user WHERE email = $1)""", COLLEAGUE)
    return live_server_factory()


def test_language_switch_on_a_404_page(server, page: Page):
    page.goto(server.url + "/no/such/page")
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="EN").click()
    # the switch was accepted (no 403) and led back to the same address, now in English
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert page.url.endswith("/no/such/page")


def test_my_contracts_shows_who_else_has_the_contract(server, page: Page):
    LoginPage(page, server.url).login()
    contracts = ContractsPage(page, server.url).goto()
    expect(page.get_by_role("columnheader", name="Другие пользователи")).to_be_visible()
    row = contracts.row("Д-15303/2018")
    expect(row).to_contain_text("Ещё 1:")
    expect(row).to_contain_text("k***@izhvodokanal.example с 20.11.2026")
    expect(page.get_by_text(COLLEAGUE)).to_have_count(0)  # never the whole address
