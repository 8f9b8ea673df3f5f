"""«Квитанции» (/receipts) and one receipt «Квитанция о передаче № …» (SPEC §9).

R8: a receipt is shown only to the user who transmitted it, while the contract is linked to
them; any other number (another organization's, a colleague's on the same contract, none)
answers the same 404.
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from app.controllers._scope import DbId, owned_or_404
from app.domain.notifications import METER_KIND_NAMES
from app.domain.receipts import LINE_STATUS_LABELS
from app.i18n import gettext as _
from app.queries.receipts import receipt_for_user, user_receipts
from app.render import render
from app.security import requires_login

LINES_PER_PAGE = 40  # one A4 page per 40 lines when printed (static/app.css @media print)


def _kind_titles() -> dict[str, str]:
    return {str(kind): _(name) for kind, name in METER_KIND_NAMES.items()}


class ReceiptsController(Controller):
    path = "/receipts"
    guards = [requires_login]

    @get("/", name="receipts")
    async def list_receipts(self, request: Request) -> Response:
        """The user's receipts, newest first."""
        return render(request, "receipts/list.html",
                      {"receipts": await user_receipts(request.user.id),
                       "kind_titles": _kind_titles()})

    @get("/{number:int}")
    async def show(self, request: Request, number: DbId) -> Response:
        """One receipt with each line's status now (передано / принято / отклонено)."""
        receipt = owned_or_404(await receipt_for_user(request.user.id, number))
        pages = [receipt.lines[i:i + LINES_PER_PAGE]
                 for i in range(0, len(receipt.lines), LINES_PER_PAGE)] or [[]]
        return render(request, "receipts/show.html",
                      {"receipt": receipt, "pages": pages, "per_page": LINES_PER_PAGE,
                       "kind_titles": _kind_titles(),
                       "status_labels": {str(k): _(v) for k, v in LINE_STATUS_LABELS.items()}})
