"""«Скачать шаблон» / «Загрузить из файла» on a real PostgreSQL (SPEC §7, issue 12): real files
written by XlsxWriter (our template) and openpyxl, a cp1251 `;` CSV; every bad input gets its
one message and nothing is saved; another organization's meters fill nothing; a
decompression bomb is refused without the process' memory growing."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import psutil
import pytest
import xlsxwriter

from app import db
from app.domain.calendar import month_start, period_value
from app.settings import today
from tests.helpers import csrf_of, login

CONTRACT = 15303


async def grid_meters(billing_id: int = CONTRACT, kind: str = "cold") -> list[dict]:
    rows = await db.fetch(
        """SELECT m.id, m.billing_id AS code, m.serial, m.digits, c.id AS contract,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                   ORDER BY period DESC LIMIT 1) AS previous,
                  (SELECT read_on FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                   ORDER BY period DESC LIMIT 1) AS previous_on
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND m.kind = $2 AND m.active
           ORDER BY p.address, m.billing_id, m.id""",
        billing_id, kind,
    )
    return [dict(r) for r in rows]


async def reading_count() -> int:
    return await db.fetchval("SELECT count(*) FROM reading WHERE period = $1",
                             month_start(today()))


def period() -> str:
    return period_value(month_start(today()))


async def upload(client, kind: str, contract: int, name: str, content: bytes,
                 fields: dict | None = None, htmx: bool = True):
    """The upload as the grid's button sends it: by htmx (the grid block back), or without
    JavaScript (PRG: a 303 to the grid, whose GET shows the filled grid — returned)."""
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    data = {"_csrf_token": csrf_of(client), "contract": str(contract), "period": period(),
            **(fields or {})}
    headers = {"HX-Request": "true"} if htmx else {}
    response = await client.post(
        f"/readings/{kind}/upload?contract={contract}&period={period()}",
        data=data, files={"file": (name, content)}, headers=headers)
    if htmx or response.status_code != 303:
        return response
    assert response.headers["location"].startswith(f"/readings/{kind}?contract={contract}&")
    return await client.get(response.headers["location"])


def input_value(html: str, meter_id: int, field: str = "value") -> str:
    m = re.search(rf'id="{field}-{meter_id}" name="{field}-{meter_id}" value="([^"]*)"', html)
    assert m, f"no {field} input for meter {meter_id}"
    return m.group(1)


def workbook(rows: list[list], title_rows: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Показания"
    for _ in range(title_rows):
        sheet.append([])
    if title_rows:
        sheet["A1"] = "Показания ХВС за месяц"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COLD_HEADER = ["Код прибора", "Номер прибора учёта", "Текущее показание",
               "Дата текущего показания"]


async def test_template_download_is_the_grid_as_xlsx(client, demo_db):
    await login(client)
    meters = await grid_meters()
    response = await client.get(
        f"/readings/cold/template?contract={meters[0]['contract']}&period={period()}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and str(CONTRACT) in disposition
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Показания"]
    header = [c.value for c in sheet[1]]
    assert header == ["Код прибора", "Номер прибора учёта", "Адрес установки прибора учёта",
                      "Предыдущее показание", "Дата предыдущего показания",
                      "Текущее показание", "Дата текущего показания"]
    assert sheet.freeze_panes == "A2"
    assert sheet.protection.sheet and not sheet.protection.password
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [m["code"] for m in meters]
    assert [r[1] for r in rows] == [m["serial"] for m in meters]
    first = next(r for r, m in zip(rows, meters, strict=True) if m["previous"] is not None)
    assert isinstance(first[4], datetime)  # a real Excel date
    cell = sheet.cell(row=2, column=6)
    assert cell.protection.locked is False and cell.fill.fgColor.rgb.endswith("FFF2CC")
    assert sheet.cell(row=2, column=1).protection.locked is True
    assert sheet.cell(row=2, column=5).number_format == "dd.mm.yyyy"

    hot = await client.get(f"/readings/hot/template?contract={meters[0]['contract']}")
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(hot.content)).active[1]]
    assert header == ["Код прибора", "Адрес установки прибора учета", "Предыдущий объем",
                      "Дата предыдущего показания", "Текущий объем", "Дата текущего показания"]


async def test_template_of_another_organization_is_404(client, demo_db):
    await login(client)
    response = await client.get(
        f"/readings/cold/template?contract={demo_db['foreign_contract']}")
    assert response.status_code == 404


async def test_filled_template_fills_the_grid_with_verdicts_and_saves_nothing(client, demo_db):
    await login(client)
    meters = await grid_meters()
    contract = meters[0]["contract"]
    response = await client.get(f"/readings/cold/template?contract={contract}&period={period()}")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    good, bad = meters[1], meters[2]
    for r in range(2, sheet.max_row + 1):
        code = sheet.cell(row=r, column=1).value
        if code == good["code"]:
            sheet.cell(row=r, column=6).value = int(good["previous"]) + 3
            sheet.cell(row=r, column=7).value = datetime.combine(today(), datetime.min.time())
        elif code == bad["code"]:
            sheet.cell(row=r, column=6).value = "12,5"
    out = io.BytesIO()
    book.save(out)
    before = await reading_count()

    response = await upload(client, "cold", contract, "template.xlsx", out.getvalue(),
                            htmx=True)
    assert response.status_code == 200, response.text
    html = response.text
    assert html.lstrip().startswith('<div id="grid">')  # the htmx fragment
    assert "Из файла заполнено строк: 2" in html
    assert input_value(html, good["id"]) == str(int(good["previous"]) + 3)
    assert input_value(html, good["id"], "date") == today().strftime("%d.%m.%Y")
    assert "Расход" in html
    assert input_value(html, bad["id"]) == "12,5"
    assert re.search(rf'<tr id="row-{bad["id"]}" class="row-error"', html)
    assert "Передаются только чёрные цифры" in html
    assert await reading_count() == before  # the upload saved nothing


async def test_csv_cp1251_semicolon_and_matching_by_serial(client, demo_db):
    await login(client)
    meters = await grid_meters()
    m = meters[0]
    text = ("Номер прибора учёта;Адрес;Текущее показание;Дата текущего показания\r\n"
            f"{m['serial']};где-то;{int(m['previous']) + 1};{today():%d.%m.%Y}\r\n")
    response = await upload(client, "cold", m["contract"], "readings.csv",
                            text.encode("cp1251"), htmx=False)
    assert response.status_code == 200, response.text
    assert "Из файла заполнено строк: 1" in response.text
    assert input_value(response.text, m["id"]) == str(int(m["previous"]) + 1)
    # without htmx: PRG, the whole page of the grid's GET, which says the values came from
    # a file (the audit's channel) until they are saved
    assert "<html" in response.text
    assert 'name="channel" value="upload"' in response.text


async def test_header_under_a_title_extra_columns_text_numbers_serial_dates(client, demo_db):
    await login(client)
    meters = await grid_meters(kind="hot")
    m = meters[0]
    serial_day = (today() - date(1899, 12, 30)).days
    content = workbook([
        ["Примечание", "ТЕКУЩИЙ  ОБЪЕМ", "код прибора", "Дата текущего показания"],
        ["что-то", "1\u00a0234,5", m["code"], serial_day],
    ], title_rows=2)
    response = await upload(client, "hot", m["contract"], "x.xlsx", content)
    assert response.status_code == 200, response.text
    assert "Из файла заполнено строк: 1" in response.text
    assert input_value(response.text, m["id"]) == "1234,5"
    assert input_value(response.text, m["id"], "date") == today().strftime("%d.%m.%Y")


async def test_english_headers_are_recognised(client, demo_db):
    await login(client)
    m = (await grid_meters())[0]
    content = workbook([["Meter code", "Current reading", "Current reading date"],
                        [m["code"], int(m["previous"]) + 1, None]])
    response = await upload(client, "cold", m["contract"], "x.xlsx", content, htmx=False)
    assert "Из файла заполнено строк: 1" in response.text, response.text


async def test_unused_rows_are_listed_with_their_row_numbers(client, demo_db):
    await login(client)
    meters = await grid_meters()
    foreign = await grid_meters(16010)
    m0, m1, m2 = meters[:3]
    content = workbook([
        COLD_HEADER,
        [m0["code"], None, int(m0["previous"]) + 1, None],  # row 2: used
        [m1["code"], None, int(m1["previous"]) + 1, None],  # row 3: twice
        [m1["code"], None, int(m1["previous"]) + 2, None],  # row 4: twice
        [foreign[0]["code"], None, 5, None],  # row 5: another organization's
        [None, foreign[1]["serial"], 5, None],  # row 6: another organization's serial
        [m2["code"], None, None, None],  # row 7: empty value, left as it was
        [None, None, 7, None],  # row 8: no meter
        [m2["code"] + 10**6, None, 1, True],  # row 9: a boolean date
    ])
    response = await upload(client, "cold", m0["contract"], "x.xlsx", content)
    html = response.text
    assert response.status_code == 200
    assert "Из файла заполнено строк: 1" in html
    assert "Строк без текущего значения: 1" in html
    assert f"Строка 3: прибор учёта {m1['code']} указан в файле дважды" in html
    assert f"Строка 4: прибор учёта {m1['code']} указан в файле дважды" in html
    assert f"Строка 5: прибор учёта {foreign[0]['code']} не найден в договоре" in html
    assert f"Строка 6: прибор учёта {foreign[1]['serial']} не найден в договоре" in html
    assert "Строка 8: не указан прибор учёта" in html
    assert "Строка 9: значение не распознано" in html
    assert input_value(html, m1["id"]) == ""


async def test_a_file_naming_another_contracts_meters_fills_nothing(client, demo_db):
    await login(client)
    own = await grid_meters()
    foreign = await grid_meters(16010) + await grid_meters(15304)
    content = workbook([COLD_HEADER] + [[m["code"], None, 1, None] for m in foreign]
                       + [[None, m["serial"], 1, None] for m in foreign])
    response = await upload(client, "cold", own[0]["contract"], "x.xlsx", content)
    html = response.text
    assert "Из файла заполнено строк: 0" in html
    assert html.count("не найден в договоре") == 2 * len(foreign)
    for m in own:
        assert input_value(html, m["id"]) in ("",) or m["previous"] is None


async def test_a_large_grids_form_posts_with_its_file(client, demo_db):
    """The upload button posts the whole grid form: two inputs per row, more than Litestar's
    default 1 000 multipart parts for a 500-meter grid (was a 400 error page)."""
    await login(client)
    m = (await grid_meters())[0]
    rows = {f"value-{10_000_000 + i}": "" for i in range(1_200)}
    rows |= {f"date-{10_000_000 + i}": "01.01.2026" for i in range(1_200)}
    content = workbook([COLD_HEADER, [m["code"], None, int(m["previous"]) + 1, None]])
    response = await upload(client, "cold", m["contract"], "x.xlsx", content, rows)
    assert response.status_code == 200, response.text[:300]
    assert "Из файла заполнено строк: 1" in response.text


async def test_merged_cells_and_formulas_as_excel_saves_them(client, demo_db):
    """A title merged over the columns, a merged date cell spanning two rows (only its
    top-left cell has the value), values computed by formulas (their cached results)."""
    await login(client)
    m0, m1, m2 = (await grid_meters())[:3]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Показания")
    sheet.merge_range(0, 0, 0, 3, "Показания ХВС за месяц")
    sheet.write_row(2, 0, COLD_HEADER)
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    for r, meter in enumerate((m0, m1, m2), start=3):
        sheet.write_number(r, 0, meter["code"])
    sheet.write_formula(3, 2, f"={int(m0['previous'])}+2", None, int(m0["previous"]) + 2)
    sheet.write_formula(4, 2, f"=C4+{int(m1['previous']) - int(m0['previous'])}", None,
                        int(m1["previous"]) + 2)
    sheet.merge_range(3, 3, 4, 3, None)
    sheet.write_datetime(3, 3, datetime.combine(today(), datetime.min.time()), day)
    sheet.write_number(5, 2, int(m2["previous"]) + 1)
    book.close()
    response = await upload(client, "cold", m0["contract"], "merged.xlsx", out.getvalue())
    html = response.text
    assert response.status_code == 200, html[:300]
    assert "Из файла заполнено строк: 3" in html
    assert input_value(html, m0["id"]) == str(int(m0["previous"]) + 2)
    assert input_value(html, m1["id"]) == str(int(m1["previous"]) + 2)
    assert input_value(html, m0["id"], "date") == today().strftime("%d.%m.%Y")
    assert input_value(html, m1["id"], "date") == ""  # the merged area's other cell: empty


async def test_file_values_get_the_verdicts_typed_values_get(client, demo_db):
    """Negative, too many digits, a date in the future, a date before the previous reading:
    each row filled and red with the grid's own message; nothing saved."""
    await login(client)
    meters = [m for m in await grid_meters() if m["previous_on"] is not None][:4]
    negative, big, future, early = meters
    tomorrow = today() + timedelta(days=1)
    content = workbook([
        COLD_HEADER,
        [negative["code"], None, "-5", None],
        [big["code"], None, 10 ** big["digits"], None],
        [future["code"], None, int(future["previous"]) + 1, tomorrow.strftime("%d.%m.%Y")],
        [early["code"], None, int(early["previous"]) + 1,
         datetime.combine(early["previous_on"] - timedelta(days=1), datetime.min.time())],
    ])
    before = await reading_count()
    response = await upload(client, "cold", meters[0]["contract"], "x.xlsx", content)
    html = response.text
    assert "Из файла заполнено строк: 4" in html
    for m in meters:
        assert re.search(rf'<tr id="row-{m["id"]}" class="row-error"', html), m

    def feedback(meter_id: int) -> str:
        row = html[html.index(f'<tr id="row-{meter_id}"'):]
        return row[:row.index("</tr>")]

    assert "Показание должно быть от 0 до" in feedback(negative["id"])
    assert "Показание должно быть от 0 до" in feedback(big["id"])
    assert "Дата показания не может быть в будущем" in feedback(future["id"])
    assert "не может быть раньше даты предыдущего показания" in feedback(early["id"])
    assert await reading_count() == before


async def test_a_serial_two_meters_share_is_refused_for_that_row(client, demo_db):
    await login(client)
    m0, m1, m2 = (await grid_meters())[:3]
    await db.execute("UPDATE meter SET serial = $1 WHERE id = $2", m0["serial"], m1["id"])
    content = workbook([
        ["Номер прибора учёта", "Текущее показание"],
        [m0["serial"], int(m0["previous"]) + 1],
        [m2["serial"], int(m2["previous"]) + 1],
    ])
    response = await upload(client, "cold", m0["contract"], "x.xlsx", content)
    html = response.text
    assert "Из файла заполнено строк: 1" in html
    assert (f"Строка 2: номер прибора учёта {m0['serial']} есть у нескольких приборов "
            "договора — укажите «Код прибора»") in html
    assert input_value(html, m0["id"]) == input_value(html, m1["id"]) == ""
    assert input_value(html, m2["id"]) == str(int(m2["previous"]) + 1)


async def test_an_empty_current_value_leaves_the_typed_row_as_it_was(client, demo_db):
    await login(client)
    m0, m1 = (await grid_meters())[:2]
    typed = {f"value-{m0['id']}": "4242", f"date-{m0['id']}": "01.03.2026"}
    content = workbook([COLD_HEADER, [m0["code"], None, None, None],
                        [m1["code"], None, int(m1["previous"]) + 1, None]])
    response = await upload(client, "cold", m0["contract"], "x.xlsx", content, typed)
    html = response.text
    assert "Из файла заполнено строк: 1" in html and "Строк без текущего значения: 1" in html
    assert input_value(html, m0["id"]) == "4242"
    assert input_value(html, m0["id"], "date") == "01.03.2026"


async def test_upload_to_another_organizations_contract_is_404(client, demo_db):
    await login(client)
    foreign = await grid_meters(16010)
    content = workbook([COLD_HEADER, [foreign[0]["code"], None, 1, None]])
    response = await upload(client, "cold", demo_db["foreign_contract"], "x.xlsx", content)
    assert response.status_code == 404
    assert foreign[0]["serial"] not in response.text


def bomb() -> bytes:
    """A valid-looking XLSX whose sheet inflates to 1 GB (a few MB compressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(1024):
                sheet.write(chunk)
    return out.getvalue()


def lying_bomb() -> bytes:
    """The same, but its directory claims the sheet is 1 000 bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" * (80 << 20))
    data = bytearray(out.getvalue())
    # patch the uncompressed size of the last entry in the central directory and local header
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")
    local = info.header_offset
    data[local + 22:local + 26] = (1000).to_bytes(4, "little")
    return bytes(data)


BAD_FILES = [
    ("empty.xlsx", b"", "Файл пустой"),
    ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02" * 400, "Это не таблица"),
    ("program.xlsx", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 600, "Это не таблица"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
     + "Workbook".encode("utf-16-le") + b"\x00" * 400, "старого формата Excel (.xls)"),
    ("secret.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
     + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 400, "защищён паролем"),
    ("nothing.csv", "Адрес;Что-то\r\nа;б\r\n".encode(), "не найдена строка заголовков"),
    ("big.csv", b"a;b\r\n" * (1_100_000 + 10), "больше 5 МБ"),
    ("rows.csv", ("Код прибора;Текущее показание\r\n" + "1;1\r\n" * 10_001).encode(),
     "больше 10000 строк"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
async def test_bad_files_get_one_message_and_nothing_is_saved(client, demo_db, name, content,
                                                              message):
    await login(client)
    m = (await grid_meters())[0]
    before = await reading_count()
    typed = {f"value-{m['id']}": "777", f"date-{m['id']}": today().strftime("%d.%m.%Y")}
    response = await upload(client, "cold", m["contract"], name, content, typed, htmx=True)
    assert response.status_code == 422, response.text[:500]
    assert message in response.text
    assert 'id="grid-message"' in response.text
    assert input_value(response.text, m["id"]) == "777"  # the grid keeps what it had
    assert await reading_count() == before


async def test_a_docx_is_not_a_spreadsheet(client, demo_db):
    await login(client)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    m = (await grid_meters())[0]
    response = await upload(client, "cold", m["contract"], "report.xlsx", out.getvalue())
    assert response.status_code == 422 and "Это не таблица" in response.text


async def test_no_file_chosen(client, demo_db):
    await login(client)
    m = (await grid_meters())[0]
    response = await upload(client, "cold", m["contract"], "", b"")
    assert response.status_code == 200
    assert "Выберите файл" in response.text


class PeakRss:
    """The peak resident memory of this process (the app runs in it) during a block, above
    what it was before: the kernel's high-water mark (VmHWM), reset first by writing 5 to
    /proc/self/clear_refs; where that is refused, a thread sampling the RSS every 2 ms."""

    def __enter__(self) -> PeakRss:
        self.process = psutil.Process()
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = None
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.kernel = True
        except OSError:
            self.kernel = False
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc) -> None:
        if self.kernel:
            status = Path("/proc/self/status").read_text()
            self.peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
        else:
            self._stop.set()
            self._thread.join()

    @property
    def grown_mb(self) -> float:
        return (self.peak - self.before) / 2**20


def test_peak_rss_sees_a_transient_allocation():
    """The meter itself: 200 MB allocated and freed inside the block is seen."""
    with PeakRss() as meter:
        block = bytearray(200 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        del block
    assert meter.grown_mb > 150


@pytest.mark.parametrize(("make", "message"), [
    (bomb, "после распаковки слишком велик"),
    # its directory lies: the reader stops at the claimed size and the checksum fails
    (lying_bomb, "Файл Excel повреждён"),
], ids=["bomb", "lying-bomb"])
async def test_decompression_bomb_is_refused_without_memory_growing(client, demo_db, make,
                                                                   message):
    await login(client)
    m = (await grid_meters())[0]
    content = make()
    assert len(content) < 5 * 1024 * 1024
    with PeakRss() as meter:
        response = await upload(client, "cold", m["contract"], "bomb.xlsx", content)
    assert response.status_code == 422
    assert message in response.text
    print(f"{make.__name__}: {len(content) / 2**20:.1f} MB file, peak RSS +{meter.grown_mb:.1f} MB")
    # the file itself is in memory a few times (multipart, spooled upload, zip reader)
    assert meter.grown_mb < 30, f"peak RSS grew by {meter.grown_mb:.0f} MB"


# ---------------------------------------------------------------- issue 12: the rest


def form_fields(html: str) -> dict[str, str]:
    """What the grid form posts: its drawn and carried inputs (value-/date-/shown_page…)."""
    fields = dict(re.findall(r'name="((?:value|date|rollover|anomaly)-\d+)" value="([^"]*)"',
                             html))
    for name in ("contract", "period", "shown_page", "channel"):
        if m := re.search(rf'name="{name}" value="([^"]*)"', html):
            fields[name] = m.group(1)
    return fields


async def test_template_by_the_button_carries_typed_values_and_saves_nothing(client, demo_db):
    """«Скачать шаблон» posts the grid form: a typed, unsaved value is in the file (a
    number, its date a real date); a foreign meter's input is ignored; nothing is saved."""
    await login(client)
    meters = await grid_meters()
    m0, m1 = meters[0], meters[1]
    foreign = (await grid_meters(16010))[0]
    before = await reading_count()
    typed = str(int(m0["previous"]) + 2)
    response = await client.post(
        f"/readings/cold/template?contract={m0['contract']}&period={period()}",
        data={"_csrf_token": csrf_of(client), "contract": str(m0["contract"]),
              "period": period(), f"value-{m0['id']}": typed,
              f"date-{m0['id']}": today().strftime("%d.%m.%Y"),
              f"value-{m1['id']}": "abc", f"date-{m1['id']}": "",
              f"value-{foreign['id']}": "777", f"date-{foreign['id']}": ""})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Показания"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[m0["code"]][5] == int(typed)
    assert rows[m0["code"]][6] == datetime.combine(today(), datetime.min.time())
    assert rows[m1["code"]][5] == "abc"  # not a number: kept as typed, for the user to fix
    assert foreign["code"] not in rows
    assert await reading_count() == before

    # without the CSRF token the POST is refused like any other
    refused = await client.post(
        f"/readings/cold/template?contract={m0['contract']}",
        data={"contract": str(m0["contract"]), f"value-{m0['id']}": typed})
    assert refused.status_code == 403


async def test_upload_without_javascript_is_post_redirect_get(client, demo_db):
    """A plain-form upload answers 303 to the grid; its GET shows the filled grid once — a
    reload (F5) is a GET of the grid: nothing posted again, nothing saved."""
    await login(client)
    m = (await grid_meters())[0]
    before = await reading_count()
    content = workbook([COLD_HEADER, [m["code"], None, int(m["previous"]) + 1, None]])
    await client.get("/")
    response = await client.post(
        f"/readings/cold/upload?contract={m['contract']}&period={period()}",
        data={"_csrf_token": csrf_of(client), "contract": str(m["contract"]),
              "period": period()}, files={"file": ("x.xlsx", content)})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == f"/readings/cold?contract={m['contract']}&period={period()}"
    page = await client.get(location)
    assert "Из файла заполнено строк: 1" in page.text
    assert input_value(page.text, m["id"]) == str(int(m["previous"]) + 1)
    again = await client.get(location)  # F5
    assert "Из файла заполнено строк" not in again.text
    assert await reading_count() == before

    # a bad file without JavaScript: the same PRG, its message on the GET
    bad = await client.post(
        f"/readings/cold/upload?contract={m['contract']}&period={period()}",
        data={"_csrf_token": csrf_of(client), "contract": str(m["contract"]),
              "period": period()}, files={"file": ("x.xlsx", b"")})
    assert bad.status_code == 303
    assert "Файл пустой" in (await client.get(bad.headers["location"])).text


async def test_a_long_grid_is_drawn_a_page_at_a_time_and_saves_every_row(client, demo_db,
                                                                         monkeypatch):
    """A grid longer than PAGE_ROWS draws one page; the other rows are hidden inputs of the
    same form, so a file's values on every page are saved by one «Сохранить значения»;
    the page buttons post the form (nothing saved, nothing typed lost); an upload opens on
    the first page with a row that needs the user."""
    from app.controllers import readings

    monkeypatch.setattr(readings, "PAGE_ROWS", 2)
    await login(client)
    meters = await grid_meters()
    assert len(meters) >= 5
    contract = meters[0]["contract"]
    grid = await client.get(f"/readings/cold?contract={contract}&period={period()}")
    assert grid.text.count('<tr id="row-') == 2
    assert 'id="grid-pages"' in grid.text
    assert f'type="hidden" class="grid-value" id="value-{meters[4]["id"]}"' in grid.text

    good = [m for m in meters[:5] if m is not meters[3]]
    bad = meters[3]  # page 2: its error decides the page the upload opens on
    content = workbook([COLD_HEADER] + [[m["code"], None, int(m["previous"]) + 1, None]
                                        for m in good] + [[bad["code"], None, "12,5", None]])
    response = await upload(client, "cold", contract, "x.xlsx", content)
    html = response.text
    assert f"Из файла заполнено строк: {len(good) + 1}" in html
    assert 'name="shown_page" value="2"' in html
    assert re.search(rf'<tr id="row-{bad["id"]}" class="row-error"', html)
    assert f'<tr id="row-{meters[0]["id"]}"' not in html  # page 1: carried, not drawn
    assert input_value(html, meters[0]["id"]) == str(int(meters[0]["previous"]) + 1)
    assert "требуют внимания: 1" in html

    # another page: every row as posted, nothing saved
    fields = form_fields(html)
    before = await reading_count()
    other = await client.post("/readings/cold/page", headers={"HX-Request": "true"},
                              data={"_csrf_token": csrf_of(client), **fields, "page": "1"})
    assert other.status_code == 200
    assert f'<tr id="row-{meters[0]["id"]}"' in other.text
    assert input_value(other.text, bad["id"]) == "12,5"
    assert 'name="channel" value="upload"' in other.text
    assert await reading_count() == before

    # without JavaScript the page button is PRG too
    plain = await client.post("/readings/cold/page",
                              data={"_csrf_token": csrf_of(client), **fields, "page": "3"})
    assert plain.status_code == 303 and plain.headers["location"].endswith("&page=3")
    shown = await client.get(plain.headers["location"])
    assert f'<tr id="row-{meters[4]["id"]}"' in shown.text
    assert input_value(shown.text, meters[4]["id"]) == str(int(meters[4]["previous"]) + 1)

    # «Сохранить значения» from page 2 saves the rows of every page
    fields = form_fields(other.text)
    fields[f"value-{bad['id']}"] = ""
    saved = await client.post("/readings/cold", headers={"HX-Request": "true"},
                              data={"_csrf_token": csrf_of(client), **fields,
                                    "action": "save"})
    assert f"Сохранено строк: {len(good)}." in saved.text
    rows = await db.fetch("SELECT meter, value, source FROM reading WHERE period = $1 AND "
                          "meter = ANY($2::int[])", month_start(today()),
                          [m["id"] for m in good])
    assert {r["meter"]: int(r["value"]) for r in rows} == {
        m["id"]: int(m["previous"]) + 1 for m in good}
