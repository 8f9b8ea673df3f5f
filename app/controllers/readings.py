"""Reading grids: «Передача показаний ХВС» (/readings/cold) and «Передача объемов по стокам
ГВС» (/readings/hot) — one controller, one query module, one template, a GridKind per screen."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from markupsafe import Markup, escape

from app.controllers._forms import clean_text
from app.controllers._scope import owned_or_404
from app.domain import N_
from app.domain.calendar import (
    WindowState,
    candidate_periods,
    parse_period,
    period_for_windows,
    period_value,
    window_state,
)
from app.domain.grid import (
    GRIDS,
    GridKind,
    RowInput,
    RowOutcome,
    plan_row,
    problem_field,
    window_text,
)
from app.domain.vocabulary import AuditChannel, ReadingStatus
from app.domain.writes import REFUSAL_NOTES, WriteOutcome
from app.i18n import current_locale, format_date, format_number
from app.i18n import format_period as period_label
from app.i18n import gettext as _
from app.metrics import count_writes
from app.queries.contracts import ContractView, contract_for_user, selected_contract
from app.queries.readings import GridRow, ReadingWrite, WriteResult, grid_rows, write_readings
from app.queries.windows import windows_for
from app.render import render, wants_fragment
from app.security import requires_login
from app.settings import today

TEMPLATE = "readings/grid.html"
STATUS_LABELS = {
    ReadingStatus.draft: N_("сохранено"),
    ReadingStatus.transmitted: N_("передано, ожидает обработки"),
    ReadingStatus.accepted: N_("принято"),
    ReadingStatus.rejected: N_("отклонено"),
}
CONFIRM_LABELS = {
    "rollover": N_("Да, счётчик прошёл через ноль"),
    "anomaly": N_("Да, показание верное"),
}


@dataclass
class RowView:
    """One grid row as drawn: the stored state, what the user typed, and the verdict."""

    row: GridRow
    typed: RowInput
    outcome: RowOutcome | None = None
    state: str | None = None  # "ok" (green) / "error" (red) after a save or transmit
    note: str | None = None  # untranslated (a REFUSAL_NOTES text): kept across a redirect
    stored: RowInput | None = None  # the stored reading as input text (page_context fills it)

    @property
    def problems(self) -> list[str]:
        if self.outcome is None:
            return []
        return [p.text(_, format_number, format_date) for p in self.outcome.errors]

    def field_problems(self, field: str) -> list[str]:
        """The errors about one input ("value" or "date"), drawn under that input."""
        if self.outcome is None:
            return []
        return [p.text(_, format_number, format_date) for p in self.outcome.errors
                if problem_field(p) == field]

    def question(self, code: str) -> str | None:
        """The rollover/anomaly question of this row, if it asks one."""
        if self.outcome is None:
            return None
        for p in self.outcome.confirmations + self.outcome.warnings:
            if p.code == code:
                return p.text(_, format_number, format_date)
        return None

    def confirmed(self, code: str) -> bool:
        return self.typed.confirm_rollover if code == "rollover" else self.typed.confirm_anomaly


@dataclass
class Screen:
    grid: GridKind
    contract: ContractView
    contracts: list[ContractView]
    periods: list[date]
    period: date
    window: tuple[date, date]
    state: WindowState
    rows: list[GridRow]

    @property
    def window_text(self) -> str:
        return window_text(self.state, self.grid.subject, period_label(self.period),
                           format_date(self.window[0]), format_date(self.window[1]), _)


def _grid(request: Request) -> GridKind:
    """The grid a route serves: /readings/<kind>[/check] (explicit routes, one per kind)."""
    grid = GRIDS.get(request.url.path.split("/")[2])
    if grid is None:
        raise NotFoundException()
    return grid


def _period_param(raw: str | None, periods: list[date]) -> date | None:
    try:
        period = parse_period(raw or "")
    except ValueError:
        return None
    return period if period in periods else None


class NoContracts(NotFoundException):
    """The user has no contract linked and asked for none: the GET shows a prompt to connect
    one (a 404 wherever it is not caught, e.g. a POST)."""


async def load_screen(request: Request, grid: GridKind, contract_param: str | None,
                      period_param: str | None) -> Screen:
    """The contract (404 if not the user's), its periods with their stored windows, the rows."""
    found = await selected_contract(request.user.id, contract_param)
    if found is None and contract_param in (None, ""):
        raise NoContracts()  # the user's first contract was asked for: there is none
    contract, contracts = owned_or_404(found)
    now = today()
    periods = candidate_periods(now)
    windows = await windows_for(contract.id, grid.kind, grid.deadline_day(contract), periods)
    period = _period_param(period_param, periods) or period_for_windows(now, windows)
    return Screen(grid, contract, contracts, periods, period, windows[period],
                  window_state(now, windows[period]),
                  await grid_rows(contract.id, grid.kind, period))


def stored_input(grid: GridKind, row: GridRow) -> RowInput:
    """The stored reading put back into the row's inputs (the date defaults to today)."""
    if row.value is None:
        value = ""
    elif grid.input_decimals:
        value = f"{row.value:.{grid.input_decimals}f}"
        if current_locale.get() == "ru":
            value = value.replace(".", ",")
    else:
        value = str(int(row.value))
    # the date as the page writes dates: ДД.ММ.ГГГГ / "1 Dec 2026" (parse_reading_date reads both)
    return RowInput(value, format_date(row.read_on or today()),
                    bool(row.rollover_confirmed), bool(row.anomaly_confirmed))


def typed_input(form: FormMultiDict, meter_id: int) -> RowInput:
    return RowInput(
        clean_text(form.get(f"value-{meter_id}"), 40),
        clean_text(form.get(f"date-{meter_id}"), 40),
        form.get(f"rollover-{meter_id}") == "yes",
        form.get(f"anomaly-{meter_id}") == "yes",
    )


def stored_view(grid: GridKind, row: GridRow) -> RowView:
    typed = stored_input(grid, row)
    outcome = None
    if row.value is not None and row.status in (ReadingStatus.draft, ReadingStatus.transmitted):
        outcome = grid.evaluate(typed, row.meter_history, today())
    # A reload keeps the colours of R4: handed over or accepted is green, rejected red.
    state = {ReadingStatus.transmitted: "ok", ReadingStatus.accepted: "ok",
             ReadingStatus.rejected: "error"}.get(row.status or "")
    return RowView(row, typed, outcome, state, stored=typed)


def grid_url(grid: GridKind, contract: ContractView, period: date) -> str:
    """The grid's own address: where a redirect, the language switch and the login return."""
    return f"/readings/{grid.kind}?contract={contract.id}&period={period_value(period)}"


def posted_view(grid: GridKind, row: GridRow, form: FormMultiDict | None) -> RowView:
    """A row as the grid form posted it (typed, carried from another page, or stored);
    a row the form does not name shows what is stored."""
    if row.read_only or form is None or f"value-{row.meter_id}" not in form:
        return stored_view(grid, row)
    typed = typed_input(form, row.meter_id)
    return RowView(row, typed, None if not typed.value.strip()
                   else grid.evaluate(typed, row.meter_history, today()))


# A grid longer than this is drawn one page of rows at a time (a 10 000-meter contract, a
# 10 000-row file: 15 MB of rows to draw otherwise). The rows of the other pages travel in
# the same form as hidden inputs, so «Сохранить значения» / «Передать значения» post every
# row through the one write path; the 200-meter grid of issue 19 is one page as before.
PAGE_ROWS = 500


@dataclass(frozen=True)
class GridPage:
    number: int
    first: int  # 1-based row numbers
    last: int
    attention: int  # rows with an error or an open question


def needs_user(view: RowView) -> bool:
    """A row the user has to look at: red, or with an error or an unanswered question."""
    outcome = view.outcome
    return view.state == "error" or bool(outcome and (outcome.errors or outcome.confirmations))


def attention_page(views: list[RowView]) -> int | None:
    """The page of the first row that needs the user (after a file filled the grid)."""
    for index, view in enumerate(views):
        if needs_user(view):
            return index // PAGE_ROWS + 1
    return None


def page_of(views: list[RowView], meter_id: int | None) -> int | None:
    """The page of a long grid that draws this meter's row (a paste goes back to it)."""
    for index, view in enumerate(views):
        if view.row.meter_id == meter_id:
            return index // PAGE_ROWS + 1
    return None


def page_number(raw: object) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 6 else 1


def carried_inputs(views: list[RowView]) -> Markup:
    """The rows of the other pages as hidden inputs of the grid form: the same names and
    data-stored as the drawn inputs (static/grid.js counts, drafts and restores them)."""
    parts = []
    for view in views:
        mid, typed, stored = view.row.meter_id, view.typed, view.stored
        parts.append(
            f'<input type="hidden" class="grid-value" id="value-{mid}" name="value-{mid}" '
            f'value="{escape(typed.value)}" data-stored="{escape(stored.value)}">'
            f'<input type="hidden" class="grid-date" id="date-{mid}" name="date-{mid}" '
            f'value="{escape(typed.read_on)}" data-stored="{escape(stored.read_on)}">')
        if typed.confirm_rollover:
            parts.append(f'<input type="hidden" name="rollover-{mid}" value="yes">')
        if typed.confirm_anomaly:
            parts.append(f'<input type="hidden" name="anomaly-{mid}" value="yes">')
    return Markup("".join(parts))


def paging(views: list[RowView], page: int) -> dict:
    """The rows drawn (one page of a long grid), the others carried, the page buttons."""
    if len(views) <= PAGE_ROWS:
        return {"rows": views, "carried": Markup(""), "pages": [], "page": 1}
    count = -(-len(views) // PAGE_ROWS)
    page = min(max(page, 1), count)
    start = (page - 1) * PAGE_ROWS
    pages = [GridPage(n, (n - 1) * PAGE_ROWS + 1, min(n * PAGE_ROWS, len(views)),
                      sum(1 for v in views[(n - 1) * PAGE_ROWS:n * PAGE_ROWS] if needs_user(v)))
             for n in range(1, count + 1)]
    return {"rows": views[start:start + PAGE_ROWS],
            "carried": carried_inputs(views[:start] + views[start + PAGE_ROWS:]),
            "pages": pages, "page": page}


def page_context(screen: Screen, views: list[RowView], page: int = 1, **extra: object) -> dict:
    for view in views:  # what the database holds: static/grid.js tells typed from saved by it
        if view.stored is None:
            view.stored = stored_input(screen.grid, view.row)
        if view.state == "ok":  # written: shown as stored («12,3» comes back as «12,300»),
            # the ticked questions as ticked
            view.typed = replace(view.stored, confirm_rollover=view.typed.confirm_rollover,
                                 confirm_anomaly=view.typed.confirm_anomaly)
    return {
        "focus_meter": None,
        "here": grid_url(screen.grid, screen.contract, screen.period),
        "transmit_blocked": screen.state != "open",
        "filled": sum(1 for v in views if v.typed.value.strip()),
        "total_rows": len(views),
        **paging(views, page),
        "grid": screen.grid,
        "contract": screen.contract,
        "contracts": screen.contracts,
        "periods": screen.periods,
        "period": screen.period,
        "period_value": period_value(screen.period),
        "deadline_day": screen.grid.deadline_day(screen.contract),
        "window_state": screen.state,
        "window_text": screen.window_text,
        "status_labels": STATUS_LABELS,
        "confirm_labels": CONFIRM_LABELS,
        "message": None,
        **extra,
    }


def submit_views(screen: Screen, form: FormMultiDict, transmit: bool
                 ) -> tuple[list[RowView], list[ReadingWrite]]:
    """Evaluate every editable row of the user's contract; foreign meter ids are never read."""
    views, writes = [], []
    now = today()
    for row in screen.rows:
        if row.read_only:
            views.append(stored_view(screen.grid, row))
            continue
        typed = typed_input(form, row.meter_id)
        outcome = screen.grid.evaluate(typed, row.meter_history, now)
        view = RowView(row, typed, outcome)
        views.append(view)
        plan = plan_row(outcome, transmit, row.stored)
        if plan.refused:
            view.state = "error"
            if plan.note is not None:
                view.note = REFUSAL_NOTES[plan.note]  # untranslated: the template says it
        elif plan.status is not None:
            writes.append(ReadingWrite(row.meter_id, outcome.value, outcome.read_on,
                                       plan.status, typed.confirm_rollover,
                                       typed.confirm_anomaly))
    return views, writes


def settle_views(views: list[RowView], results: dict[int, WriteResult]) -> None:
    """After the write: each written row shows what the write left stored, green if the write
    took (or was already stored), red with the reason if a stored reading refused it."""
    for view in views:
        result = results.get(view.row.meter_id)
        if result is None:
            continue
        view.row = view.row.settled(result.stored)
        if result.outcome is WriteOutcome.written:
            # The write stored the row's ticks too: a redraw «as stored» (page_context) must
            # keep «Да, счётчик прошёл через ноль» ticked, or the next transmit is refused.
            view.row = replace(view.row, rollover_confirmed=view.typed.confirm_rollover,
                               anomaly_confirmed=view.typed.confirm_anomaly)
        if result.outcome.ok:
            view.state = "ok"
        else:
            view.state = "error"
            view.note = REFUSAL_NOTES[result.outcome]


RESULT_KEY = "grid_result"  # the session key of a plain-form POST's result, read by the GET
NOT_TRANSMITTED = N_("Значения не переданы: передача сейчас недоступна — причина указана рядом "
                     "с кнопкой «Передать значения»")


def result_message(transmit: bool, done: int, bad: int, refused: bool) -> tuple[str, str]:
    """The grid's summary after a save or transmit, and its kind ("success"/"error")."""
    if refused:
        return _(NOT_TRANSMITTED), "error"
    text = _("Передано строк: {done}.") if transmit else _("Сохранено строк: {done}.")
    message = text.format(done=done)
    if bad:
        message += " " + _("Строк с ошибками: {bad} — они выделены красным.").format(bad=bad)
    return message, "error" if bad else "success"


def posted_views(screen: Screen, rows: dict[str, list]) -> list[RowView]:
    """The rows as a plain-form POST left them (its result kept in the session): written rows
    from the database, green; the others as typed, with their verdicts and notes."""
    views = []
    now = today()
    for row in screen.rows:
        posted = rows.get(str(row.meter_id))
        if posted is None:
            views.append(stored_view(screen.grid, row))
            continue
        value, read_on, rollover, anomaly, state, note = posted
        if state == "ok" or row.read_only:
            view = stored_view(screen.grid, row)
            view.state = state
        else:
            typed = RowInput(value, read_on, rollover, anomaly)
            outcome = screen.grid.evaluate(typed, row.meter_history, now) if value.strip() else None
            view = RowView(row, typed, outcome, state, note)
        views.append(view)
    return views


def posted_rows(views: list[RowView]) -> dict[str, list]:
    """What a plain-form POST leaves for the GET after it: every row typed or decided."""
    return {str(v.row.meter_id): [v.typed.value, v.typed.read_on, v.typed.confirm_rollover,
                                  v.typed.confirm_anomaly, v.state, v.note]
            for v in views if v.state or v.typed.value.strip()}


def redirect_with_result(request: Request, screen: Screen, views: list[RowView], page: int,
                         **result: object) -> Redirect:
    """Post/Redirect/Get for every plain-form POST of the grid (save, transmit, a page of a
    long grid, a file): the rows and the result wait in the session for the grid's GET, so
    F5 reloads the grid instead of posting again."""
    here = grid_url(screen.grid, screen.contract, screen.period)
    request.session[RESULT_KEY] = {"at": here, "rows": posted_rows(views), **result}
    return Redirect(here + (f"&page={page}" if page > 1 else ""), status_code=303)


class ReadingsController(Controller):
    path = "/readings"
    guards = [requires_login]

    @get(["/cold", "/hot"])
    async def grid_page(self, request: Request) -> Response:
        """The grid page of the chosen contract and reporting period (after a plain-form POST,
        with that POST's result: PRG, so F5 does not post again); a long grid one page."""
        grid = _grid(request)
        params = request.query_params
        try:
            screen = await load_screen(request, grid, params.get("contract"), params.get("period"))
        except NoContracts:
            # a 200 page with the menu and a way forward, not «Страница не найдена»; a
            # contract id in the query that is not the user's still answers 404 (R8)
            return render(request, "readings/no_contracts.html", {"grid": grid})
        result = request.session.pop(RESULT_KEY, None) if request.user else None
        extra: dict = {}
        if result and result.get("at") == grid_url(grid, screen.contract, screen.period):
            views = posted_views(screen, result["rows"])
            if "transmit" in result:  # a save or transmit
                message, kind = result_message(result["transmit"], result["done"],
                                               result["bad"], result["refused"])
                extra = {"message": message, "message_kind": kind,
                         "receipts": result["receipts"]}
            elif result.get("message"):  # a file (grid_files.py)
                extra = {"message": result["message"], "message_kind": result["message_kind"],
                         "file_notes": result.get("file_notes", [])}
            extra["from_file"] = bool(result.get("from_file"))
        else:
            views = [stored_view(grid, row) for row in screen.rows]
        return render(request, TEMPLATE, page_context(
            screen, views, page_number(params.get("page")), **extra))

    @post(["/cold", "/hot"])
    async def grid_submit(self, request: Request) -> Response:
        """Save drafts or transmit; the grid (block or page) with a verdict per row. A plain
        form (no JavaScript) is redirected to the grid's GET, which shows the same verdicts."""
        grid = _grid(request)
        form = await request.form()
        transmit = form.get("action") == "transmit"
        screen = await load_screen(request, grid, form.get("contract"), form.get("period"))
        views, writes = submit_views(screen, form, transmit)
        receipts: list[int] = []  # «Квитанция о передаче № N» for what this transmit changed
        refused = transmit and screen.state != "open"
        if refused:
            # The button is disabled outside the window, its reason beside it; a stale page or
            # a hand-made POST gets one line, not the window notice again in red.
            for view in views:
                view.state = None
        else:
            # A grid the spreadsheet upload filled carries channel=upload (grid_files.py).
            channel = (AuditChannel.upload if form.get("channel") == AuditChannel.upload
                       else AuditChannel.grid)
            results = await write_readings(request.user.id, screen.period, writes, channel)
            count_writes(grid.kind, results, channel)
            settle_views(views, results)
            receipts = results.receipts
        done = sum(1 for v in views if v.state == "ok")
        bad = sum(1 for v in views if v.state == "error")
        page = page_number(form.get("shown_page"))
        if not wants_fragment(request):
            return redirect_with_result(request, screen, views, page, transmit=transmit,
                                        done=done, bad=bad, refused=refused,
                                        receipts=list(receipts))
        message, message_kind = result_message(transmit, done, bad, refused)
        return render(
            request, TEMPLATE,
            page_context(screen, views, page, message=message, message_kind=message_kind,
                         receipts=receipts),
            fragment="grid",
            status=422 if refused or bad else 200,
        )

    @post(["/cold/page", "/hot/page"])
    async def grid_other_page(self, request: Request) -> Response:
        """Another page of a long grid: every row as posted (typed values kept, nothing
        saved), the page asked for drawn."""
        grid = _grid(request)
        form = await request.form()
        screen = await load_screen(request, grid, form.get("contract"), form.get("period"))
        views = [posted_view(grid, row, form) for row in screen.rows]
        page = page_number(form.get("page"))
        from_file = form.get("channel") == AuditChannel.upload
        if not wants_fragment(request):
            return redirect_with_result(request, screen, views, page, from_file=from_file)
        return render(request, TEMPLATE, page_context(
            screen, views, page, from_file=from_file, path=f"/readings/{grid.kind}"),
            fragment="grid")

    @post(["/cold/check", "/hot/check"])
    async def check_row(self, request: Request) -> Response:
        """Only the feedback cell of one row: consumption, warnings, errors (as typed)."""
        grid = _grid(request)
        params = request.query_params
        contract = owned_or_404(await contract_for_user(request.user.id, params.get("contract")))
        try:
            period = parse_period(params.get("period") or "")
            meter_id = int(params.get("meter") or "")
        except ValueError:
            raise NotFoundException() from None
        rows = await grid_rows(contract.id, grid.kind, period, meter_id)
        if not rows:
            raise NotFoundException()
        form = await request.form()
        typed = typed_input(form, meter_id)
        view = RowView(rows[0], typed, grid.evaluate(typed, rows[0].meter_history, today()))
        return render(request, TEMPLATE,
                      {"rv": view, "grid": grid, "status_labels": STATUS_LABELS,
                       "confirm_labels": CONFIRM_LABELS},
                      block="feedback")
