"""import-billing: good, bad (nothing imported), idempotent, changed rows update."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import db
from app.billing.directory import ImportFailed, import_billing
from tests.helpers import ROOT

GOOD = {
    "counterparties.csv": "\ufeffid;name;inn\n1;ООО Ромашка;7707083893\n2;ИП Иванов;500100732259\n",
    "contracts.csv": "id,number,counterparty_id,signed_on,deadline_day,discharge_deadline_day\n"
                     "15303, Д-15303 ,1,2018-10-05,8,6\n15400,A-1,2,2019-01-10,25,\n",
    "points.csv": "id;contract_id;address\n10;15303;г Ижевск, ул. Ленина, дом 114\n"
                  "11;15400;ул. Кирова, 5\n",
    "meters.csv": "id;point_id;serial;model;address;verification_due;digits;kind\n"
                  "49589;10;13 300963;VLF-R-1.5;г Ижевск, ул. Ленина, дом 114;2019-07-05;5;cold\n"
                  "49590;10;13 300964;СГВ-15;г Ижевск, ул. Ленина, дом 114;;;hot\n",
    "readings.csv": "meter_id;period;value;read_on\n49589;2018-09;231;2018-09-04\n",
    "volumes.csv": "meter_id;period;volume;read_on\n49590;2018-09;1,250;2018-09-04\n",
}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


async def counts() -> dict[str, int]:
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in
            ("counterparty", "contract", "connection_point", "meter", "reading")}


async def test_good_import_then_idempotent_then_update(clean_db, tmp_path):
    d = write(tmp_path / "b", GOOD)
    report = await import_billing(d)
    assert report.inserted["meters.csv"] == 2
    assert await counts() == {"counterparty": 2, "contract": 2, "connection_point": 2,
                              "meter": 2, "reading": 2}
    contract = await db.fetchrow("SELECT * FROM contract WHERE billing_id = 15400")
    assert contract["discharge_deadline_day"] == 25  # defaults to the reading day
    again = await import_billing(d)
    assert sum(again.inserted.values()) == 0 and sum(again.updated.values()) == 0
    changed = dict(GOOD, **{"points.csv": GOOD["points.csv"].replace("Кирова, 5", "Кирова, 7")})
    report = await import_billing(write(d, changed))
    assert report.updated["points.csv"] == 1 and report.unchanged["points.csv"] == 1
    assert await db.fetchval("SELECT address FROM connection_point WHERE billing_id = 11") == \
        "ул. Кирова, 7"
    number = await db.fetchrow("SELECT number, number_norm FROM contract WHERE billing_id=15303")
    assert number["number"] == "Д-15303" and number["number_norm"] == "д-15303"


@pytest.mark.parametrize("file,text,expected", [
    ("counterparties.csv", "id;name;inn\n1;ООО Ромашка;7707083894\n", "counterparties.csv:2:"),
    ("meters.csv", GOOD["meters.csv"] + "49591;99;1;m;a;;5;cold\n", "meters.csv:4:"),
    ("readings.csv", "meter_id;period;value;read_on\n49589;2018-13;1;2018-09-04\n",
     "readings.csv:2:"),
    ("contracts.csv", "id,number,counterparty_id,signed_on\n1,2,3,2018-01-01\n",
     "contracts.csv:1:"),
])
async def test_bad_row_reports_file_line_and_imports_nothing(clean_db, tmp_path, file, text,
                                                             expected):
    d = write(tmp_path / "b", {**GOOD, file: text})
    with pytest.raises(ImportFailed) as info:
        await import_billing(d)
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors
    assert await counts() == {"counterparty": 0, "contract": 0, "connection_point": 0,
                              "meter": 0, "reading": 0}


def test_cli_reports_errors_on_stderr(tmp_path, clean_db):
    d = write(tmp_path / "b", {**GOOD, "points.csv": "id;contract_id;address\n10;777;x\n"})
    result = subprocess.run([sys.executable, "-m", "app", "import-billing", str(d)],
                            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True)
    assert result.returncode == 1
    assert "points.csv:2: contract_id: unknown id 777" in result.stderr
    assert "nothing imported" in result.stderr
