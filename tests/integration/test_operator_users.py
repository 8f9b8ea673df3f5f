"""«Пользователи»: search (metacharacters are text), block/unblock (sessions end at once,
login says so, the reminder answers as for anyone), blocking oneself refused, unlink a
contract; operators only; every action audited."""

from __future__ import annotations

import re

import httpx

from app import db
from tests.helpers import DEMO_EMAIL, DEMO_PASSWORD, Auth, login, post_form

OPERATOR = ("operator@izhvodokanal.example", "operpass2026")
HTMX = {"HX-Request": "true"}
BLOCKED = "Учётная запись заблокирована. Обратитесь в МУП «Ижводоканал»."


def emails(html: str) -> list[str]:
    return re.findall(r'<tr id="user-\d+" data-email="([^"]+)"', html)


async def test_search_by_email_name_inn_number(client, demo_db):
    await login(client, *OPERATOR)
    inn = await db.fetchval("SELECT inn FROM counterparty WHERE billing_id = 501")
    for query, expected in [
        ("", [DEMO_EMAIL, OPERATOR[0]]),
        ("DEMO@", [DEMO_EMAIL]),
        ("operator", [OPERATOR[0]]),
        (inn, [DEMO_EMAIL]),
        ("15303", [DEMO_EMAIL]),
        ("Ромашка", [DEMO_EMAIL]),
        ("%", []), ("_", []), ("' OR '1'='1", []), ("<b>x</b>", []),
    ]:
        page = await client.get("/operator/users", params={"q": query})
        assert page.status_code == 200, query
        assert sorted(emails(page.text)) == sorted(expected), query
        assert "<b>x</b>" not in page.text
    page = await client.get("/operator/users", params={"q": "demo"})
    assert 'data-contract="15303"' in page.text and "№15303" in page.text


async def test_block_ends_sessions_login_says_so_unblock(client, demo_db):
    subscriber = demo_db["subscriber"]
    transport = client._transport
    base = str(client.base_url)
    async with httpx.AsyncClient(transport=transport, base_url=base) as tab, \
            httpx.AsyncClient(transport=transport, base_url=base) as visitor:
        await login(tab)  # the subscriber, logged in elsewhere
        assert (await tab.get("/contracts")).status_code == 200
        await login(client, *OPERATOR)
        page = await client.get("/operator/users", params={"q": "demo"})
        assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", page.text)  # its last login
        r = await post_form(client, f"/operator/users/{subscriber}/block?q=demo&page=1",
                            headers=HTMX)
        assert r.status_code == 200
        assert f"Учётная запись {DEMO_EMAIL} заблокирована" in r.text
        assert "Разблокировать" in r.text and "Заблокирована" in r.text
        # The other session is over at once: its next request is anonymous.
        gone = await tab.get("/contracts")
        assert gone.status_code == 303 and gone.headers["location"].split("?")[0] == "/"
        # The right password: told it is blocked; a wrong one: the usual message.
        r = await Auth(visitor).login(DEMO_EMAIL, DEMO_PASSWORD)
        assert r.status_code == 422 and BLOCKED in r.text
        assert "sid" not in visitor.cookies
        r = await Auth(visitor).login(DEMO_EMAIL, "wrong-password-1")
        assert BLOCKED not in r.text and "Ошибка входа" in r.text
        # The reminder answers exactly as for an unknown address, and sends nothing.
        known = await post_form(visitor, "/password/remind", {"email": DEMO_EMAIL})
        unknown = await post_form(visitor, "/password/remind", {"email": "nobody@example.ru"})
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text
        assert await db.fetchval("SELECT count(*) FROM password_reset") == 0

        r = await post_form(client, f"/operator/users/{subscriber}/unblock?q=demo")
        assert r.status_code == 303 and r.headers["location"] == "/operator/users?q=demo"
        await login(visitor)
    actions = [r["action"] for r in await db.fetch(
        "SELECT action FROM audit_event WHERE \"user\" = $1 ORDER BY id", demo_db["operator"])]
    assert actions == ["user_blocked", "user_unblocked"]


async def test_blocking_oneself_refused(client, demo_db):
    await login(client, *OPERATOR)
    r = await post_form(client, f"/operator/users/{demo_db['operator']}/block", headers=HTMX)
    assert r.status_code == 422
    assert "Нельзя заблокировать собственную учётную запись" in r.text
    assert await db.fetchval("SELECT is_active FROM portal_user WHERE id = $1",
                             demo_db["operator"])
    assert (await client.get("/operator/users")).status_code == 200  # still logged in
    assert (await post_form(client, "/operator/users/99999/block")).status_code == 404


async def test_unlink_contract_from_user(client, demo_db):
    await login(client, *OPERATOR)
    user, contract = demo_db["subscriber"], demo_db["linked_contract"]
    r = await post_form(client, f"/operator/users/{user}/contracts/{contract}/unlink?q=demo",
                        headers=HTMX)
    assert r.status_code == 200 and "Договор отключён от пользователя" in r.text
    assert 'data-contract="15303"' not in r.text
    assert await db.fetchval(
        'SELECT count(*) FROM contract_link WHERE "user" = $1 AND contract = $2',
        user, contract) == 0
    assert await db.fetchval("SELECT count(*) FROM contract WHERE id = $1", contract) == 1
    again = await post_form(client, f"/operator/users/{user}/contracts/{contract}/unlink")
    assert again.status_code == 404
    audit = await db.fetchrow(
        """SELECT details FROM audit_event WHERE action = 'operator_unlinked_contract'
           AND "user" = $1""", demo_db["operator"])
    assert audit is not None


async def test_subscriber_403(client, demo_db):
    await login(client)
    assert (await client.get("/operator/users")).status_code == 403
    r = await post_form(client, f"/operator/users/{demo_db['operator']}/block")
    assert r.status_code == 403
    assert await db.fetchval("SELECT bool_and(is_active) FROM portal_user")


async def test_blocked_users_api_tokens_stop_working(client, demo_db):
    from tests.integration.test_api import bearer, store_token

    token = await store_token(demo_db["subscriber"])
    assert (await client.get("/api/v1/contracts", headers=bearer(token))).status_code == 200
    await login(client, *OPERATOR)
    await post_form(client, f"/operator/users/{demo_db['subscriber']}/block")
    refused = await client.get("/api/v1/contracts", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    await post_form(client, f"/operator/users/{demo_db['subscriber']}/unblock")
    assert (await client.get("/api/v1/contracts", headers=bearer(token))).status_code == 200
