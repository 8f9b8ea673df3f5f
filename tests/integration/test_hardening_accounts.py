"""Issue 18, the account findings: sessions after a password reset (F2), lockout by strangers
(F3), enumeration by registration and reminder (F4), throttled connection attempts (F10),
co-users on «Мои договора» (F13). Real PostgreSQL and Redis, the in-process app."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx
from arq.constants import default_queue_name

from tests.helpers import create_user, login, mail_files, post_form, read_mail


async def logged_in(c) -> bool:
    """A page that needs login is served (not a redirect to the login block)."""
    return (await c.get("/profile")).status_code == 200


@asynccontextmanager
async def browser(client, ip: str):
    """Another browser on the same app, from client address `ip`."""
    transport = httpx.ASGITransport(app=client.app, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                 follow_redirects=False) as other:
        other.app = client.app
        yield other


async def run_queued_jobs(client) -> list[tuple[str, str, str]]:
    """Run the queued mail jobs as the worker would; (to, subject, body) of what they sent."""
    import app.worker

    queue = client.app.state.queue
    before = set(mail_files())
    for job in await queue.queued_jobs():
        await getattr(app.worker, job.function)({}, *job.args, **job.kwargs)
        await queue.delete(f"arq:job:{job.job_id}")
        await queue.zrem(default_queue_name, job.job_id)
    return [read_mail(p) for p in sorted(set(mail_files()) - before)]


async def queued(client) -> list[tuple[str, tuple]]:
    return [(j.function, tuple(j.args)) for j in await client.app.state.queue.queued_jobs()]


def without_tokens(html: str) -> str:
    """A page with its per-visitor CSRF token blanked, to compare two answers."""
    return re.sub(r"[0-9a-f]{128}", "TOKEN", html)


# ---------------------------------------------------------------- F2


async def test_f2_password_reset_ends_every_session(client, clean_db):
    await create_user("reset@example.ru", "old-password-1")
    async with browser(client, "10.0.0.2") as laptop:
        await login(laptop, "reset@example.ru", "old-password-1")
        assert await logged_in(laptop)
        await post_form(client, "/password/remind", {"email": "reset@example.ru"})
        mails = await run_queued_jobs(client)
        token = re.search(r"/password/reset/([\w-]+)", mails[-1][2]).group(1)
        done = await post_form(client, f"/password/reset/{token}",
                               {"password": "new-password-1", "password_confirm": "new-password-1"})
        assert done.status_code == 303
        assert not await logged_in(laptop)  # the old session is over
    await login(client, "reset@example.ru", "new-password-1")


# ---------------------------------------------------------------- F3


async def test_f3_stranger_cannot_lock_out_a_browser_that_logged_in_before(client, clean_db):
    """OWASP device cookie: the owner's browser is not refused after a stranger's failures."""
    await create_user("owner@example.ru", "right-password-1")
    await login(client, "owner@example.ru", "right-password-1")  # the device cookie
    await post_form(client, "/logout")
    async with browser(client, "203.0.113.9") as stranger:
        statuses = [(await post_form(stranger, "/login", {
            "email": "owner@example.ru", "password": f"guess-{n}-xx"})).status_code
            for n in range(12)]
        assert 429 in statuses  # the stranger is throttled…
        right = await post_form(stranger, "/login", {"email": "owner@example.ru",
                                                     "password": "right-password-1"})
        assert right.status_code == 429  # …even with the right password
    ok = await post_form(client, "/login", {"email": "owner@example.ru",
                                            "password": "right-password-1"})
    assert ok.status_code == 303, ok.text  # …but the owner's browser is not


async def test_f3_pair_limit_is_strict_and_per_client(client, clean_db):
    await create_user("pair@example.ru", "right-password-1")
    async with browser(client, "198.51.100.1") as one:
        for n in range(5):
            r = await post_form(one, "/login", {"email": "pair@example.ru",
                                                "password": f"wrong-{n}-xxxx"})
            assert r.status_code == 422
        refused = await post_form(one, "/login", {"email": "pair@example.ru",
                                                  "password": "right-password-1"})
        assert refused.status_code == 429
        assert "Повторите через 15 минут" in refused.text


async def test_f3_account_delay_grows_and_passes(client, clean_db, monkeypatch):
    """Failures from many addresses slow the account down for unknown browsers (growing
    delays), they do not lock it for 15 minutes."""
    from app import throttle

    await create_user("spread@example.ru", "right-password-1")
    now = [1_000_000.0]
    monkeypatch.setattr(throttle, "_clock", lambda: now[0])
    for n in range(8):  # eight strangers, one failure each: no pair limit is reached
        async with browser(client, f"192.0.2.{n + 10}") as s:
            await post_form(s, "/login", {"email": "spread@example.ru",
                                          "password": f"guess-{n}-xxxx"})
        now[0] += 60
    async with browser(client, "192.0.2.200") as newcomer:
        now[0] -= 59  # one second after the last failure
        delayed = await post_form(newcomer, "/login", {"email": "spread@example.ru",
                                                       "password": "right-password-1"})
        assert delayed.status_code == 429
        assert "Повторите через" in delayed.text
        now[0] += 600
        ok = await post_form(newcomer, "/login", {"email": "spread@example.ru",
                                                  "password": "right-password-1"})
        assert ok.status_code == 303


# ---------------------------------------------------------------- F4

REG = {"password": "long-enough-1", "password_confirm": "long-enough-1",
       "full_name": "Сидоров Пётр", "phone": "+7 912 000-00-00", "position": "Инженер",
       "organization": "ООО «Вектор»", "consent": "yes"}


async def test_f4_registration_same_answer_for_an_existing_address(client, clean_db):
    from app import db

    await create_user("taken@example.ru", "owners-password-1")
    taken = await post_form(client, "/register", {**REG, "email": "taken@example.ru"})
    free = await post_form(client, "/register", {**REG, "email": "free@example.ru"})
    assert taken.status_code == free.status_code == 303
    assert taken.headers["location"] == free.headers["location"]
    assert without_tokens(taken.text) == without_tokens(free.text)
    assert [f for f, _ in await queued(client)] == ["registration_mail", "registration_mail"]
    mails = {to: (subject, body) for to, subject, body in await run_queued_jobs(client)}
    assert set(mails) == {"taken@example.ru", "free@example.ru"}
    assert "пытался зарегистрироваться" in mails["taken@example.ru"][1]
    # the owner's password is untouched; the new account works
    assert await db.fetchval("SELECT count(*) FROM portal_user") == 2
    await login(client, "taken@example.ru", "owners-password-1")
    await post_form(client, "/logout")
    await login(client, "free@example.ru", "long-enough-1")


async def test_f4_reminder_same_path_for_existing_and_unknown(client, clean_db, monkeypatch):
    """The web request does the same work for both: no lookup of the address at all (the
    worker looks it up); the worker mails only the existing one."""
    from app.controllers import auth as auth_controller

    await create_user("known@example.ru")

    async def no_lookup(*args, **kwargs):
        raise AssertionError("the web request looked the address up")

    monkeypatch.setattr(auth_controller.q, "active_user_by_email", no_lookup)
    known = await post_form(client, "/password/remind", {"email": "known@example.ru"})
    unknown = await post_form(client, "/password/remind", {"email": "unknown@example.ru"})
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.text) == without_tokens(unknown.text)
    assert await queued(client) == [("password_reminder", ("known@example.ru",)),
                                    ("password_reminder", ("unknown@example.ru",))]
    monkeypatch.undo()
    sent = await run_queued_jobs(client)
    assert [to for to, _, _ in sent] == ["known@example.ru"]


# ---------------------------------------------------------------- F10


async def test_f10_throttled_connection_attempts_are_one_row_with_a_count(client, clean_db):
    from app import db, throttle

    await create_user("c@example.ru")
    await login(client, "c@example.ru", "secret-pass-123")
    limit = throttle.CONNECT_PER_USER.max_count
    for n in range(limit + 25):
        await post_form(client, "/connect", {"inn": "7707083893", "number": f"guess-{n}"})
    rows = await db.fetch("""SELECT outcome, attempts FROM connection_request
                             WHERE outcome = 'throttled'""")
    assert len(rows) == 1, rows
    assert rows[0]["attempts"] == 25
    assert await db.fetchval("SELECT count(*) FROM connection_request") == limit + 1


# ---------------------------------------------------------------- F13


async def test_f13_my_contracts_shows_co_users_masked_with_their_date(client, demo_db):
    from app import db

    mate = await create_user("dmitry.k@izhvodokanal.example", contract_billing_ids=(15303,))
    await db.execute("""UPDATE contract_link SET created_at = '2026-11-20 10:00+00'
                        WHERE "user" = $1""", mate)
    await login(client)
    page = await client.get("/contracts")
    assert page.status_code == 200
    row = re.search(rf'<tr id="contract-{demo_db["linked_contract"]}">.*?</tr>', page.text,
                    re.S).group(0)
    assert "Ещё 1:" in row  # the user itself is not counted
    assert "d***@izhvodokanal.example" in row
    assert "dmitry.k@" not in page.text
    assert "20.11.2026" in row


async def test_f13_new_user_on_a_contract_mails_the_others(client, demo_db):
    """Kept from the profile issue: «К договору №N подключён новый пользователь»."""
    from app import db

    await create_user("newcomer@example.ru")
    async with browser(client, "10.9.9.9") as other:
        await login(other, "newcomer@example.ru", "secret-pass-123")
        inn = await db.fetchval("""SELECT cp.inn FROM contract c JOIN counterparty cp
                                   ON cp.id = c.counterparty WHERE c.billing_id = 15303""")
        number = await db.fetchval("SELECT number FROM contract WHERE billing_id = 15303")
        r = await post_form(other, "/connect", {"inn": inn, "number": number})
        assert r.status_code in (200, 303), r.text
    keys = [r["key"] for r in await db.fetch("SELECT key FROM mail_outbox")]
    assert any(k.startswith("new_user:") for k in keys), keys
