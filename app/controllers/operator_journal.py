"""«Журнал» (SPEC §10): account events and reading changes, filtered by user, contract,
meter and dates, newest first; a reading's whole history (old → new, who, when, channel)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException

from app.controllers._forms import clean_text
from app.controllers._pager import page_number, page_url, paging
from app.controllers._scope import DbId
from app.i18n import gettext as _
from app.queries.audit import journal_page, reading_history
from app.render import render
from app.security import requires_operator

TEMPLATE = "operator/journal.html"
PER_PAGE = 50
FIELDS = ("who", "contract", "meter", "date_from", "date_to")


def channel_labels() -> dict[str, str]:
    return {"grid": _("таблица"), "upload": _("файл"), "api": _("API"),
            "billing": _("биллинг")}


def _date(raw: str) -> date | None:
    return date.fromisoformat(raw) if raw else None


def _url(form: dict[str, str], page: int = 1) -> str:
    return page_url("/operator/journal", form, page)


class JournalController(Controller):
    path = "/operator/journal"
    guards = [requires_operator]

    @get("/")
    async def index(self, request: Request) -> Response:
        """One page of the journal for the filter; only the results block for htmx."""
        params = request.query_params
        form = {name: clean_text(params.get(name), 254) for name in FIELDS}
        errors: dict[str, str] = {}
        contract = None
        if form["contract"]:
            if form["contract"].isdigit() and 0 < int(form["contract"]) < 2**31:
                contract = int(form["contract"])
            else:
                errors["contract"] = _("Номер договора — это число, например 15303")
        dates = {}
        for name in ("date_from", "date_to"):
            try:
                dates[name] = _date(form[name])
            except ValueError:
                errors[name] = _("Укажите дату в формате ДД.ММ.ГГГГ")
        total, rows, page = 0, [], page_number(params.get("page"))
        if not errors:
            total, rows = await journal_page(form["who"], contract, form["meter"],
                                             dates["date_from"], dates["date_to"], PER_PAGE,
                                             (page - 1) * PER_PAGE)
        return render(request, TEMPLATE, {
            "form": form, "errors": errors, "rows": rows, "total": total,
            "channels": channel_labels(),
            **paging(page, total, PER_PAGE, lambda n: _url(form, n)),
        }, fragment="journal", status=422 if errors else 200)

    @get("/readings/{reading_id:int}")
    async def reading(self, request: Request, reading_id: DbId) -> Response:
        """A reading's full history, oldest first (404 for an unknown id)."""
        if not 0 < reading_id < 2**31:
            raise NotFoundException()
        reading, changes = await reading_history(reading_id)
        if reading is None:
            raise NotFoundException()
        return render(request, "operator/reading_history.html", {
            "reading": reading, "changes": changes, "channels": channel_labels()})
