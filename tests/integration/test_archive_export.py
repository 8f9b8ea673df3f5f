"""«Выгрузить в Excel» / «Выгрузить CSV» of the archive (SPEC §7): every row of the filter,
read back as a user's spreadsheet program would (openpyxl; csv with utf-8-sig and `;`)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from app import db
from app.queries.archive import PAGE_SIZE, ArchiveFilter, archive_batches, archive_page
from app.settings import today
from tests.helpers import create_user, login

# the cold archive's: the screen's columns (its «Расход, м³» too) plus «Источник»
HEADER = ["Контрагент", "Договор", "Номер прибора учёта", "Адрес установки прибора учёта",
          "Показания прибора учёта", "Дата показаний", "Источник", "Расход, м³"]
SOURCE = {"billing": "Биллинг", "portal": "Портал"}
FORMATS = ("xlsx", "csv")


async def expected(user_id: int, kind: str = "cold", contract: int | None = None,
                   point: int | None = None, date_from: date | None = None,
                   date_to: date | None = None) -> list[tuple]:
    """The accepted readings the user may see, written out independently of the app's query,
    in the screen's order: (counterparty, contract №, serial, address, value, date, source
    [, consumption since the meter's previous accepted reading: cold only, as on screen])."""
    rows = await db.fetch(
        """SELECT cp.name, c.billing_id, m.serial, m.address, r.value, r.read_on, r.source,
                  m.digits, (SELECT r2.value FROM reading r2 WHERE r2.meter = m.id
                               AND r2.status = 'accepted' AND r2.read_on < r.read_on
                             ORDER BY r2.read_on DESC LIMIT 1) AS previous
           FROM reading r JOIN meter m ON m.id = r.meter
           JOIN connection_point p ON p.id = m.point JOIN contract c ON c.id = p.contract
           JOIN counterparty cp ON cp.id = c.counterparty
           WHERE r.status = 'accepted' AND m.kind = $2
             AND c.id IN (SELECT contract FROM contract_link WHERE "user" = $1)
             AND ($3::int IS NULL OR c.id = $3) AND ($4::int IS NULL OR p.id = $4)
             AND ($5::date IS NULL OR r.read_on >= $5) AND ($6::date IS NULL OR r.read_on <= $6)
           ORDER BY c.billing_id, r.read_on DESC, m.serial, r.id DESC""",
        user_id, kind, contract, point, date_from, date_to)
    def used(r) -> Decimal | None:
        if r["previous"] is None:
            return None
        value, previous = Decimal(r["value"]), Decimal(r["previous"])
        return value - previous if value >= previous else value + 10 ** r["digits"] - previous

    return [(r["name"], r["billing_id"], r["serial"], r["address"], Decimal(r["value"]),
             r["read_on"], SOURCE[r["source"]], *([used(r)] if kind == "cold" else []))
            for r in rows]


def m3(text_or_number) -> Decimal | None:
    if text_or_number in (None, ""):
        return None
    return Decimal(str(text_or_number).replace(",", ".")).quantize(Decimal("0.001"))


def xlsx_rows(content: bytes) -> tuple[list, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet.title == "Архив показаний"
    assert sheet.freeze_panes == "A2"  # the header row stays in view
    lines = list(sheet.iter_rows(values_only=True))
    rows = []
    for cells in sheet.iter_rows(min_row=2, max_col=len(lines[0])):
        name, number, serial, address, value, day, source, *used = cells
        assert number.data_type == "n" and value.data_type == "n"  # numbers as numbers
        assert isinstance(day.value, datetime) and day.number_format == "dd.mm.yyyy"
        assert value.number_format == "#,##0.000"
        assert all(u.value is None or u.data_type == "n" for u in used)
        rows.append((name.value, number.value, serial.value or "", address.value or "",
                     m3(value.value), day.value.date(), source.value,
                     *(m3(u.value) for u in used)))
    return list(lines[0]), rows


def csv_rows(content: bytes) -> tuple[list, list[tuple]]:
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""),
                            delimiter=";"))
    rows = []
    for name, number, serial, address, value, day, source, *used in lines[1:]:
        rows.append((name, int(number), serial, address, m3(value),
                     datetime.strptime(day, "%d.%m.%Y").date(), source,
                     *(m3(u) for u in used)))
    return lines[0], rows


async def export(client, fmt: str, query: str = "") -> tuple[list, list[tuple]]:
    response = await client.get(f"/archive/export.{fmt}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text[:300]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith(f'.{fmt}"')
    if fmt == "xlsx":
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return xlsx_rows(response.content)
    assert response.headers["content-type"].startswith("text/csv")
    return csv_rows(response.content)


def normalized(rows: list[tuple]) -> list[tuple]:
    return [(*r[:4], m3(r[4]), *r[5:7], *(m3(u) for u in r[7:])) for r in rows]


async def link(user_id: int, contract_id: int) -> None:
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at) VALUES ($1, $2, now())""",
        user_id, contract_id)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_export_is_every_row_of_the_filter_not_only_the_page(client, demo_db, fmt):
    await login(client)
    want = await expected(demo_db["subscriber"])
    assert len(want) == 12 * 24 > PAGE_SIZE
    header, rows = await export(client, fmt)
    assert header == HEADER
    assert rows == normalized(want)
    response = await client.get(f"/archive/export.{fmt}")
    assert f'filename="archive_cold_{today().isoformat()}.{fmt}"' in \
        response.headers["content-disposition"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_filters_apply_to_the_export(client, demo_db, fmt):
    uid = demo_db["subscriber"]
    await link(uid, demo_db["unlinked_contract"])
    await login(client)
    # every linked contract, both groups as columns
    newest = await db.fetchval("SELECT max(read_on) FROM reading")
    _, rows = await export(client, fmt, f"date_from={newest.replace(day=1)}")
    assert {r[1] for r in rows} == {15303, 15304}
    assert rows == normalized(await expected(uid, date_from=newest.replace(day=1)))
    # one contract, hot volumes, a date range
    cid = demo_db["unlinked_contract"]
    days = sorted({r[5] for r in await expected(uid, "hot", cid)})
    lo, hi = days[2], days[6]
    _, rows = await export(client, fmt, f"contract={cid}&kind=hot&date_from={lo}&date_to={hi}")
    want = await expected(uid, "hot", cid, date_from=lo, date_to=hi)
    assert want and rows == normalized(want)
    assert all(len(r) == 7 for r in rows)  # hot volumes: no «Расход, м³», as on screen
    assert {r[5] for r in rows} == set(days[2:7])
    # one connection point (Russian dates typed into the URL work as on the screen)
    point = await db.fetchval(
        "SELECT min(id) FROM connection_point WHERE contract = $1", demo_db["linked_contract"])
    _, rows = await export(client, fmt, f"point={point}&date_to={hi.strftime('%d.%m.%Y')}")
    want = await expected(uid, point=point, date_to=hi)
    assert want and rows == normalized(want)
    all_cold = await expected(uid)
    assert len(want) < len(all_cold)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_portal_reading_is_labelled_and_english_headers_follow_the_user(
        client, demo_db, fmt):
    meter = await db.fetchrow(
        """SELECT m.id, max(r.value) AS last FROM meter m
           JOIN connection_point p ON p.id = m.point JOIN reading r ON r.meter = m.id
           WHERE p.contract = $1 AND m.kind = 'cold' GROUP BY m.id ORDER BY m.id LIMIT 1""",
        demo_db["linked_contract"])
    period = await db.fetchval(
        "SELECT (date_trunc('month', max(period)) + interval '1 month')::date FROM reading")
    day = period + timedelta(days=4)  # after every reading of the demo data
    await db.execute(
        """INSERT INTO reading (meter, period, value, read_on, status, source, transmitted_at,
               processed_at, created_by)
           VALUES ($1, $2, $3, $4, 'accepted', 'portal', now(), now(), $5)""",
        meter["id"], period, meter["last"] + 3, day, demo_db["subscriber"])
    await login(client)
    _, rows = await export(client, fmt, f"date_from={day}&date_to={day}")
    assert [(r[4], r[5], r[6], r[7]) for r in rows] == [
        (Decimal(meter["last"] + 3), day, "Портал", Decimal(3))]

    await db.execute("UPDATE portal_user SET locale = 'en' WHERE id = $1", demo_db["subscriber"])
    response = await client.get(f"/archive/export.{fmt}?date_from={day}")
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, row = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    else:
        header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")),
                                      delimiter=";"))[:2]
    assert header == ["Counterparty", "Contract", "Meter number", "Meter installation address",
                      "Meter reading", "Reading date", "Source", "Consumption, m³"], header
    assert row[6] == "Portal"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_foreign_contract_or_point_is_404(client, demo_db, fmt):
    await link(demo_db["subscriber"], demo_db["unlinked_contract"])
    await login(client)
    foreign_point = await db.fetchval(
        "SELECT min(id) FROM connection_point WHERE contract = $1", demo_db["foreign_contract"])
    other_point = await db.fetchval(
        "SELECT min(id) FROM connection_point WHERE contract = $1", demo_db["unlinked_contract"])
    foreign_name = await db.fetchval(
        """SELECT cp.name FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
           WHERE c.id = $1""", demo_db["foreign_contract"])
    for query in (f"contract={demo_db['foreign_contract']}", f"point={foreign_point}",
                  "point=abc", "contract=x",
                  f"contract={demo_db['linked_contract']}&point={other_point}"):
        response = await client.get(f"/archive/export.{fmt}?{query}")
        assert response.status_code == 404, query
        assert "content-disposition" not in response.headers
        assert foreign_name not in response.text


async def test_one_users_export_never_holds_another_organizations_readings(client, demo_db):
    other = await create_user("other-org@example.ru", contract_billing_ids=(16010,))
    mine, theirs = await expected(demo_db["subscriber"]), await expected(other)
    assert mine and theirs
    their_meters = {(r[2], r[3]) for r in theirs}
    await login(client)
    for fmt in FORMATS:
        _, rows = await export(client, fmt)
        assert rows == normalized(mine)
        assert {r[1] for r in rows} == {15303}
        assert not their_meters & {(r[2], r[3]) for r in rows}
    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken", "")})
    client.cookies.clear()
    await login(client, "other-org@example.ru", "secret-pass-123")
    for fmt in FORMATS:
        _, rows = await export(client, fmt)
        assert rows == normalized(theirs) and {r[1] for r in rows} == {16010}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_bad_dates_answer_422_with_the_screens_message(client, demo_db, fmt):
    await login(client)
    response = await client.get(f"/archive/export.{fmt}?date_from=2024-05-10&date_to=2024-05-01")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "«Дата от» не может быть позже «Даты до»" in response.text
    bad = await client.get(f"/archive/export.{fmt}?date_from=31.02.2024")
    assert bad.status_code == 422
    assert "Неверная дата: укажите дату в формате ДД.ММ.ГГГГ" in bad.text


async def test_text_cells_never_become_formulas(client, demo_db):
    meter = await db.fetchval(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' ORDER BY m.id LIMIT 1""",
        demo_db["linked_contract"])
    await db.execute("UPDATE meter SET address = '=HYPERLINK(\"http://evil\")' WHERE id = $1",
                     meter)
    await login(client)
    csv_body = (await client.get("/archive/export.csv")).content.decode("utf-8-sig")
    assert ";'=HYPERLINK(\"\"http://evil\"\")\";" in csv_body or \
        ";\"'=HYPERLINK(\"\"http://evil\"\")\";" in csv_body
    book = openpyxl.load_workbook(io.BytesIO((await client.get("/archive/export.xlsx")).content))
    cells = [c for c in book.active["D"] if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" for c in cells)  # a string, not a formula


async def test_rows_come_from_the_cursor_in_batches(demo_db):
    f = ArchiveFilter(demo_db["subscriber"])
    batches = [batch async for batch in archive_batches(f, batch=100)]
    assert [len(b) for b in batches] == [100, 100, 88]
    first_page, total, _ = await archive_page(f, 1)
    assert total == 288 and batches[0][:PAGE_SIZE] == first_page


async def test_archive_page_offers_both_exports_with_the_current_filter(client, demo_db):
    await login(client)
    response = await client.get("/archive?kind=hot&date_from=2000-01-01")
    assert 'href="/archive/export.xlsx?kind=hot&amp;date_from=2000-01-01" download' \
        in response.text
    assert 'href="/archive/export.csv?kind=hot&amp;date_from=2000-01-01" download' \
        in response.text
    assert "Выгрузить в Excel" in response.text and "Выгрузить CSV" in response.text
    empty = await client.get("/archive?date_from=2000-01-01&date_to=2000-01-02")
    assert "Выгрузить в Excel" not in empty.text  # nothing found, nothing to export
