"""Every route of create_app(), generated from its route table: CSRF, login, operator, R8.

See route_inventory.py for how routes are classified. A new route is picked up here without
editing this file; one the rules cannot classify fails test_every_route_is_classified.
"""

from __future__ import annotations

import html
from urllib.parse import unquote, urlencode

import pytest

from tests.helpers import DEMO_PASSWORD, VAR_DIR, csrf_of, flush_redis, login, truncate_all
from tests.security.route_inventory import (
    API_SCOPE,
    CSRF_EXEMPT,
    PLAIN_KINDS,
    PUBLIC,
    ROW_FIELDS,
    SCOPE_OVERRIDES,
    UNSCOPED,
    Endpoint,
    endpoints,
    fill_path,
)

ALL = endpoints()
UNSAFE = [e for e in ALL if e.unsafe and e.key not in CSRF_EXEMPT]
LOGIN = [e for e in ALL if e.needs_login]
OPERATOR = [e for e in ALL if e.operator_only]
SUBSCRIBER_SCOPED = [e for e in LOGIN if not e.operator_only and e.is_scoped()]
SUBSCRIBER_UNSCOPED = [e for e in LOGIN if not e.operator_only and not e.is_scoped()]


def ids(endpoints_: list[Endpoint]) -> list[str]:
    return [e.id for e in endpoints_]


# ---------------------------------------------------------------- the world: two organizations


@pytest.fixture(scope="module")
async def world(pool):
    """Demo data once per module: the demo subscriber's ids, another organization's ids, and
    strings that would betray the other organization's data in a body."""
    from app import db
    from app.demo import load_demo_data

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing")

    async def ids_of(billing_id: int) -> dict[str, int]:
        row = await db.fetchrow(
            """SELECT c.id AS contract, min(p.id) AS point,
                      min(m.id) FILTER (WHERE m.kind = 'cold') AS meter,
                      min(m.id) FILTER (WHERE m.kind = 'hot') AS hot_meter
               FROM contract c JOIN connection_point p ON p.contract = c.id
               JOIN meter m ON m.point = p.id
               WHERE c.billing_id = $1 GROUP BY c.id""",
            billing_id,
        )
        found = dict(row)
        found["reading"] = await db.fetchval(
            "SELECT min(id) FROM reading WHERE meter = $1", found["meter"])
        found["hot_reading"] = await db.fetchval(
            "SELECT min(id) FROM reading WHERE meter = $1", found["hot_meter"])
        return found

    own, foreign = await ids_of(15303), await ids_of(16010)
    from app.settings import today

    own["period"] = foreign["period"] = today().strftime("%Y-%m")

    async def strings_of(billing_id: int) -> set[str]:
        rows = await db.fetch(
            """SELECT cp.name, cp.inn, c.number, p.address, m.serial, m.address AS place
               FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
               JOIN connection_point p ON p.contract = c.id JOIN meter m ON m.point = p.id
               WHERE c.billing_id = $1""",
            billing_id,
        )
        return {str(v) for r in rows for v in r.values() if v}

    markers = await strings_of(16010) - await strings_of(15303)
    return {"own": own, "foreign": foreign, "markers": sorted(markers)}


def leaked(body: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in body or html.escape(m) in body]


def variants(ids_: dict[str, int]) -> list[dict[str, int]]:
    """Each id kind once with a cold meter/reading and once with a hot one."""
    cold = {k: ids_[k] for k in ("contract", "point", "meter", "reading", "period")}
    hot = {**cold, "meter": ids_["hot_meter"], "reading": ids_["hot_reading"]}
    return [cold, hot]


async def send(client, endpoint: Endpoint, ids_: dict[str, int] | None = None,
               csrf: bool = True, headers: dict | None = None,
               foreign_only: tuple[str, dict[str, int]] | None = None):
    """One request to `endpoint`, its scoped parameters filled from `ids_` (kind -> id);
    `foreign_only=(name, ids)` takes that one parameter from `ids` instead. An unsafe method
    gets each query/form name in both the query string and the form, since a POST handler
    may read either."""
    scope = endpoint.scope()

    def value(name: str, kind: str) -> str:
        if foreign_only and foreign_only[0] == name:
            return str(foreign_only[1][kind])
        return str(ids_[kind])

    if ids_:
        path_ids = {kind: value(name, kind) for name, kind in scope["path"].items()}
        path = fill_path(endpoint, {**ids_, **path_ids})
    else:
        path = fill_path(endpoint)
    names = dict(scope["query"]) if not endpoint.unsafe else {**scope["query"], **scope["form"]}
    query = {n: value(n, k) for n, k in names.items()} if ids_ else {}
    if not endpoint.unsafe:
        return await client.request(endpoint.method, path, params=query, headers=headers)
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    form = dict(query)
    if csrf:
        form["_csrf_token"] = csrf_of(client)
    return await client.request(endpoint.method, path, params=query, data=form, headers=headers)


# ---------------------------------------------------------------- the inventory is complete


def test_inventory_sees_the_app():
    """The generator really reads the route table (a broken one would make every test vacuous)."""
    assert ("POST", "/login") in {e.key for e in ALL}
    assert ("GET", "/") in {e.key for e in ALL}


def test_every_route_is_classified():
    problems = []
    for e in ALL:
        if not e.needs_login and not e.needs_api_token and e.key not in PUBLIC:
            problems.append(f"{e.id}: no requires_login/requires_operator guard and not listed "
                            "in route_inventory.PUBLIC")
        if e.path.startswith("/api/") and e.key not in PUBLIC and (
                not e.needs_api_token or e.key not in API_SCOPE):
            problems.append(f"{e.id}: an /api route must carry requires_api_token and be listed "
                            "in route_inventory.API_SCOPE with its billing ids")
        if e.path.startswith("/operator") and not e.operator_only:
            problems.append(f"{e.id}: an /operator route without the requires_operator guard")
        if e.needs_login and not e.operator_only and not e.is_scoped() and e.key not in UNSCOPED:
            problems.append(
                f"{e.id}: a subscriber route whose contract/point/meter/reading parameters "
                "cannot be inferred: add it to route_inventory.SCOPE_OVERRIDES (its parameter "
                "names) or to UNSCOPED (with the reason it takes no such id)")
        if e.key in PUBLIC and e.needs_login:
            problems.append(f"{e.id}: listed in PUBLIC but guarded; remove it from PUBLIC")
    keys = {e.key for e in ALL}
    for table_name, table in (("PUBLIC", PUBLIC), ("UNSCOPED", UNSCOPED),
                              ("CSRF_EXEMPT", CSRF_EXEMPT), ("API_SCOPE", API_SCOPE),
                              ("SCOPE_OVERRIDES", SCOPE_OVERRIDES), ("ROW_FIELDS", ROW_FIELDS)):
        problems += [f"{m} {p}: in {table_name} but not a route any more"
                     for (m, p) in table if (m, p) not in keys]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- CSRF


@pytest.mark.parametrize("endpoint", UNSAFE, ids=ids(UNSAFE))
async def test_unsafe_method_without_csrf_token_is_403(client, endpoint):
    await client.get("/")  # the CSRF cookie is there; only the token is missing
    response = await send(client, endpoint, csrf=False)
    assert response.status_code == 403, response.text[:300]
    forged = await client.request(endpoint.method, fill_path(endpoint),
                                  data={"_csrf_token": "forged-token"},
                                  headers={"X-CSRFToken": "forged-token"})
    assert forged.status_code == 403


# ---------------------------------------------------------------- login


@pytest.mark.parametrize("endpoint", LOGIN, ids=ids(LOGIN))
async def test_anonymous_is_sent_to_login(client, clean_db, endpoint):
    response = await send(client, endpoint)
    assert response.status_code == 303, response.text[:300]
    # the login block, which returns a GET to the page asked for (a local path only)
    url = response.request.url
    asked = url.raw_path.decode()
    expected = "/" if endpoint.unsafe else "/?" + urlencode({"next": unquote(asked)})
    assert response.headers["location"] == expected
    htmx = await send(client, endpoint, headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers.get("hx-redirect") == "/"
    # an htmx request from a page of this site returns there; from another site, nowhere
    page = f"{url.scheme}://{url.host}/readings/cold?contract=1&period=2026-03"
    htmx = await send(client, endpoint, headers={"HX-Request": "true", "HX-Current-URL": page})
    assert htmx.headers.get("hx-redirect") == "/?" + urlencode(
        {"next": "/readings/cold?contract=1&period=2026-03"})
    htmx = await send(client, endpoint, headers={"HX-Request": "true",
                                                 "HX-Current-URL": "https://evil.example/x"})
    assert htmx.headers.get("hx-redirect") == "/"


# ---------------------------------------------------------------- operator-only


@pytest.mark.parametrize("endpoint", OPERATOR, ids=ids(OPERATOR))
async def test_operator_routes_forbidden_for_subscribers(client, world, endpoint):
    await login(client)
    response = await send(client, endpoint, world["own"])
    assert response.status_code == 403, response.text[:300]
    assert "Доступ запрещён" in response.text


@pytest.mark.parametrize("endpoint", [e for e in OPERATOR if not e.unsafe],
                         ids=ids([e for e in OPERATOR if not e.unsafe]))
async def test_operator_pages_open_for_operators(client, world, endpoint):
    await login(client, "operator@izhvodokanal.example", "operpass2026")
    response = await send(client, endpoint, world["own"])
    assert response.status_code not in (401, 403) and response.status_code < 500


# ---------------------------------------------------------------- isolation (R8)


async def foreign_fingerprint(contract_id: int) -> str:
    """Everything a subscriber could change about a contract: links and readings."""
    from app import db

    return str(await db.fetchrow(
        """SELECT (SELECT count(*) FROM contract_link WHERE contract = $1) AS links,
                  count(r.id) AS readings, coalesce(sum(r.value), 0) AS total,
                  string_agg(r.status || r.read_on::text, ',' ORDER BY r.id) AS states,
                  max(r.updated_at) AS updated
           FROM connection_point p JOIN meter m ON m.point = p.id
           LEFT JOIN reading r ON r.meter = m.id WHERE p.contract = $1""",
        contract_id,
    ))


@pytest.mark.parametrize("endpoint", SUBSCRIBER_SCOPED, ids=ids(SUBSCRIBER_SCOPED))
async def test_another_organizations_ids_give_404(client, world, endpoint):
    """Each id parameter on its own (the others the user's own), then all of them at once."""
    await login(client)
    before = await foreign_fingerprint(world["foreign"]["contract"])
    params = sorted({name for names in endpoint.scope().values()
                     for name, kind in names.items() if kind not in PLAIN_KINDS})
    for own, foreign in zip(variants(world["own"]), variants(world["foreign"]), strict=True):
        attempts = [(name, dict(ids_=own, foreign_only=(name, foreign))) for name in params]
        attempts.append(("all", dict(ids_=foreign)))
        for label, kwargs in attempts:
            response = await send(client, endpoint, **kwargs)
            assert response.status_code == 404, (label, response.status_code, response.text[:300])
            assert not leaked(response.text, world["markers"]), label
    assert await foreign_fingerprint(world["foreign"]["contract"]) == before
    if "delete" not in endpoint.path:  # the control would unlink the user's own contract
        # Control: the same request with the user's own ids is served, so the 404 above is
        # the isolation check and not a route that 404s on anything.
        statuses = [(await send(client, endpoint, own)).status_code
                    for own in variants(world["own"])]
        assert any(s < 400 for s in statuses), statuses


@pytest.mark.parametrize("endpoint", SUBSCRIBER_UNSCOPED, ids=ids(SUBSCRIBER_UNSCOPED))
async def test_unscoped_routes_show_nothing_of_another_organization(client, world, endpoint):
    """Routes without an id parameter still must not be steered to foreign data by one."""
    await login(client)
    before = await foreign_fingerprint(world["foreign"]["contract"])
    names = {f"{k}{s}": k for k in ("contract", "point", "meter", "reading") for s in ("", "_id")}
    foreign = world["foreign"]
    path = fill_path(endpoint, foreign)
    params = {n: str(foreign[k]) for n, k in names.items()}
    if endpoint.unsafe:
        response = await client.request(endpoint.method, path, params=params,
                                         data={**params, "_csrf_token": csrf_of(client)})
    else:
        response = await client.request(endpoint.method, path, params=params)
    assert response.status_code < 500
    assert not leaked(response.text, world["markers"])
    assert await foreign_fingerprint(world["foreign"]["contract"]) == before


ROW_ROUTES = [e for e in ALL if e.key in ROW_FIELDS]


@pytest.mark.parametrize("endpoint", ROW_ROUTES, ids=ids(ROW_ROUTES))
async def test_foreign_meter_in_a_row_field_is_ignored(client, world, endpoint):
    """Own contract, but a row input named after another organization's meter: that meter gets
    nothing written and none of its data comes back."""
    import re

    from app.settings import today

    await login(client)
    kind = "hot" if "/hot" in endpoint.path else "cold"
    grid_path = re.sub(r"/(check|paste|page|template)$", "", endpoint.path)
    page = await client.get(grid_path, params={"contract": world["own"]["contract"]})
    period = re.search(r'name="period" value="([^"]*)"', page.text).group(1)
    foreign_meter = world["foreign"]["hot_meter" if kind == "hot" else "meter"]
    before = await foreign_fingerprint(world["foreign"]["contract"])
    fields = {pattern.format(meter=foreign_meter): value for pattern, value in zip(
        ROW_FIELDS[endpoint.key], ("12", today().strftime("%d.%m.%Y")), strict=False)}
    if endpoint.path.endswith("/paste"):  # a positional paste aimed at the foreign row
        fields.update(pasted="12\n13", paste_order=str(foreign_meter),
                      paste_start=str(foreign_meter))
    for action in ("save", "transmit"):
        response = await client.post(
            endpoint.path,
            params={"contract": world["own"]["contract"], "period": period,
                    "meter": foreign_meter},
            data={"_csrf_token": csrf_of(client), "contract": world["own"]["contract"],
                  "period": period, "action": action, **fields})
        assert response.status_code < 500
        assert not leaked(response.text, world["markers"])
    assert await foreign_fingerprint(world["foreign"]["contract"]) == before


async def test_markers_would_be_seen(world):
    """The leak check can fail: the markers are real strings of the other organization."""
    assert "АО «Ижевский хлебозавод»" in world["markers"]
    assert leaked("<td>АО «Ижевский хлебозавод»</td>", world["markers"])
    assert DEMO_PASSWORD not in world["markers"]
