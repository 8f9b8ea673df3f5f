"""«Журнал»: a reading changed through each channel there is — the grid, a spreadsheet
upload into the grid, the JSON API, billing's answer — shows in the journal with who, when,
old → new and the channel, and in the reading's full history; account events with their
filters."""

from __future__ import annotations

import re

from app import db
from app.billing.refresh import refresh_archive
from app.domain.calendar import month_start, period_value
from app.settings import today
from tests.helpers import login, post_form
from tests.integration.test_api import bearer, store_token
from tests.integration.test_readings import meters, row_values, submit
from tests.integration.test_spreadsheet_upload import upload

OPERATOR = ("operator@izhvodokanal.example", "operpass2026")
HTMX = {"HX-Request": "true"}


async def test_reading_changed_by_grid_upload_api_and_billing(client, demo_db):
    meter = (await meters())[0]
    code = await db.fetchval("SELECT billing_id FROM meter WHERE id = $1", meter["id"])
    first, second, third = (int(meter["previous"]) + n for n in (2, 4, 6))
    await login(client)
    r = await post_form(client, "/readings/cold",
                        submit("save", meter["contract"], **row_values(meter, str(first))),
                        headers=HTMX)
    assert r.status_code == 200
    # The spreadsheet fills the grid; the grid form it answers carries channel=upload.
    csv_file = f"Код прибора;Текущее показание\r\n{code};{second}\r\n".encode()
    filled = await upload(client, "cold", meter["contract"], "r.csv", csv_file)
    assert 'name="channel" value="upload"' in filled.text
    r = await post_form(client, "/readings/cold", {
        **submit("transmit", meter["contract"], **row_values(meter, str(second))),
        "channel": "upload"}, headers=HTMX)
    assert r.status_code == 200
    # An accounting system corrects it through the API.
    token = await store_token(demo_db["subscriber"])
    r = await client.post("/api/v1/readings", headers=bearer(token), json={
        "period": period_value(month_start(today())), "transmit": True,
        "items": [{"meter_id": code, "value": third, "date": today().isoformat()}]})
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "transmitted", r.text
    await refresh_archive()  # billing answers: accepted

    rows = await db.fetch(
        """SELECT a.channel, a.new_value, a.new_status FROM reading_audit a
           JOIN reading r ON r.id = a.reading WHERE r.meter = $1 ORDER BY a.id""", meter["id"])
    assert [(r["channel"], int(r["new_value"]), r["new_status"]) for r in rows] == [
        ("grid", first, "draft"), ("upload", second, "transmitted"),
        ("api", third, "transmitted"), ("billing", third, "accepted")]

    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    await login(client, *OPERATOR)
    page = await client.get("/operator/journal", params={"meter": str(code)})
    assert page.status_code == 200
    entries = re.findall(r'<tr class="journal-reading".*?</tr>', page.text, re.S)
    assert len(entries) == 4
    newest, by_api, middle, oldest = entries  # newest first
    assert "биллинг" in newest and "Принято биллингом" in newest
    assert "передано, ожидает обработки → принято" in newest  # statuses in words too
    assert "API" in by_api and "demo@izhvodokanal.example" in by_api
    assert "файл" in middle and "demo@izhvodokanal.example" in middle
    assert "таблица" in oldest and f"{first},000" in oldest.replace("\xa0", "")
    reading = re.search(r'data-reading="(\d+)"', newest).group(1)
    history = await client.get(f"/operator/journal/readings/{reading}")
    assert history.status_code == 200
    cells = re.findall(r'<tr data-channel="(\w*)">', history.text)
    assert cells == ["grid", "upload", "api", "billing"]  # oldest first
    assert (await client.get("/operator/journal/readings/999999")).status_code == 404


async def test_account_events_filtered_by_user_contract_and_dates(client, demo_db):
    await login(client, *OPERATOR)
    user, contract = demo_db["subscriber"], demo_db["linked_contract"]
    await post_form(client, f"/operator/users/{user}/contracts/{contract}/unlink")
    await post_form(client, f"/operator/users/{user}/block")
    page = await client.get("/operator/journal", params={"who": "demo@"})
    actions = re.findall(r'data-action="(\w+)">([^<]*)<', page.text)
    # codes are shown as words of the page's language (issue 19), the code stays an attribute
    assert actions[:3] == [("user_blocked", "Пользователь заблокирован"),
                           ("operator_unlinked_contract", "Оператор отключил договор"),
                           ("contract_unlinked", "Договор отключён")]
    await post_form(client, "/lang", {"lang": "en", "next": "/operator/journal"})
    page = await client.get("/operator/journal", params={"who": "demo@"})
    actions = re.findall(r'data-action="(\w+)">([^<]*)<', page.text)
    assert actions[:3] == [("user_blocked", "User blocked"),
                           ("operator_unlinked_contract", "Contract unlinked by the operator"),
                           ("contract_unlinked", "Contract unlinked")]
    await post_form(client, "/lang", {"lang": "ru", "next": "/operator/journal"})
    page = await client.get("/operator/journal", params={"contract": "15303"})
    assert "operator_unlinked_contract" in page.text and "user_blocked" not in page.text
    page = await client.get("/operator/journal", params={"date_to": "2000-01-01"})
    assert "Записей по фильтру нет." in page.text
    # a contract id that is not a number is refused app-wide as 404 (issue 18's query-id guard)
    bad = await client.get("/operator/journal", params={"contract": "abc"})
    assert bad.status_code == 404
    bad = await client.get("/operator/journal", params={"date_from": "x"})
    assert bad.status_code == 422
    for nasty in ("%", "_", "' OR 1=1 --", "<script>x</script>"):
        r = await client.get("/operator/journal", params={"who": nasty})
        assert r.status_code == 200 and "Записей по фильтру нет." in r.text
        assert "<script>x</script>" not in r.text
        r = await client.get("/operator/journal", params={"meter": nasty})
        assert r.status_code == 404 and "<script>x</script>" not in r.text


async def test_subscriber_403(client, demo_db):
    await login(client)
    assert (await client.get("/operator/journal")).status_code == 403
    assert (await client.get("/operator/journal/readings/1")).status_code == 403
