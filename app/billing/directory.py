"""From billing: `import-billing DIR` validates every file, then upserts it all in one transaction.

The parsing and the checks are pure (app/domain/billing_csv.py); the statements are in
app/queries/directory.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app import db
from app.domain.billing_csv import FILES, check_references, parse_csv
from app.domain.inn import normalize_contract_number
from app.queries import directory as q


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


def _columns(rows: list[dict], names: list[str]) -> list[list]:
    return [[row[name] for row in rows] for name in names]


async def import_billing(directory: Path) -> ImportReport:
    """Validate all files first; if any row is bad nothing is imported (ImportFailed)."""
    data, errors = read_directory(directory)
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    async with db.transaction():
        await q.lock_imports()
        errors = check_references(data, await q.known_ids())
        if errors:
            raise ImportFailed(errors)
        for row in data.get("contracts.csv", []):
            row["number_norm"] = normalize_contract_number(row["number"])
        for filename, names in q.UPSERT_COLUMNS.items():
            rows = data.get(filename)
            if rows is None:
                continue
            result = await q.upsert_file(filename, _columns(rows, names))
            _count(report, filename, len(rows), result)
        for filename, value_key in (("readings.csv", "value"), ("volumes.csv", "volume")):
            rows = data.get(filename)
            if rows is None:
                continue
            result = await q.upsert_history(
                _columns(rows, ["meter_id", "period", value_key, "read_on"]))
            _count(report, filename, len(rows), result)
    return report


def _count(report: ImportReport, filename: str, total: int, result: list[bool]) -> None:
    inserted = sum(result)
    report.inserted[filename] = inserted
    report.updated[filename] = len(result) - inserted
    report.unchanged[filename] = total - len(result)
