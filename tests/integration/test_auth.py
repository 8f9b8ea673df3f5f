"""Registration, login, logout, reminder and CSRF through the in-process test client."""

from __future__ import annotations

import re

import pytest

from app import db
from tests.helpers import create_user, login, mail_files, post_form, read_mail

REG = {
    "email": "New.User@Example.ru",
    "password": "long-enough-1",
    "password_confirm": "long-enough-1",
    "full_name": "Сидоров Пётр",
    "phone": "+7 912 000-00-00",
    "position": "Инженер",
    "organization": "ООО «Вектор»",
    "consent": "yes",
}


async def test_register_then_login_works(client, clean_db):
    """Not logged in at once: an existing address gets this same answer (issue 18, F4)."""
    response = await post_form(client, "/register", REG)
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=registered"
    # not logged in: a page behind the login sends there (the session carries only the
    # address for the login form)
    assert (await client.get("/profile")).status_code == 303
    page = await client.get("/?notice=registered")
    assert "Регистрация завершена. Войдите" in page.text
    assert 'value="new.user@example.ru"' in page.text  # issue 19 item 12: filled in, once
    assert 'value="new.user@example.ru"' not in (await client.get("/?notice=registered")).text
    await login(client, "new.user@example.ru", "long-enough-1")


@pytest.mark.parametrize("phone", ["abc", "12345", "+7 912 000-00-00 доб", "7" * 16])
async def test_register_refuses_what_is_not_a_phone_number(client, clean_db, phone):
    response = await post_form(client, "/register", {**REG, "phone": phone})
    assert response.status_code == 422
    assert "Введите номер телефона, например +7 3412 00-00-00" in response.text
    assert await db.fetchval("SELECT count(*) FROM portal_user") == 0


async def test_register_keeps_values_and_reports_each_field(client, clean_db):
    bad = {**REG, "password_confirm": "other-password", "phone": "", "consent": ""}
    response = await post_form(client, "/register", bad)
    assert response.status_code == 422
    assert "Пароли не совпадают" in response.text
    assert "Заполните это поле" in response.text
    assert "Нужно согласие на обработку персональных данных" in response.text
    assert 'value="Сидоров Пётр"' in response.text  # typed values stay


async def test_register_duplicate_email_case_insensitive(client, clean_db):
    """An existing address (any case) gets the answer a new one gets (no enumeration, issue
    18); the account is not touched and a second one is not made."""
    from app import db

    await create_user("new.user@example.ru")
    response = await post_form(client, "/register", REG)
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=registered"
    assert await db.fetchval("SELECT count(*) FROM portal_user") == 1
    # the very page a new address gets, the address filled in alike
    assert 'value="new.user@example.ru"' in (await client.get("/?notice=registered")).text
    await login(client, "new.user@example.ru", "secret-pass-123")


async def test_short_password_rejected(client, clean_db):
    response = await post_form(client, "/register", {**REG, "password": "short1",
                                                     "password_confirm": "short1"})
    assert response.status_code == 422
    assert "не менее 10 символов" in response.text


async def test_wrong_password_message_and_email_kept(auth, clean_db):
    await create_user("a@example.ru", "right-password-1")
    response = await auth.login("a@example.ru", "wrong-pass")
    assert response.status_code == 422
    assert "Ошибка входа. Неверное имя пользователя/ пароль" in response.text
    assert 'value="a@example.ru"' in response.text


async def test_login_throttled_per_email(auth, clean_db):
    await create_user("t@example.ru", "right-password-1")
    for _ in range(5):
        r = await auth.login("t@example.ru", "nope-nope-1")
        assert r.status_code == 422
    r = await auth.login("t@example.ru", "right-password-1")
    assert r.status_code == 429
    assert "Повторите через 15 минут" in r.text


async def test_session_rotated_at_login_and_destroyed_at_logout(client, auth, clean_db):
    await create_user("s@example.ru", "right-password-1")
    await client.get("/")
    client.cookies.set("sid", "attacker-chosen-session-id", domain="testserver.local")
    await auth.login_ok("s@example.ru", "right-password-1")
    sid = client.cookies.get("sid")
    assert sid and sid != "attacker-chosen-session-id"
    r = await auth.logout()
    assert r.status_code == 303
    # Replaying the old cookie no longer works.
    client.cookies.set("sid", sid, domain="testserver.local")
    home = await client.get("/")
    assert "Вход в ваш кабинет" in home.text and "Войти" in home.text
    assert "Вы успешно авторизовались!" not in home.text


async def test_anonymous_get_writes_no_session(client, clean_db):
    r = await client.get("/")
    assert r.status_code == 200
    assert "sid" not in r.cookies


async def test_csrf_required_on_post(client, clean_db):
    await client.get("/")
    r = await client.post("/login", data={"email": "x@example.ru", "password": "whatever-1"})
    assert r.status_code == 403


async def test_password_reminder_single_use_link(client, clean_db):
    from app import worker

    await create_user("r@example.ru", "old-password-1")
    before = set(mail_files())
    r = await post_form(client, "/password/remind", {"email": "r@example.ru"})
    assert "Если этот адрес зарегистрирован" in r.text
    unknown = await post_form(client, "/password/remind", {"email": "nobody@example.ru"})
    assert unknown.status_code == r.status_code
    assert "Если этот адрес зарегистрирован" in unknown.text
    # Run the queued mail job as the worker would.
    queue = client.app.state.queue
    jobs = await queue.queued_jobs()
    reminders = [j.args[0] for j in jobs if j.function == "password_reminder"]
    assert reminders == ["r@example.ru", "nobody@example.ru"]
    for email in reminders:  # the worker mails only the registered address
        await worker.password_reminder({}, email)
    for job in jobs:
        await queue.delete(f"arq:job:{job.job_id}")
    new = [p for p in mail_files() if p not in before]
    assert len(new) == 1
    body = read_mail(new[0])[2]
    token = re.search(r"/password/reset/([\w-]+)", body).group(1)
    r = await post_form(client, f"/password/reset/{token}",
                        {"password": "new-password-1", "password_confirm": "new-password-1"})
    assert r.status_code == 303
    await login(client, "r@example.ru", "new-password-1")
    again = await client.get(f"/password/reset/{token}")
    assert again.status_code == 404
    assert "Ссылка недействительна или устарела" in again.text


async def test_english_locale(client, clean_db):
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    r = await client.get("/")
    assert "Sign in to your account" in r.text
    assert '<html lang="en">' in r.text


async def test_language_chosen_before_login_is_kept_after_login(client, auth, clean_db):
    await create_user("lang@example.ru", "right-password-1")  # account locale: ru
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    await auth.login("lang@example.ru", "right-password-1")
    home = await client.get("/")
    assert "You have signed in successfully!" in home.text
    client.cookies.delete("lang")  # remembered on the account, not only in the cookie
    assert "You have signed in successfully!" in (await client.get("/")).text


async def test_unknown_url_answers_in_the_visitors_language(client, clean_db):
    r = await client.get("/no-such-page")
    assert r.status_code == 404 and "Страница не найдена" in r.text
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    r = await client.get("/no-such-page")
    assert r.status_code == 404 and "Page not found" in r.text
