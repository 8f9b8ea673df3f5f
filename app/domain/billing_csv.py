"""Parsing and cross-checking of the billing directory CSV files (SPEC §6)."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.calendar import parse_period, period_value
from app.domain.inn import InnError, normalize_inn
from app.domain.readings import ReadingError, parse_volume
from app.domain.vocabulary import MeterKind

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT_RE = re.compile(r"[0-9]+")
_WHOLE_RE = re.compile(r"([0-9]+)(?:[.,]0+)?")

DEFAULT_DIGITS = 5


def _positive_int(s: str) -> int:
    if not _INT_RE.fullmatch(s) or int(s) == 0:
        raise ValueError(f"expected a positive integer, got {s!r}")
    return int(s)


def _text(s: str) -> str:
    if not s:
        raise ValueError("must not be empty")
    return s


def _optional_text(s: str) -> str:
    return s


def _date(s: str) -> date:
    try:
        if _DATE_RE.fullmatch(s):
            return date.fromisoformat(s)
    except ValueError:
        pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {s!r}")


def _optional_date(s: str) -> date | None:
    return _date(s) if s else None


def _period(s: str) -> date:
    try:
        return parse_period(s)
    except ValueError:
        raise ValueError(f"expected a period YYYY-MM, got {s!r}") from None


def _inn(s: str) -> str:
    try:
        return normalize_inn(s)
    except InnError:
        raise ValueError(f"invalid INN {s!r} (10 or 12 digits with valid check digits)") from None


def _int_in(low: int, high: int, default: int | None = None) -> Callable[[str], int | None]:
    def convert(s: str) -> int | None:
        if not s and default is not None:
            return default
        if not _INT_RE.fullmatch(s) or not low <= int(s) <= high:
            raise ValueError(f"expected an integer {low}..{high}, got {s!r}")
        return int(s)

    return convert


def _optional_day(s: str) -> int | None:
    return _int_in(1, 31)(s) if s else None


def _kind(s: str) -> str:
    try:
        return MeterKind(s.lower()).value
    except ValueError:
        expected = " or ".join(f"'{kind}'" for kind in MeterKind)
        raise ValueError(f"expected {expected}, got {s!r}") from None


def _whole_value(s: str) -> int:
    m = _WHOLE_RE.fullmatch(s)
    if not m or len(m[1].lstrip("0")) > 9:
        raise ValueError(f"expected a non-negative whole number of m³, got {s!r}")
    return int(m[1])


def _volume(s: str) -> Decimal:
    try:
        return parse_volume(s)
    except ReadingError:
        raise ValueError(
            f"expected a non-negative volume with up to 3 decimals, got {s!r}"
        ) from None


@dataclass(frozen=True)
class Column:
    name: str
    convert: Callable[[str], Any]
    optional: bool = False  # the column may be absent from the header


# Files in import order: every file refers only to files listed before it.
FILES: dict[str, tuple[Column, ...]] = {
    "counterparties.csv": (
        Column("id", _positive_int),
        Column("name", _text),
        Column("inn", _inn),
    ),
    "contracts.csv": (
        Column("id", _positive_int),
        Column("number", _text),
        Column("counterparty_id", _positive_int),
        Column("signed_on", _date),
        Column("deadline_day", _int_in(1, 31)),
        Column("discharge_deadline_day", _optional_day, optional=True),
    ),
    "points.csv": (
        Column("id", _positive_int),
        Column("contract_id", _positive_int),
        Column("address", _text),
    ),
    "meters.csv": (
        Column("id", _positive_int),
        Column("point_id", _positive_int),
        Column("serial", _text),
        Column("model", _optional_text),
        Column("address", _optional_text),
        Column("verification_due", _optional_date, optional=True),
        Column("digits", _int_in(1, 9, DEFAULT_DIGITS), optional=True),
        Column("kind", _kind),
    ),
    "readings.csv": (
        Column("meter_id", _positive_int),
        Column("period", _period),
        Column("value", _whole_value),
        Column("read_on", _date),
    ),
    "volumes.csv": (
        Column("meter_id", _positive_int),
        Column("period", _period),
        Column("volume", _volume),
        Column("read_on", _date),
    ),
}


def _blank(cells: Iterable[str]) -> bool:
    return all(not c.strip() for c in cells)


def parse_csv(filename: str, text: str) -> tuple[list[dict], list[str]]:
    """Rows converted to Python values (each with its physical line under "_line"), and errors."""
    spec = FILES[filename.replace("\\", "/").rsplit("/", 1)[-1]]
    text = text.removeprefix("\ufeff")
    header_line = text.splitlines()[0] if text.strip() else ""
    if not header_line.strip():
        return [], [f"{filename}:1: missing header row"]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    rows: list[dict] = []
    errors: list[str] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        return [], [f"{filename}:1: malformed CSV: {exc}"]
    missing = [c.name for c in spec if not c.optional and c.name not in header]
    if missing:
        return [], [f"{filename}:1: missing column(s): {', '.join(missing)}"]
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        return [], [f"{filename}:1: duplicate column(s): {', '.join(duplicated)}"]
    index = {c.name: header.index(c.name) for c in spec if c.name in header}

    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if _blank(cells):
                continue
            if len(cells) != len(header):
                errors.append(
                    f"{filename}:{start}: expected {len(header)} fields, got {len(cells)}"
                )
                continue
            row: dict[str, Any] = {"_line": start}
            for column in spec:
                raw = cells[index[column.name]].strip() if column.name in index else ""
                try:
                    row[column.name] = column.convert(raw)
                except ValueError as exc:
                    errors.append(f"{filename}:{start}: {column.name}: {exc}")
            if len(row) == len(spec) + 1:
                rows.append(row)
    except csv.Error as exc:
        errors.append(f"{filename}:{line}: malformed CSV: {exc}")

    for row in rows:
        if "discharge_deadline_day" in row and row["discharge_deadline_day"] is None:
            row["discharge_deadline_day"] = row["deadline_day"]
    return rows, errors


def check_references(
    data: Mapping[str, list[dict]], known: Mapping[str, set[int]] | None = None
) -> list[str]:
    """Cross-file checks on parse_csv rows keyed by file name.

    `known` holds ids already in the database under the keys "counterparties", "contracts",
    "points", "meters" and "hot_meters"; rows in `data` take precedence over them.
    """
    known = known or {}
    errors: list[str] = []

    def rows(filename: str) -> list[dict]:
        return data.get(filename, [])

    def ids(filename: str, key: str) -> set[int]:
        return {r["id"] for r in rows(filename)} | set(known.get(key, ()))

    for filename in ("counterparties.csv", "contracts.csv", "points.csv", "meters.csv"):
        first: dict[int, int] = {}
        for r in rows(filename):
            if r["id"] in first:
                errors.append(
                    f"{filename}:{r['_line']}: duplicate id {r['id']} "
                    f"(first on line {first[r['id']]})"
                )
            first.setdefault(r["id"], r["_line"])

    for filename, column, target, key in (
        ("contracts.csv", "counterparty_id", "counterparties.csv", "counterparties"),
        ("points.csv", "contract_id", "contracts.csv", "contracts"),
        ("meters.csv", "point_id", "points.csv", "points"),
    ):
        existing = ids(target, key)
        for r in rows(filename):
            if r[column] not in existing:
                errors.append(f"{filename}:{r['_line']}: {column}: unknown id {r[column]}")

    meters = {r["id"]: r for r in rows("meters.csv")}
    known_meters = set(known.get("meters", ())) | set(known.get("hot_meters", ()))
    known_hot = set(known.get("hot_meters", ()))
    for filename, what in (("readings.csv", "reading"), ("volumes.csv", "volume")):
        seen: dict[tuple[int, date], int] = {}
        for r in rows(filename):
            where = f"{filename}:{r['_line']}"
            meter_id = r["meter_id"]
            meter = meters.get(meter_id)
            if meter is None and meter_id not in known_meters:
                errors.append(f"{where}: meter_id: unknown id {meter_id}")
            elif filename == "volumes.csv" and (
                meter["kind"] != MeterKind.hot if meter else meter_id not in known_hot
            ):
                errors.append(f"{where}: meter_id: meter {meter_id} is not a hot-water meter")
            elif filename == "readings.csv" and meter and r["value"] >= 10 ** meter["digits"]:
                errors.append(
                    f"{where}: value: {r['value']} does not fit the meter's "
                    f"{meter['digits']} digits"
                )
            key = (meter_id, r["period"])
            if key in seen:
                errors.append(
                    f"{where}: duplicate {what} for meter {meter_id}, period "
                    f"{period_value(r['period'])} (first on line {seen[key]})"
                )
            seen.setdefault(key, r["_line"])
    return errors
