"""«Архив показаний»: accepted readings of the user's contracts, filtered and paginated (R7)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get

from app.controllers._forms import clean_text
from app.controllers._scope import owned_or_404
from app.domain.readings import ReadingError, parse_reading_date
from app.domain.vocabulary import MeterKind
from app.i18n import gettext as _
from app.queries.archive import PAGE_SIZE, ArchiveFilter, archive_page, user_points
from app.queries.contracts import contract_for_user, user_contracts
from app.render import render
from app.security import requires_login


def _parse_date(raw: str, errors: dict[str, str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return parse_reading_date(raw)
    except ReadingError as exc:
        errors[name] = exc.problem.text(_)
        return None


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        return 1


def archive_url(form: dict[str, str], page: int = 1) -> str:
    """The bookmarkable URL of a filter state (empty and default values left out)."""
    params = {k: v for k, v in form.items() if v and not (k == "kind" and v == MeterKind.cold)}
    if page > 1:
        params["page"] = str(page)
    return "/archive" + ("?" + urlencode(params) if params else "")


def page_numbers(current: int, pages: int) -> list[int | None]:
    """1 … current±2 … last; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


class ArchiveController(Controller):
    path = "/archive"
    guards = [requires_login]

    @get("/", name="archive")
    async def archive(self, request: Request) -> Response:
        """The filter and one page of accepted readings; only the «archive» block for htmx."""
        user = request.user
        params = request.query_params
        form = {
            # clean_text: no control/bidi characters echoed back into the filter or the URL
            "contract": clean_text(params.get("contract"), 20),
            "point": clean_text(params.get("point"), 20),
            "kind": params.get("kind") if params.get("kind") in set(MeterKind) else MeterKind.cold,
            "date_from": clean_text(params.get("date_from"), 20),
            "date_to": clean_text(params.get("date_to"), 20),
        }
        contracts = await user_contracts(user.id)
        contract = (owned_or_404(await contract_for_user(user.id, form["contract"]))
                    if form["contract"] else None)
        points = await user_points(user.id, contract.id if contract else None)
        point_id = None
        if form["point"]:
            # another organization's point, or no such point: 404
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
        page = _page_number(params.get("page"))
        rows, total = [], 0
        if not errors and contracts:
            rows, total, page = await archive_page(
                ArchiveFilter(user.id, contract.id if contract else None, point_id,
                              form["kind"], date_from, date_to),
                page,
            )
        pages = max(1, -(-total // PAGE_SIZE))
        context = {
            "contracts": contracts,
            "points": points,
            "form": form,
            "errors": errors,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "page_links": [(n, archive_url(form, n) if n else None)
                           for n in page_numbers(min(page, pages), pages)],
            "reset_url": archive_url({"contract": form["contract"], "kind": form["kind"]}),
        }
        return render(
            request,
            "archive/index.html",
            context,
            fragment="archive",
            status=422 if errors else 200,
        )
