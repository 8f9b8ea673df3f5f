"""`import-billing DIR`: validate every file, then upsert everything in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app import db
from app.domain.billing_csv import FILES, check_references, parse_csv
from app.domain.inn import normalize_contract_number


class ImportFailed(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportReport:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"{name}: {self.inserted.get(name, 0)} inserted, {self.updated.get(name, 0)} updated, "
            f"{self.unchanged.get(name, 0)} unchanged"
            for name in self.inserted
        ]


def read_directory(directory: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """Parse every known CSV present in `directory` (missing files are simply not imported)."""
    data: dict[str, list[dict]] = {}
    errors: list[str] = []
    if not directory.is_dir():
        return {}, [f"{directory}: not a directory"]
    for filename in FILES:
        path = directory / filename
        if not path.exists():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            errors.append(f"{filename}:1: not UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        rows, file_errors = parse_csv(filename, text)
        data[filename] = rows
        errors.extend(file_errors)
    if not data and not errors:
        errors.append(f"{directory}: no billing files ({', '.join(FILES)})")
    return data, errors


async def _known_ids() -> dict[str, set[int]]:
    known: dict[str, set[int]] = {}
    for key, sql in {
        "counterparties": "SELECT billing_id FROM counterparty",
        "contracts": "SELECT billing_id FROM contract",
        "points": "SELECT billing_id FROM connection_point",
        "meters": "SELECT billing_id FROM meter WHERE kind = 'cold'",
        "hot_meters": "SELECT billing_id FROM meter WHERE kind = 'hot'",
    }.items():
        known[key] = {r[0] for r in await db.fetch(sql)}
    return known


# Each upsert takes arrays (one per column), joins billing ids to our ids, and touches a row
# only when something changed; RETURNING tells inserts from updates.
UPSERTS: dict[str, tuple[str, list[str]]] = {
    "counterparties.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[])
                     AS s(bid, name, inn))
        INSERT INTO counterparty (billing_id, name, inn) SELECT bid, name, inn FROM src
        ON CONFLICT (billing_id) DO UPDATE SET name = EXCLUDED.name, inn = EXCLUDED.inn
        WHERE (counterparty.name, counterparty.inn) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.inn)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "name", "inn"],
    ),
    "contracts.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[],
                $5::date[], $6::int[], $7::int[])
                AS s(bid, number, number_norm, cp, signed_on, dday, hday))
        INSERT INTO contract (billing_id, number, number_norm, counterparty, signed_on,
                              deadline_day, discharge_deadline_day)
        SELECT s.bid, s.number, s.number_norm, c.id, s.signed_on, s.dday, s.hday
        FROM src s JOIN counterparty c ON c.billing_id = s.cp
        ON CONFLICT (billing_id) DO UPDATE SET number = EXCLUDED.number,
            number_norm = EXCLUDED.number_norm, counterparty = EXCLUDED.counterparty,
            signed_on = EXCLUDED.signed_on, deadline_day = EXCLUDED.deadline_day,
            discharge_deadline_day = EXCLUDED.discharge_deadline_day
        WHERE (contract.number, contract.counterparty, contract.signed_on, contract.deadline_day,
               contract.discharge_deadline_day)
          IS DISTINCT FROM (EXCLUDED.number, EXCLUDED.counterparty, EXCLUDED.signed_on,
               EXCLUDED.deadline_day, EXCLUDED.discharge_deadline_day)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "number", "number_norm", "counterparty_id", "signed_on", "deadline_day",
         "discharge_deadline_day"],
    ),
    "points.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::int[], $3::text[])
                     AS s(bid, ct, address))
        INSERT INTO connection_point (billing_id, contract, address)
        SELECT s.bid, c.id, s.address FROM src s JOIN contract c ON c.billing_id = s.ct
        ON CONFLICT (billing_id) DO UPDATE SET contract = EXCLUDED.contract,
            address = EXCLUDED.address
        WHERE (connection_point.contract, connection_point.address)
          IS DISTINCT FROM (EXCLUDED.contract, EXCLUDED.address)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "contract_id", "address"],
    ),
    "meters.csv": (
        """WITH src AS (SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[],
                $5::text[], $6::date[], $7::int[], $8::text[])
                AS s(bid, pt, serial, model, address, due, digits, kind))
        INSERT INTO meter (billing_id, point, serial, model, address, verification_due, digits,
                           kind, active)
        SELECT s.bid, p.id, s.serial, s.model, s.address, s.due, s.digits, s.kind, true
        FROM src s JOIN connection_point p ON p.billing_id = s.pt
        ON CONFLICT (billing_id) DO UPDATE SET point = EXCLUDED.point, serial = EXCLUDED.serial,
            model = EXCLUDED.model, address = EXCLUDED.address,
            verification_due = EXCLUDED.verification_due, digits = EXCLUDED.digits,
            kind = EXCLUDED.kind
        WHERE (meter.point, meter.serial, meter.model, meter.address, meter.verification_due,
               meter.digits, meter.kind)
          IS DISTINCT FROM (EXCLUDED.point, EXCLUDED.serial, EXCLUDED.model, EXCLUDED.address,
               EXCLUDED.verification_due, EXCLUDED.digits, EXCLUDED.kind)
        RETURNING (xmax = 0) AS inserted""",
        ["id", "point_id", "serial", "model", "address", "verification_due", "digits", "kind"],
    ),
}

# Accepted history: only billing's own rows are updated; a portal reading for the same
# period is left to the archive refresh, never overwritten here.
HISTORY_UPSERT = """
WITH src AS (SELECT * FROM unnest($1::int[], $2::date[], $3::numeric[], $4::date[])
             AS s(mid, period, value, read_on))
INSERT INTO reading (meter, period, value, read_on, status, source, rollover_confirmed,
                     anomaly_confirmed, created_at, updated_at, processed_at)
SELECT m.id, s.period, s.value, s.read_on, 'accepted', 'billing', false, false, now(), now(), now()
FROM src s JOIN meter m ON m.billing_id = s.mid
ON CONFLICT (meter, period) WHERE status <> 'rejected' DO UPDATE
    SET value = EXCLUDED.value, read_on = EXCLUDED.read_on, updated_at = now()
    WHERE reading.source = 'billing'
      AND (reading.value, reading.read_on) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.read_on)
RETURNING (xmax = 0) AS inserted
"""


def _columns(rows: list[dict], names: list[str]) -> list[list]:
    return [[row[name] for row in rows] for name in names]


async def import_billing(directory: Path) -> ImportReport:
    """Validate all files first; if any row is bad nothing is imported (ImportFailed)."""
    data, errors = read_directory(directory)
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    async with db.transaction():
        # Serialize imports: two at once would race on the same billing ids.
        await db.execute("SELECT pg_advisory_xact_lock(hashtext('import-billing'))")
        errors = check_references(data, await _known_ids())
        if errors:
            raise ImportFailed(errors)
        for row in data.get("contracts.csv", []):
            row["number_norm"] = normalize_contract_number(row["number"])
        for filename, (sql, names) in UPSERTS.items():
            rows = data.get(filename)
            if rows is None:
                continue
            result = await db.fetch(sql, *_columns(rows, names))
            _count(report, filename, len(rows), result)
        for filename, value_key in (("readings.csv", "value"), ("volumes.csv", "volume")):
            rows = data.get(filename)
            if rows is None:
                continue
            result = await db.fetch(
                HISTORY_UPSERT, *_columns(rows, ["meter_id", "period", value_key, "read_on"])
            )
            _count(report, filename, len(rows), result)
    return report


def _count(report: ImportReport, filename: str, total: int, result: list) -> None:
    inserted = sum(1 for r in result if r["inserted"])
    report.inserted[filename] = inserted
    report.updated[filename] = len(result) - inserted
    report.unchanged[filename] = total - len(result)
