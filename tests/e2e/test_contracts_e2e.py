"""Connection request → menu appears without a reload → «Мои договора» → «Удалить» (confirmed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import browser_login, create_user, load_demo_sync, run_sync, sql

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


def submit(page: Page, inn: str, number: str) -> None:
    page.get_by_label("ИНН компании").fill(inn)
    page.get_by_label("Номер договора с МУП «Ижводоканал»").fill(number)
    with page.expect_response(lambda r: r.url.endswith("/connect") and r.request.method == "POST"):
        page.get_by_role("button", name="Отправить заявку").click()


def test_connect_then_delete_contract(server, page: Page):
    page.goto(server.url + "/")
    page.get_by_label("Адрес электронной почты").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("link", name="Перейти к “Заявке на подключение”").click()
    expect(page).to_have_url(re.compile(r"/connect$"))
    menu = page.get_by_role("navigation", name="Меню")
    expect(menu.get_by_role("link", name="Заявка на подключение")).to_be_visible()
    expect(menu.get_by_role("link", name="Мои договора")).to_have_count(0)
    page.evaluate("window.__noReload = true")  # disappears if the page reloads

    inn = inn_of(18020)
    bad_inn = inn[:-1] + str((int(inn[-1]) + 1) % 10)  # wrong check digit
    submit(page, bad_inn, "18020/ШК")
    expect(page.get_by_text("Неверный ИНН")).to_be_visible()
    expect(page.get_by_label("ИНН компании")).to_have_value(bad_inn)
    expect(page.get_by_label("Номер договора с МУП «Ижводоканал»")).to_have_value("18020/ШК")

    submit(page, inn, "18020/НЕТ")
    expect(page.get_by_text("Договор с таким номером для этого ИНН не найден")).to_be_visible()
    expect(page.get_by_label("ИНН компании")).to_have_value(inn)
    expect(page.get_by_label("Номер договора с МУП «Ижводоканал»")).to_have_value("18020/НЕТ")
    assert linked(EMAIL) == []

    submit(page, f" {inn} ", " 18020/шк ")
    expect(page.get_by_text("Заявка успешно отправлена")).to_be_visible()
    for item in ("Передача показаний ХВС", "Передача объемов по стокам ГВС", "Архив показаний",
                 "Мои договора"):
        expect(menu.get_by_role("link", name=item)).to_be_visible()
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    assert linked(EMAIL) == [18020]

    menu.get_by_role("link", name="Мои договора").click()
    expect(page.get_by_role("heading", name="Мои договора")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="18020/ШК")
    expect(row).to_contain_text("МБОУ «СОШ № 25»")
    expect(row).to_contain_text(inn)

    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_response(lambda r: r.url.endswith("/delete") and r.request.method == "POST"):
        row.get_by_role("link", name="Удалить").click()
    assert dialogs and "18020" in dialogs[0]
    expect(page.get_by_text("Договор №18020 удалён из вашего кабинета.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="18020/ШК")).to_have_count(0)
    expect(menu.get_by_role("link", name="Мои договора")).to_have_count(0)
    expect(menu.get_by_role("link", name="Передача показаний ХВС")).to_have_count(0)
    expect(menu.get_by_role("link", name="Заявка на подключение")).to_be_visible()
    assert linked(EMAIL) == []
    # Billing data stays.
    assert sql("SELECT count(*) AS n FROM contract WHERE billing_id = 18020")[0]["n"] == 1


def test_dismissing_the_confirmation_keeps_the_contract(server, page: Page):
    browser_login(page, server.url)
    page.goto(server.url + "/contracts")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row = page.get_by_role("row").filter(has_text="Д-15303/2018")
    row.get_by_role("link", name="Удалить").click()
    # Nothing is sent after "Cancel": the row and the link stay (checked in the DB too).
    expect(row).to_be_visible()
    assert linked("demo@izhvodokanal.example") == [15303]
