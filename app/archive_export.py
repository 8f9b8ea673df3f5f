"""«Выгрузить в Excel» / «Выгрузить CSV» of the archive: writers fed batch by batch.

Neither writer holds more than one batch of rows: the CSV writer turns each batch into one
chunk of bytes for the response; the XLSX writer is XlsxWriter in constant_memory mode,
which flushes every row to its own temporary file, and the finished workbook is itself a
temporary file streamed out in chunks (an XLSX is a zip: it cannot be sent before it is
complete). Headers and the «Источник» labels follow the user's language; the values do not
(a file is data: ДД.ММ.ГГГГ dates, decimal comma in CSV as Excel in a Russian locale reads
it, real dates and numbers in XLSX).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import IO

import xlsxwriter

from app.domain.readings import consumption_since
from app.domain.vocabulary import MeterKind, ReadingSource
from app.i18n import gettext as _
from app.queries.archive import ArchiveRow

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CHUNK = 64 * 1024

def columns(kind: str = MeterKind.cold) -> list[tuple[str, int]]:
    """(header, XLSX column width in characters): the screen's columns, its group title
    (counterparty, №contract) as the first two; «Расход, м³» where the screen has it (cold)."""
    result = [
        (_("Контрагент"), 36),
        (_("Договор"), 10),
        (_("Номер прибора учёта"), 20),
        (_("Адрес установки прибора учёта"), 48),
        (_("Показания прибора учёта"), 16),
        (_("Дата показаний"), 14),
        (_("Источник"), 11),
    ]
    if kind == MeterKind.cold:
        result.append((_("Расход, м³"), 12))
    return result


def consumption(row: ArchiveRow) -> Decimal | None:
    """The row's «Расход, м³» as the screen computes it (rollover included)."""
    return consumption_since(row.value, row.previous_value, row.digits)


def source_labels() -> dict[str, str]:
    return {ReadingSource.portal: _("Портал"), ReadingSource.billing: _("Биллинг")}


def _inert(text: str) -> str:
    """A text cell Excel will not run as a formula (CSV injection): a leading = + - @ or
    a control character gets an apostrophe, which Excel hides."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---------------------------------------------------------------- CSV


def _csv_bytes(lines: Iterable[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(lines)
    return buf.getvalue().encode("utf-8")


def csv_header(kind: str = MeterKind.cold) -> bytes:
    """The BOM (so that Excel reads UTF-8) and the header line."""
    return b"\xef\xbb\xbf" + _csv_bytes([[name for name, _width in columns(kind)]])


def _m3(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.3f}".replace(".", ",")


def csv_chunk(rows: list[ArchiveRow], labels: dict[str, str],
              kind: str = MeterKind.cold) -> bytes:
    cold = kind == MeterKind.cold
    return _csv_bytes(
        [_inert(r.counterparty_name), str(r.contract_billing_id), _inert(r.serial),
         _inert(r.address), _m3(r.value), r.read_on.strftime("%d.%m.%Y"),
         labels.get(r.source, r.source), *([_m3(consumption(r))] if cold else [])]
        for r in rows)


# ---------------------------------------------------------------- XLSX


class StreamingSheet:
    """One sheet of typed cells written row by row into `target` (a binary file XlsxWriter
    zips into), in constant_memory mode: a text is always a string (never a formula), a
    number a number, a date an Excel date; the header row frozen, an autofilter at the end."""

    def __init__(self, target: IO[bytes], sheet_name: str,
                 header: Sequence[tuple[str, int]]) -> None:
        self.book = xlsxwriter.Workbook(target, {"constant_memory": True})
        self.sheet = self.book.add_worksheet(sheet_name[:31])
        self.width = len(header)
        bold = self.book.add_format({"bold": True, "bg_color": "#E8EEF5", "bottom": 1,
                                     "text_wrap": True, "valign": "top"})
        self.number = self.book.add_format({"num_format": "#,##0.000"})
        self.date = self.book.add_format({"num_format": "dd.mm.yyyy"})
        for col, (name, width) in enumerate(header):
            self.sheet.set_column(col, col, width)
            self.sheet.write_string(0, col, name, bold)
        self.sheet.freeze_panes(1, 0)
        self.row = 0

    def write(self, cells: Sequence[object]) -> None:
        self.row += 1
        ws, n = self.sheet, self.row
        for col, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(n, col, value)
            elif isinstance(value, bool | int):
                ws.write_number(n, col, int(value))
            elif isinstance(value, float | Decimal):
                ws.write_number(n, col, float(value), self.number)
            elif isinstance(value, date):
                ws.write_datetime(n, col, value, self.date)
            else:
                ws.write_string(n, col, str(value))

    def close(self) -> None:
        self.sheet.autofilter(0, 0, max(self.row, 1), self.width - 1)
        self.book.close()


class XlsxExport(StreamingSheet):
    """The archive's sheet: the screen's columns, fed batch by batch."""

    def __init__(self, target: IO[bytes], kind: str = MeterKind.cold) -> None:
        super().__init__(target, _("Архив показаний"), columns(kind))
        self.labels = source_labels()
        self.cold = kind == MeterKind.cold

    def add(self, rows: list[ArchiveRow]) -> None:
        for r in rows:
            cells = [r.counterparty_name, r.contract_billing_id, r.serial, r.address,
                     r.value, r.read_on, self.labels.get(r.source, r.source)]
            if self.cold:
                cells.append(consumption(r))
            self.write(cells)


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The finished file from its start, CHUNK bytes at a time; closes (deletes) it."""
    try:
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()
