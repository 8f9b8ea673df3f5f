"""«Архив показаний»: accepted readings of the user's contracts, filtered and paginated (R7),
and the export of every row of the filter as XLSX or CSV (SPEC §7)."""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date

from litestar import Controller, Request, Response, get
from litestar.response import Stream

from app.archive_export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    XlsxExport,
    csv_chunk,
    csv_header,
    file_chunks,
    source_labels,
)
from app.controllers._forms import clean_text
from app.controllers._pager import page_number, page_url, paging
from app.controllers._scope import owned_or_404
from app.domain.readings import ReadingError, consumption_since, parse_reading_date
from app.domain.vocabulary import MeterKind
from app.i18n import gettext as _
from app.queries.archive import (
    PAGE_SIZE,
    ArchiveFilter,
    PointOption,
    archive_batches,
    archive_page,
    user_points,
)
from app.queries.contracts import ContractView, contract_for_user, user_contracts
from app.render import render
from app.security import requires_login
from app.settings import today


def _parse_date(raw: str, errors: dict[str, str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return parse_reading_date(raw)
    except ReadingError as exc:
        errors[name] = exc.problem.text(_)
        return None


def archive_url(form: dict[str, str], page: int = 1, path: str = "/archive") -> str:
    """The bookmarkable URL of a filter state (empty and default values left out); `path`
    /archive/export.xlsx or .csv gives the export of that filter."""
    return page_url(path, {k: v for k, v in form.items()
                           if not (k == "kind" and v == MeterKind.cold)}, page)


@dataclass
class ArchiveQuery:
    """The archive filter of a request, parsed once for the screen and both exports."""

    form: dict[str, str]  # what the filter form shows
    contracts: list[ContractView]
    contract: ContractView | None  # the chosen contract (the user's), or all of them
    points: list[PointOption]
    errors: dict[str, str]
    filter: ArchiveFilter  # meaningful only without errors


async def parse_archive_query(request: Request) -> ArchiveQuery:
    """Contract, point, kind and dates from the query string. Another organization's (or no
    such) contract or point raises 404 (R8); a bad date is an error message in `errors`."""
    user = request.user
    params = request.query_params
    form = {
        # clean_text: no control/bidi characters echoed back into the filter or the URL
        "contract": clean_text(params.get("contract"), 20),
        "point": clean_text(params.get("point"), 20),
        "kind": params.get("kind") if params.get("kind") in set(MeterKind) else MeterKind.cold,
        "date_from": clean_text(params.get("date_from"), 20),
        "date_to": clean_text(params.get("date_to"), 20),
        "serial": clean_text(params.get("serial"), 40),
    }
    contracts = await user_contracts(user.id)
    contract = (owned_or_404(await contract_for_user(user.id, form["contract"]))
                if form["contract"] else None)
    points = await user_points(user.id, contract.id if contract else None)
    point_id = None
    if form["point"]:
        # another organization's point, a point of another contract, or no such point: 404
        point_id = owned_or_404(next((p.id for p in points if str(p.id) == form["point"]),
                                     None))
    errors: dict[str, str] = {}
    date_from = _parse_date(form["date_from"], errors, "date_from")
    date_to = _parse_date(form["date_to"], errors, "date_to")
    if date_from and date_to and date_from > date_to:
        errors["date_from"] = _("«Дата от» не может быть позже «Даты до»")
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None:
            form[name] = value.isoformat()  # what a date input shows
    return ArchiveQuery(
        form, contracts, contract, points, errors,
        ArchiveFilter(user.id, contract.id if contract else None, point_id, form["kind"],
                      date_from, date_to, form["serial"]))


def export_filename(q: ArchiveQuery, extension: str) -> str:
    """archive_15303_cold_2024-05-01_2024-05-31.xlsx; the day of the export when no dates."""
    parts = ["archive"]
    if q.contract is not None:
        parts.append(str(q.contract.billing_id))
    parts.append(str(q.filter.kind))
    dates = [d.isoformat() for d in (q.filter.date_from, q.filter.date_to) if d]
    parts += dates or [today().isoformat()]
    return "_".join(parts) + "." + extension


def _attachment(filename: str) -> dict[str, str]:
    # ASCII only, so no filename* is needed
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}


def archive_screen(request: Request, q: ArchiveQuery, rows: list, total: int,
                   page: int) -> Response:
    form = q.form
    context = {
        "contracts": q.contracts,
        "points": q.points,
        "form": form,
        "errors": q.errors,
        "rows": rows,
        "total": total,
        **paging(page, total, PAGE_SIZE, lambda n: archive_url(form, n)),
        "consumptions": {r.reading_id: consumption_since(r.value, r.previous_value, r.digits)
                         for r in rows} if form["kind"] == MeterKind.cold else {},
        "refresh_minutes": request.app.state.settings.archive_refresh_minutes,
        "reset_url": archive_url({"contract": form["contract"], "kind": form["kind"]}),
        "export_xlsx_url": archive_url(form, path="/archive/export.xlsx"),
        "export_csv_url": archive_url(form, path="/archive/export.csv"),
    }
    return render(
        request,
        "archive/index.html",
        context,
        fragment="archive",
        status=422 if q.errors else 200,
    )


class ArchiveController(Controller):
    path = "/archive"
    guards = [requires_login]

    @get("/", name="archive")
    async def archive(self, request: Request) -> Response:
        """The filter and one page of accepted readings; only the «archive» block for htmx."""
        q = await parse_archive_query(request)
        page = page_number(request.query_params.get("page"))
        rows, total = [], 0
        if not q.errors and q.contracts:
            rows, total, page = await archive_page(q.filter, page)
        return archive_screen(request, q, rows, total, page)

    @get("/export.xlsx", name="archive-export-xlsx")
    async def export_xlsx(self, request: Request) -> Response:
        """Every row of the filter as one XLSX sheet (a bad filter: the screen, 422)."""
        q = await parse_archive_query(request)
        if q.errors:
            return archive_screen(request, q, [], 0, 1)
        # an unnamed temporary file: gone from the disk as soon as it is closed
        target = tempfile.TemporaryFile()
        try:
            sheet = XlsxExport(target, q.filter.kind)
            async with aclosing(archive_batches(q.filter)) as batches:
                async for batch in batches:
                    # XlsxWriter is CPU work: keep the event loop serving other requests
                    await asyncio.to_thread(sheet.add, batch)
            await asyncio.to_thread(sheet.close)
        except BaseException:
            target.close()
            raise
        return Stream(file_chunks(target), media_type=XLSX_MEDIA_TYPE,
                      headers=_attachment(export_filename(q, "xlsx")))

    @get("/export.csv", name="archive-export-csv")
    async def export_csv(self, request: Request) -> Response:
        """Every row of the filter as CSV, streamed batch by batch as it leaves the cursor."""
        q = await parse_archive_query(request)
        if q.errors:
            return archive_screen(request, q, [], 0, 1)
        kind = q.filter.kind
        labels, header = source_labels(), csv_header(kind)  # in the request's language

        async def chunks():
            yield header
            async with aclosing(archive_batches(q.filter)) as batches:
                async for batch in batches:
                    yield csv_chunk(batch, labels, kind)

        return Stream(chunks(), media_type=CSV_MEDIA_TYPE,
                      headers=_attachment(export_filename(q, "csv")))
