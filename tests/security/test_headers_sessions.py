"""Security headers on every response, session cookie flags, session lifetime, reset tokens.

Complements tests/integration/test_auth.py (rotation against a planted id, logout replay,
single-use reset link by GET), which these tests do not repeat.
"""

from __future__ import annotations

import os
import re

import httpx
import pytest
from arq.constants import default_queue_name

from tests.helpers import create_user, csrf_of, login, post_form
from tests.security.route_inventory import endpoints, fill_path

GET_PAGES = [e for e in endpoints() if e.method == "GET"]


def assert_security_headers(response: httpx.Response) -> None:
    h = response.headers
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin"), where


def no_traceback(text: str) -> None:
    for needle in ("Traceback", 'File "', "asyncpg", "Exception", "litestar."):
        assert needle not in text, needle


# ---------------------------------------------------------------- headers


async def test_headers_on_every_page_anonymous_and_logged_in(client, demo_db):
    assert GET_PAGES
    ids = {"contract": demo_db["linked_contract"]}
    for endpoint in GET_PAGES:
        assert_security_headers(await client.get(fill_path(endpoint, ids)))
    await login(client)
    for endpoint in GET_PAGES:
        assert_security_headers(await client.get(fill_path(endpoint, ids)))


async def test_headers_on_static_and_error_responses(client, clean_db):
    responses = [
        await client.get("/static/app.js"),
        await client.get("/static/htmx.min.js"),
        await client.get("/static/no-such-file.js"),
        await client.get("/no/such/page"),
        await client.post("/login", data={"email": "x@example.ru"}),  # CSRF 403
        await client.request("DELETE", "/"),  # 405
        await client.get("/", headers={"HX-Request": "true"}),
    ]
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 200 and statuses[3] == 404 and statuses[4] == 403, statuses
    for response in responses:
        assert_security_headers(response)
        no_traceback(response.text)


async def test_500_page_has_headers_and_no_traceback(auth, clean_db, monkeypatch):
    """An unexpected exception: the friendly page, status 500, headers, no stack trace."""
    from app.controllers import auth as auth_controller

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail: relation portal_user is gone")

    monkeypatch.setattr(auth_controller.q, "active_user_by_email", broken)
    monkeypatch.setattr(auth_controller.q, "login_candidate", broken)  # the login's lookup
    response = await auth.login("a@example.ru", "x" * 12)
    assert response.status_code == 500
    assert "Что-то пошло не так" in response.text
    assert "secret internal detail" not in response.text
    no_traceback(response.text)
    assert_security_headers(response)
    fragment = await auth.login("a@example.ru", "x" * 12, headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and "secret internal detail" not in fragment.text


# ---------------------------------------------------------------- session cookie


def sid_cookie(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items()
               if k == "set-cookie" and v.startswith("sid=")]
    assert len(cookies) == 1, cookies
    return cookies[0]


async def test_session_cookie_flags_over_http(auth, clean_db):
    await create_user("c@example.ru", "right-password-1")
    response = await auth.login("c@example.ru", "right-password-1")
    cookie = sid_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back


@pytest.fixture
async def https_client(pool):
    """The app built with base_url https://…, served over https."""
    from dataclasses import replace

    from app.settings import get_settings
    from app.web import create_app

    app = create_app(replace(get_settings(), base_url="https://portal.example"),
                     manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://portal.example",
                                     follow_redirects=False) as c:
            yield c
    finally:
        for hook in app.on_shutdown:
            await hook(app)


async def test_session_and_csrf_cookies_secure_when_base_url_is_https(https_client, clean_db):
    await create_user("h@example.ru", "right-password-1")
    first = await https_client.get("/")
    csrf_cookie = [v for k, v in first.headers.multi_items()
                   if k == "set-cookie" and v.startswith("csrftoken=")]
    assert csrf_cookie and "secure" in csrf_cookie[0].lower()
    response = await https_client.post("/login", data={
        "email": "h@example.ru", "password": "right-password-1",
        "_csrf_token": csrf_of(https_client)})
    cookie = sid_cookie(response).lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


# ---------------------------------------------------------------- session lifetime


async def session_keys(client) -> set[str]:
    redis = client.app.state.redis
    return {k.decode() async for k in redis.scan_iter("session*")}


async def test_login_over_an_existing_session_rotates_and_kills_the_old_id(client, clean_db):
    await create_user("one@example.ru", "right-password-1")
    await create_user("two@example.ru", "right-password-2")
    await login(client, "one@example.ru", "right-password-1")
    first = client.cookies.get("sid")
    await login(client, "two@example.ru", "right-password-2")
    second = client.cookies.get("sid")
    assert first and second and first != second
    assert not any(first in key for key in await session_keys(client))
    client.cookies.set("sid", first, domain="testserver.local")
    home = await client.get("/")
    assert "Вы успешно авторизовались!" not in home.text


async def test_logout_deletes_the_session_in_redis(client, clean_db):
    await create_user("o@example.ru", "right-password-1")
    await login(client, "o@example.ru", "right-password-1")
    sid = client.cookies.get("sid")
    assert any(sid in key for key in await session_keys(client))
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    assert not any(sid in key for key in await session_keys(client))


async def test_deactivated_user_loses_the_session(client, clean_db):
    from app import db

    uid = await create_user("d@example.ru", "right-password-1")
    await login(client, "d@example.ru", "right-password-1")
    await db.execute("UPDATE portal_user SET is_active = false WHERE id = $1", uid)
    home = await client.get("/")
    assert "Вы успешно авторизовались!" not in home.text


# ---------------------------------------------------------------- password reset tokens


async def reset_token(client, email: str) -> str:
    """Ask for a reminder, run the queued job as the worker would and take the link out of
    the mail it wrote."""
    from app import worker
    from tests.helpers import mail_files, read_mail

    queue = client.app.state.queue
    response = await post_form(client, "/password/remind", {"email": email})
    assert response.status_code == 200
    before = set(mail_files())
    for job in await queue.queued_jobs():  # nobody else runs them here
        if job.function == "password_reminder":
            await worker.password_reminder({}, *job.args)
        await queue.delete(f"arq:job:{job.job_id}")
        await queue.zrem(default_queue_name, job.job_id)
    body = read_mail(sorted(set(mail_files()) - before)[-1])[2]
    return re.search(r"/password/reset/([\w-]+)", body).group(1)


async def test_reset_token_is_stored_hashed(client, clean_db):
    from app import db

    await create_user("k@example.ru", "old-password-1")
    token = await reset_token(client, "k@example.ru")
    stored = [r["token_hash"] for r in await db.fetch("SELECT token_hash FROM password_reset")]
    assert stored and token not in stored


async def test_expired_reset_token_is_refused(client, clean_db):
    from app import db

    await create_user("e@example.ru", "old-password-1")
    token = await reset_token(client, "e@example.ru")
    assert (await client.get(f"/password/reset/{token}")).status_code == 200
    await db.execute("UPDATE password_reset SET expires_at = now() - interval '1 second'")
    page = await client.get(f"/password/reset/{token}")
    assert page.status_code == 404 and "Ссылка недействительна или устарела" in page.text
    post = await post_form(client, f"/password/reset/{token}",
                           {"password": "new-password-1", "password_confirm": "new-password-1"})
    assert post.status_code == 404
    await login(client, "e@example.ru", "old-password-1")  # the password did not change


async def test_reset_token_cannot_be_posted_twice_and_burns_older_links(client, clean_db):
    await create_user("u@example.ru", "old-password-1")
    older = await reset_token(client, "u@example.ru")
    token = await reset_token(client, "u@example.ru")
    first = await post_form(client, f"/password/reset/{token}",
                            {"password": "new-password-1", "password_confirm": "new-password-1"})
    assert first.status_code == 303
    for used in (token, older):
        again = await post_form(client, f"/password/reset/{used}", {
            "password": "attacker-pass-1", "password_confirm": "attacker-pass-1"})
        assert again.status_code == 404
    await login(client, "u@example.ru", "new-password-1")


async def test_reset_token_guessing_gets_nothing(client, clean_db):
    await create_user("g@example.ru", "old-password-1")
    await reset_token(client, "g@example.ru")
    for guess in ("x", "A" * 43, "../../etc/passwd"):
        response = await client.get(f"/password/reset/{guess}")
        assert response.status_code == 404
    # a control character is refused before any lookup (issue 18, F5)
    assert (await client.get("/password/reset/%00")).status_code == 400


def test_settings_base_url_is_not_left_https():
    """The https fixture restores the environment (other tests need plain http cookies)."""
    assert not (os.environ.get("BASE_URL") or "").startswith("https://")
