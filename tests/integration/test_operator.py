"""Operator area: guard, summary figures, calendar overrides (add/validate/delete/audit)."""

from __future__ import annotations

import re
from datetime import date

from app import db
from app.queries.calendar import load_overrides
from tests.helpers import login, post_form

HTMX = {"HX-Request": "true"}
OPERATOR = ("operator@izhvodokanal.example", "operpass2026")


async def test_subscriber_gets_403_and_anonymous_goes_to_login(client, demo_db):
    anonymous = await client.get("/operator")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/?next=%2Foperator"
    await login(client)
    page = await client.get("/operator")
    assert page.status_code == 403
    assert "Производственный календарь" not in page.text
    r = await post_form(client, "/operator/calendar", {"day": "2026-12-30", "kind": "off"})
    assert r.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM calendar_override") == 0
    assert "/operator" not in re.search(r'<nav class="menu".*?</nav>', page.text, re.S).group(0)


async def test_operator_sees_summary_counts(client, demo_db):
    await db.execute(
        """UPDATE reading SET status = 'rejected' WHERE id IN (
               SELECT r.id FROM reading r JOIN meter m ON m.id = r.meter
               WHERE m.kind = 'hot' ORDER BY r.id LIMIT 3)""")
    await login(client, *OPERATOR)
    page = await client.get("/operator")
    assert page.status_code == 200
    text = page.text
    assert "Производственный календарь: исключения" in text and "Сводка" in text
    assert 'href="/operator"' in re.search(r'<nav class="menu".*?</nav>', text, re.S).group(0)

    def figure(label: str) -> int:
        return int(re.search(rf"<th scope=\"row\">{re.escape(label)}</th><td class=\"num\">(\d+)<",
                             text).group(1))

    assert figure("Договоры") == await db.fetchval("SELECT count(*) FROM contract") == 5
    assert figure("Договоры, подключённые к кабинетам") == 1
    assert figure("Приборы учёта ХВС") == await db.fetchval(
        "SELECT count(*) FROM meter WHERE kind = 'cold'")
    assert figure("Приборы учёта ГВС") == await db.fetchval(
        "SELECT count(*) FROM meter WHERE kind = 'hot'")
    assert figure("Пользователи-абоненты") == 1 and figure("Операторы") == 1
    rejected = re.search(r'<tr id="readings-rejected">.*?</tr>', text, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', rejected) == ["0", "3", "3"]
    accepted = re.search(r'<tr id="readings-accepted">.*?</tr>', text, re.S).group(0)
    total = await db.fetchval("SELECT count(*) FROM reading WHERE status = 'accepted'")
    assert re.findall(r'<td class="num">(\d+)</td>', accepted)[-1] == str(total)


async def test_add_and_delete_override_with_audit(client, demo_db):
    await login(client, *OPERATOR)
    r = await post_form(client, "/operator/calendar",
                        {"day": "2026-12-30", "kind": "off", "note": "Указ о переносе"},
                        headers=HTMX)
    assert r.status_code == 200
    assert "Исключение добавлено" in r.text
    assert r.text.lstrip().startswith('<section class="card wide" id="calendar"')  # block only
    assert "30.12.2026" in r.text and "Указ о переносе" in r.text
    assert await load_overrides() == {date(2026, 12, 30): False}
    oid = await db.fetchval("SELECT id FROM calendar_override")
    operator = demo_db["operator"]
    added = await db.fetchrow("SELECT \"user\", action, details->>'day' AS day FROM audit_event")
    assert (added["user"], added["action"], added["day"]) == \
        (operator, "calendar_override_added", "2026-12-30")

    again = await post_form(client, "/operator/calendar", {"day": "30.12.2026", "kind": "off"},
                            headers=HTMX)
    assert again.status_code == 422
    assert "Для этой даты исключение уже есть" in again.text

    r = await post_form(client, f"/operator/calendar/{oid}/delete", headers=HTMX)
    assert r.status_code == 200 and "Исключение удалено" in r.text
    assert await load_overrides() == {}
    assert await db.fetchval(
        "SELECT count(*) FROM audit_event WHERE action = 'calendar_override_deleted'") == 1
    gone = await post_form(client, f"/operator/calendar/{oid}/delete", headers=HTMX)
    assert gone.status_code == 404


async def test_validation_keeps_typed_values(client, demo_db):
    await login(client, *OPERATOR)
    r = await post_form(client, "/operator/calendar",
                        {"day": "2026-12-27", "kind": "off", "note": "воскресенье"}, headers=HTMX)
    assert r.status_code == 422
    assert "По производственному календарю этот день и так нерабочий" in r.text
    assert 'value="2026-12-27"' in r.text and 'value="воскресенье"' in r.text
    assert '<option value="off" selected>' in r.text
    r = await post_form(client, "/operator/calendar", {"day": "", "kind": ""}, headers=HTMX)
    assert r.status_code == 422
    assert "Укажите дату" in r.text and "Выберите: рабочий или нерабочий день" in r.text
    assert await db.fetchval("SELECT count(*) FROM calendar_override") == 0


async def test_plain_post_redirects_with_message(client, demo_db):
    await login(client, *OPERATOR)
    r = await post_form(client, "/operator/calendar", {"day": "2026-12-26", "kind": "working"})
    assert r.status_code == 303 and r.headers["location"] == "/operator#calendar"
    page = await client.get("/operator")
    assert "Исключение добавлено" in page.text
    assert "26.12.2026" in page.text and "суббота" in page.text
    bad = await post_form(client, "/operator/calendar", {"day": "31.02.2026", "kind": "off"})
    assert bad.status_code == 422 and "Сводка" in bad.text  # the whole page again
    assert await load_overrides() == {date(2026, 12, 26): True}
