"""Reading grids on a real PostgreSQL: save, transmit, correct, audit, window, idempotency,
read-only accepted readings, isolation of foreign meter ids."""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal

import pytest

from app import db
from app.domain.calendar import add_months, month_start, period_value
from app.settings import today
from tests.helpers import create_user, login, post_form, post_grid


async def meters(billing_id: int = 15303, kind: str = "cold") -> list[dict]:
    """The meters of a contract in grid order, with their latest accepted value."""
    rows = await db.fetch(
        """SELECT m.id, m.digits, c.id AS contract,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                   ORDER BY period DESC LIMIT 1) AS previous
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND m.kind = $2 ORDER BY m.address, m.serial, m.id""",
        billing_id, kind,
    )
    return [dict(r) for r in rows]


def row_values(meter: dict, value: str, date: str | None = None) -> dict:
    return {f"value-{meter['id']}": value,
            f"date-{meter['id']}": date or today().strftime("%d.%m.%Y")}


def next_value(meter: dict, step: int = 5) -> str:
    return str(int(meter["previous"]) + step)


async def live(meter_id: int) -> list:
    return await db.fetch(
        """SELECT id, value, read_on, status FROM reading
           WHERE meter = $1 AND period = $2 AND status <> 'rejected'""",
        meter_id, month_start(today()),
    )


async def audit(meter_id: int) -> list:
    return await db.fetch(
        """SELECT a.action, a.old_value, a.new_value, a.old_status, a.new_status, a.changed_by
           FROM reading_audit a JOIN reading r ON r.id = a.reading
           WHERE r.meter = $1 ORDER BY a.id""",
        meter_id,
    )


def submit(action: str, contract: int, period=None, **rows: str) -> dict:
    return {"action": action, "contract": str(contract),
            "period": period_value(period or month_start(today())), **rows}


async def test_cold_grid_page_shows_columns_rows_and_deadline(client, demo_db):
    await login(client)
    response = await client.get("/readings/cold")
    assert response.status_code == 200
    html = response.text
    for header in ("Номер прибора учёта", "Адрес установки прибора учёта", "Марка прибора учёта",
                   "Плановая дата поверки", "Предыдущее показание", "Дата предыдущего показания",
                   "Текущее показание прибора учёта", "Дата текущего показания",
                   "Сохранить значения", "Передать значения", "Отчётный период"):
        assert header in html
    assert f"Срок передачи до {today().day} числа текущего месяца" in html
    assert html.count('class="grid-value"') == 12
    assert "data-grid" in html and "/static/grid.js" in html
    # the default period is the one whose window is open (today is the deadline day)
    assert f'value="{period_value(month_start(today()))}" selected' in html


async def test_save_transmit_correct_and_audit(client, demo_db):
    await login(client)
    m = (await meters())[1]
    contract = m["contract"]
    first = next_value(m, 4)
    response = await post_grid(client, "/readings/cold",
                               submit("save", contract, **row_values(m, first)))
    assert response.status_code == 200, response.text
    assert "Сохранено строк: 1." in response.text
    [reading] = await live(m["id"])
    assert (reading["status"], reading["value"]) == ("draft", Decimal(first))

    response = await post_grid(client, "/readings/cold",
                               submit("transmit", contract, **row_values(m, first)))
    assert response.status_code == 200, response.text
    assert re.search(rf'<tr id="row-{m["id"]}" class="row-ok"', response.text)
    assert "передано, ожидает обработки" in response.text
    [reading] = await live(m["id"])
    assert reading["status"] == "transmitted"

    corrected = next_value(m, 6)
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", contract, **row_values(m, corrected)))
    assert response.status_code == 200
    [after] = await live(m["id"])
    assert (after["id"], after["status"], after["value"]) == (
        reading["id"], "transmitted", Decimal(corrected))

    # the same value again: nothing changes, no audit noise
    await post_grid(client, "/readings/cold",
                    submit("transmit", contract, **row_values(m, corrected)))
    trail = await audit(m["id"])
    assert [(a["action"], a["old_status"], a["new_status"]) for a in trail] == [
        ("save", None, "draft"), ("transmit", "draft", "transmitted"),
        ("correct", "transmitted", "transmitted")]
    assert (trail[2]["old_value"], trail[2]["new_value"]) == (Decimal(first), Decimal(corrected))
    assert all(a["changed_by"] == demo_db["subscriber"] for a in trail)


async def test_saving_does_not_turn_a_transmitted_reading_back_into_a_draft(client, demo_db):
    await login(client)
    m = (await meters())[2]
    await post_grid(client, "/readings/cold",
                    submit("transmit", m["contract"], **row_values(m, next_value(m))))
    response = await post_grid(client, "/readings/cold",
                               submit("save", m["contract"], **row_values(m, next_value(m, 9))))
    assert response.status_code == 422
    assert "Показание уже передано" in response.text
    [reading] = await live(m["id"])
    assert (reading["status"], reading["value"]) == ("transmitted", Decimal(next_value(m)))


async def test_invalid_rows_turn_red_keep_typed_value_others_transmit(client, demo_db):
    await login(client)
    ms = await meters()
    good, bad, empty = ms[3], ms[4], ms[5]
    data = {**row_values(good, next_value(good)), **row_values(bad, "12,5"),
            **row_values(empty, "")}
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", good["contract"], **data))
    assert response.status_code == 422
    html = response.text
    assert re.search(rf'<tr id="row-{good["id"]}" class="row-ok"', html)
    assert re.search(rf'<tr id="row-{bad["id"]}" class="row-error"', html)
    assert f'name="value-{bad["id"]}" value="12,5"' in html
    assert "только чёрные цифры" in html
    assert not re.search(rf'<tr id="row-{empty["id"]}" class="row-', html)
    assert len(await live(good["id"])) == 1
    assert await live(bad["id"]) == [] and await live(empty["id"]) == []


async def test_plain_form_post_redirects_to_the_grid_with_its_result_once(client, demo_db):
    """Without JavaScript (no HX-Request): PRG. The POST answers 303 to the grid's GET, which
    shows the result, the failed row as typed with its message, once; F5 posts nothing."""
    await login(client)
    ms = await meters()
    good, bad = ms[3], ms[4]
    data = {**row_values(good, next_value(good)), **row_values(bad, "12,5")}
    response = await post_form(client, "/readings/cold",
                               submit("transmit", good["contract"], **data))
    assert response.status_code == 303
    period = period_value(month_start(today()))
    assert response.headers["location"] == (
        f"/readings/cold?contract={good['contract']}&period={period}")
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Передано строк: 1. Строк с ошибками: 1 — они выделены красным." in page.text
    assert re.search(rf'<tr id="row-{good["id"]}" class="row-ok"', page.text)
    assert re.search(rf'<tr id="row-{bad["id"]}" class="row-error"', page.text)
    assert f'name="value-{bad["id"]}" value="12,5"' in page.text
    assert f'aria-describedby="msg-value-{bad["id"]}" aria-invalid="true"' in page.text
    assert len(await live(good["id"])) == 1 and await live(bad["id"]) == []
    again = await client.get(response.headers["location"])  # F5: the result was shown once
    assert "Передано строк" not in again.text
    assert f'name="value-{bad["id"]}" value=""' in again.text
    # another grid does not show this grid's result
    await post_form(client, "/readings/cold", submit("save", good["contract"], **data))
    other = await client.get("/readings/hot")
    assert "Сохранено строк" not in other.text


async def test_rollover_needs_explicit_confirmation(client, demo_db):
    await login(client)
    m = (await meters())[0]
    rolled = {**row_values(m, "12")}
    previous = int(m["previous"])
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"], **rolled))
    assert response.status_code == 422
    assert "Счётчик прошёл через ноль?" in response.text
    assert f'name="rollover-{m["id"]}"' in response.text
    assert await live(m["id"]) == []
    consumption = 12 + 10 ** m["digits"] - previous
    # the demo meter's mean is small, so the rolled-over consumption is an anomaly too
    grouped = f"{consumption:,}".replace(",", "\u00a0")  # «99 774», as Babel writes it in Russian
    assert f"Расход {grouped} м³ более чем в 3 раза" in response.text
    rollover_only = {**rolled, f"rollover-{m['id']}": "yes"}
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"], **rollover_only))
    assert response.status_code == 422
    assert await live(m["id"]) == []
    both = {**rollover_only, f"anomaly-{m['id']}": "yes"}
    response = await post_grid(client, "/readings/cold", submit("transmit", m["contract"], **both))
    assert response.status_code == 200, response.text
    assert f"Расход: {consumption:,}".replace(",", "\xa0") in response.text
    [reading] = await live(m["id"])
    assert (reading["status"], reading["value"]) == ("transmitted", Decimal(12))


async def test_twenty_concurrent_transmits_leave_one_live_reading(client, demo_db):
    await login(client)
    m = (await meters())[6]
    data = submit("transmit", m["contract"], **row_values(m, next_value(m)))
    await client.get("/readings/cold")
    responses = await asyncio.gather(*(post_grid(client, "/readings/cold", data)
                                       for _ in range(20)))
    assert all(r.status_code == 200 for r in responses)
    assert len(await live(m["id"])) == 1
    total = await db.fetchval(
        "SELECT count(*) FROM reading WHERE meter = $1 AND period = $2",
        m["id"], month_start(today()))
    assert total == 1
    assert [a["action"] for a in await audit(m["id"])] == ["transmit"]


async def test_transmit_outside_the_window_changes_nothing(client, demo_db):
    await login(client)
    m = (await meters())[7]
    past = add_months(month_start(today()), -2)
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"], past, **row_values(m, "1")))
    assert response.status_code == 422
    assert "закрыта" in response.text
    assert await db.fetchval("SELECT count(*) FROM reading WHERE source = 'portal'") == 0
    assert await db.fetchval("SELECT count(*) FROM reading_audit") == 0
    # next month: the window has not opened yet; the page says when it opens
    future = add_months(month_start(today()), 1)
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"], future, **row_values(m, "1")))
    assert response.status_code == 422
    assert re.search(r"Передача показаний за .+ откроется \d\d\.\d\d\.\d{4}", response.text)
    assert f'name="value-{m["id"]}" value="1"' in response.text
    assert await db.fetchval("SELECT count(*) FROM reading WHERE source = 'portal'") == 0


async def test_accepted_reading_is_read_only(client, demo_db):
    await login(client)
    m = (await meters())[8]
    await post_grid(client, "/readings/cold",
                    submit("transmit", m["contract"], **row_values(m, next_value(m))))
    await db.execute("UPDATE reading SET status = 'accepted' WHERE meter = $1 AND period = $2",
                     m["id"], month_start(today()))
    page = await client.get("/readings/cold")
    assert re.search(rf'name="value-{m["id"]}" value="{next_value(m)}"[^>]* readonly', page.text)
    assert "принято" in page.text
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"],
                                      **row_values(m, next_value(m, 20))))
    assert response.status_code == 200
    [reading] = await live(m["id"])
    assert (reading["status"], reading["value"]) == ("accepted", Decimal(next_value(m)))
    assert len(await audit(m["id"])) == 1


async def test_rejected_reading_shows_reason_and_a_new_one_can_be_sent(client, demo_db):
    await login(client)
    m = (await meters())[9]
    await post_grid(client, "/readings/cold",
                    submit("transmit", m["contract"], **row_values(m, next_value(m))))
    await db.execute(
        """UPDATE reading SET status = 'rejected', reject_reason = 'Прибор снят с учёта'
           WHERE meter = $1""", m["id"])
    page = await client.get("/readings/cold")
    assert "Прибор снят с учёта" in page.text and "status-rejected" in page.text
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"], **row_values(m, next_value(m, 7))))
    assert response.status_code == 200
    assert len(await live(m["id"])) == 1


async def test_billings_reason_code_is_shown_in_the_users_language(client, demo_db):
    """A rejection stored as code + params reads in Russian on a Russian page and in English,
    with English numbers and dates, on an English one: grid, meter history and home."""
    await login(client)
    m = (await meters())[8]
    await post_grid(client, "/readings/cold",
                    submit("transmit", m["contract"], **row_values(m, next_value(m))))
    await db.execute(
        """UPDATE reading SET status = 'rejected', reject_code = 'date_before_last',
               reject_params = '{"read_on": "2026-11-01", "last_read_on": "2026-12-01"}',
               reject_reason = 'Дата показания 01.11.2026 раньше даты последнего принятого '
                               || 'показания (01.12.2026)'
           WHERE meter = $1 AND source = 'portal'""", m["id"])
    ru = "Дата показания 01.11.2026 раньше даты последнего принятого показания (01.12.2026)"
    en = ("The reading date 1 Nov 2026 is before the date of the last accepted reading "
          "(1 Dec 2026)")
    pages = ("/readings/cold", f"/meters/{m['id']}", "/")
    for url in pages:
        assert ru in (await client.get(url)).text, url
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    for url in pages:
        text = (await client.get(url)).text
        assert en in text and "Дата показания" not in text, url


async def test_old_reason_texts_are_parsed_into_codes_by_the_migration(demo_db):
    """Rows rejected before codes existed: the built-in checks' texts get their code and
    params (migrations/…18_40_20), anything else stays text only."""
    import importlib

    migration = importlib.import_module("migrations.portal_2026_12_02t18_40_20_000000")
    texts = {
        "Прибор учёта не числится действующим в биллинге": ("not_active", {}),
        "Объём не может быть отрицательным": ("negative", {}),
        "Показание не соответствует разрядности прибора учёта (5)": ("digits", {"digits": 5}),
        "Показание 200 меньше последнего принятого (231), переход через ноль не подтверждён":
            ("below_last", {"value": "200", "last": "231"}),
        "Дата показания 03.09.2018 раньше даты последнего принятого показания (04.09.2018)":
            ("date_before_last", {"read_on": "2018-09-03", "last_read_on": "2018-09-04"}),
        "Отклонено биллингом": ("rejected", {}),
        "Прибор снят с учёта": (None, None),
        "Показание 200 меньше последнего принятого (231)": (None, None),
    }
    m = (await meters())[11]
    ids = {}
    for i, text in enumerate(texts):
        ids[text] = await db.fetchval(
            """INSERT INTO reading (meter, period, value, read_on, status, source, reject_reason)
               VALUES ($1, $2, 1, $2, 'rejected', 'portal', $3) RETURNING id""",
            m["id"], add_months(month_start(today()), -30 - i), text)
    for statement in migration.statements():
        await db.execute(statement)
    rows = {r["id"]: r for r in await db.fetch(
        "SELECT id, reject_code, reject_params::text AS params, reject_reason FROM reading "
        "WHERE id = ANY($1::int[])", list(ids.values()))}
    for text, (code, params) in texts.items():
        row = rows[ids[text]]
        assert row["reject_code"] == code, text
        assert (json.loads(row["params"]) if row["params"] else None) == params, text
        assert row["reject_reason"] == text


async def test_a_user_without_contracts_is_shown_how_to_connect_one(client, demo_db):
    """Grids and the archive answer 200 with the menu and a link to «Заявка на подключение»
    (not «Страница не найдена»); another organization's contract id is still 404 (R8)."""
    await create_user("new@example.ru")
    await login(client, "new@example.ru", "secret-pass-123")
    prompt = "К вашему кабинету не подключено ни одного договора."
    for url in ("/readings/cold", "/readings/hot", "/archive"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert prompt in response.text and 'href="/connect"' in response.text, url
        assert "Страница не найдена" not in response.text and "<nav" in response.text, url
    assert "Передача показаний приборов учёта ХВС" in (await client.get("/readings/cold")).text
    foreign = demo_db["foreign_contract"]
    for url in (f"/readings/cold?contract={foreign}", f"/readings/hot?contract={foreign}",
                f"/archive?contract={foreign}"):
        response = await client.get(url)
        assert response.status_code == 404 and prompt not in response.text, url
    response = await post_grid(client, "/readings/cold", {"action": "save", "contract": ""})
    assert response.status_code == 404  # nothing to write to
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    response = await client.get("/readings/cold")
    assert response.status_code == 200
    assert "No contracts are connected to your account." in response.text
    assert "Readings are sent under a contract" in response.text


async def test_english_grid_shows_and_reads_dates_the_english_way(client, demo_db):
    """An English page writes every date "2 Dec 2026" — the date inputs and the messages that
    quote a date — and takes back what it shows (issue 19); Russian keeps ДД.ММ.ГГГГ."""
    from app import i18n

    await login(client)
    m = (await meters())[7]
    ru_today = today().strftime("%d.%m.%Y")
    assert f'name="date-{m["id"]}" value="{ru_today}"' in (await client.get("/readings/cold")).text
    await post_form(client, "/lang", {"lang": "en", "next": "/"})
    token = i18n.current_locale.set("en")
    try:
        en_today = i18n.format_date(today())
    finally:
        i18n.current_locale.reset(token)
    page = (await client.get("/readings/cold")).text
    assert f'name="date-{m["id"]}" value="{en_today}"' in page
    assert not re.search(r'value="[0-9]{2}\.[0-9]{2}\.[0-9]{4}"', page)
    response = await post_grid(client, "/readings/cold", submit(
        "transmit", m["contract"], **row_values(m, next_value(m, 1), "1 Jan 2000")))
    quoted = re.search(r"earlier than the previous reading&#39;s date \(([^)]*)\)", response.text)
    assert quoted and re.fullmatch(r"[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}", quoted.group(1))
    response = await post_grid(client, "/readings/cold", submit(
        "transmit", m["contract"], **row_values(m, next_value(m, 1), en_today)))
    assert response.status_code == 200
    [reading] = await live(m["id"])
    assert (reading["status"], reading["read_on"]) == ("transmitted", today())


async def test_foreign_meter_ids_are_ignored_and_checks_404(client, demo_db):
    await login(client)
    own = (await meters())[10]
    foreign = (await meters(16010))[0]
    data = submit("transmit", own["contract"], **row_values(own, next_value(own)),
                  **row_values(foreign, next_value(foreign)))
    response = await post_grid(client, "/readings/cold", data)
    assert response.status_code == 200
    assert len(await live(own["id"])) == 1
    assert await live(foreign["id"]) == []
    # no row of that meter (a bare id like "128" also matches inside the random CSRF token)
    assert f'value-{foreign["id"]}"' not in response.text
    # a foreign contract in the form, or a foreign meter in the inline check: 404
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", foreign["contract"],
                                      **row_values(foreign, next_value(foreign))))
    assert response.status_code == 404
    assert await live(foreign["id"]) == []
    period = period_value(month_start(today()))
    for url in (
        f"/readings/cold/check?contract={own['contract']}&period={period}&meter={foreign['id']}",
        f"/readings/cold/check?contract={foreign['contract']}&period={period}&meter={foreign['id']}",
    ):
        response = await post_form(client, url, row_values(foreign, "1"))
        assert response.status_code == 404
    assert (await client.get(f"/readings/cold?contract={foreign['contract']}")).status_code == 404
    assert (await client.get("/readings/warm")).status_code == 404


async def test_inline_check_returns_only_the_feedback_cell(client, demo_db):
    await login(client)
    m = (await meters())[11]
    period = period_value(month_start(today()))
    url = f"/readings/cold/check?contract={m['contract']}&period={period}&meter={m['id']}"
    response = await post_form(client, url, row_values(m, next_value(m, 3)),
                               headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith(f'<td class="feedback" id="fb-{m["id"]}"')
    assert "Расход: 3,000" in html
    response = await post_form(client, url, row_values(m, "abc"), headers={"HX-Request": "true"})
    assert "целым числом" in response.text
    assert await live(m["id"]) == []


async def test_anonymous_user_is_sent_to_login(client, demo_db):
    response = await client.get("/readings/cold")
    assert response.status_code == 303


@pytest.mark.parametrize("kind", ["cold", "hot"])
async def test_compute_windows_job_is_idempotent(demo_db, kind):
    from app.queries.windows import compute_windows, recompute_windows

    first = await compute_windows(today())
    contracts = await db.fetchval("SELECT count(*) FROM contract")
    assert first["contracts"] == contracts
    assert first["inserted"] == contracts * 2 * 2
    second = await compute_windows(today())
    assert (second["inserted"], second["updated"]) == (0, 0)
    rows = await db.fetch(
        "SELECT period FROM submission_window WHERE kind = $1 GROUP BY period ORDER BY period",
        kind)
    assert [r["period"] for r in rows] == [month_start(today()),
                                           add_months(month_start(today()), 1)]
    # an operator makes the deadline day of 15303 a holiday: its window gets longer
    deadline = await db.fetchrow(
        """SELECT w.closes FROM submission_window w JOIN contract c ON c.id = w.contract
           WHERE c.billing_id = 15303 AND w.kind = 'cold' AND w.period = $1""",
        month_start(today()))
    await db.execute("INSERT INTO calendar_override (day, is_working, note) VALUES ($1, false, '')",
                     deadline["closes"])
    counts = await recompute_windows(today())
    assert counts["changed"] >= 1
    after = await db.fetchval(
        """SELECT w.closes FROM submission_window w JOIN contract c ON c.id = w.contract
           WHERE c.billing_id = 15303 AND w.kind = 'cold' AND w.period = $1""",
        month_start(today()))
    assert after > deadline["closes"]


async def test_page_stores_a_missing_window(client, demo_db):
    await login(client)  # home, where login lands, stores the windows it reads: start afresh
    await db.execute("DELETE FROM submission_window")
    await client.get("/readings/cold")
    assert await db.fetchval("SELECT count(*) FROM submission_window WHERE kind = 'cold'") == 5


async def test_hot_grid_transmits_volumes_with_a_decimal_comma(client, demo_db):
    await login(client)
    response = await client.get("/readings/hot")
    assert response.status_code == 200
    for header in ("Передача объемов по стокам ГВС", "Адрес установки прибора учета",
                   "Предыдущий объем", "Дата предыдущего показания", "Текущий объем",
                   "Дата текущего показания", "Сохранить значения", "Передать значения"):
        assert header in response.text
    assert "Номер прибора учёта" not in response.text
    discharge_day = await db.fetchval(
        "SELECT discharge_deadline_day FROM contract WHERE billing_id = 15303")
    assert f"Срок передачи до {discharge_day} числа текущего месяца" in response.text
    hot = await meters(kind="hot")
    assert response.text.count('class="grid-value"') == len(hot) == 2
    data = {**row_values(hot[0], "12,345"), **row_values(hot[1], "1,2345")}
    response = await post_grid(client, "/readings/hot",
                               submit("transmit", hot[0]["contract"], **data))
    assert response.status_code == 422
    assert re.search(rf'<tr id="row-{hot[0]["id"]}" class="row-ok"', response.text)
    assert re.search(rf'<tr id="row-{hot[1]["id"]}" class="row-error"', response.text)
    assert "не более чем с тремя знаками" in response.text
    [reading] = await live(hot[0]["id"])
    assert (reading["status"], reading["value"]) == ("transmitted", Decimal("12.345"))
    page = await client.get("/readings/hot")
    assert f'name="value-{hot[0]["id"]}" value="12,345"' in page.text
    # the cold grid of the same contract does not see hot meters
    cold = await client.get("/readings/cold")
    assert f'name="value-{hot[0]["id"]}"' not in cold.text


async def test_contract_without_hot_meters_says_so(client, demo_db):
    from tests.helpers import create_user

    await create_user("ip@example.ru", contract_billing_ids=(17001,))
    await login(client, "ip@example.ru", "secret-pass-123")
    response = await client.get("/readings/hot")
    assert response.status_code == 200
    assert "На этом договоре нет приборов учёта горячей воды" in response.text
    assert "<table" not in response.text


async def test_200_meter_grid_takes_a_constant_number_of_queries(client, demo_db, monkeypatch):
    from tests.helpers import create_user

    await create_user("bakery@example.ru", contract_billing_ids=(16010,))
    await login(client, "bakery@example.ru", "secret-pass-123")
    await client.get("/readings/cold")  # the windows get stored on the first visit
    calls: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        original = getattr(db, name)

        def counting(sql, *args, _original=original):
            calls.append(sql)
            return _original(sql, *args)

        monkeypatch.setattr(db, name, counting)
    response = await client.get("/readings/cold")
    assert response.status_code == 200
    assert response.text.count('class="grid-value"') == 200
    # user, the user's contracts, stored windows, the grid
    assert len(calls) <= 4, calls


async def test_reading_handed_to_billing_is_frozen_until_the_answer(client, demo_db):
    await login(client)
    m = (await meters())[5]
    await post_grid(client, "/readings/cold",
                    submit("transmit", m["contract"], **row_values(m, next_value(m))))
    batch = await db.fetchval(
        """INSERT INTO billing_batch (uid, state, item_count, accepted_count, rejected_count,
               created_at) VALUES ('test-batch', 'written', 1, 0, 0, now()) RETURNING id""")
    await db.execute("UPDATE reading SET batch = $1 WHERE meter = $2", batch, m["id"])
    page = await client.get("/readings/cold")
    assert re.search(rf'name="value-{m["id"]}" value="{next_value(m)}"[^>]* readonly', page.text)
    response = await post_grid(client, "/readings/cold",
                               submit("transmit", m["contract"],
                                      **row_values(m, next_value(m, 9))))
    assert response.status_code == 200
    [reading] = await live(m["id"])
    assert reading["value"] == Decimal(next_value(m))
    assert len(await audit(m["id"])) == 1


async def test_an_operator_override_moves_the_stored_window(client, demo_db):
    from app.queries.windows import compute_windows

    await compute_windows(today())
    closes_sql = """SELECT w.closes FROM submission_window w JOIN contract c ON c.id = w.contract
                    WHERE c.billing_id = 15303 AND w.kind = 'cold' AND w.period = $1"""
    before = await db.fetchval(closes_sql, month_start(today()))
    await login(client, "operator@izhvodokanal.example", "operpass2026")
    response = await post_form(client, "/operator/calendar",
                               {"day": before.isoformat(), "kind": "off", "note": ""},
                               headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    assert await db.fetchval(closes_sql, month_start(today())) > before
