"""Redis down: pages that need no session still render, login fails politely, recovery."""

from __future__ import annotations

import pytest
from redis.asyncio import ConnectionPool

from tests.helpers import create_user, csrf_of, login

pytestmark = pytest.mark.fault

TRACE = ("Traceback", 'File "', "redis.exceptions", "ConnectionError", "Error 2 connecting")


@pytest.fixture
def redis_down(client, tmp_path):
    """Point the app's Redis client (sessions, throttling) at a socket nobody listens on."""
    redis = client.app.state.redis
    real = redis.connection_pool
    dead = ConnectionPool.from_url(f"unix://{tmp_path}/nobody.sock", socket_connect_timeout=1)

    class Switch:
        def down(self):
            redis.connection_pool = dead

        def up(self):
            redis.connection_pool = real

    switch = Switch()
    yield switch
    switch.up()


def assert_friendly(response, status=None):
    if status:
        assert response.status_code == status, response.text[:300]
    for needle in TRACE:
        assert needle not in response.text


async def test_anonymous_pages_render_without_redis(client, clean_db, redis_down):
    redis_down.down()
    for path in ("/", "/register", "/password/remind", "/static/app.css"):
        assert_friendly(await client.get(path), 200)


async def test_stale_session_cookie_does_not_break_public_pages(client, clean_db, redis_down):
    await create_user("r@example.ru", "right-password-1")
    await login(client, "r@example.ru", "right-password-1")
    redis_down.down()
    home = await client.get("/")
    assert_friendly(home, 200)
    assert "Вход в ваш кабинет" in home.text  # the session is unreadable: seen as anonymous


async def test_login_fails_politely_and_recovers(client, auth, clean_db, redis_down):
    await create_user("p@example.ru", "right-password-1")
    await client.get("/")
    redis_down.down()
    response = await auth.login("p@example.ru", "right-password-1")
    assert_friendly(response, 503)
    assert "Сервис временно недоступен" in response.text
    htmx = await auth.login("p@example.ru", "right-password-1", headers={"HX-Request": "true"})
    assert_friendly(htmx, 503)
    redis_down.up()
    await auth.login_ok("p@example.ru", "right-password-1")


async def test_logout_while_redis_is_down_says_so_and_drops_the_cookie(client, clean_db,
                                                                      redis_down):
    """The session cannot be destroyed without Redis: the user is told (503), and the
    browser forgets the cookie instead of silently staying signed in."""
    await create_user("l@example.ru", "right-password-1")
    await login(client, "l@example.ru", "right-password-1")
    redis_down.down()
    response = await client.post("/logout", data={"_csrf_token": csrf_of(client)})
    assert_friendly(response, 503)
    deletion = [v for k, v in response.headers.multi_items()
                if k == "set-cookie" and v.startswith("sid=")]
    assert deletion and ("max-age=0" in deletion[0].lower() or "expires=" in deletion[0].lower())
    redis_down.up()
    home = await client.get("/")
    assert "Вы успешно авторизовались!" not in home.text
