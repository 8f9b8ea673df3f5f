"""«Профиль» and the «Календарь сроков» feed (SPEC §9) through the in-process client, on real
PostgreSQL and Redis: mails are run through the worker's send_email and read back from files."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
from icalendar import Calendar

from app import db, worker
from app.domain.calendar import add_months, month_start
from app.settings import today
from tests.helpers import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    create_user,
    login,
    mail_files,
    post_form,
    read_mail,
)

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "brand-new-pass-42"


@asynccontextmanager
async def second_client(client):
    """Another browser on the same app: its own cookies, so its own session."""
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                 follow_redirects=False) as other:
        yield other


async def deliver_mails(client) -> list[tuple[str, str, str]]:
    """Run every queued send_email job as the worker would; (to, subject, body) of each."""
    queue = client.app.state.queue
    before = set(mail_files())
    for job in await queue.queued_jobs():
        if job.function == "send_email":
            await worker.send_email({}, *job.args)
        await queue.delete(f"arq:job:{job.job_id}")
        await queue.zrem("arq:queue", job.job_id)
    return [read_mail(p) for p in mail_files() if p not in before]


async def logged_in(client) -> bool:
    r = await client.get("/profile")
    return r.status_code == 200


async def user_row(email: str):
    return await db.fetchrow("SELECT * FROM portal_user WHERE email = $1", email)


# ---------------------------------------------------------------- contact details


async def test_profile_in_menu_and_edit_contacts(client, demo_db):
    await login(client)
    home = await client.get("/")
    assert '<a href="/profile"' in home.text and "Профиль" in home.text
    page = await client.get("/profile")
    assert page.status_code == 200
    for text in ("Сменить пароль", "Сменить адрес электронной почты",
                 "Выйти на всех устройствах", "Уведомления", "Календарь сроков",
                 "Напоминать об открытии окна передачи", "Присылать квитанцию о передаче"):
        assert text in page.text
    r = await post_form(client, "/profile", {"full_name": "Петрова Анна",
                                             "phone": "+7 3412 11-22-33",
                                             "position": "Главный инженер",
                                             "organization": "ООО «Ромашка»"}, headers=HTMX)
    assert r.status_code == 200 and "Данные профиля сохранены" in r.text
    row = await user_row(DEMO_EMAIL)
    assert (row["full_name"], row["phone"], row["position"], row["organization"]) == (
        "Петрова Анна", "+7 3412 11-22-33", "Главный инженер", "ООО «Ромашка»")


async def test_contacts_errors_keep_typed_values_and_change_nothing(client, demo_db):
    await login(client)
    before = await user_row(DEMO_EMAIL)
    r = await post_form(client, "/profile", {"full_name": "Новое Имя", "phone": "",
                                             "position": "x" * 201, "organization": "ООО"})
    assert r.status_code == 422
    assert "Заполните это поле" in r.text and "Не более 200 символов" in r.text
    assert 'value="Новое Имя"' in r.text
    assert (await user_row(DEMO_EMAIL))["full_name"] == before["full_name"]


# ---------------------------------------------------------------- password


async def test_password_change_ends_other_sessions_and_mails_the_user(client, demo_db):
    await login(client)
    async with second_client(client) as other:
        await login(other)
        assert await logged_in(other)
        r = await post_form(client, "/profile/password", {
            "current_password": DEMO_PASSWORD, "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD}, headers=HTMX)
        assert r.status_code == 200, r.text
        assert "Пароль изменён" in r.text
        assert await logged_in(client)  # this browser stays
        assert not await logged_in(other)  # the other one is logged out
        assert (await other.get("/profile")).status_code in (303, 401)
    mails = await deliver_mails(client)
    assert [(to, subject) for to, subject, _ in mails] == [
        (DEMO_EMAIL, "Пароль личного кабинета изменён")]
    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    assert (await post_form(client, "/login", {"email": DEMO_EMAIL,
                                               "password": DEMO_PASSWORD})).status_code == 422
    await login(client, DEMO_EMAIL, NEW_PASSWORD)


async def test_password_change_refusals_change_nothing(client, demo_db):
    await login(client)
    before = (await user_row(DEMO_EMAIL))["password_hash"]
    cases = [
        ({"current_password": "wrong-password-1", "password": NEW_PASSWORD,
          "password_confirm": NEW_PASSWORD}, "Неверный текущий пароль"),
        ({"current_password": DEMO_PASSWORD, "password": "short",
          "password_confirm": "short"}, "не менее 10 символов"),
        ({"current_password": DEMO_PASSWORD, "password": NEW_PASSWORD,
          "password_confirm": NEW_PASSWORD + "x"}, "Пароли не совпадают"),
        ({"current_password": DEMO_PASSWORD, "password": DEMO_PASSWORD,
          "password_confirm": DEMO_PASSWORD}, "Новый пароль совпадает с текущим"),
    ]
    for form, message in cases:
        r = await post_form(client, "/profile/password", form)
        assert r.status_code == 422, form
        assert message in r.text, form
    assert (await user_row(DEMO_EMAIL))["password_hash"] == before
    assert await deliver_mails(client) == []
    assert await logged_in(client)


async def test_logout_everywhere(client, demo_db):
    await login(client)
    async with second_client(client) as other:
        await login(other)
        r = await post_form(client, "/profile/logout-everywhere")
        assert r.status_code == 303
        assert not await logged_in(client)
        assert not await logged_in(other)
    await login(client)  # logging in again works


# ---------------------------------------------------------------- e-mail change


async def request_email_change(client, new_email: str, password: str = DEMO_PASSWORD):
    return await post_form(client, "/profile/email",
                           {"new_email": new_email, "email_password": password}, headers=HTMX)


def link_in(body: str) -> str:
    return re.search(r"https?://\S+(/profile/email/confirm/[\w-]+)", body).group(1)


async def test_email_change_through_the_mailed_link(client, demo_db):
    await login(client)
    r = await request_email_change(client, "New.Address@Example.ru")
    assert r.status_code == 200 and "Мы отправили ссылку для подтверждения" in r.text
    assert (await user_row(DEMO_EMAIL)) is not None  # nothing changed yet
    [(to, subject, body)] = await deliver_mails(client)
    assert (to, subject) == ("new.address@example.ru", "Подтвердите адрес электронной почты")
    link = link_in(body)
    opened = await client.get(link)
    assert opened.status_code == 200 and "Адрес электронной почты изменён" in opened.text
    assert await user_row(DEMO_EMAIL) is None
    assert (await user_row("new.address@example.ru")) is not None
    [(old_to, notice, notice_body)] = await deliver_mails(client)
    assert old_to == DEMO_EMAIL and "new.address@example.ru" in notice_body
    # Single use.
    again = await client.get(link)
    assert again.status_code == 404 and "Ссылка недействительна или устарела" in again.text
    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    await login(client, "new.address@example.ru", DEMO_PASSWORD)


async def test_expired_and_foreign_links_change_nothing(client, demo_db):
    await login(client)
    await request_email_change(client, "first@example.ru")
    [(_, _, body)] = await deliver_mails(client)
    expired = link_in(body)
    await db.execute("UPDATE email_change SET expires_at = now() - interval '1 second'")
    r = await client.get(expired)
    assert r.status_code == 404 and "Адрес не изменён" in r.text
    await request_email_change(client, "second@example.ru")
    [(_, _, body)] = await deliver_mails(client)
    foreign = link_in(body)
    await create_user("other@example.ru", "other-password-1")
    async with second_client(client) as other:
        await login(other, "other@example.ru", "other-password-1")
        r = await other.get(foreign)
        assert r.status_code == 403 and "другому пользователю" in r.text
    assert await user_row(DEMO_EMAIL) is not None
    assert await user_row("second@example.ru") is None
    assert await user_row("first@example.ru") is None
    assert (await client.get(foreign)).status_code == 200  # still usable by its owner


async def test_a_newer_link_replaces_the_older(client, demo_db):
    await login(client)
    await request_email_change(client, "one@example.ru")
    [(_, _, first)] = await deliver_mails(client)
    await request_email_change(client, "two@example.ru")
    await deliver_mails(client)
    assert (await client.get(link_in(first))).status_code == 404
    assert await user_row("one@example.ru") is None


async def test_taken_address_does_not_leak_and_tells_the_owner_of_it(client, demo_db):
    await create_user("taken@example.ru")
    await login(client)
    taken = await request_email_change(client, "taken@example.ru")
    free = await request_email_change(client, "free@example.ru")
    assert taken.status_code == free.status_code == 200

    def without_address(html: str) -> str:
        return html.replace("taken@example.ru", "X").replace("free@example.ru", "X")

    assert without_address(taken.text) == without_address(free.text)
    mails = await deliver_mails(client)
    by_to = {to: body for to, _, body in mails}
    assert "уже зарегистрирован" in by_to["taken@example.ru"]
    assert "/profile/email/confirm/" not in by_to["taken@example.ru"]
    assert "/profile/email/confirm/" in by_to["free@example.ru"]
    assert await db.fetchval("SELECT count(*) FROM email_change WHERE new_email = $1",
                             "taken@example.ru") == 0


async def test_address_taken_after_the_link_was_sent(client, demo_db):
    await login(client)
    await request_email_change(client, "late@example.ru")
    [(_, _, body)] = await deliver_mails(client)
    await create_user("late@example.ru")
    r = await client.get(link_in(body))
    assert r.status_code == 409 and "уже зарегистрирован" in r.text
    assert await user_row(DEMO_EMAIL) is not None


async def test_email_change_refusals(client, demo_db):
    await login(client)
    for form, message in [
        ({"new_email": "not-an-address", "email_password": DEMO_PASSWORD},
         "Введите адрес электронной почты"),
        ({"new_email": DEMO_EMAIL, "email_password": DEMO_PASSWORD}, "Это ваш текущий адрес"),
        ({"new_email": "ok@example.ru", "email_password": "wrong-password-1"},
         "Неверный текущий пароль"),
    ]:
        r = await post_form(client, "/profile/email", form)
        assert r.status_code == 422 and message in r.text, form
    assert await deliver_mails(client) == []


# ---------------------------------------------------------------- notifications


async def test_notifications_saved(client, demo_db):
    await login(client)
    row = await user_row(DEMO_EMAIL)
    assert all(row[c] for c in ("notify_window_open", "notify_last_day", "notify_results",
                                "notify_verification", "notify_receipt"))
    r = await post_form(client, "/profile/notifications",
                        {"notify_window_open": "on", "notify_results": "on",
                         "notify_receipt": "on"}, headers=HTMX)
    assert r.status_code == 200 and "Настройки уведомлений сохранены" in r.text
    row = await user_row(DEMO_EMAIL)
    assert [row[c] for c in ("notify_window_open", "notify_last_day", "notify_results",
                             "notify_verification", "notify_receipt")] == [
        True, False, True, False, True]
    page = await client.get("/profile")
    assert len(re.findall(r'name="notify_\w+" value="on" checked', page.text)) == 3


# ---------------------------------------------------------------- calendar feed


async def new_feed_url(client) -> str:
    r = await post_form(client, "/profile/calendar", headers=HTMX)
    assert r.status_code == 200
    return re.search(r'id="calendar-url" href="https?://[^/"]+(/calendar/[\w-]+\.ics)"',
                     r.text).group(1)


async def stored_windows(user_email: str) -> set[tuple[str, date, date]]:
    periods = [add_months(month_start(today()), n) for n in range(12)]
    rows = await db.fetch(
        """SELECT c.billing_id, w.kind, w.period, w.opens, w.closes
           FROM submission_window w JOIN contract c ON c.id = w.contract
           JOIN contract_link l ON l.contract = c.id JOIN portal_user u ON u.id = l."user"
           WHERE u.email = $1 AND w.period = ANY($2::date[])""", user_email, periods)
    return {(f"window-{r['billing_id']}-{r['kind']}-{r['period']:%Y-%m}", r["opens"],
             r["closes"]) for r in rows}


def feed_events(ics: bytes) -> dict[str, tuple[date, date, str]]:
    cal = Calendar.from_ical(ics)
    return {str(e["UID"]).split("@")[0]: (e.decoded("DTSTART"), e.decoded("DTEND"),
                                          str(e["SUMMARY"]))
            for e in cal.walk("VEVENT")}


async def test_feed_equals_stored_windows(client, demo_db):
    await login(client)
    await client.get("/contracts")  # nothing needed, but a page view must not matter
    url = await new_feed_url(client)
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app),
                                  base_url="http://testserver.local")
    async with anonymous:
        r = await anonymous.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(r.content)
    assert cal["VERSION"] == "2.0" and cal["PRODID"] and cal["X-WR-CALNAME"]
    events = feed_events(r.content)
    assert len(events) == 12 * 2  # one linked contract (15303), two kinds, 12 months
    stored = await stored_windows(DEMO_EMAIL)  # the feed computed and stored missing ones
    # All-day events: DTEND is the day after the window's last day.
    assert {(uid, start, end) for uid, (start, end, _) in events.items()} == {
        (uid, opens, closes + timedelta(days=1)) for uid, opens, closes in stored}
    summary = events[f"window-15303-cold-{today():%Y-%m}"][2]
    assert "15303" in summary and "ХВС" in summary
    again = await client.get(url)
    assert set(feed_events(again.content)) == set(events)  # stable UIDs


async def test_new_link_revokes_the_old_and_bad_tokens_are_404(client, demo_db):
    await login(client)
    old = await new_feed_url(client)
    new = await new_feed_url(client)
    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200
    assert (await client.get("/calendar/nonsense.ics")).status_code == 404
    assert (await client.get(new.removesuffix(".ics"))).status_code == 404
    raw = new.removeprefix("/calendar/").removesuffix(".ics")
    assert len(raw) >= 43  # 256 bits, URL-safe base64
    hashes = [r["token_hash"] for r in await db.fetch("SELECT token_hash FROM calendar_token")]
    assert len(hashes) == 2 and raw not in hashes  # only hashes are stored


async def test_unlinked_contract_leaves_the_feed_and_feeds_are_isolated(client, demo_db):
    await login(client)
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, $2, now() FROM portal_user u WHERE u.email = $1""",
        DEMO_EMAIL, demo_db["unlinked_contract"])
    url = await new_feed_url(client)
    contracts = {uid.split("-")[1] for uid in feed_events((await client.get(url)).content)}
    assert contracts == {"15303", "15304"}
    r = await post_form(client, f"/contracts/{demo_db['unlinked_contract']}/delete")
    assert r.status_code in (200, 303)
    body = (await client.get(url)).content
    assert {uid.split("-")[1] for uid in feed_events(body)} == {"15303"}
    assert b"15304" not in body
    # Another user with the foreign contract sees only that one, and not ours.
    await create_user("foreign@example.ru", "foreign-pass-1", contract_billing_ids=(16010,))
    async with second_client(client) as other:
        await login(other, "foreign@example.ru", "foreign-pass-1")
        theirs = (await other.get(await new_feed_url(other))).content
    assert {uid.split("-")[1] for uid in feed_events(theirs)} == {"16010"}
    assert b"15303" not in theirs
    assert {uid.split("-")[1] for uid in feed_events((await client.get(url)).content)} == {
        "15303"}


async def test_two_users_confirming_the_same_address_at_once(client, demo_db):
    """Both links were sent while the address was free; opened at the same moment, one wins
    and the other is told it is taken (the unique index decides, never a 500)."""
    import asyncio
    import hashlib

    rival = await create_user("rival@example.ru", "rival-password-1")
    await login(client)
    await request_email_change(client, "wanted@example.ru")
    async with second_client(client) as other:
        await login(other, "rival@example.ru", "rival-password-1")
        await request_email_change(other, "wanted@example.ru", "rival-password-1")
        links = {}
        for to, _, body in await deliver_mails(client):
            assert to == "wanted@example.ru"
            token = link_in(body).rsplit("/", 1)[1]
            owner = await db.fetchval('SELECT "user" FROM email_change WHERE token_hash = $1',
                                      hashlib.sha256(token.encode()).hexdigest())
            links[owner] = link_in(body)
        assert len(links) == 2
        mine = links[demo_db["subscriber"]]
        answers = await asyncio.gather(client.get(mine), other.get(links[rival]))
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert await db.fetchval("SELECT count(*) FROM portal_user WHERE email = $1",
                             "wanted@example.ru") == 1
