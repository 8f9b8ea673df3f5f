"""Spreadsheet files as bytes: reading an uploaded XLSX/CSV into rows of cells, writing the
grid's template (SPEC §7). No web, no database: what the cells mean is app.domain.spreadsheet's.

What a file *is* is sniffed from its content, never from its name: XLSX is a zip holding
xl/workbook.xml; an old .xls and a password-protected .xlsx are both OLE2 compound files
(an encrypted OOXML package is an OLE2 file with an "EncryptionInfo" stream); anything else
must decode as text (UTF-8 with or without BOM, else Windows-1251) to be read as CSV.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain import N_, Problem
from app.domain.spreadsheet import HEADER_SEARCH_ROWS, MAX_DATA_ROWS, TOO_MANY_ROWS, SheetError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # every XML part of an XLSX together, inflated
MAX_RATIO = 100  # inflated / compressed, for a part over RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
MAX_ROWS_READ = HEADER_SEARCH_ROWS + MAX_DATA_ROWS  # non-empty rows, header and title included

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # a stream name in the OLE2 directory
XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))

EMPTY_FILE = N_("Файл пустой: выберите файл с показаниями")
NO_FILE = N_("Выберите файл (.xlsx или .csv) и нажмите «Загрузить из файла»")
TOO_BIG = N_("Файл больше 5 МБ: загрузите файл меньшего размера")
NOT_A_SHEET = N_("Это не таблица: загрузите файл .xlsx или .csv (например, скачанный "
                 "кнопкой «Скачать шаблон»)")
OLD_XLS = N_("Файлы старого формата Excel (.xls) не поддерживаются: откройте файл в Excel и "
             "сохраните его как «Книга Excel (.xlsx)»")
ENCRYPTED = N_("Файл защищён паролем: снимите пароль в Excel (Файл → Сведения → Защита "
               "книги) и загрузите файл снова")
BOMB = N_("Файл после распаковки слишком велик (более 50 МБ): оставьте в нём только лист "
          "с показаниями")
DAMAGED = N_("Файл Excel повреждён и не читается: сохраните его в Excel заново")

SHEET_NAMES = ("показания", "readings")


def _refuse(code: str, message: str, **params: object) -> SheetError:
    return SheetError(Problem(code, message, params))


def read_rows(data: bytes) -> list[list[object]]:
    """The first sheet's rows (row 1 first, as Excel numbers them) of an XLSX or CSV file;
    SheetError with one message for a file that cannot be used."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse("too_big", TOO_BIG)
    if not data.strip():
        raise _refuse("empty", EMPTY_FILE)
    if data.startswith(ZIP_MAGIC):
        return _xlsx_rows(data)
    if data.startswith(OLE2_MAGIC):
        if ENCRYPTION_INFO in data:
            raise _refuse("encrypted", ENCRYPTED)
        if any(name in data for name in XLS_STREAMS):
            raise _refuse("xls", OLD_XLS)
        raise _refuse("not_a_sheet", NOT_A_SHEET)
    return _csv_rows(data)


# ---------------------------------------------------------------- XLSX


class TooMuchInflation(Exception):
    """A zip whose members inflate past the byte budget or the ratio: a decompression bomb."""


def inflate_members(package: zipfile.ZipFile, infos: Sequence[zipfile.ZipInfo], budget: int,
                    *, max_ratio: int = MAX_RATIO, ratio_floor: int = RATIO_FLOOR
                    ) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    """Each member's bytes, inflated through one byte budget shared by all of them. The sizes
    the zip's directory declares are checked first (cheap refusal), but never trusted: the
    real bytes count against the budget as they come, so a lying directory is caught too.
    TooMuchInflation past the budget or when a member over `ratio_floor` bytes inflates more
    than `max_ratio` times; zipfile's own errors (damaged, encrypted member) pass through."""
    if sum(i.file_size for i in infos) > budget:
        raise TooMuchInflation()
    for i in infos:
        if i.file_size > ratio_floor and i.file_size > max_ratio * max(i.compress_size, 1):
            raise TooMuchInflation()
    for info in infos:
        chunks = []
        size = 0
        with package.open(info) as member:
            while chunk := member.read(1 << 20):
                size += len(chunk)
                budget -= len(chunk)
                if budget < 0 or (size > ratio_floor
                                  and size > max_ratio * max(info.compress_size, 1)):
                    raise TooMuchInflation()
                chunks.append(chunk)
        yield info, b"".join(chunks)


def _checked_package(data: bytes) -> bytes:
    """The XML parts of the package, re-packed uncompressed after inflating each through a
    byte budget: a decompression bomb is refused before calamine sees it, and calamine never
    trusts a size the attacker wrote in the zip's directory."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse("not_a_sheet", NOT_A_SHEET) from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse("not_a_sheet", NOT_A_SHEET)  # a .docx, .odt, .jar, a plain zip…
    parts = [i for i in infos if i.filename.endswith((".xml", ".rels")) and not i.is_dir()]
    if any(i.flag_bits & 0x1 for i in parts):
        raise _refuse("encrypted", ENCRYPTED)
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as repacked:
            for info, content in inflate_members(package, parts, MAX_UNPACKED_BYTES):
                repacked.writestr(info.filename, content)
    except TooMuchInflation:
        raise _refuse("bomb", BOMB) from None
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError):
        raise _refuse("damaged", DAMAGED) from None
    return out.getvalue()


def _limited(rows: Iterable[Sequence[object]]) -> list[list[object]]:
    """Rows as lists, refused past MAX_ROWS_READ non-empty rows (without reading further);
    trailing empty rows dropped."""
    result: list[list[object]] = []
    filled = 0
    last = 0
    for row in rows:
        result.append(list(row))
        if any(c not in ("", None) for c in row):
            filled += 1
            last = len(result)
            if filled > MAX_ROWS_READ:
                raise _refuse("too_many_rows", TOO_MANY_ROWS, max=MAX_DATA_ROWS)
    del result[last:]
    return result


def _xlsx_rows(data: bytes) -> list[list[object]]:
    import python_calamine

    package = _checked_package(data)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package))
        names = book.sheet_names
        if not names:
            raise _refuse("no_rows", N_("В файле нет ни одного листа"))
        wanted = [n for n in names if n.strip().casefold() in SHEET_NAMES]
        sheet = book.get_sheet_by_name(wanted[0] if wanted else names[0])
        # Formulas come as their cached values; a merged area as its top-left cell.
        return _limited(sheet.iter_rows())
    except python_calamine.PasswordError:
        raise _refuse("encrypted", ENCRYPTED) from None
    except python_calamine.CalamineError:
        raise _refuse("damaged", DAMAGED) from None


# ---------------------------------------------------------------- CSV


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")  # what Excel in a Russian locale saves as "CSV"
    except UnicodeDecodeError:
        raise _refuse("not_a_sheet", NOT_A_SHEET) from None


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" in sample or controls > len(sample) // 100


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS + 20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        counts = {d: sample.count(d) for d in ";\t,"}
        best = max(counts, key=counts.get)

        class Fallback(csv.excel):
            delimiter = best

        return Fallback


def _csv_rows(data: bytes) -> list[list[object]]:
    text = _decode(data)
    if _looks_binary(text):
        raise _refuse("not_a_sheet", NOT_A_SHEET)
    reader: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        return _limited(reader)
    except csv.Error:
        raise _refuse("not_a_sheet", NOT_A_SHEET) from None


# ---------------------------------------------------------------- the template


@dataclass(frozen=True)
class TemplateColumn:
    header: str  # already translated
    width: float
    kind: str = "text"  # text | int | m3 | date
    editable: bool = False  # the «Текущ…» columns, unlocked and coloured


def template_xlsx(sheet_name: str, columns: Sequence[TemplateColumn],
                  rows: Iterable[tuple[Sequence[object], bool]]) -> bytes:
    """An XLSX of one sheet: header row frozen, real dates, the editable columns unlocked and
    coloured (in rows whose `editable` is true), everything else locked by a sheet
    protection without a password — it prevents accidents, not a determined user."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet(sheet_name)
    fill = "#FFF2CC"  # pale yellow: "type here"
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                              "bg_color": "#D9E1F2", "border": 1})
    header_editable = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": "#FFD966", "border": 1})
    number_formats = {"text": "@", "int": "0", "m3": "0.000", "date": "dd.mm.yyyy"}
    locked = {k: book.add_format({"num_format": f}) for k, f in number_formats.items()}
    unlocked = {k: book.add_format({"num_format": f, "locked": False, "bg_color": fill,
                                    "border": 1, "border_color": "#BF9000"})
                for k, f in number_formats.items()}
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, column.header,
                           header_editable if column.editable else header)
    sheet.set_row(0, 32)
    last = 0
    for r, (cells, editable) in enumerate(rows, start=1):
        last = r
        for col, (column, value) in enumerate(zip(columns, cells, strict=True)):
            fmt = (unlocked if column.editable and editable else locked)[column.kind]
            if value is None or value == "":
                sheet.write_blank(r, col, None, fmt)
            elif isinstance(value, datetime | date):
                sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), fmt)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(r, col, float(value), fmt)
            else:
                sheet.write_string(r, col, str(value), fmt)
    sheet.freeze_panes(1, 0)
    if last:
        sheet.autofilter(0, 0, last, len(columns) - 1)
    sheet.protect("", {"format_columns": True, "format_rows": True, "autofilter": True,
                       "sort": False, "select_locked_cells": True,
                       "select_unlocked_cells": True})
    book.close()
    return out.getvalue()
