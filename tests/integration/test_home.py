"""Home (SPEC §11) on a real PostgreSQL: the window in words and the counts of each block for
every window state, the links, the statements per request (not growing with the contracts),
and the connection prompt for a user without contracts."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

from app import db
from app.settings import get_settings
from tests.helpers import QueryCounter, create_user, login

LOAD_DAY = date(2026, 11, 25)  # Wed: contract 15303's deadline day is 25 → window 23.11–25.11
NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)


@pytest.fixture
def frozen():
    """APP_TODAY for the app under test: `frozen(day)` moves it (settings are re-read)."""
    saved = os.environ.get("APP_TODAY")

    def set_today(day: date) -> None:
        os.environ["APP_TODAY"] = day.isoformat()
        get_settings.cache_clear()

    set_today(LOAD_DAY)
    yield set_today
    if saved is None:
        os.environ.pop("APP_TODAY", None)
    else:
        os.environ["APP_TODAY"] = saved
    get_settings.cache_clear()


async def meters_of(billing_id: int = 15303, kind: str = "cold") -> list[int]:
    return [r["id"] for r in await db.fetch(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND m.kind = $2 ORDER BY m.id""", billing_id, kind)]


async def add_reading(meter: int, period: date, status: str, value: int = 1,
                      reason: str | None = None) -> None:
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, reject_reason,
                                rollover_confirmed, anomaly_confirmed, created_at, updated_at)
           SELECT $1, $2, coalesce(max(value), 0) + $4, $2::date + 20, $3, 'portal', $5,
                  false, false, now(), now()
           FROM reading WHERE meter = $1 AND status = 'accepted'""",
        meter, period, status, value, reason)


@pytest.fixture
async def home_db(frozen, demo_db):
    """The demo data as of 25.11.2026 with a known state for contract 15303:
    cold (12 meters): November — 2 transmitted, 1 accepted, 1 draft, 1 rejected only;
    meter [5] has had nothing since July (Aug–Oct deleted); verification: [6] due in
    10 days, [7] overdue, the others far ahead. Hot (2 meters): nothing for November."""
    cold = await meters_of()
    await db.execute("UPDATE meter SET verification_due = '2030-01-01'")
    await db.execute("UPDATE meter SET verification_due = $1 WHERE id = $2",
                     LOAD_DAY + timedelta(days=10), cold[6])
    await db.execute("UPDATE meter SET verification_due = $1 WHERE id = $2",
                     date(2026, 11, 10), cold[7])
    for m in cold[:2]:
        await add_reading(m, NOV, "transmitted")
    await add_reading(cold[2], NOV, "accepted")
    await add_reading(cold[3], NOV, "draft")
    await add_reading(cold[4], NOV, "rejected", reason="Показание меньше предыдущего")
    await db.execute("DELETE FROM reading WHERE meter = $1 AND period > '2026-07-01'", cold[5])
    return {**demo_db, "cold": cold}


def row_of(html: str, contract: int, kind: str) -> str:
    match = re.search(rf'<tr id="row-{contract}-{kind}".*?</tr>', html, re.S)
    assert match, f"no row for {contract}/{kind}"
    return match.group(0)


def cells(row: str) -> list[str]:
    """The text of each cell of a row, tags dropped, whitespace collapsed."""
    found = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in found]


@pytest.mark.parametrize(("today", "window", "last_day", "cold_done", "missing", "why"), [
    (date(2026, 11, 20), "Окно откроется 23.11.2026", False, "3 из 12", 1,
     "before: last due period is October; July → 3 missing"),
    (date(2026, 11, 24), "Окно передачи открыто до 25.11.2026", False, "3 из 12", 1,
     "open"),
    (LOAD_DAY, "Окно передачи открыто до 25.11.2026", True, "3 из 12", 1, "last day"),
    (date(2026, 11, 26), "Срок передачи истёк", False, "3 из 12", 1,
     "closed: November now due as well → 4 missing"),
])
async def test_home_for_each_window_state(client, home_db, frozen, today, window, last_day,
                                          cold_done, missing, why):
    await login(client)
    frozen(today)
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    cid = home_db["linked_contract"]
    cold = cells(row_of(html, cid, "cold"))
    # Договор | Что передаётся | Отчётный период | Окно | Передано | Отклонено | Поверка | Без
    assert cold[0] == "ООО «Ромашка», №15303"
    assert cold[1] == "показания ХВС" and cold[2] == "Ноябрь 2026", why
    assert cold[3].startswith(window), why
    assert ("Сегодня последний день передачи" in cold[3]) is last_day, why
    assert cold[4:] == [cold_done, "1", "2", str(missing)], why
    hot = cells(row_of(html, cid, "hot"))
    assert hot[3].startswith(window) and hot[4:] == ["0 из 2", "0", "0", "0"], why
    if today > LOAD_DAY:
        assert "Следующее окно откроется 23.12.2026" in cold[3]
    # each count links to where it is dealt with
    grid = f'href="/readings/cold?contract={cid}&amp;period=2026-11"'
    assert row_of(html, cid, "cold").count(grid) == 2  # the window and the count
    streak = 4 if today > LOAD_DAY else 3
    assert f"Показания не передавались {streak} мес." in html
    assert "Правила № 776, п. 14" in html
    m = home_db["cold"]
    assert f'href="/meters/{m[5]}"' in html  # the silent meter's history
    assert f'href="/meters/{m[6]}"' in html and f'href="/meters/{m[7]}"' in html
    assert "срок поверки истёк" in html
    assert "Показание меньше предыдущего" in html  # billing's reason of the rejected one


async def test_transmitting_again_settles_a_rejection(client, home_db):
    await login(client)
    m = home_db["cold"][4]
    await add_reading(m, NOV, "transmitted", value=2)
    html = (await client.get("/")).text
    assert cells(row_of(html, home_db["linked_contract"], "cold"))[4:6] == ["4 из 12", "0"]
    assert 'id="rejected"' not in html


async def test_login_lands_on_home_with_the_greeting_once(client, home_db):
    response = await client.post("/login", data={
        "email": "demo@izhvodokanal.example", "password": "demopass2026",
        "_csrf_token": (await client.get("/"), client.cookies.get("csrftoken"))[1]})
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = (await client.get("/")).text
    assert home.count("Вы успешно авторизовались!") == 1
    assert "Окно передачи открыто до 25.11.2026" in home
    assert "Вы успешно авторизовались!" not in (await client.get("/")).text  # once


async def test_user_without_contracts_keeps_the_connection_prompt(client, home_db):
    await create_user("nocontracts@example.ru", "secret-pass-123")
    await login(client, "nocontracts@example.ru", "secret-pass-123")
    html = (await client.get("/")).text
    assert html.count("Вы успешно авторизовались!") == 1
    assert "Перейти к “Заявке на подключение”" in html
    assert 'id="dashboard"' not in html


async def link_contracts(email: str, count: int) -> None:
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, c.id, now() FROM portal_user u, contract c
           WHERE u.email = $1 ORDER BY c.billing_id LIMIT $2
           ON CONFLICT DO NOTHING""", email, count)


async def statements_of_home(client) -> list[str]:
    await client.get("/")  # windows stored, connections warm
    with QueryCounter() as counter:
        response = await client.get("/")
    assert response.status_code == 200
    return counter.statements


async def test_statements_per_request_do_not_grow_with_contracts(client, home_db):
    """One contract or every contract of the demo (5): the same statements — one per block."""
    await create_user("many@example.ru", "secret-pass-123", contract_billing_ids=(15303,))
    await login(client, "many@example.ru", "secret-pass-123")
    one = await statements_of_home(client)
    await link_contracts("many@example.ru", 100)
    assert await db.fetchval(
        """SELECT count(*) FROM contract_link l JOIN portal_user u ON u.id = l."user"
           WHERE u.email = 'many@example.ru'""") == 5
    html = (await client.get("/")).text
    assert html.count('<tr id="row-') == 9  # 17001 has no hot meter
    many = await statements_of_home(client)
    # the current user, then contracts, windows, progress, rejected, attention
    assert len(many) == len(one) == 6, many


async def test_a_page_costs_its_statements_only_no_pool_reset(client, home_db):
    """Releasing a pool connection sends nothing (app.db.keep_session): asyncpg's default
    reset query was one more round trip after every statement outside a transaction."""
    await login(client)
    await client.get("/")
    with QueryCounter() as counter:
        assert (await client.get("/")).status_code == 200
    assert len(counter.statements) == 6, counter.statements
    assert counter.resets == []


async def test_first_visit_stores_the_missing_windows_in_one_upsert(client, home_db):
    await login(client)  # its greeting page stores the windows: start without them
    await db.execute("DELETE FROM submission_window")
    with QueryCounter() as counter:
        assert (await client.get("/")).status_code == 200
    # + the calendar overrides and one upsert of every missing window
    assert len(counter.statements) == 8, counter.statements
    assert await db.fetchval("SELECT count(*) FROM submission_window") == 6  # 2 kinds × 3
