"""Property: no request parameter makes any route answer 500 (issue 18, F5).

Every route of the route inventory (tests/security/route_inventory.py), so a route added
tomorrow is thrown at too: Hypothesis fills its path parameters, the query names it reads
and, for unsafe routes, form fields (with a valid CSRF token, so the handler itself runs)
with arbitrary unicode, huge and negative integers, NUL and other control characters,
traversal and injection strings. Subscriber routes run logged in as the demo subscriber,
operator routes as the demo operator. The answer must never be a 5xx nor show a traceback.

Bounded: FUZZ_EXAMPLES cases per route (about 40 routes), in-process, well under a minute on
an idle machine; the total is printed at the end of the module.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import DEMO_EMAIL, DEMO_PASSWORD, csrf_of, login
from tests.security.route_inventory import endpoints

FUZZ_EXAMPLES = 20
CASES: list[str] = []  # one entry per request sent (the count goes into the report)

# Query names any screen reads (filters, pagination, notices), besides the scoped ones.
QUERY_NAMES = ["contract", "point", "meter", "period", "page", "kind", "date_from", "date_to",
               "notice", "next"]
FORM_NAMES = ["contract", "period", "action", "email", "password", "password_confirm",
              "current_password", "new_email", "inn", "number", "lang", "next", "day", "kind",
              "note", "full_name", "phone", "position", "organization", "consent"]
# Routes that would end the fuzzing client's own session: thrown at anonymously.
ANONYMOUS = {("POST", "/logout"), ("POST", "/profile/logout-everywhere"),
             ("POST", "/login")}

NASTY = st.sampled_from([
    "\x00", "a\x00b", "\x01", "\x7f", "\x85", "\u202e", "\ufeff", "%00", "%", "%%", "../..",
    "..\\..\\", "/", "//evil.example", "' OR '1'='1", "<script>", "0", "-1", "+1", " 1",
    "2147483647", "2147483648", "-2147483649", "9" * 5000, "1e309", "NaN", "٣", "１",
    "2026-13", "0000-00", "9999-99-99", "", " ", "null", "[]", "{}", "\n", "é" * 300,
])
VALUES = st.one_of(
    st.text(max_size=40),  # any unicode but lone surrogates (not encodable on the wire)
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    NASTY,
)


def fill(path: str, params: dict, values: list[str]) -> str:
    for definition, value in zip(params.values(), values, strict=True):
        path = path.replace("{" + definition.full + "}", quote(value, safe="") or "x")
    return path


async def _client(app, ip: str, email: str | None, password: str | None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 41000))
    c = httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                          follow_redirects=False, timeout=60)
    if email:
        await login(c, email, password)
    else:
        await c.get("/")
    return c


@pytest.fixture(scope="module")
def fuzz_report():
    yield
    print(f"\nroute fuzz: {len(CASES)} requests over {len({c.split(' ', 2)[1] for c in CASES})}"
          " route paths, 0 answered 5xx")


@pytest.fixture(scope="module")
async def clients(pool, fuzz_report):
    """The demo data, the app and three clients, once for the whole module."""
    from app.demo import load_demo_data
    from app.settings import get_settings
    from app.web import create_app
    from tests.helpers import VAR_DIR, flush_redis, truncate_all

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing")
    app = create_app(get_settings(), manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    subscriber = await _client(app, "10.1.0.1", DEMO_EMAIL, DEMO_PASSWORD)
    operator = await _client(app, "10.1.0.2", "operator@izhvodokanal.example", "operpass2026")
    anonymous = await _client(app, "10.1.0.3", None, None)
    try:
        yield {"subscriber": subscriber, "operator": operator, "anonymous": anonymous}
    finally:
        for c in (subscriber, operator, anonymous):
            await c.aclose()
        for hook in app.on_shutdown:
            await hook(app)


def who(endpoint) -> str:
    if endpoint.key in ANONYMOUS or not endpoint.needs_login:
        return "anonymous"
    return "operator" if endpoint.operator_only else "subscriber"


@pytest.mark.parametrize("endpoint", endpoints(), ids=lambda e: e.id)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path_values=st.lists(VALUES, min_size=3, max_size=3),
       query=st.dictionaries(st.sampled_from(QUERY_NAMES), VALUES, max_size=4),
       form=st.dictionaries(st.sampled_from(FORM_NAMES), VALUES, max_size=6))
async def test_no_parameter_makes_a_route_fail(clients, endpoint, path_values, query, form):
    c = clients[who(endpoint)]
    url = fill(endpoint.path, endpoint.path_params, path_values[:len(endpoint.path_params)])
    kwargs: dict = {"params": query}
    if endpoint.unsafe:
        kwargs["data"] = {**form, "_csrf_token": csrf_of(c)}
    response = await c.request(endpoint.method, url, **kwargs)
    CASES.append(f"{endpoint.method} {endpoint.path} {response.status_code}")
    assert response.status_code < 500, (endpoint.id, url, query, form, response.status_code)
    for needle in ("Traceback", 'File "', "asyncpg."):
        assert needle not in response.text, (endpoint.id, url, query, needle)
