"""«Профиль» in Chromium: a password change logs out the other browser, the e-mail changes
through the mailed link, an unticked notification stays unticked (and is stored)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import SIGNED_IN, LoginPage, ProfilePage
from tests.helpers import VAR_DIR, create_user, load_demo_sync, read_mail, run_sync, sql

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def new_user(email: str, password: str) -> None:
    run_sync(lambda: create_user(email, password, contract_billing_ids=(15304,)))


def wait_for_mail(to: str, timeout: float = 20) -> str:
    """The body of the newest mail to `to` that the ARQ worker wrote."""
    mail_dir = VAR_DIR / "mail"
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), reverse=True) if mail_dir.exists() else []:
            mail_to, _, body = read_mail(path)
            if mail_to == to:
                return body
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} written by the worker")


def test_password_change_logs_out_the_other_browser(server, page: Page, browser: Browser,
                                                    browser_context_args):
    new_user("pw.e2e@example.ru", "old-password-1")
    LoginPage(page, server.url).login("pw.e2e@example.ru", "old-password-1")
    other_context = browser.new_context(**browser_context_args)
    try:
        other = other_context.new_page()
        LoginPage(other, server.url).login("pw.e2e@example.ru", "old-password-1")
        profile = ProfilePage(page, server.url).goto()
        response = profile.change_password("old-password-1", "new-password-22")
        assert response.status == 200
        expect(page.get_by_text("Пароль изменён. На остальных устройствах выполнен выход."))\
            .to_be_visible()
        # The other browser's session is over: /profile sends it to the login block.
        other.goto(server.url + "/profile")
        expect(other.get_by_role("heading", name="Вход в ваш кабинет")).to_be_visible()
        # This browser is still logged in.
        page.reload()
        expect(page.get_by_role("heading", name="Профиль", exact=True)).to_be_visible()
        assert "Пароль вашего личного кабинета абонента изменён" in wait_for_mail(
            "pw.e2e@example.ru")
        LoginPage(other, server.url).goto().sign_in("pw.e2e@example.ru", "new-password-22")
        expect(other.get_by_text(SIGNED_IN)).to_be_visible()
    finally:
        other_context.close()


def test_email_change_through_the_mailed_link(server, page: Page):
    new_user("old.e2e@example.ru", "email-password-1")
    LoginPage(page, server.url).login("old.e2e@example.ru", "email-password-1")
    profile = ProfilePage(page, server.url).goto()
    profile.open_from_menu()
    response = profile.request_email_change("new.e2e@example.ru", "email-password-1")
    assert response.status == 200
    expect(page.get_by_text("Мы отправили ссылку для подтверждения")).to_be_visible()
    link = re.search(r"http://\S+/profile/email/confirm/[\w-]+",
                     wait_for_mail("new.e2e@example.ru")).group(0)
    page.goto(link)
    expect(page.get_by_text("Адрес электронной почты изменён на new.e2e@example.ru"))\
        .to_be_visible()
    assert "new.e2e@example.ru" in wait_for_mail("old.e2e@example.ru")  # the old one is told
    assert sql("SELECT count(*) AS n FROM portal_user WHERE email = $1",
               "new.e2e@example.ru")[0]["n"] == 1
    page.goto(link)  # single use
    expect(page.get_by_text("Ссылка недействительна или устарела")).to_be_visible()
    page.get_by_role("button", name="Выйти").click()
    LoginPage(page, server.url).login("new.e2e@example.ru", "email-password-1")


def test_unticked_notification_stays_unticked(server, page: Page):
    new_user("notify.e2e@example.ru", "notify-password-1")
    LoginPage(page, server.url).login("notify.e2e@example.ru", "notify-password-1")
    profile = ProfilePage(page, server.url).goto()
    label = "Сообщать о результате обработки показаний"
    expect(profile.notification(label)).to_be_checked()
    profile.notification(label).uncheck()
    assert profile.save_notifications().status == 200
    expect(page.get_by_text("Настройки уведомлений сохранены")).to_be_visible()
    page.reload()
    expect(profile.notification(label)).not_to_be_checked()
    expect(profile.notification("Присылать квитанцию о передаче")).to_be_checked()
    row = sql("""SELECT notify_window_open, notify_last_day, notify_results,
                        notify_verification, notify_receipt
                 FROM portal_user WHERE email = $1""", "notify.e2e@example.ru")[0]
    assert dict(row) == {"notify_window_open": True, "notify_last_day": True,
                         "notify_results": False, "notify_verification": True,
                         "notify_receipt": True}
