"""The reading grids' spreadsheets (SPEC §7): «Скачать шаблон» (an XLSX of the grid) and
«Загрузить из файла» (a file that fills the grid — through the grid's own evaluate and
RowView, so a row from a file gets exactly the verdict a typed row gets; nothing is saved)."""

from __future__ import annotations

from dataclasses import replace

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from app.controllers.readings import (
    TEMPLATE,
    RowView,
    Screen,
    _grid,
    attention_page,
    load_screen,
    page_context,
    page_number,
    page_of,
    posted_view,
    redirect_with_result,
    stored_view,
)
from app.domain import N_, Problem
from app.domain.calendar import period_value
from app.domain.grid import GridKind
from app.domain.spreadsheet import (
    ADDRESS,
    CODE,
    DATE,
    MAX_DATA_ROWS,
    PASTED,
    PREVIOUS,
    PREVIOUS_DATE,
    SERIAL,
    TEMPLATE_COLUMNS,
    VALUE,
    MeterRef,
    SheetError,
    fill_from_paste,
    fill_from_rows,
    header_aliases,
)
from app.domain.vocabulary import AuditChannel
from app.i18n import LOCALES, format_date, format_number, translations
from app.i18n import gettext as _
from app.render import render, wants_fragment
from app.security import requires_login
from app.settings import today
from app.spreadsheets import (
    MAX_FILE_BYTES,
    NO_FILE,
    TOO_BIG,
    TemplateColumn,
    read_rows,
    template_xlsx,
)

# The whole multipart body: the file (≤ 5 MB, checked on the file itself so the grid can say
# so) plus the grid's typed inputs, which the upload button posts along; parts over 1 MB are
# spooled to disk by Litestar, so the limit does not sit in memory.
UPLOAD_BODY_LIMIT = 4 * MAX_FILE_BYTES
# Parts of that multipart body: up to four inputs per grid row (value, date, the two
# confirmations) for a grid as large as a file may fill, plus the form's own fields.
# Litestar's default (1 000, app-wide for request.form()) refused a 500-meter grid's upload.
UPLOAD_FORM_PARTS = 4 * MAX_DATA_ROWS + 100
SHEET_NAME = N_("Показания")
FILLED = N_("Из файла заполнено строк: {count}")
EMPTY_VALUES = N_("Строк без текущего значения: {count} — эти строки таблицы оставлены как были")
WIDTHS = {CODE: 12, SERIAL: 20, ADDRESS: 48, PREVIOUS: 14, PREVIOUS_DATE: 14, VALUE: 16,
          DATE: 14}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _aliases() -> dict[str, str]:
    return header_aliases(translations(locale).gettext for locale in LOCALES)


def template_rows(grid: GridKind, views: list[RowView]) -> list[tuple[list[object], bool]]:
    """One row per meter in grid order: what the grid shows filled in — typed (posted by the
    button) or stored — a typed value as a number when it reads as one, else as typed;
    frozen readings locked like the rest."""
    result = []
    now = today()
    for view in views:
        row, typed = view.row, view.typed
        value: object = None
        read_on: object = None
        if typed.value.strip():
            outcome = view.outcome or grid.evaluate(typed, row.meter_history, now)
            value = outcome.value if outcome.value is not None else typed.value.strip()
            read_on = outcome.read_on or typed.read_on.strip() or None
        previous = row.previous
        cells = {
            CODE: row.code, SERIAL: row.serial, ADDRESS: row.address,
            PREVIOUS: previous.value if previous else None,
            PREVIOUS_DATE: row.previous_read_on, VALUE: value, DATE: read_on,
        }
        result.append(([cells[key] for key, _label in TEMPLATE_COLUMNS[grid.kind]],
                       not row.read_only))
    return result


def template_columns(grid: GridKind) -> list[TemplateColumn]:
    value_kind = "int" if grid.input_decimals == 0 else "m3"
    kinds = {CODE: "int", PREVIOUS: value_kind, VALUE: value_kind, PREVIOUS_DATE: "date",
             DATE: "date"}
    return [TemplateColumn(_(label), WIDTHS[key], kinds.get(key, "text"), key in (VALUE, DATE))
            for key, label in TEMPLATE_COLUMNS[grid.kind]]


def _problem_text(problem: Problem) -> str:
    return problem.text(_, format_number, format_date)


def filled_views(grid: GridKind, screen: Screen, form, inputs: dict) -> list[RowView]:
    """The grid after a file or a paste: filled rows evaluated as if typed (red when wrong),
    the others as posted."""
    views = []
    now = today()
    for row in screen.rows:
        typed = inputs.get(row.meter_id)
        if typed is None:
            views.append(posted_view(grid, row, form))
            continue
        outcome = grid.evaluate(typed, row.meter_history, now)
        if outcome.read_on is not None and typed.read_on.strip():
            # a file's date, written as the page writes dates (an empty one stays empty)
            typed = replace(typed, read_on=format_date(outcome.read_on))
        view = RowView(row, typed, outcome)
        if view.outcome.errors:
            view.state = "error"
        views.append(view)
    return views


def _meter_refs(screen: Screen) -> list[MeterRef]:
    return [MeterRef(r.meter_id, r.code, r.serial, not r.read_only) for r in screen.rows]


def _ids(raw: str | None) -> list[int]:
    """A comma-separated list of row ids from the page (bounded: int4, at most 10 000)."""
    ids = []
    for part in (raw or "").split(",")[:10_000]:
        if part.isdigit() and len(part) < 10:
            ids.append(int(part))
    return ids


class GridFilesController(Controller):
    path = "/readings"
    guards = [requires_login]

    @get(["/cold/template", "/hot/template"])
    async def download_template(self, request: Request) -> Response:
        """«Скачать шаблон» of what is saved: the grid of a contract and period as XLSX."""
        grid = _grid(request)
        params = request.query_params
        screen = await load_screen(request, grid, params.get("contract"), params.get("period"))
        return _template_response(grid, screen, [stored_view(grid, row) for row in screen.rows])

    @post(["/cold/template", "/hot/template"])
    async def download_typed_template(self, request: Request) -> Response:
        """«Скачать шаблон» as the grid's button sends it: the grid form posted, so the file
        carries the values typed but not yet saved (saved nothing)."""
        grid = _grid(request)
        form = await request.form()
        params = form if form.get("contract") else request.query_params
        screen = await load_screen(request, grid, params.get("contract"), params.get("period"))
        return _template_response(grid, screen,
                                  [posted_view(grid, row, form) for row in screen.rows])

    @post(["/cold/upload", "/hot/upload"], request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(self, request: Request) -> Response:
        """«Загрузить из файла»: the file fills the grid (saved: nothing); every filled row
        gets its verdict as if typed; rows the file does not fill keep what was posted."""
        grid = _grid(request)
        try:
            form = await request.form()
        except RequestEntityTooLarge:  # the body was not read: only the query is known
            form = None
        params = form if form is not None and form.get("contract") else request.query_params
        screen = await load_screen(request, grid, params.get("contract"), params.get("period"))

        shown_page = page_number(form.get("shown_page") if form is not None else None)
        try:
            data = await _file_bytes(form)
            rows = read_rows(data)
            fill = fill_from_rows(rows, _meter_refs(screen), _aliases())
        except SheetError as exc:
            # Nothing filled: the grid as posted, one message (no file chosen is a hint,
            # not a failed upload).
            views = [posted_view(grid, row, form) for row in screen.rows]
            chosen = exc.problem.code != "no_file"
            result = {"message": _problem_text(exc.problem),
                      "message_kind": "error" if chosen else "info",
                      "from_file": form is not None
                      and form.get("channel") == AuditChannel.upload}
            if not wants_fragment(request):  # a plain form: PRG, F5 does not post it again
                return redirect_with_result(request, screen, views, shown_page, **result)
            return render(request, TEMPLATE, page_context(
                screen, views, shown_page, path=f"/readings/{grid.kind}", **result),
                fragment="grid", status=422 if chosen else 200)

        views = filled_views(grid, screen, form, fill.inputs)
        message = _(FILLED).format(count=len(fill.inputs))
        if fill.empty_values:
            message += ". " + _(EMPTY_VALUES).format(count=fill.empty_values)
        result = {"message": message,
                  "message_kind": "error" if fill.notes or not fill.inputs else "success",
                  "file_notes": [_problem_text(p) for p in fill.notes], "from_file": True}
        # A long grid opens on the first row that needs the user (an error, a question).
        page = attention_page(views) or shown_page
        if not wants_fragment(request):
            return redirect_with_result(request, screen, views, page, **result)
        return render(request, TEMPLATE, page_context(
            screen, views, page, path=f"/readings/{grid.kind}", **result), fragment="grid")


    @post(["/cold/paste", "/hot/paste"])
    async def paste(self, request: Request) -> Response:
        """A block pasted into the grid (static/grid.js posts the grid form with it): rows
        matched by a «Код прибора»/serial column, else in order from the row pasted into;
        filled like a file (saved: nothing), the focus back on the row pasted into."""
        grid = _grid(request)
        form = await request.form()
        screen = await load_screen(request, grid, form.get("contract"), form.get("period"))
        order = _ids(form.get("paste_order"))
        try:
            fill = fill_from_paste(clean_paste(form.get("pasted")), _meter_refs(screen),
                                   _aliases(), order)
        except SheetError as exc:
            empty = exc.problem.code == "no_rows"  # nothing pasted: a hint, not a failure
            return render(request, TEMPLATE, page_context(
                screen, [posted_view(grid, row, form) for row in screen.rows],
                page_number(form.get("shown_page")),
                message=_problem_text(exc.problem), message_kind="info" if empty else "error",
                focus_meter=(_ids(form.get("paste_start")) or [None])[0],
                path=f"/readings/{grid.kind}"), fragment="grid", status=200 if empty else 422)
        views = filled_views(grid, screen, form, fill.inputs)
        filled_order = [m for m in order if m in fill.inputs]
        focus = filled_order[-1] if fill.mode == "order" and filled_order else (
            _ids(form.get("paste_start")) or [None])[0]
        return render(request, TEMPLATE, page_context(
            screen, views, page_of(views, focus) or page_number(form.get("shown_page")),
            message=_(PASTED[fill.mode]).format(count=len(fill.inputs)),
            message_kind="error" if fill.notes or not fill.inputs else "success",
            file_notes=[_problem_text(p) for p in fill.notes], focus_meter=focus,
            path=f"/readings/{grid.kind}"), fragment="grid")


def clean_paste(text: str | None) -> str:
    """The pasted block, bounded (10 000 rows of a few cells) and without control characters
    other than the tabs and line breaks that shape it."""
    text = (text or "")[:1_000_000]
    return "".join(ch for ch in text if ch.isprintable() or ch in "\t\r\n")


def _template_response(grid: GridKind, screen: Screen, views: list[RowView]) -> Response:
    body = template_xlsx(_(SHEET_NAME), template_columns(grid), template_rows(grid, views))
    name = f"{grid.kind}-{screen.contract.billing_id}-{period_value(screen.period)}.xlsx"
    return Response(body, status_code=200, media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })


async def _file_bytes(form) -> bytes:
    """The uploaded file's bytes, at most MAX_FILE_BYTES (refused past it, before parsing)."""
    if form is None:
        raise SheetError(Problem("too_big", TOO_BIG))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise SheetError(Problem("no_file", NO_FILE))
    try:
        data = await upload.read(MAX_FILE_BYTES + 1)
    finally:
        await upload.close()
    if len(data) > MAX_FILE_BYTES:
        raise SheetError(Problem("too_big", TOO_BIG))
    return data
