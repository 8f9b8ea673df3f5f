"""Issue 18, the findings fixed in configuration, headers, cookies and parameter parsing.

Each test names its finding (F1 … F13 of the issue); the login, reminder, registration and
contract findings are in tests/integration/test_hardening_accounts.py, the property-based walk
of every route in test_route_fuzz.py.
"""

from __future__ import annotations

import re
import time
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from arq.constants import default_queue_name

from tests.helpers import create_user, csrf_of, login, post_form

INT4_OVERFLOW = 2**31


@asynccontextmanager
async def app_client(base: str = "http://testserver.local", **settings):
    """The app built with these settings (e.g. base_url=…), on an in-process client."""
    from app.settings import get_settings
    from app.web import create_app

    app = create_app(replace(get_settings(), **settings), manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40002))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base,
                                     follow_redirects=False) as c:
            c.app = app
            yield c
    finally:
        for hook in app.on_shutdown:
            await hook(app)


def set_cookies(response: httpx.Response, name: str) -> list[str]:
    return [v for k, v in response.headers.multi_items()
            if k == "set-cookie" and v.startswith(f"{name}=")]


async def mails_from_queue(client) -> list[str]:
    """Bodies of the mails the queued jobs send: send_email jobs as queued, and the worker's
    account jobs (password reminder, registration) run here (no worker runs in these tests)."""
    from tests.helpers import mail_files, read_mail

    queue = client.app.state.queue
    bodies = []
    for job in await queue.queued_jobs():
        if job.function == "send_email":
            bodies.append(job.args[2])
        elif job.function in ("password_reminder", "registration_mail"):
            import app.worker

            before = set(mail_files())
            await getattr(app.worker, job.function)({}, *job.args)
            bodies += [read_mail(p)[2] for p in sorted(set(mail_files()) - before)]
        await queue.delete(f"arq:job:{job.job_id}")
        await queue.zrem(default_queue_name, job.job_id)
    return bodies


# ---------------------------------------------------------------- F1 absolute links


async def test_f1_reset_link_ignores_a_forged_host_and_forwarded_proto(client, clean_db):
    """Finding 1: the reminder's link comes from configuration, never from Host or
    X-Forwarded-Proto (BASE_URL unset: the listen address HOST:PORT)."""
    from app.settings import get_settings

    await create_user("victim@example.ru")
    await client.get("/")
    response = await client.post(
        "/password/remind",
        data={"email": "victim@example.ru", "_csrf_token": csrf_of(client)},
        headers={"Host": "evil.example", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200
    bodies = await mails_from_queue(client)
    assert bodies, "no reset mail"
    settings = get_settings()
    assert f"http://{settings.host}:{settings.port}/password/reset/" in bodies[-1]
    assert "evil.example" not in bodies[-1]


async def test_f1_allowed_hosts_when_base_url_is_set(clean_db):
    """Production (BASE_URL set): Litestar's allowed-hosts check refuses another Host."""
    async with app_client(base="https://portal.example", base_url="https://portal.example") as c:
        assert (await c.get("/")).status_code == 200
        forged = await c.get("/", headers={"Host": "evil.example"})
        assert forged.status_code == 400


# ---------------------------------------------------------------- F5 ids, CSRF tokens, NUL


@pytest.mark.parametrize("path", [
    f"/archive?contract={INT4_OVERFLOW}",
    f"/archive?point={INT4_OVERFLOW}",
    f"/contracts/{INT4_OVERFLOW}/delete",
    f"/readings/cold?contract={INT4_OVERFLOW}",
    f"/receipts/{INT4_OVERFLOW}",
    f"/contracts/{10**30}/delete",
    "/contracts/-1/delete",
])
async def test_f5_ids_out_of_range_are_404_not_500(client, demo_db, path):
    await login(client)
    response = await client.get(path)
    assert response.status_code == 404, (path, response.status_code)


async def test_f5_check_with_huge_contract_or_meter_is_404(client, demo_db):
    await login(client)
    contract = demo_db["linked_contract"]
    for query in (f"contract={INT4_OVERFLOW}&period=2026-11&meter=1",
                  f"contract={contract}&period=2026-11&meter={INT4_OVERFLOW}"):
        response = await post_form(client, f"/readings/cold/check?{query}", {})
        assert response.status_code == 404, (query, response.status_code)


async def test_f5_operator_calendar_delete_with_huge_id_is_404(client, demo_db):
    await login(client, "operator@izhvodokanal.example", "operpass2026")
    response = await post_form(client, f"/operator/calendar/{INT4_OVERFLOW}/delete", {})
    assert response.status_code == 404


@pytest.mark.parametrize("token", ["é" * 128, "ж", "a" * 64 + "щ" * 64])
async def test_f5_non_ascii_csrf_token_is_403_not_500(client, clean_db, token):
    await client.get("/")
    as_field = await client.post("/login", data={"_csrf_token": token, "email": "a@b.ru"})
    assert as_field.status_code == 403
    as_header = await client.post(
        "/login", data={"email": "a@b.ru"},
        headers={"X-CSRFToken": token.encode()})
    assert as_header.status_code == 403


async def test_f5_non_ascii_csrf_cookie_is_403_not_500(client, clean_db):
    await client.get("/")
    token = csrf_of(client)
    client.cookies.clear()
    response = await client.post(
        "/login", data={"_csrf_token": token, "email": "a@b.ru"},
        headers={"Cookie": f"csrftoken={token[:-1]}é".encode()})
    assert response.status_code == 403


@pytest.mark.parametrize("path", [
    "/operator/batches/%00/file",
    "/operator/batches/a%01b/file",
    "/archive?contract=%00",
    "/archive?date_from=2026%0A",
    "/password/reset/%00abc",
    "/?notice=%00",
    "/calendar/%7F.ics",
])
async def test_f5_control_characters_in_parameters_are_refused(client, demo_db, path):
    await login(client, "operator@izhvodokanal.example", "operpass2026")
    response = await client.get(path)
    assert response.status_code == 400, (path, response.status_code)


@pytest.mark.parametrize("path", ["/static/" + "9" * 5000, "/static/" + "a" * 256 + ".css",
                                  "/calendar/" + "x" * 300 + ".ics"])
async def test_f5_overlong_path_segment_is_404_not_500(client, clean_db, path):
    """Found by test_route_fuzz.py: the static files' open() raised ENAMETOOLONG."""
    assert (await client.get(path)).status_code == 404


# ---------------------------------------------------------------- F6 CSRF rotation


async def test_f6_csrf_token_rotated_at_login_and_logout(client, clean_db):
    await create_user("r@example.ru", "right-password-1")
    await client.get("/")
    before = csrf_of(client)
    response = await post_form(client, "/login",
                               {"email": "r@example.ru", "password": "right-password-1"})
    assert response.status_code == 303
    after_login = csrf_of(client)
    assert after_login and after_login != before
    # the pre-login token no longer works
    stale = await client.post("/logout", data={"_csrf_token": before})
    assert stale.status_code == 403
    out = await post_form(client, "/logout")
    assert out.status_code == 303
    assert csrf_of(client) not in ("", after_login)


# ---------------------------------------------------------------- F7 forwarded headers


def test_f7_uvicorn_trusts_no_proxy_unless_configured(monkeypatch):
    from app.cli import web_command
    from app.settings import get_settings

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    get_settings.cache_clear()
    try:
        command = web_command(get_settings(), 1)
        assert command[command.index("--forwarded-allow-ips") + 1] == ""
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
        get_settings.cache_clear()
        command = web_command(get_settings(), 1)
        assert command[command.index("--forwarded-allow-ips") + 1] == "127.0.0.1"
    finally:
        get_settings.cache_clear()


# ---------------------------------------------------------------- F8 caching


async def test_f8_no_store_for_logged_in_pages_and_vary_on_fragment_pages(client, demo_db):
    await login(client)
    for path in ("/", "/contracts", "/archive", "/profile", "/readings/cold", "/receipts"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("cache-control", ""), path
    for path in ("/archive",):  # the page and its «archive» block share the URL
        for headers in ({}, {"HX-Request": "true"}):
            response = await client.get(path, headers=headers)
            vary = [v.strip().lower() for v in response.headers.get("vary", "").split(",")]
            assert "hx-request" in vary, (path, headers)
    static = await client.get("/static/app.css")
    assert "no-store" not in static.headers.get("cache-control", "")


# ---------------------------------------------------------------- F9 cookies, HSTS


async def test_f9_csrf_cookie_httponly_and_logout_cookie_max_age_zero(client, clean_db):
    await create_user("m@example.ru", "right-password-1")
    first = await client.get("/")
    assert "httponly" in set_cookies(first, "csrftoken")[0].lower()
    await login(client, "m@example.ru", "right-password-1")
    out = await post_form(client, "/logout")
    cleared = set_cookies(out, "sid")
    assert cleared and "max-age=0" in cleared[0].lower(), cleared


async def test_f9_https_base_url_every_cookie_secure_and_hsts(clean_db):
    await create_user("s@example.ru", "right-password-1")
    async with app_client(base="https://portal.example", base_url="https://portal.example") as c:
        first = await c.get("/")
        assert "max-age=" in first.headers.get("strict-transport-security", "")
        lang = await c.post("/lang", data={"lang": "en", "_csrf_token": csrf_of(c)})
        login_ = await c.post("/login", data={"email": "s@example.ru",
                                               "password": "right-password-1",
                                               "_csrf_token": csrf_of(c)})
        cookies = (set_cookies(first, "csrftoken") + set_cookies(lang, "lang")
                   + set_cookies(login_, "sid") + set_cookies(login_, "csrftoken"))
        assert len(cookies) == 4, cookies
        for cookie in cookies:
            assert "secure" in cookie.lower(), cookie
    async with app_client() as plain:
        assert "strict-transport-security" not in (await plain.get("/")).headers


# ---------------------------------------------------------------- F11 absolute lifetime


async def test_f11_session_ends_24_hours_after_login_however_active(client, clean_db,
                                                                    monkeypatch):
    await create_user("l@example.ru", "right-password-1")
    await login(client, "l@example.ru", "right-password-1")
    # the app's clock, not time.time: httpx's cookie jar would drop the 8-hour cookie itself
    import app.security

    real = time.time
    monkeypatch.setattr(app.security, "_clock", lambda: real() + 23 * 3600)
    assert (await client.get("/profile")).status_code == 200  # still logged in
    monkeypatch.setattr(app.security, "_clock", lambda: real() + 24 * 3600 + 60)
    assert (await client.get("/profile")).status_code == 303  # to the login block


# ---------------------------------------------------------------- F12 404/405 language switch


async def test_f12_language_switch_works_on_router_404_and_405(client, clean_db):
    for method, path in (("GET", "/no/such/page"), ("DELETE", "/")):
        fresh = httpx.AsyncClient(transport=client._transport, base_url="http://testserver.local")
        async with fresh:
            page = await fresh.request(method, path)
            assert page.status_code in (404, 405)
            token = re.search(r'name="_csrf_token" value="([^"]*)"', page.text).group(1)
            assert token
            switched = await fresh.post("/lang", data={"lang": "en", "next": "/",
                                                       "_csrf_token": token})
            assert switched.status_code == 303, switched.status_code
            assert fresh.cookies.get("lang") == "en"
