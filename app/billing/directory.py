"""From billing: `import-billing DIR` validates every file, then upserts it all in one transaction.

The parsing and the checks are pure (app/domain/billing_csv.py); the statements are in
app/queries/directory.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
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


# Called between the steps of an import with (percent 0–100, the step's name): the web
# upload's job stores it for the progress bar; the CLI passes none.
Progress = Callable[[int, str], Awaitable[None]]
HISTORY_CHUNK = 50_000  # history rows per upsert statement, so the progress moves


def parse_file(filename: str, raw: bytes) -> tuple[list[dict], list[str]]:
    """One directory file's bytes → its rows and `file:line: reason` errors."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [f"{filename}:1: not UTF-8 ({exc.reason} at byte {exc.start})"]
    return parse_csv(filename, text)


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
        rows, file_errors = parse_file(filename, path.read_bytes())
        data[filename] = rows
        errors.extend(file_errors)
    if not data and not errors:
        errors.append(f"{directory}: no billing files ({', '.join(FILES)})")
    return data, errors


def _columns(rows: list[dict], names: list[str]) -> list[list]:
    return [[row[name] for row in rows] for name in names]


async def import_billing(directory: Path, progress: Progress | None = None) -> ImportReport:
    """Validate all files first; if any row is bad nothing is imported (ImportFailed)."""
    data, errors = read_directory(directory)
    if errors:
        raise ImportFailed(errors)
    return await import_parsed(data, progress)


async def import_files(files: Mapping[str, bytes],
                       progress: Progress | None = None) -> ImportReport:
    """The same import from files' bytes by name (the web upload): each file is parsed off
    the event loop, then validated and imported exactly as `import_billing` does."""
    data: dict[str, list[dict]] = {}
    errors: list[str] = []
    total = sum(len(raw) for name, raw in files.items() if name in FILES) or 1
    done = 0
    for filename in FILES:
        if filename not in files:
            continue
        if progress:
            await progress(PARSE_SHARE * done // total, f"read:{filename}")
        rows, file_errors = await asyncio.to_thread(parse_file, filename, files[filename])
        data[filename] = rows
        errors.extend(file_errors)
        done += len(files[filename])
    if not data and not errors:
        errors.append(f"no billing files ({', '.join(FILES)})")
    if errors:
        raise ImportFailed(errors)
    return await import_parsed(data, progress)


PARSE_SHARE = 40  # percent of the bar for reading the files; the rest is the database


async def import_parsed(data: dict[str, list[dict]],
                        progress: Progress | None = None) -> ImportReport:
    """Cross-check parsed files against each other and the database, then upsert them all in
    one transaction (ImportFailed, nothing written, on any error)."""
    report = ImportReport()
    total = sum(len(rows) for rows in data.values()) or 1
    done = 0

    async def step(name: str) -> None:
        if progress:
            await progress(PARSE_SHARE + (100 - PARSE_SHARE) * done // total, name)

    async with db.transaction():
        await q.lock_imports()
        await step("check")
        errors = check_references(data, await q.known_ids())
        if errors:
            raise ImportFailed(errors)
        for row in data.get("contracts.csv", []):
            row["number_norm"] = normalize_contract_number(row["number"])
        for filename, names in q.UPSERT_COLUMNS.items():
            rows = data.get(filename)
            if rows is None:
                continue
            await step(f"write:{filename}")
            result = await q.upsert_file(filename, _columns(rows, names))
            _count(report, filename, len(rows), result)
            done += len(rows)
        for filename, value_key in (("readings.csv", "value"), ("volumes.csv", "volume")):
            rows = data.get(filename)
            if rows is None:
                continue
            result = []
            for start in range(0, len(rows), HISTORY_CHUNK):
                await step(f"write:{filename}")
                chunk = rows[start:start + HISTORY_CHUNK]
                result += await q.upsert_history(
                    _columns(chunk, ["meter_id", "period", value_key, "read_on"]))
                done += len(chunk)
            _count(report, filename, len(rows), result)
    return report


def _count(report: ImportReport, filename: str, total: int, result: list[bool]) -> None:
    inserted = sum(result)
    report.inserted[filename] = inserted
    report.updated[filename] = len(result) - inserted
    report.unchanged[filename] = total - len(result)


async def run_upload(import_id: int) -> dict[str, int]:
    """The worker's side of «Загрузка данных биллинга»: import the uploaded files with the
    progress stored on the import row, then record the counts or the errors."""
    import logging

    from app.queries import imports as iq

    files = await iq.claim_import(import_id)
    if files is None:
        return {"imported": 0}

    async def progress(percent: int, step: str) -> None:
        await iq.set_progress(import_id, percent, step)

    try:
        report = await import_files(files, progress)
    except ImportFailed as exc:
        await iq.finish_import(import_id, errors=exc.errors)
        return {"imported": 0, "errors": len(exc.errors)}
    except Exception:
        logging.getLogger("app.billing").exception("billing import %s crashed", import_id)
        await iq.finish_import(import_id, step="crashed")
        return {"imported": 0}
    counts = {name: {"inserted": report.inserted.get(name, 0),
                     "updated": report.updated.get(name, 0),
                     "unchanged": report.unchanged.get(name, 0)} for name in report.inserted}
    await iq.finish_import(import_id, counts=counts)
    return {"imported": 1, **{k: sum(c[k] for c in counts.values())
                              for k in ("inserted", "updated", "unchanged")}}
