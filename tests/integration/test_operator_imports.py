"""«Загрузка данных биллинга»: the upload is the CLI import (same counts, same errors, nothing
half-imported), bad uploads get one message and store nothing, one import at a time, the
progress block polls while the job runs and stops when it ends."""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
import zipfile

import httpx
import pytest

from app import db
from app.billing.directory import ImportFailed, import_billing, run_upload
from tests.helpers import create_user, csrf_of, login, truncate_all
from tests.integration.test_billing_directory import GOOD, counts, write

OPERATOR = ("op1@izhvodokanal.example", "operpass-2026-1")


def zipped(files: dict[str, bytes | str], **kwargs) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content.encode() if isinstance(content, str) else content, **kwargs)
    return out.getvalue()


async def upload(client, files: list[tuple[str, bytes]], **kwargs) -> httpx.Response:
    if not client.cookies.get("csrftoken"):
        await client.get("/")
    return await client.post(
        "/operator/imports", data={"_csrf_token": csrf_of(client)},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        **kwargs)


async def operator(client) -> int:
    uid = await create_user(OPERATOR[0], OPERATOR[1], role="operator")
    await login(client, *OPERATOR)
    return uid


async def run_job() -> dict:
    """What the worker does with the queued import (the same job function)."""
    import_id = await db.fetchval("SELECT max(id) FROM billing_import")
    await run_upload(import_id)
    return dict(await db.fetchrow("SELECT * FROM billing_import WHERE id = $1", import_id))


BAD = {
    **GOOD,
    "contracts.csv": GOOD["contracts.csv"] + "15500,B-1,99,2019-01-10,32,\n",
    "meters.csv": GOOD["meters.csv"] + "49591;10;1;M;addr;2019-13-01;5;steam\n",
}


REFS = {**GOOD, "points.csv": GOOD["points.csv"].replace("11;15400", "11;99999")}


@pytest.mark.parametrize("files", [GOOD, BAD, REFS], ids=["good", "bad-rows", "bad-refs"])
async def test_upload_equals_cli_import(client, clean_db, tmp_path, files):
    directory = write(tmp_path / "dir", files)
    try:
        report = await import_billing(directory)
        cli = {"counts": {name: {"inserted": report.inserted[name],
                                 "updated": report.updated[name],
                                 "unchanged": report.unchanged[name]} for name in report.inserted},
               "errors": []}
    except ImportFailed as exc:
        cli = {"counts": {}, "errors": exc.errors}
    cli_tables = await counts()
    await truncate_all()

    await operator(client)
    r = await upload(client, [("billing.zip", zipped(files))])
    assert r.status_code == 303, r.text
    row = await run_job()
    assert json.loads(row["counts"]) == cli["counts"]
    assert json.loads(row["errors"]) == cli["errors"]
    assert await counts() == cli_tables
    assert row["state"] == ("failed" if cli["errors"] else "done")
    page = await client.get("/operator/imports")
    for line in cli["errors"]:
        assert line in html.unescape(page.text)
    if files is BAD:
        assert len(cli["errors"]) == 3 and cli_tables["contract"] == 0  # nothing half-imported
        assert "meters.csv:4: kind: expected 'cold' or 'hot', got 'steam'" in cli["errors"]
    if files is REFS:  # found inside the import's transaction: rolled back, nothing written
        assert cli["errors"] == ["points.csv:3: contract_id: unknown id 99999"]
        assert cli_tables["counterparty"] == 0
    assert await db.fetchval("SELECT count(*) FROM billing_import_file") == 0
    audit = await db.fetchval("SELECT array_agg(action ORDER BY id) FROM audit_event")
    assert audit[-2:] == ["billing_import_started",
                          "billing_import_failed" if cli["errors"] else "billing_import_done"]


async def test_six_csv_files_and_cp1251(client, clean_db):
    await operator(client)
    parts = [(name, text.encode()) for name, text in GOOD.items()]
    assert (await upload(client, parts)).status_code == 303
    assert (await run_job())["state"] == "done"
    assert (await counts())["meter"] == 2
    # A file saved by Excel as Windows-1251: the import's own message, nothing imported.
    parts[0] = ("counterparties.csv", GOOD["counterparties.csv"].replace("\ufeff", "")
                .replace("Ромашка", "Лютик").encode("cp1251"))
    assert (await upload(client, parts)).status_code == 303
    row = await run_job()
    assert row["state"] == "failed" and "counterparties.csv:1: not UTF-8" in row["errors"]
    assert await db.fetchval("SELECT count(*) FROM counterparty WHERE name LIKE '%Лютик%'") == 0


def _bomb() -> bytes:
    files = {name: text for name, text in GOOD.items()}
    files["readings.csv"] = GOOD["readings.csv"] + "\n" * (20 * 1024 * 1024)
    return zipped(files)


def _lying_bomb() -> bytes:
    """The zip's directory claims a small size; only the inflated bytes tell the truth."""
    data = bytearray(zipped({**GOOD, "readings.csv": GOOD["readings.csv"] + " " * 5_000_000}))
    # Patch the central directory's uncompressed size of readings.csv down to 100 bytes.
    name = b"readings.csv"
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    data[at + 24:at + 28] = (100).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("parts, message", [
    ([], "Выберите шесть файлов CSV"),
    ([("billing.zip", zipped({**GOOD, "notes.txt": "x"}))], "Лишние файлы: notes.txt"),
    ([("billing.zip", zipped({k: v for k, v in GOOD.items() if k != "points.csv"}))],
     "Не хватает файлов: points.csv"),
    ([("billing.zip", zipped({f"dir/{k}": v for k, v in GOOD.items()}))],
     "Файлы должны лежать в корне архива"),
    ([("billing.zip", zipped({**GOOD, "inner.zip": zipped(GOOD)}))], "Лишние файлы: inner.zip"),
    ([("billing.zip", b"PK\x03\x04 not really a zip")], "Архив повреждён"),
    ([("billing.zip", _bomb())], "Архив после распаковки слишком велик"),
    # zipfile inflates no more than the size the directory states, then the CRC fails.
    ([("billing.zip", _lying_bomb())], "Архив повреждён"),
    ([("billing.zip", zipped(GOOD)), ("points.csv", b"id\n")], "либо один ZIP-архив"),
    ([(name, text.encode()) for name, text in list(GOOD.items())[:5]],
     "Не хватает файлов: volumes.csv"),
    ([(name, text.encode()) for name, text in GOOD.items()] + [("points.csv", b"x")],
     "Файл points.csv загружен дважды"),
], ids=["none", "extra", "missing", "nested", "zip-in-zip", "damaged", "bomb", "lying-bomb",
        "mixed", "csv-missing", "csv-twice"])
async def test_bad_upload_one_message_nothing_stored(client, clean_db, parts, message):
    await operator(client)
    r = await upload(client, parts, headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert message in r.text
    assert r.text.lstrip().startswith('<section class="card wide" id="upload"')
    assert await db.fetchval("SELECT count(*) FROM billing_import") == 0


async def test_200_mb_refused_by_size_before_it_is_read(client, clean_db):
    await operator(client)
    await client.get("/")
    sent = 0

    async def body():
        nonlocal sent
        for _ in range(200):
            sent += 1
            yield b"x" * (1024 * 1024)

    r = await client.post(
        "/operator/imports", content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=b", "X-CSRFToken":
                 csrf_of(client), "Content-Length": str(200 * 1024 * 1024),
                 "HX-Request": "true"})
    assert r.status_code == 413
    assert "Загрузка больше 100 МБ" in r.text
    assert sent <= 2  # answered on the Content-Length, the body was not read
    assert await db.fetchval("SELECT count(*) FROM billing_import") == 0


async def test_two_operators_at_once_one_import(client, clean_db):
    await operator(client)
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url),
                              follow_redirects=False)
    async with other:
        await create_user("op2@izhvodokanal.example", "operpass-2026-2", role="operator")
        await login(other, "op2@izhvodokanal.example", "operpass-2026-2")
        archive = zipped(GOOD)
        first, second = await asyncio.gather(upload(client, [("a.zip", archive)]),
                                             upload(other, [("b.zip", archive)]))
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [303, 409], (first.text, second.text)
        refused = first if first.status_code == 409 else second
        assert "Загрузка данных уже выполняется" in refused.text
        assert await db.fetchval("SELECT count(*) FROM billing_import") == 1
        await run_job()
        # Once it has finished, the next upload is accepted.
        assert (await upload(other, [("b.zip", archive)])).status_code == 303


async def test_progress_block_polls_while_running_and_survives_reload(client, clean_db):
    await operator(client)
    await upload(client, [("billing.zip", zipped(GOOD))])
    import_id = await db.fetchval("SELECT id FROM billing_import")
    page = await client.get("/operator/imports")  # a reload shows the running import, polling
    assert f'hx-get="/operator/imports/{import_id}" hx-trigger="every 1s"' in page.text
    block = await client.get(f"/operator/imports/{import_id}", headers={"HX-Request": "true"})
    assert block.text.lstrip().startswith('<div id="import-status"')
    assert "В очереди" in block.text and "every 1s" in block.text
    await run_job()
    block = await client.get(f"/operator/imports/{import_id}", headers={"HX-Request": "true"})
    assert "every 1s" not in block.text and 'value="100"' in block.text
    assert "Добавлено: 10, изменено: 0, без изменений: 0" in block.text
    assert 'id="import-history" hx-swap-oob="true"' in block.text
    assert re.search(r"op1@izhvodokanal\.example</td>\s*<td>Загружено", block.text)
    assert (await client.get("/operator/imports/999999")).status_code == 404


async def test_subscriber_403(client, clean_db):
    await create_user("sub@example.ru", "secret-pass-123")
    await login(client, "sub@example.ru", "secret-pass-123")
    assert (await client.get("/operator/imports")).status_code == 403
    r = await upload(client, [("billing.zip", zipped(GOOD))])
    assert r.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM billing_import") == 0
