"""Hostile strings through every text input of every form the app renders.

The forms are discovered, not listed: every GET route of the route table is rendered
(anonymously, as the demo subscriber and as the operator) and its <form>s are parsed, so a
form added by any screen is fuzzed the day it lands. Each text input gets each hostile string
while the other inputs carry plausible values. The answer must never be a 500, must be a
validation message (4xx with the message) or a success, and must never echo markup
unescaped; afterwards no page shows any of it unescaped (stored XSS).
"""

from __future__ import annotations

import re

import pytest

from app.settings import today
from tests.helpers import DEMO_PASSWORD, VAR_DIR, csrf_of, flush_redis, login, truncate_all
from tests.security.forms import Form, fill, parse_forms
from tests.security.route_inventory import endpoints, fill_path

SCRIPT = "<script>alert(1)</script>"
BREAKER = "\"'><img src=x onerror=alert(1)>"
HOSTILE = {
    "script": SCRIPT,
    "attribute-breaker": BREAKER,
    "sql-quotes": "1' OR '1'='1'; DROP TABLE reading; --",
    "bidi-and-zero-width": "\u202eevil\u202c\u200f\u2066x\u2069\ufeff",
    "nul-byte": "abc\x00def",
    "control-chars": "a\x01\x07\x1b[31mb\r\nc",
    "10000-chars": "Ж" * 9990 + SCRIPT[:10],
    "only-spaces": "   \t ",
}
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror", "\x1b[31m")
GET_PAGES = [e for e in endpoints() if e.method == "GET" and "{" not in e.path]
SKIP_ACTIONS = {"/logout"}  # fuzzing it would only end the session under test
ROLES = ("anonymous", "subscriber", "operator")
LOGINS = {"subscriber": ("demo@izhvodokanal.example", DEMO_PASSWORD),
          "operator": ("operator@izhvodokanal.example", "operpass2026")}


def unescaped(body: str) -> list[str]:
    return [m for m in RAW_MARKUP if m in body]


def has_message(body: str) -> bool:
    pattern = r'class="[^"]*(field-error|flash-error|row-error|error)[^"]*"|role="alert"'
    return bool(re.search(pattern, body))


async def discover(client, path: str, contract: int | None) -> list[Form]:
    response = await client.get(path, params={"contract": contract} if contract else None)
    if response.status_code != 200:
        return []
    return [f for f in parse_forms(response.text)
            if f.action.split("?")[0] not in SKIP_ACTIONS and f.text_inputs()]


def distinct_inputs(form: Form):
    """Grids repeat one input per row: fuzz the first of each name pattern."""
    seen: set[str] = set()
    for inp in form.text_inputs():
        pattern = re.sub(r"\d+", "#", inp.name)
        if pattern not in seen:
            seen.add(pattern)
            yield inp


async def submit(client, form: Form, data: list[tuple[str, str]], htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    if form.method == "get":
        return await client.get(form.action, params=data, headers=headers)
    fields: dict[str, list[str]] = {}
    for key, value in data:
        if key != "_csrf_token":
            fields.setdefault(key, []).append(value)
    fields["_csrf_token"] = [csrf_of(client)]
    return await client.post(form.action, data=fields, headers=headers)


async def test_fuzzer_sees_the_login_and_registration_inputs(client, clean_db):
    """The discovery really finds inputs (else the fuzz above would pass vacuously)."""
    login_forms = await discover(client, "/", None)
    assert {i.name for f in login_forms for i in f.text_inputs()} >= {"email", "password"}
    register = await discover(client, "/register", None)
    assert {i.name for f in register for i in f.text_inputs()} >= {
        "email", "full_name", "phone", "position", "organization"}


async def test_hostile_registration_is_stored_as_typed_and_shown_escaped(client, clean_db):
    """Safe storage: markup in a name is kept as text and comes back escaped."""
    from app import db

    data = {"email": "xss@example.ru", "password": "long-enough-1",
            "password_confirm": "long-enough-1", "full_name": BREAKER, "phone": "+7 912 000-00-01",
            "position": SCRIPT, "organization": "ООО \u202eабв", "consent": "yes"}
    await client.get("/")
    response = await client.post("/register", data={**data, "_csrf_token": csrf_of(client)})
    assert response.status_code == 303
    row = await db.fetchrow(
        "SELECT full_name, position, organization FROM portal_user WHERE email = $1",
        "xss@example.ru")
    assert row["full_name"] == BREAKER and row["position"] == SCRIPT
    assert "\u202e" not in row["organization"]  # bidi override dropped by clean_text
    await login(client, "xss@example.ru", "long-enough-1")
    home = await client.get("/")
    assert "&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;" in home.text
    assert not unescaped(home.text)


@pytest.fixture(scope="module")
async def fuzz_world(pool):
    """The demo data once for all fuzz runs (they only add users, readings, requests)."""
    from app import db
    from app.demo import load_demo_data

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing")
    return {"linked_contract": await db.fetchval(
        "SELECT id FROM contract WHERE billing_id = 15303")}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("screen", GET_PAGES, ids=[e.path for e in GET_PAGES])
async def test_hostile_strings_in_every_form(client, fuzz_world, screen, role):
    if role != "anonymous":
        await login(client, *LOGINS[role])
    else:
        await client.get("/")
    contract = fuzz_world["linked_contract"] if role == "subscriber" else None
    forms = await discover(client, fill_path(screen), contract)
    if not forms:
        pytest.skip(f"no form with text inputs on {screen.path} for {role}")
    n = 0
    for form in forms:
        for target in distinct_inputs(form):
            for label, hostile in HOSTILE.items():
                n += 1
                await flush_redis()  # throttling would hide what the handler does
                data = fill(form, n, today(), {target.name: hostile})
                response = await submit(client, form, data, htmx=(n % 2 == 0))
                where = f"{form.method.upper()} {form.action} [{target.name}] <- {label}"
                assert response.status_code < 500, f"{where}: {response.status_code}"
                assert not unescaped(response.text), f"{where}: echoed unescaped"
                if response.status_code in (400, 409, 422):
                    assert has_message(response.text), f"{where}: 4xx without a message"
                if role != "anonymous" and "sid" not in client.cookies:
                    await login(client, *LOGINS[role])  # a form that logged us out
    # Stored XSS: whatever was kept is shown escaped everywhere this role can look.
    for other in GET_PAGES:
        response = await client.get(fill_path(other),
                                    params={"contract": contract} if contract else None)
        assert response.status_code < 500, other.path
        assert not unescaped(response.text), f"{other.path}: stored markup shown unescaped"
