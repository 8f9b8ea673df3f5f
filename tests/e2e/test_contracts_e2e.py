"""Connection request → menu appears without a reload → «Мои договора» → «Удалить» (confirmed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ConnectPage, ContractsPage, LoginPage
from tests.helpers import create_user, load_demo_sync, run_sync, sql

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "e2e.contracts@example.ru", "e2e-contracts-1"


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    run_sync(lambda: create_user(EMAIL, PASSWORD))
    return live_server_factory()


def inn_of(billing_id: int) -> str:
    return sql("""SELECT cp.inn FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
                  WHERE c.billing_id = $1""", billing_id)[0]["inn"]


def linked(email: str) -> list[int]:
    rows = sql("""SELECT c.billing_id FROM contract_link l JOIN contract c ON c.id = l.contract
                  JOIN portal_user u ON u.id = l."user" WHERE u.email = $1 ORDER BY 1""", email)
    return [r["billing_id"] for r in rows]


def test_connect_then_delete_contract(server, page: Page):
    LoginPage(page, server.url).login(EMAIL, PASSWORD)
    page.get_by_role("link", name="Перейти к “Заявке на подключение”").click()
    expect(page).to_have_url(re.compile(r"/connect$"))
    connect = ConnectPage(page, server.url)
    menu = connect.menu
    expect(menu.get_by_role("link", name="Заявка на подключение")).to_be_visible()
    expect(menu.get_by_role("link", name="Мои договора")).to_have_count(0)
    page.evaluate("window.__noReload = true")  # disappears if the page reloads

    inn = inn_of(18020)
    bad_inn = inn[:-1] + str((int(inn[-1]) + 1) % 10)  # wrong check digit
    connect.submit(bad_inn, "18020/ШК")
    expect(page.locator("#e-inn")).to_contain_text("Неверный ИНН")
    expect(connect.inn).to_have_value(bad_inn)
    expect(connect.number).to_have_value("18020/ШК")

    connect.submit(inn, "18020/НЕТ")
    expect(page.get_by_text("Договор с таким номером для этого ИНН не найден")).to_be_visible()
    expect(connect.inn).to_have_value(inn)
    expect(connect.number).to_have_value("18020/НЕТ")
    assert linked(EMAIL) == []

    connect.submit(f" {inn} ", " 18020/шк ")
    expect(page.get_by_text("Заявка успешно отправлена")).to_be_visible()
    for item in ("Передача показаний ХВС", "Передача объемов по стокам ГВС", "Архив показаний",
                 "Мои договора"):
        expect(menu.get_by_role("link", name=item)).to_be_visible()
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    assert linked(EMAIL) == [18020]

    menu.get_by_role("link", name="Мои договора").click()
    contracts = ContractsPage(page, server.url)
    expect(contracts.heading).to_be_visible()
    row = contracts.row("18020/ШК")
    expect(row).to_contain_text("МБОУ «СОШ № 25»")
    expect(row).to_contain_text(inn)

    _, question = contracts.delete("18020/ШК")
    assert "18020" in question
    expect(page.get_by_text("Договор №18020 удалён из вашего кабинета.")).to_be_visible()
    expect(contracts.row("18020/ШК")).to_have_count(0)
    expect(menu.get_by_role("link", name="Мои договора")).to_have_count(0)
    expect(menu.get_by_role("link", name="Передача показаний ХВС")).to_have_count(0)
    expect(menu.get_by_role("link", name="Заявка на подключение")).to_be_visible()
    assert linked(EMAIL) == []
    # Billing data stays.
    assert sql("SELECT count(*) AS n FROM contract WHERE billing_id = 18020")[0]["n"] == 1


def test_dismissing_the_confirmation_keeps_the_contract(server, page: Page):
    LoginPage(page, server.url).login()
    contracts = ContractsPage(page, server.url).goto()
    contracts.delete_dismissed("Д-15303/2018")
    # Nothing is sent after "Cancel": the row and the link stay (checked in the DB too).
    expect(contracts.row("Д-15303/2018")).to_be_visible()
    assert linked("demo@izhvodokanal.example") == [15303]
