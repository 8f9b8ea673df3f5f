"""A spreadsheet of readings (SPEC §7) turned into what a user would have typed in the grid.

Pure: rows of cells in (what the XLSX/CSV reader gives: str, int, float, bool, date,
datetime or None), per meter a `RowInput` out — raw text, exactly like the grid's inputs — so
the file never bypasses the grid: the same `GridKind.evaluate` gives every filled row its
verdict. Plus one note per file row that was not used, with its row number as Excel shows it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.domain import N_, Problem
from app.domain.grid import RowInput
from app.domain.vocabulary import MeterKind

MAX_DATA_ROWS = 10_000
HEADER_SEARCH_ROWS = 20  # the header may sit under a title, a few rows down
MAX_CELL_TEXT = 40  # what the grid's inputs keep (controllers._forms.clean_text(…, 40))

# Column keys, and the SPEC §7 headers of each grid's template, in template order.
CODE, SERIAL, ADDRESS, PREVIOUS, PREVIOUS_DATE, VALUE, DATE = (
    "code", "serial", "address", "previous", "previous_date", "value", "date")
TEMPLATE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    MeterKind.cold: (
        (CODE, N_("Код прибора")),
        (SERIAL, N_("Номер прибора учёта")),
        (ADDRESS, N_("Адрес установки прибора учёта")),
        (PREVIOUS, N_("Предыдущее показание")),
        (PREVIOUS_DATE, N_("Дата предыдущего показания")),
        (VALUE, N_("Текущее показание")),
        (DATE, N_("Дата текущего показания")),
    ),
    MeterKind.hot: (
        (CODE, N_("Код прибора")),
        (ADDRESS, N_("Адрес установки прибора учета")),
        (PREVIOUS, N_("Предыдущий объем")),
        (PREVIOUS_DATE, N_("Дата предыдущего показания")),
        (VALUE, N_("Текущий объем")),
        (DATE, N_("Дата текущего показания")),
    ),
}
# Headers recognised besides the template's: the grid's own column titles.
EXTRA_HEADERS = ((VALUE, N_("Текущее показание прибора учёта")),)

# Messages (Russian msgids, translated by the web layer).
NOT_FOUND = N_("Строка {row}: прибор учёта {meter} не найден в договоре")
TWICE = N_("Строка {row}: прибор учёта {meter} указан в файле дважды — строка не использована")
AMBIGUOUS = N_("Строка {row}: номер прибора учёта {meter} есть у нескольких приборов договора "
               "— укажите «Код прибора»")
NO_METER = N_("Строка {row}: не указан прибор учёта")
UNREADABLE = N_("Строка {row}: значение не распознано")
FROZEN = N_("Строка {row}: показание прибора учёта {meter} уже передано в биллинг или принято "
            "и не может быть изменено")
NO_HEADER = N_("В файле не найдена строка заголовков: нужны столбцы «Код прибора» или "
               "«Номер прибора учёта» и «Текущее показание» (или «Текущий объем»). "
               "Скачайте шаблон кнопкой «Скачать шаблон»")
TOO_MANY_ROWS = N_("В файле больше {max} строк: загрузите не более {max} строк за раз")
NO_ROWS = N_("В файле нет ни одной строки с показаниями под заголовком")


class SheetError(ValueError):
    """The file as a whole cannot be used: one message, nothing filled."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def normalize_header(text: object) -> str:
    """Case, ё/е, spaces (NBSP included) and trailing marks do not matter in a header."""
    s = unicodedata.normalize("NFKC", str(text or "")).casefold().replace("ё", "е")
    s = re.sub(r"[\s_]+", " ", s).strip(" *:.")
    return s


def header_aliases(translations: Iterable[Callable[[str], str]] = ()) -> dict[str, str]:
    """normalized header -> column key: both grids' SPEC headers, in Russian and in every
    given translation (the template is written in the user's language)."""
    pairs = [pair for columns in TEMPLATE_COLUMNS.values() for pair in columns]
    pairs += list(EXTRA_HEADERS)
    aliases = {normalize_header(label): key for key, label in pairs}
    for translate in translations:
        for key, label in pairs:
            aliases.setdefault(normalize_header(translate(label)), key)
    return aliases


@dataclass(frozen=True)
class Header:
    index: int  # 0-based row index of the header row
    columns: dict[str, int]  # column key -> 0-based column index (first occurrence)


def find_header(rows: Sequence[Sequence[object]], aliases: dict[str, str]) -> Header:
    """The first row (of the first HEADER_SEARCH_ROWS) naming the current value and a way to
    identify the meter («Код прибора» or «Номер прибора учёта»); other columns may be
    anywhere, extra columns are ignored."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for col, cell in enumerate(row):
            key = aliases.get(normalize_header(cell)) if isinstance(cell, str) else None
            if key is not None:
                columns.setdefault(key, col)
        if VALUE in columns and (CODE in columns or SERIAL in columns):
            return Header(index, columns)
    raise SheetError(Problem("no_header", NO_HEADER))


# ---------------------------------------------------------------- cells -> typed text

_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_DMY_RE = re.compile(r"([0-9]{1,2})[./]([0-9]{1,2})[./]([0-9]{4})")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ][0-9:.]+)?")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (after Lotus' leap-year bug)
MAX_SERIAL = 2_958_465  # 9999-12-31


class Unreadable(ValueError):
    """A cell that is not a number or a date at all (a boolean, a time, an error value)."""


def _clean(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable() or ch in " \u00a0")
    return text.strip()[:MAX_CELL_TEXT]


def _number_text(value: float | int | Decimal) -> str:
    """A number as the grid parser reads it: no exponent, no float noise («12.5», not
    «12.499999999999998»): Excel shows 15 significant digits, so do we."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unreadable(value)
        value = Decimal(f"{value:.15g}")
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def value_text(cell: object) -> str:
    """A current-value cell as typed text ("" = empty). Text keeps its comma or point; the
    spaces and NBSPs of «1 234,5» go (the grid parser then judges it as if typed)."""
    if cell is None:
        return ""
    if isinstance(cell, bool) or isinstance(cell, date):  # datetime is a date
        raise Unreadable(cell)
    if isinstance(cell, int | float | Decimal):
        return _number_text(cell)
    if isinstance(cell, str):
        return _SPACES_RE.sub("", _clean(cell))
    raise Unreadable(cell)


def _dmy(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def date_text(cell: object) -> str:
    """A date cell as the grid's «ДД.ММ.ГГГГ» ("" = empty: the grid then takes today).
    Excel dates (datetime/date), Excel serial numbers, ДД.ММ.ГГГГ and ISO text are
    converted; any other text is kept as typed, so the grid says what is wrong with it."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        raise Unreadable(cell)
    if isinstance(cell, datetime):
        return _dmy(cell.date())
    if isinstance(cell, date):
        return _dmy(cell)
    if isinstance(cell, int | float):
        if not 1 <= cell <= MAX_SERIAL:
            raise Unreadable(cell)
        return _dmy(EXCEL_EPOCH + timedelta(days=int(cell)))
    if not isinstance(cell, str):
        raise Unreadable(cell)
    text = _clean(cell)
    for pattern, order in ((_DMY_RE, (0, 1, 2)), (_ISO_RE, (2, 1, 0))):
        if m := pattern.fullmatch(text):
            parts = m.groups()
            try:
                return _dmy(date(int(parts[order[2]]), int(parts[order[1]]),
                                 int(parts[order[0]])))
            except ValueError:
                return text
    return text


def id_text(cell: object) -> str:
    """A meter code or serial as written: 1234.0 (a number cell) is «1234»."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, int | float | Decimal) and not isinstance(cell, bool):
        return _number_text(cell)
    return _SPACES_RE.sub(" ", _clean(str(cell)))


# ---------------------------------------------------------------- rows -> grid rows


@dataclass(frozen=True)
class MeterRef:
    """What matching needs to know of one grid row."""

    meter_id: int
    billing_id: int
    serial: str
    editable: bool = True


@dataclass
class Fill:
    """What a file puts into the grid: per meter id the typed inputs; the unused rows."""

    inputs: dict[int, RowInput] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)
    empty_values: int = 0  # rows naming a meter but no current value: left as they were


def _cell(row: Sequence[object], columns: dict[str, int], key: str) -> object:
    col = columns.get(key)
    if col is None or col >= len(row):
        return None
    cell = row[col]
    return None if cell == "" else cell


def _filled(row: Sequence[object]) -> bool:
    return any(c not in ("", None) for c in row)


def _serial_key(text: str) -> str:
    return normalize_header(text)


def match_rows(rows: Sequence[Sequence[object]], header: Header, meters: Sequence[MeterRef]
               ) -> Fill:
    """Match every data row under `header` to a meter of the grid (by «Код прибора» when the
    row has one, else by serial within the contract) and turn its cells into typed inputs.

    Never filled: a meter not in `meters` (another contract's, R8), a serial two meters
    share, a meter named by two rows (neither is used), a frozen reading. A row without a
    current value leaves its grid row as it was."""
    data = rows[header.index + 1:]
    if sum(1 for row in data if _filled(row)) > MAX_DATA_ROWS:
        raise SheetError(Problem("too_many_rows", TOO_MANY_ROWS, {"max": MAX_DATA_ROWS}))
    by_code = {m.billing_id: m for m in meters}
    by_serial: dict[str, list[MeterRef]] = {}
    for m in meters:
        by_serial.setdefault(_serial_key(m.serial), []).append(m)

    fill = Fill()
    claimed: dict[int, list[tuple[int, str, RowInput]]] = {}  # meter id -> (row, name, input)
    seen_any = False
    for offset, row in enumerate(data):
        excel_row = header.index + 2 + offset
        if not _filled(row):
            continue
        seen_any = True
        code = id_text(_cell(row, header.columns, CODE))
        serial = id_text(_cell(row, header.columns, SERIAL))
        try:
            value = value_text(_cell(row, header.columns, VALUE))
            read_on = date_text(_cell(row, header.columns, DATE))
        except Unreadable:
            fill.notes.append(Problem("unreadable", UNREADABLE, {"row": excel_row}))
            continue
        if not value:
            if code or serial:
                fill.empty_values += 1
            continue
        if code:
            name = code
            meter = by_code.get(int(code)) if code.isdigit() and len(code) < 10 else None
        elif serial:
            name = serial
            candidates = by_serial.get(_serial_key(serial), [])
            if len(candidates) > 1:
                fill.notes.append(Problem("ambiguous", AMBIGUOUS,
                                          {"row": excel_row, "meter": serial}))
                continue
            meter = candidates[0] if candidates else None
        else:
            fill.notes.append(Problem("no_meter", NO_METER, {"row": excel_row}))
            continue
        if meter is None:
            fill.notes.append(Problem("not_found", NOT_FOUND, {"row": excel_row, "meter": name}))
            continue
        if not meter.editable:
            fill.notes.append(Problem("frozen", FROZEN, {"row": excel_row, "meter": name}))
            continue
        claimed.setdefault(meter.meter_id, []).append((excel_row, name, RowInput(value, read_on)))
    if not seen_any:
        raise SheetError(Problem("no_rows", NO_ROWS))
    twice = []
    for meter_id, claims in claimed.items():
        if len(claims) == 1:
            fill.inputs[meter_id] = claims[0][2]
        else:
            twice += [Problem("twice", TWICE, {"row": r, "meter": name}) for r, name, _ in claims]
    fill.notes = sorted(fill.notes + twice, key=lambda p: p.params["row"])
    return fill


def fill_from_rows(rows: Sequence[Sequence[object]], meters: Sequence[MeterRef],
                   aliases: dict[str, str]) -> Fill:
    """Header, then matching: the whole way from a sheet's cells to the grid's inputs."""
    return match_rows(rows, find_header(rows, aliases), meters)


# ---------------------------------------------------------------- a pasted block

# What the grid says after a paste: how the rows were matched (SPEC §5: "pasting a column
# copied from a spreadsheet fills consecutive rows"; a block with a meter column is matched by it).
PASTED = {
    CODE: N_("Вставлено значений: {count} — строки сопоставлены по столбцу «Код прибора»"),
    SERIAL: N_("Вставлено значений: {count} — строки сопоставлены по номеру прибора учёта"),
    "order": N_("Вставлено значений: {count} — по порядку строк, начиная с текущей"),
}
PASTE_AMBIGUOUS = N_(
    "Во вставленном блоке несколько столбцов с числами, и ни один не совпадает с номерами "
    "приборов учёта договора: непонятно, где показания. Вставьте один столбец показаний "
    "или блок со столбцом «Номер прибора учёта» (или «Код прибора») и строкой заголовков")
PASTE_NO_VALUES = N_("Во вставленном блоке нет столбца с показаниями")
PASTE_OVERFLOW = N_("Строки {first}–{last} не вставлены: ниже нет строк таблицы")

_NUMBER_RE = re.compile(r"[-+]?[0-9]+(?:[.,][0-9]*)?")


@dataclass
class PasteFill(Fill):
    """A pasted block's inputs, notes and how its rows were matched (a PASTED key)."""

    mode: str = "order"


def paste_cells(text: str) -> list[list[str]]:
    """A clipboard block (tab-separated cells, one line per row) as rows of text cells; the
    trailing blank lines a spreadsheet's copy ends with are dropped."""
    rows = [line.split("\t") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    return rows


def _column(rows: Sequence[Sequence[str]], col: int) -> list[str]:
    return [row[col].strip() if col < len(row) else "" for row in rows]


def _looks_like(cells: Sequence[str], pattern: re.Pattern, clean: Callable[[str], str]) -> bool:
    filled = [c for c in cells if c]
    return bool(filled) and all(pattern.fullmatch(clean(c)) for c in filled)


def _key_hits(cells: Sequence[str], meters: Sequence[MeterRef]) -> dict[str, int]:
    """How many filled cells name a meter of the grid, by code and by serial."""
    codes = {str(m.billing_id) for m in meters}
    serials = {_serial_key(m.serial) for m in meters}
    filled = [c for c in cells if c]
    return {CODE: sum(id_text(c) in codes for c in filled),
            SERIAL: sum(_serial_key(id_text(c)) in serials for c in filled)}


def _headerless(rows: Sequence[Sequence[str]], meters: Sequence[MeterRef]
                ) -> tuple[str, dict[str, int]]:
    """(mode, column key -> index) of a block without a header row.

    A column most of whose filled cells are codes or serials of the grid's meters is the key
    (the one with most hits; codes win a tie); of the other columns, the one column of numbers
    is the value and the one column of dates the date. Without a key column the block is
    positional, which needs exactly one column of numbers."""
    width = max(len(row) for row in rows)
    columns = {c: _column(rows, c) for c in range(width)}
    columns = {c: cells for c, cells in columns.items() if any(cells)}
    key: tuple[int, str, int] | None = None  # (hits, mode, column)
    keylike = set()
    for col, cells in columns.items():
        filled = sum(1 for c in cells if c)
        for mode, hits in _key_hits(cells, meters).items():
            if hits and 2 * hits >= filled:
                keylike.add(col)
                if key is None or hits > key[0]:
                    key = (hits, mode, col)
    rest = [c for c in columns if c not in keylike]
    numbers = [c for c in rest if _looks_like(columns[c], _NUMBER_RE, value_text)]
    dates = [c for c in rest if _looks_like(columns[c], _DMY_RE, _clean)
             or _looks_like(columns[c], _ISO_RE, _clean)]
    if key is None and len(columns) == 1:
        return "order", {VALUE: next(iter(columns))}  # one column: values, whatever they say
    if len(numbers) > 1 or (key is None and not numbers):
        raise SheetError(Problem("paste_ambiguous", PASTE_AMBIGUOUS))
    if not numbers:
        raise SheetError(Problem("paste_no_values", PASTE_NO_VALUES))
    found = {VALUE: numbers[0]}
    if len(dates) == 1:
        found[DATE] = dates[0]
    if key is None:
        return "order", found
    return key[1], {key[1]: key[2], **found}


def _fill_in_order(rows: Sequence[Sequence[str]], columns: dict[str, int],
                   order: Sequence[int]) -> PasteFill:
    """Line i into the i-th of `order` (the editable rows from the one pasted into, as the
    user sees them); a blank cell leaves its row as it was but keeps its place."""
    fill = PasteFill(mode="order")
    for index, row in enumerate(rows):
        value = value_text(_cell(row, columns, VALUE))
        if not value:
            continue
        if index >= len(order):
            last = max(i + 1 for i, r in enumerate(rows) if value_text(_cell(r, columns, VALUE)))
            fill.notes.append(Problem("overflow", PASTE_OVERFLOW,
                                      {"first": index + 1, "last": last}))
            break
        fill.inputs[order[index]] = RowInput(value, date_text(_cell(row, columns, DATE)))
    return fill


def fill_from_paste(text: str, meters: Sequence[MeterRef], aliases: dict[str, str],
                    order: Sequence[int]) -> PasteFill:
    """A block pasted into the grid -> the grid's inputs.

    With a header row (the template's or the grid's titles) or a column of the grid's meter
    codes/serials, rows are matched by meter exactly as an uploaded file is (`match_rows`);
    otherwise the values go, in order, into the rows listed in `order`. Raises SheetError
    when the block cannot be understood (nothing is filled then)."""
    rows = paste_cells(text)
    if not rows:
        raise SheetError(Problem("no_rows", NO_ROWS))
    editable = {m.meter_id for m in meters if m.editable}
    try:
        header = find_header(rows, aliases)
        mode = CODE if CODE in header.columns else SERIAL
    except SheetError:
        mode, columns = _headerless(rows, meters)
        if mode == "order":
            return _fill_in_order(rows, columns, [m for m in order if m in editable])
        header = Header(-1, columns)  # data from the first line: "Строка K" = line K
    matched = match_rows(rows, header, meters)
    return PasteFill(matched.inputs, matched.notes, matched.empty_values, mode=mode)
