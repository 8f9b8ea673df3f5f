"""«Заявка на подключение» (R5) and «Мои договора» (R6) through the in-process client."""

from __future__ import annotations

import asyncio
import re

import pytest

from app import db
from app.queries.contracts import selected_contract, user_contracts
from tests.helpers import create_user, login, post_form

HTMX = {"HX-Request": "true"}
NEW_USER = "new.subscriber@example.ru"
NOT_FOUND = "Договор с таким номером для этого ИНН не найден"
INVALID_INN = "Неверный ИНН"


async def inn_of(billing_id: int) -> str:
    return await db.fetchval(
        """SELECT cp.inn FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
           WHERE c.billing_id = $1""", billing_id)


async def links_of(user_id: int) -> list[int]:
    rows = await db.fetch(
        """SELECT c.billing_id FROM contract_link l JOIN contract c ON c.id = l.contract
           WHERE l."user" = $1 ORDER BY 1""", user_id)
    return [r["billing_id"] for r in rows]


async def outcomes(user_id: int) -> list[str]:
    rows = await db.fetch(
        """SELECT outcome FROM connection_request WHERE "user" = $1 ORDER BY id""", user_id)
    return [r["outcome"] for r in rows]


def menu_of(html: str) -> str:
    match = re.search(r'<nav class="menu" id="menu".*?</nav>', html, re.S)
    assert match, "no menu in the response"
    return match.group(0)


@pytest.fixture
async def new_user(client, demo_db):
    uid = await create_user(NEW_USER)
    await login(client, NEW_USER, "secret-pass-123")
    return uid


# ---------------------------------------------------------------- connection request


async def test_connect_with_htmx_links_at_once_and_swaps_the_menu(client, new_user):
    page = await client.get("/connect")
    assert page.status_code == 200
    assert "ИНН компании" in page.text and "Номер договора с МУП «Ижводоканал»" in page.text
    assert "Мои договора" not in menu_of(page.text)

    inn = await inn_of(18020)
    r = await post_form(client, "/connect", {"inn": inn, "number": "18020/ШК"}, headers=HTMX)
    assert r.status_code == 200
    assert "Заявка успешно отправлена" in r.text
    menu = menu_of(r.text)
    assert 'hx-swap-oob="true"' in menu
    for item in ("Передача показаний ХВС", "Передача объемов по стокам ГВС", "Архив показаний",
                 "Мои договора"):
        assert item in menu
    assert await links_of(new_user) == [18020]
    assert await outcomes(new_user) == ["linked"]
    audit = await db.fetchrow(
        """SELECT action, details->>'contract' AS contract FROM audit_event WHERE "user" = $1""",
        new_user)
    assert audit["action"] == "contract_linked"
    assert int(audit["contract"]) == await db.fetchval(
        "SELECT id FROM contract WHERE billing_id = 18020")


async def test_connect_plain_post_redirects_and_shows_message_and_menu(client, new_user):
    inn = await inn_of(15304)
    r = await post_form(client, "/connect", {"inn": inn, "number": "Д-15304/2019"})
    assert r.status_code == 303 and r.headers["location"] == "/connect"
    page = await client.get("/connect")
    assert "Заявка успешно отправлена" in page.text
    assert "Мои договора" in menu_of(page.text)
    again = await client.get("/connect")
    assert "Заявка успешно отправлена" not in again.text  # a flash shows once


async def test_connect_tolerates_spaces_and_case(client, new_user):
    inn = await inn_of(15304)
    spaced = f" {inn[:4]} {inn[4:]} "
    r = await post_form(client, "/connect", {"inn": spaced, "number": "  д-15304/2019 "},
                        headers=HTMX)
    assert "Заявка успешно отправлена" in r.text
    assert await links_of(new_user) == [15304]


async def test_twelve_digit_inn_of_a_sole_proprietor(client, new_user):
    inn = await inn_of(17001)
    assert len(inn) == 12
    r = await post_form(client, "/connect", {"inn": inn, "number": "п-17001"}, headers=HTMX)
    assert "Заявка успешно отправлена" in r.text
    assert await links_of(new_user) == [17001]


@pytest.mark.parametrize("bad_inn", ["7707083894", "77070838", "77O7083893", "18-02345678"])
async def test_invalid_inn_is_reported_and_typed_values_kept(client, new_user, bad_inn):
    r = await post_form(client, "/connect", {"inn": bad_inn, "number": "18020/ШК"}, headers=HTMX)
    assert r.status_code == 422
    assert INVALID_INN in r.text
    assert f'value="{bad_inn}"' in r.text and 'value="18020/ШК"' in r.text
    assert await links_of(new_user) == []
    assert await outcomes(new_user) == ["invalid_inn"]


async def test_empty_number_is_a_field_error(client, new_user):
    r = await post_form(client, "/connect", {"inn": await inn_of(18020), "number": "  "},
                        headers=HTMX)
    assert r.status_code == 422
    assert "Заполните это поле" in r.text
    assert await links_of(new_user) == []


async def test_no_such_contract_for_this_inn_reveals_neither_half(client, new_user):
    right_inn, other_inn = await inn_of(15304), await inn_of(18020)
    wrong_number = await post_form(client, "/connect", {"inn": right_inn, "number": "Д-99999"},
                                   headers=HTMX)
    wrong_inn = await post_form(client, "/connect", {"inn": other_inn, "number": "Д-15304/2019"},
                                headers=HTMX)
    for r in (wrong_number, wrong_inn):
        assert r.status_code == 422
        assert NOT_FOUND in r.text
        assert INVALID_INN not in r.text
    # The same text either way: nothing tells which half was wrong.
    msg = re.compile(r'<p class="flash flash-error" role="alert"[^>]*>(.*?)</p>', re.S)
    assert msg.search(wrong_number.text).group(1) == msg.search(wrong_inn.text).group(1)
    assert 'value="Д-99999"' in wrong_number.text
    assert await links_of(new_user) == []
    assert await outcomes(new_user) == ["not_found", "not_found"]


async def test_already_connected(client, demo_db):
    await login(client)
    r = await post_form(client, "/connect", {"inn": await inn_of(15303), "number": "Д-15303/2018"},
                        headers=HTMX)
    assert r.status_code == 409
    assert "Этот договор уже подключён к вашему кабинету" in r.text
    assert await links_of(demo_db["subscriber"]) == [15303]
    assert await outcomes(demo_db["subscriber"]) == ["already_connected"]


async def test_concurrent_double_submit_links_once(client, new_user):
    data = {"inn": await inn_of(18020), "number": "18020/ШК"}
    await client.get("/connect")  # CSRF cookie before the burst
    responses = await asyncio.gather(
        *(post_form(client, "/connect", data, headers=HTMX) for _ in range(5)))
    success = [r for r in responses if "Заявка успешно отправлена" in r.text]
    already = [r for r in responses if "уже подключён к вашему кабинету" in r.text]
    assert len(success) == 1 and len(already) == 4
    assert {r.status_code for r in already} == {409}
    assert await db.fetchval(
        """SELECT count(*) FROM contract_link WHERE "user" = $1""", new_user) == 1
    assert sorted(await outcomes(new_user)) == ["already_connected"] * 4 + ["linked"]
    assert await db.fetchval(
        """SELECT count(*) FROM audit_event WHERE "user" = $1 AND action = 'contract_linked'""",
        new_user) == 1


async def test_throttle_after_ten_failures_blocks_without_lookup(client, new_user):
    inn = await inn_of(18020)
    for i in range(10):
        r = await post_form(client, "/connect", {"inn": inn, "number": f"guess-{i}"}, headers=HTMX)
        assert r.status_code == 422, i
    # Even the right pair gets no answer now: the lookup is not performed.
    r = await post_form(client, "/connect", {"inn": inn, "number": "18020/ШК"}, headers=HTMX)
    assert r.status_code == 429
    assert "Слишком много неудачных попыток подключения. Повторите через час." in r.text
    assert 'value="18020/ШК"' in r.text
    assert await links_of(new_user) == []
    assert (await outcomes(new_user))[-1] == "throttled"
    # Per user: another account is not blocked.
    other = await create_user("other.subscriber@example.ru")
    await post_form(client, "/logout")
    await login(client, "other.subscriber@example.ru", "secret-pass-123")
    r = await post_form(client, "/connect", {"inn": inn, "number": "18020/ШК"}, headers=HTMX)
    assert "Заявка успешно отправлена" in r.text
    assert await links_of(other) == [18020]


async def test_connect_needs_login(client, demo_db):
    r = await client.get("/connect")
    assert r.status_code == 303 and r.headers["location"] == "/?next=%2Fconnect"


# ---------------------------------------------------------------- «Мои договора»


async def test_my_contracts_lists_columns_and_values(client, demo_db):
    await create_user("two@example.ru", contract_billing_ids=(15303, 15304))
    await login(client, "two@example.ru", "secret-pass-123")
    r = await client.get("/contracts")
    assert r.status_code == 200
    for column in ("№", "Название контрагента", "Сроки передачи показаний",
                   "Дата подписания договора", "ИНН Компании", "Номер договора", "Действие"):
        assert f">{column}</th>" in r.text
    inn = await inn_of(15303)
    assert r.text.count(inn) == 2 and "ООО «Ромашка»" in r.text
    assert "Д-15303/2018" in r.text and "Д-15304/2019" in r.text
    c = await db.fetchrow("SELECT * FROM contract WHERE billing_id = 15304")
    assert c["deadline_day"] != c["discharge_deadline_day"]
    assert f"ХВС: {c['deadline_day']}; стоки ГВС: {c['discharge_deadline_day']}" in r.text
    assert c["signed_on"].strftime("%d.%m.%Y") in r.text
    assert r.text.count(">Удалить</a>") == 2
    assert "16010-ХВ" not in r.text


async def test_delete_with_htmx_unlinks_only_this_user(client, demo_db):
    contract = demo_db["linked_contract"]
    colleague = await create_user("colleague@example.ru", contract_billing_ids=(15303,))
    meter_ids = ("SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point"
                 " WHERE p.contract = $1")
    readings_before = await db.fetchval(
        f"SELECT count(*) FROM reading WHERE meter IN ({meter_ids})", contract)
    assert readings_before > 0
    await login(client)
    r = await post_form(client, f"/contracts/{contract}/delete", headers=HTMX)
    assert r.status_code == 200
    assert "Договор №15303 удалён из вашего кабинета." in r.text
    menu = menu_of(r.text)
    assert 'hx-swap-oob="true"' in menu and "Мои договора" not in menu
    assert "Заявка на подключение" in menu
    assert "К вашему кабинету не подключено ни одного договора." in r.text  # last one went
    assert await links_of(demo_db["subscriber"]) == []
    assert await links_of(colleague) == [15303]
    assert await db.fetchval(
        f"SELECT count(*) FROM reading WHERE meter IN ({meter_ids})", contract) == readings_before
    assert await db.fetchval("SELECT count(*) FROM contract WHERE id = $1", contract) == 1
    audit = await db.fetchrow(
        """SELECT action, (details->>'contract')::int AS contract FROM audit_event
           WHERE "user" = $1""", demo_db["subscriber"])
    assert (audit["action"], audit["contract"]) == ("contract_unlinked", contract)
    # Reconnecting later works.
    r = await post_form(client, "/connect", {"inn": await inn_of(15303), "number": "Д-15303/2018"},
                        headers=HTMX)
    assert "Заявка успешно отправлена" in r.text
    assert await links_of(demo_db["subscriber"]) == [15303]


async def test_delete_one_of_two_keeps_the_menu(client, demo_db):
    uid = await create_user("two@example.ru", contract_billing_ids=(15303, 15304))
    await login(client, "two@example.ru", "secret-pass-123")
    r = await post_form(client, f"/contracts/{demo_db['unlinked_contract']}/delete", headers=HTMX)
    assert r.status_code == 200
    assert "Мои договора" in menu_of(r.text)
    assert "К вашему кабинету не подключено" not in r.text
    assert await links_of(uid) == [15303]


async def test_delete_without_javascript_confirms_first(client, demo_db):
    contract = demo_db["linked_contract"]
    await login(client)
    page = await client.get(f"/contracts/{contract}/delete")
    assert page.status_code == 200
    assert "Удалить договор №15303?" in page.text
    assert f'action="/contracts/{contract}/delete"' in page.text
    assert await links_of(demo_db["subscriber"]) == [15303]  # GET changes nothing
    r = await post_form(client, f"/contracts/{contract}/delete")
    assert r.status_code == 303 and r.headers["location"] == "/contracts"
    listing = await client.get("/contracts")
    assert "Договор №15303 удалён из вашего кабинета." in listing.text
    assert "Мои договора" not in menu_of(listing.text)
    assert await links_of(demo_db["subscriber"]) == []


@pytest.mark.parametrize("which", ["foreign_contract", "unlinked_contract"])
async def test_delete_foreign_contract_is_404(client, demo_db, which):
    await login(client)
    links = await db.fetchval("SELECT count(*) FROM contract_link")
    assert (await client.get(f"/contracts/{demo_db[which]}/delete")).status_code == 404
    assert (await post_form(client, f"/contracts/{demo_db[which]}/delete")).status_code == 404
    assert (await post_form(client, "/contracts/999999/delete")).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM contract_link") == links


# ---------------------------------------------------------------- the shared contract selector


async def test_selected_contract_picks_only_the_users_own(demo_db):
    uid = demo_db["subscriber"]
    chosen, contracts = await selected_contract(uid, None)
    assert chosen.id == demo_db["linked_contract"] and [c.id for c in contracts] == [chosen.id]
    chosen, _ = await selected_contract(uid, str(demo_db["linked_contract"]))
    assert chosen.billing_id == 15303


@pytest.mark.parametrize("requested", ["foreign", "unlinked", "abc", "-1", "99999999"])
async def test_selected_contract_none_for_anything_else(demo_db, requested):
    value = str(demo_db.get(f"{requested}_contract", requested))
    assert await selected_contract(demo_db["subscriber"], value) is None


async def test_selected_contract_and_selector(client, demo_db):
    from app.render import environment

    uid = await create_user("two@example.ru", contract_billing_ids=(15304, 15303))
    own = [c.billing_id for c in await user_contracts(uid)]
    assert own == [15303, 15304]
    chosen, contracts = await selected_contract(uid, None)
    assert chosen.billing_id == 15303 and len(contracts) == 2
    chosen, _ = await selected_contract(uid, str(demo_db["unlinked_contract"]))
    assert chosen.billing_id == 15304
    for bad in (str(demo_db["foreign_contract"]), "abc", "999999", "1; DROP TABLE x"):
        assert await selected_contract(uid, bad) is None
    lonely = await create_user("lonely@example.ru")
    assert await selected_contract(lonely, None) is None

    html = environment().get_template("_contract_selector.html").render(
        contracts=contracts, contract=chosen, path="/readings/cold")
    assert 'action="/readings/cold"' in html and 'name="contract"' in html
    assert f'<option value="{chosen.id}" selected>' in html
    assert html.count("<option") == 2
    single = environment().get_template("_contract_selector.html").render(
        contracts=contracts[:1], contract=contracts[0], path="/readings/cold")
    assert "<select" not in single  # one contract: no selector
