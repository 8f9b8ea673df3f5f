"""API v1 (SPEC §8) on a real PostgreSQL and Redis: tokens from «Профиль», every endpoint,
401/403/404/409/413/415/422/429 as problem details, idempotency (sequential and racing), and
that a POST writes exactly what the grid writes (receipts, audit trail)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from app import db
from app.domain.calendar import month_start, period_value
from app.settings import today
from tests.helpers import VAR_DIR, flush_redis, login, post_form, truncate_all

PROBLEM = "application/problem+json"


async def new_token(client, name: str = "1С", scope: str = "submit", term: str = "365") -> str:
    """Create a token the way a user does: the profile form; the token is on the page once."""
    response = await post_form(client, "/profile/api-tokens",
                               {"name": name, "scope": scope, "term": term},
                               headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text[:500]
    found = re.search(r'<code id="api-token">(wp_[A-Za-z0-9_-]{43})</code>', response.text)
    assert found, response.text[:2000]
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def demo_world(pool):
    """The demo dataset, loaded once for this module (each test undoes what tests write)."""
    from app.demo import load_demo_data

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing")
    return {"subscriber": await db.fetchval(
        "SELECT id FROM portal_user WHERE email = 'demo@izhvodokanal.example'")}


@pytest.fixture
async def demo_db(demo_world):
    """Back to the demo dataset as loaded: no portal readings, tokens, receipts or extra users."""
    await db.execute("TRUNCATE api_idempotency, api_token, receipt_line, receipt, "
                     "reading_audit, mail_outbox, audit_event RESTART IDENTITY")
    await db.execute("DELETE FROM reading WHERE source = 'portal'")
    await db.execute("UPDATE portal_user SET is_active = true")
    await db.execute("DELETE FROM portal_user WHERE email NOT LIKE '%@izhvodokanal.example'")
    await flush_redis()
    return demo_world


@pytest.fixture
async def token(demo_db) -> str:
    """A submit token of the demo subscriber, stored by the query the profile form uses (the
    form itself is tested below)."""
    return await store_token(demo_db["subscriber"])


async def store_token(user_id: int, scope: str = "submit") -> str:
    from datetime import UTC, datetime

    from app.controllers.profile import new_api_token
    from app.queries.api_tokens import create_token

    token = new_api_token()
    await create_token(user_id, "test", scope, hashlib.sha256(token.encode()).hexdigest(),
                       datetime.now(UTC) + timedelta(days=365))
    return token


@pytest.fixture
async def api(client, token):
    """A client with the token's header and no cookies (the API needs no session)."""
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                 headers=bearer(token)) as c:
        yield c


async def cold_meters(billing_id: int = 15303) -> list[dict]:
    rows = await db.fetch(
        """SELECT m.id, m.billing_id AS code, m.digits,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                   ORDER BY period DESC LIMIT 1) AS previous
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND m.kind = 'cold' ORDER BY m.billing_id""", billing_id)
    return [dict(r) for r in rows]


def item(meter: dict, step: int = 5, **extra) -> dict:
    return {"meter_id": meter["code"], "value": int(meter["previous"]) + step,
            "date": today().isoformat(), **extra}


def body(*items: dict, transmit: bool = True, period: str | None = None) -> dict:
    return {"period": period or period_value(month_start(today())), "transmit": transmit,
            "items": list(items)}


async def live(meter_id: int) -> list:
    return await db.fetch(
        """SELECT id, value, read_on, status FROM reading
           WHERE meter = $1 AND period = $2 AND status <> 'rejected'""",
        meter_id, month_start(today()))


async def fingerprint() -> str:
    """Everything a submit could change."""
    return str(await db.fetch(
        """SELECT (SELECT count(*) FROM reading) AS readings,
                  (SELECT count(*) FROM reading_audit) AS audit,
                  (SELECT count(*) FROM receipt) AS receipts,
                  (SELECT string_agg(id || status || value::text || read_on::text, ','
                                     ORDER BY id) FROM reading WHERE source = 'portal') AS live"""))


# ---------------------------------------------------------------- tokens on «Профиль»


async def test_token_is_shown_once_stored_as_sha256_and_listed(client, demo_db):
    await login(client)
    token = await new_token(client, name="АСКУЭ цех 2", scope="read", term="30")
    assert token.startswith("wp_") and len(token) == 46
    row = await db.fetchrow("SELECT * FROM api_token")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(dict(row))
    assert row["scope"] == "read" and row["name"] == "АСКУЭ цех 2"
    assert abs((row["expires_at"] - row["created_at"]) - timedelta(days=30)) < timedelta(
        seconds=5)
    page = (await client.get("/profile")).text
    assert token not in page  # shown once
    assert "АСКУЭ цех 2" in page and "Только чтение" in page and "не использовался" in page
    assert "Отозвать" in page


async def test_default_term_is_a_year_and_bad_form_keeps_input(client, demo_db):
    await login(client)
    page = (await client.get("/profile")).text
    assert re.search(r'<option value="365"\s+selected', page)
    bad = await post_form(client, "/profile/api-tokens",
                          {"name": "", "scope": "admin", "term": "9999"},
                          headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert "Заполните это поле" in bad.text and "Выберите права токена" in bad.text
    assert "Выберите срок действия" in bad.text
    assert await db.fetchval("SELECT count(*) FROM api_token") == 0


async def test_revoke_in_profile_then_401_and_last_used_shown(client, api, token):
    await login(client)
    assert (await api.get("/api/v1/contracts")).status_code == 200
    assert await db.fetchval("SELECT last_used_at FROM api_token") is not None
    token_id = await db.fetchval("SELECT id FROM api_token")
    page = await post_form(client, f"/profile/api-tokens/{token_id}/revoke",
                           headers={"HX-Request": "true"})
    assert page.status_code == 200 and "Токен отозван" in page.text
    response = await api.get("/api/v1/contracts")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_another_users_token_cannot_be_revoked(client, token):
    from tests.helpers import create_user

    token_id = await db.fetchval("SELECT id FROM api_token")
    await create_user("other@example.org", "other-pass-123")
    await login(client, "other@example.org", "other-pass-123")
    response = await post_form(client, f"/profile/api-tokens/{token_id}/revoke")
    assert response.status_code == 404
    assert await db.fetchval("SELECT revoked_at FROM api_token") is None


# ---------------------------------------------------------------- 401 / 403


BAD_HEADERS = [
    None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wp_short",
    "Bearer wp_" + "A" * 43, ("Bearer wp_" + "é" * 43).encode(), "bearer  ", "Bearer " + "x" * 5000,
]


async def test_missing_or_bad_token_is_401_problem(client, token):
    for header in [*BAD_HEADERS, f"Bearer {token}x", f"Token {token}", token]:
        headers = {"Authorization": header} if header is not None else {}
        response = await client.get("/api/v1/contracts", headers=headers)
        assert response.status_code == 401, header
        problem = response.json()
        assert response.headers["content-type"].startswith(PROBLEM)
        assert problem["status"] == 401 and problem["title"]


async def test_expired_token_and_inactive_user_are_401(api, demo_db):
    assert (await api.get("/api/v1/contracts")).status_code == 200
    await db.execute("UPDATE api_token SET expires_at = now() - interval '1 second'")
    assert (await api.get("/api/v1/contracts")).status_code == 401
    await db.execute("UPDATE api_token SET expires_at = now() + interval '1 day'")
    assert (await api.get("/api/v1/contracts")).status_code == 200
    await db.execute("UPDATE portal_user SET is_active = false WHERE id = $1",
                     demo_db["subscriber"])
    assert (await api.get("/api/v1/contracts")).status_code == 401


async def test_session_cookie_is_not_a_token(client, token):
    """A logged-in browser without the header gets 401: the API ignores sessions."""
    await login(client)
    response = await client.get("/api/v1/contracts")
    assert response.status_code == 401


async def test_read_token_may_read_but_not_submit(client, demo_db):
    read = await store_token(demo_db["subscriber"], "read")
    meter = (await cold_meters())[0]
    assert (await client.get("/api/v1/contracts", headers=bearer(read))).status_code == 200
    before = await fingerprint()
    response = await client.post("/api/v1/readings", json=body(item(meter, 3)),
                                 headers=bearer(read))
    assert response.status_code == 403
    assert response.json()["status"] == 403
    assert await fingerprint() == before


# ---------------------------------------------------------------- reading endpoints


async def test_contracts_meters_windows(api, demo_db):
    contracts = (await api.get("/api/v1/contracts")).json()
    assert [c["id"] for c in contracts] == [15303]
    assert contracts[0]["number"] == "Д-15303/2018" and contracts[0]["counterparty"] == (
        "ООО «Ромашка»")
    assert set(contracts[0]) == {"id", "number", "counterparty", "inn", "deadline_day",
                                 "discharge_deadline_day"}
    meters = (await api.get("/api/v1/contracts/15303/meters")).json()
    assert len(meters) == 14 and {m["kind"] for m in meters} == {"cold", "hot"}
    first = next(m for m in meters if m["id"] == 49001)
    assert first["previous"]["period"] < period_value(month_start(today()))
    assert set(first) == {"id", "kind", "serial", "model", "address", "verification_due",
                          "digits", "previous"}
    windows = (await api.get("/api/v1/contracts/15303/windows",
                             params={"period": period_value(month_start(today()))})).json()
    assert windows["period"] == period_value(month_start(today()))
    assert windows["cold"]["state"] == "open"
    assert windows["cold"]["opens"] <= today().isoformat() <= windows["cold"]["closes"]
    default = (await api.get("/api/v1/contracts/15303/windows")).json()
    assert default["period"] == windows["period"]


async def test_a_rejection_has_its_code_and_words_in_the_token_owners_language(api, demo_db):
    """Billing's reason: a stable `reason_code` and `reason` in the owner's language, numbers
    written that language's way; billing's own words (an unknown code) as they came."""
    meters = await cold_meters()
    m, other = meters[5], meters[6]
    answer = (await api.post("/api/v1/readings", json=body(item(m), item(other)))).json()
    assert [i["status"] for i in answer["items"]] == ["transmitted"] * 2
    await db.execute(
        """UPDATE reading SET status = 'rejected', reject_code = 'below_last',
               reject_params = '{"value": "1200", "last": "12310"}',
               reject_reason = 'Показание 1200 меньше последнего принятого (12310), переход '
                               || 'через ноль не подтверждён'
           WHERE meter = $1 AND source = 'portal'""", m["id"])
    await db.execute(
        """UPDATE reading SET status = 'rejected', reject_code = 'acct_closed',
               reject_params = '{}', reject_reason = 'Лицевой счёт закрыт'
           WHERE meter = $1 AND source = 'portal'""", other["id"])
    params = {"contract": 15303, "period": period_value(month_start(today())), "kind": "cold"}

    async def reasons() -> dict:
        rows = (await api.get("/api/v1/readings", params=params)).json()
        return {r["meter_id"]: (r["status"], r["reason_code"], r["reason"]) for r in rows
                if r["meter_id"] in (m["code"], other["code"])}

    assert await reasons() == {
        m["code"]: ("rejected", "below_last", "Показание 1\u00a0200 меньше последнего принятого "
                    "(12\u00a0310), переход через ноль не подтверждён"),
        other["code"]: ("rejected", "acct_closed", "Лицевой счёт закрыт")}
    await db.execute("UPDATE portal_user SET locale = 'en' WHERE id = $1", demo_db["subscriber"])
    assert await reasons() == {
        m["code"]: ("rejected", "below_last", "The reading 1,200 is less than the last accepted "
                    "one (12,310); the rollover past zero was not confirmed"),
        other["code"]: ("rejected", "acct_closed", "Лицевой счёт закрыт")}
    await db.execute("UPDATE portal_user SET locale = 'ru' WHERE id = $1", demo_db["subscriber"])


async def test_transmit_writes_like_the_grid_with_receipt_and_audit(api, demo_db):
    meters = await cold_meters()
    items = [item(m, 4) for m in meters[1:4]]
    response = await api.post("/api/v1/readings", json=body(*items))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [i["status"] for i in answer["items"]] == ["transmitted"] * 3
    assert all(i["problems"] == [] for i in answer["items"])
    assert len(answer["receipts"]) == 1
    for m in meters[1:4]:
        [row] = await live(m["id"])
        assert row["status"] == "transmitted" and row["value"] == m["previous"] + 4
    audit = await db.fetch("SELECT action, changed_by, channel FROM reading_audit")
    assert [a["action"] for a in audit] == ["transmit"] * 3
    assert {a["channel"] for a in audit} == {"api"}
    assert {a["changed_by"] for a in audit} == {demo_db["subscriber"]}
    lines = await db.fetchval(
        "SELECT count(*) FROM receipt_line l JOIN receipt r ON r.id = l.receipt "
        "WHERE r.number = $1", answer["receipts"][0])
    assert lines == 3
    readings = (await api.get("/api/v1/readings", params={
        "contract": 15303, "period": period_value(month_start(today())),
        "kind": "cold"})).json()
    assert {(r["meter_id"], r["status"]) for r in readings} == {
        (m["code"], "transmitted") for m in meters[1:4]}
    assert all(r["reason"] is None and r["reason_code"] is None for r in readings)
    # Again: nothing changes, no new receipt, the same statuses.
    again = (await api.post("/api/v1/readings", json=body(*items))).json()
    assert [i["status"] for i in again["items"]] == ["transmitted"] * 3
    assert again["receipts"] == []
    assert await db.fetchval("SELECT count(*) FROM reading_audit") == 3


async def test_save_then_per_item_refusals(api, demo_db):
    meters = await cold_meters()
    good, decimals, negative, too_big, future = meters[1:6]
    response = await api.post("/api/v1/readings", json=body(
        item(good, 2),
        {**item(decimals, 1), "value": 12.5},
        {**item(negative), "value": -3},
        {**item(too_big), "value": 10 ** too_big["digits"]},
        {**item(future, 1), "date": (today() + timedelta(days=1)).isoformat()},
        transmit=False))
    assert response.status_code == 200, response.text
    answers = response.json()["items"]
    assert answers[0]["status"] == "draft"
    codes = [[p["code"] for p in a["problems"]] for a in answers[1:]]
    assert codes == [["not_whole"], ["out_of_range"], ["out_of_range"], ["date_in_future"]]
    assert all(a["status"] == "refused" for a in answers[1:])
    assert all(a["problems"][0]["message"] for a in answers[1:])
    assert [r["status"] for r in await live(good["id"])] == ["draft"]
    for m in (decimals, negative, too_big, future):
        assert await live(m["id"]) == []


async def test_rollover_needs_confirmation(api, demo_db):
    meter = (await cold_meters())[0]  # 99 7xx on a 5-digit dial
    response = await api.post("/api/v1/readings", json=body(
        {"meter_id": meter["code"], "value": 0, "date": today().isoformat()}))
    [answer] = response.json()["items"]
    assert answer["status"] == "refused" and answer["problems"][0]["code"] == "rollover"
    assert await live(meter["id"]) == []
    confirmed = await api.post("/api/v1/readings", json=body(
        {"meter_id": meter["code"], "value": 0, "date": today().isoformat(),
         "confirm_rollover": True, "confirm_anomaly": True}))
    assert confirmed.json()["items"][0]["status"] == "transmitted", confirmed.text


async def test_window_closed_refuses_transmit_and_writes_nothing(api, demo_db):
    """Last month's window has closed: the grid's reason, nothing written; a draft is fine."""
    from app.domain.calendar import add_months

    last = period_value(add_months(month_start(today()), -1))
    meter = (await cold_meters())[2]
    before = await fingerprint()
    response = await api.post("/api/v1/readings", json=body(item(meter, 1), period=last))
    [answer] = response.json()["items"]
    assert answer["status"] == "refused"
    assert answer["problems"][0]["code"] == "window_closed"
    assert "закрыта" in answer["problems"][0]["message"]
    assert await fingerprint() == before


async def test_kind_mismatch_is_refused(api, demo_db):
    meter = (await cold_meters())[1]
    response = await api.post("/api/v1/readings", json={**body(item(meter, 1)), "kind": "hot"})
    [answer] = response.json()["items"]
    assert answer["status"] == "refused" and answer["problems"][0]["code"] == "wrong_kind"


async def test_hot_volume_with_decimals(api, demo_db):
    code = await db.fetchval(
        "SELECT m.billing_id FROM meter m JOIN connection_point p ON p.id = m.point "
        "JOIN contract c ON c.id = p.contract WHERE c.billing_id = 15303 AND m.kind = 'hot' "
        "ORDER BY m.billing_id LIMIT 1")
    ok = await api.post("/api/v1/readings", json=body(
        {"meter_id": code, "value": 7.125, "date": today().isoformat()}))
    assert ok.json()["items"][0]["status"] == "transmitted", ok.text
    too_precise = await api.post("/api/v1/readings", json=body(
        {"meter_id": code, "value": 7.1255, "date": today().isoformat()}))
    assert too_precise.json()["items"][0]["problems"][0]["code"] == "too_many_decimals"


# ---------------------------------------------------------------- isolation (R8)


async def test_foreign_ids_are_404_and_change_nothing(api, demo_db):
    foreign_meter = await db.fetchval("SELECT min(billing_id) FROM meter WHERE billing_id > 49100")
    own = (await cold_meters())[1]
    markers = [r["name"] for r in await db.fetch(
        "SELECT cp.name FROM counterparty cp JOIN contract c ON c.counterparty = cp.id "
        "WHERE c.billing_id = 16010")]
    before = await fingerprint()
    for url in ("/api/v1/contracts/16010/meters", "/api/v1/contracts/16010/windows",
                "/api/v1/contracts/15304/meters", "/api/v1/contracts/987654/meters",
                "/api/v1/readings?contract=16010&period=2026-01&kind=cold"):
        response = await api.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith(PROBLEM)
        assert not any(m in response.text for m in markers)
    response = await api.post("/api/v1/readings", json=body(item(own, 1), {
        "meter_id": foreign_meter, "value": 1, "date": today().isoformat()}))
    assert response.status_code == 404
    assert await fingerprint() == before  # the own item is not written either


# ---------------------------------------------------------------- bad requests, never a 500


BAD_BODIES = [
    (b"{", "application/json", 422),
    (b"not json", "application/json", 422),
    (b'{"period": "2026-13", "items": []}', "application/json", 422),
    (b'{"period": "11.2026", "items": [{"meter_id": 1, "value": 1, "date": "2026-11-01"}]}',
     "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": "x", "value": 1, "date": "2026-11-01"}]}',
     "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": 49002, "value": "abc", "date": '
     b'"2026-11-01"}]}', "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": 49002, "value": NaN, "date": '
     b'"2026-11-01"}]}', "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": 49002, "value": 1, "date": "01.11.2026"}]}',
     "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": 99999999999, "value": 1, "date": '
     b'"2026-11-01"}]}', "application/json", 422),
    (b'{"period": "2026-11", "items": [], "extra": 1}', "application/json", 422),
    (b'[]', "application/json", 422),
    (b'{"period": "2026-11", "items": [{"meter_id": 1, "value": 1, "date": "2026-11-01"}]}',
     "text/plain", 415),
    (b"period=2026-11", "application/x-www-form-urlencoded", 415),
    (b"", "", 415),
]


async def test_bad_bodies_are_problems(api):
    before = await fingerprint()
    for raw, content_type, status in BAD_BODIES:
        headers = {"Content-Type": content_type} if content_type else {}
        response = await api.post("/api/v1/readings", content=raw, headers=headers)
        assert response.status_code == status, (raw[:80], response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["status"] == status
        if status == 422:
            assert problem["errors"] and all(e["field"] for e in problem["errors"]), problem
    assert await fingerprint() == before


ABSURD_NUMBERS = [
    ("1e400", 422), ("-1e400", 422), ("1e999999999", 422),  # beyond a double: body refused
    ("1e-400", 200), ("123456789012345678901234567890", 200), ('"NaN"', 200),
    ('"Infinity"', 200), ('"-Infinity"', 200), ('"1e999999999"', 200), ("1e300", 200),
    ('"1e-999999999"', 200),
]


async def test_absurd_numbers_never_write(api):
    """Refused as an item by the grid's parsers, or (JSON numbers beyond a double) as a body
    with the field; never a 500, nothing written."""
    meter = (await cold_meters())[1]
    for value, status in ABSURD_NUMBERS:
        raw = (f'{{"period": "{period_value(month_start(today()))}", "transmit": true, '
               f'"items": [{{"meter_id": {meter["code"]}, "value": {value}, '
               f'"date": "{today().isoformat()}"}}]}}')
        response = await api.post("/api/v1/readings", content=raw,
                                  headers={"Content-Type": "application/json"})
        assert response.status_code == status, (value, response.text)
        if status == 200:
            [answer] = response.json()["items"]
            assert answer["status"] == "refused" and answer["problems"], answer
        else:
            assert response.json()["errors"][0]["field"], response.text
    assert await live(meter["id"]) == []


async def test_duplicate_meter_and_too_many_items_are_422(api):
    meter = (await cold_meters())[1]
    twice = await api.post("/api/v1/readings", json=body(item(meter, 1), item(meter, 2)))
    assert twice.status_code == 422
    assert {e["field"] for e in twice.json()["errors"]} == {"items[0].meter_id",
                                                            "items[1].meter_id"}
    many = await api.post("/api/v1/readings", json=body(*[
        {"meter_id": 49002 + i, "value": 1, "date": today().isoformat()} for i in range(1001)]))
    assert many.status_code == 422
    assert "items" in json.dumps(many.json()["errors"])


async def test_period_outside_the_grids_list_is_422(api):
    meter = (await cold_meters())[1]
    response = await api.post("/api/v1/readings", json=body(item(meter, 1), period="2019-01"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "period"


async def test_twenty_megabytes_is_413(api):
    before = await fingerprint()
    raw = b'{"period": "2026-11", "items": [' + b" " * (20 * 1024 * 1024) + b"]}"
    response = await api.post("/api/v1/readings", content=raw,
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint() == before


async def test_unknown_api_path_is_a_problem(api):
    response = await api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)


# ---------------------------------------------------------------- Idempotency-Key


async def test_same_key_same_body_replays_other_body_409(api, demo_db):
    meters = await cold_meters()
    first = await api.post("/api/v1/readings", json=body(item(meters[1], 6)),
                           headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    # Someone corrects the reading in between: the replay is still the first answer.
    replay = await api.post("/api/v1/readings",
                            content=json.dumps(body(item(meters[1], 6)), indent=2),
                            headers={"Idempotency-Key": "k-1",
                                     "Content-Type": "application/json"})
    assert replay.status_code == 200 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM receipt") == 1
    other = await api.post("/api/v1/readings", json=body(item(meters[1], 7)),
                           headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409 and other.json()["status"] == 409
    assert [r["value"] for r in await live(meters[1]["id"])] == [meters[1]["previous"] + 6]


async def test_expired_key_is_claimed_afresh(api, demo_db):
    meters = await cold_meters()
    await api.post("/api/v1/readings", json=body(item(meters[1], 6)),
                   headers={"Idempotency-Key": "k-2"})
    await db.execute("UPDATE api_idempotency SET created_at = now() - interval '25 hours'")
    again = await api.post("/api/v1/readings", json=body(item(meters[1], 8)),
                           headers={"Idempotency-Key": "k-2"})
    assert again.status_code == 200 and again.json()["items"][0]["status"] == "transmitted"
    assert [r["value"] for r in await live(meters[1]["id"])] == [meters[1]["previous"] + 8]


async def test_racing_identical_requests_write_once_same_answer(api, demo_db):
    meters = await cold_meters()
    payload = body(*[item(m, 9) for m in meters[1:8]])
    answers = await asyncio.gather(*[
        api.post("/api/v1/readings", json=payload, headers={"Idempotency-Key": "race"})
        for _ in range(6)])
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert await db.fetchval("SELECT count(*) FROM receipt") == 1
    assert await db.fetchval("SELECT count(*) FROM reading_audit") == 7
    assert await db.fetchval("SELECT count(*) FROM api_idempotency") == 1


# ---------------------------------------------------------------- rate limit


async def test_rate_limit_per_token_with_retry_after(client, demo_db):
    from app.settings import get_settings
    from app.web import create_app

    app = create_app(replace(get_settings(), api_rate_limit=3), manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40002))
        async with httpx.AsyncClient(transport=transport, base_url="http://t.local") as c:
            one = await store_token(demo_db["subscriber"])
            two = await store_token(demo_db["subscriber"])
            statuses = [(await c.get("/api/v1/contracts", headers=bearer(one))).status_code
                        for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = await c.get("/api/v1/contracts", headers=bearer(one))
            assert limited.headers["content-type"].startswith(PROBLEM)
            assert 1 <= int(limited.headers["retry-after"]) <= 60
            assert limited.json()["status"] == 429
            # Another token of the same user and address has its own budget.
            assert (await c.get("/api/v1/contracts", headers=bearer(two))).status_code == 200
    finally:
        for hook in app.on_shutdown:
            await hook(app)


# ---------------------------------------------------------------- the document


async def test_openapi_document_and_docs_page(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/api/v1/contracts", "/api/v1/contracts/{contract_id}/meters",
                                 "/api/v1/contracts/{contract_id}/windows", "/api/v1/readings"}
    assert "bearer" in doc["components"]["securitySchemes"]
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "<script>" not in page.text and "http" not in page.text.split("<body>")[1]
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css",
                  "/static/api-docs.js"):
        assert (await client.get(asset)).status_code == 200


async def test_worker_purges_day_old_idempotency_keys(api, demo_db):
    from app.worker import purge_idempotency_keys

    meter = (await cold_meters())[1]
    for key in ("old", "new"):
        await api.post("/api/v1/readings", json=body(item(meter, 1), transmit=False),
                       headers={"Idempotency-Key": key})
    await db.execute("UPDATE api_idempotency SET created_at = now() - interval '25 hours' "
                     "WHERE key = 'old'")
    assert await purge_idempotency_keys({}) == {"deleted": 1}
    assert [r["key"] for r in await db.fetch("SELECT key FROM api_idempotency")] == ["new"]
