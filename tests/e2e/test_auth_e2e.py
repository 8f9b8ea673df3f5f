"""Register → login → success text → connection request; wrong password; reminder mail."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import LoginPage
from tests.helpers import VAR_DIR, load_demo_sync, read_mail

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def test_register_login_and_go_to_connection_request(server, page: Page):
    LoginPage(page, server.url).goto()
    expect(page.get_by_role("heading", name="Вход в ваш кабинет")).to_be_visible()
    page.get_by_role("link", name="Зарегистрироваться.").click()
    page.get_by_label("Адрес электронной почты").fill("e2e.user@example.ru")
    page.get_by_label("Пароль", exact=True).fill("e2e-password-1")
    page.get_by_label("Подтверждение пароля").fill("e2e-password-1")
    page.get_by_label("ФИО").fill("Котова Анна")
    page.get_by_label("Телефон").fill("+7 3412 11-22-33")
    page.get_by_label("Должность").fill("Бухгалтер")
    page.get_by_label("Наименование организации").fill("ООО «Ромашка»")
    page.get_by_label("Я даю согласие на обработку персональных данных").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    # the same answer as for a registered address (issue 18): log in with the new account
    expect(page.get_by_text("Регистрация завершена. Войдите")).to_be_visible()
    # the address is filled in and the password field has the focus (issue 19 item 12)
    expect(page.get_by_label("Адрес электронной почты")).to_have_value("e2e.user@example.ru")
    expect(page.get_by_label("Пароль", exact=True)).to_be_focused()
    page.keyboard.type("e2e-password-1")
    page.keyboard.press("Enter")
    expect(page.locator(".user-name")).to_have_text("Котова Анна")


def test_wrong_password_shows_error_and_keeps_email(server, page: Page):
    login = LoginPage(page, server.url).goto()
    login.sign_in("demo@izhvodokanal.example", "wrong-password")
    expect(page.get_by_text("Ошибка входа. Неверное имя пользователя/ пароль")).to_be_visible()
    expect(login.email).to_have_value("demo@izhvodokanal.example")


def test_reminder_mail_link_sets_new_password(server, page: Page):
    mail_dir = VAR_DIR / "mail"
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()
    login = LoginPage(page, server.url).goto()
    page.get_by_role("link", name="Напомнить.").click()
    page.get_by_label("Адрес электронной почты").fill("demo@izhvodokanal.example")
    page.get_by_role("button", name="Напомнить").click()
    expect(page.get_by_text("Если этот адрес зарегистрирован")).to_be_visible()
    deadline = time.time() + 20  # the ARQ worker sends it
    new: list = []
    while time.time() < deadline and not new:
        new = [p for p in mail_dir.glob("*.eml") if p not in before] if mail_dir.exists() else []
        time.sleep(0.2)
    assert new, "no mail written by the worker"
    link = re.search(r"http://\S+/password/reset/[\w-]+", read_mail(new[0])[2]).group(0)
    page.goto(link)
    page.get_by_label("Пароль", exact=True).fill("brand-new-pass-1")
    page.get_by_label("Подтверждение пароля").fill("brand-new-pass-1")
    page.get_by_role("button", name="Сохранить пароль").click()
    expect(page.get_by_text("Пароль изменён")).to_be_visible()
    login.sign_in("demo@izhvodokanal.example", "brand-new-pass-1")
    expect(page.get_by_text("Вы успешно авторизовались!")).to_be_visible()
