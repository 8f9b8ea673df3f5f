"""«Ход передачи показаний» (SPEC §10): who has and has not transmitted, for a period and a
kind; filtered by state, searched by №, INN or name, paginated; «Выгрузить в Excel»."""

from __future__ import annotations

import asyncio
import tempfile

from litestar import Controller, Request, Response, get
from litestar.response import Stream

from app.archive_export import XLSX_MEDIA_TYPE, StreamingSheet, file_chunks
from app.controllers._forms import clean_text
from app.controllers._pager import page_number, page_url, paging
from app.domain.calendar import month_start, parse_period, period_value
from app.domain.vocabulary import MeterKind
from app.i18n import gettext as _
from app.queries.progress import STATES, ProgressQuery, progress_page
from app.render import render
from app.security import requires_operator
from app.settings import today

TEMPLATE = "operator/progress.html"
PER_PAGE = 50


def state_labels() -> dict[str, str]:
    return {"all": _("Переданы все приборы"), "some": _("Переданы не все"),
            "none": _("Не передано ничего"), "rejected": _("Есть отклонённые биллингом")}


def _parse(request: Request) -> tuple[ProgressQuery, dict[str, str], dict[str, str]]:
    """The filter, the form as typed, and a message per bad field (the defaults then apply)."""
    params = request.query_params
    form = {"period": clean_text(params.get("period"), 7) or period_value(month_start(today())),
            "kind": params.get("kind") if params.get("kind") in list(MeterKind) else "cold",
            "state": params.get("state") if params.get("state") in STATES else "",
            "q": clean_text(params.get("q"), 100)}
    errors = {}
    try:
        period = parse_period(form["period"])
    except ValueError:
        period = month_start(today())
        errors["period"] = _("Укажите отчётный период в виде ГГГГ-ММ")
    return ProgressQuery(period, form["kind"], form["state"], form["q"]), form, errors


def _url(form: dict[str, str], page: int = 1, path: str = "/operator/progress", **change) -> str:
    return page_url(path, {**form, **change}, page)


class TransmissionProgressController(Controller):
    path = "/operator/progress"
    guards = [requires_operator]

    @get("/")
    async def index(self, request: Request) -> Response:
        """The counts per state and one page of contracts; only the results block for htmx."""
        q, form, errors = _parse(request)
        page = page_number(request.query_params.get("page"))
        counts, total, rows = await progress_page(q, PER_PAGE, (page - 1) * PER_PAGE)
        return render(request, TEMPLATE, {
            "form": form, "errors": errors, "counts": counts, "total": total, "rows": rows,
            "labels": state_labels(), "states": STATES,
            "state_urls": {s: _url(form, state=s) for s in ("", *STATES)},
            **paging(page, total, PER_PAGE, lambda n: _url(form, n)),
            "export_url": _url(form, path="/operator/progress/export.xlsx"),
        }, fragment="results", status=422 if errors else 200)

    @get("/export.xlsx")
    async def export(self, request: Request) -> Response:
        """Every contract of the filter (not only the page) as one XLSX sheet."""
        q, form, _errors = _parse(request)
        _counts, _total, rows = await progress_page(q, None)
        labels = state_labels()
        target = tempfile.TemporaryFile()  # unnamed: gone from the disk when closed

        def write() -> None:
            sheet = StreamingSheet(target, _("Ход передачи показаний"), [
                (_("№"), 10), (_("Номер договора"), 18), (_("Название контрагента"), 40),
                (_("ИНН Компании"), 14), (_("Приборов учёта"), 10), (_("Передано"), 10),
                (_("Отклонено"), 10), (_("Состояние"), 26)])
            for r in rows:
                sheet.write([r["billing_id"], r["number"], r["name"], r["inn"], r["meters"],
                             r["sent"], r["rejected"], labels[r["state"]]])
            sheet.close()

        try:
            await asyncio.to_thread(write)
        except BaseException:
            target.close()
            raise
        name = f"progress_{q.kind}_{period_value(q.period)}.xlsx"
        return Stream(file_chunks(target), media_type=XLSX_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
