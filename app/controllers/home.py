"""Home for a logged-in user with contracts (SPEC §11): what to do now, per contract and kind.

The route is `/` in AuthController (the login block for visitors, the connection prompt for
a user without contracts); this module draws the dashboard it shows otherwise.
"""

from __future__ import annotations

from litestar import Request, Response

from app.domain.calendar import period_value
from app.domain.dashboard import LAST_DAY_WORDS, MISSING_REASON, MISSING_WORDS, NEXT_WINDOW_WORDS
from app.domain.notifications import METER_KIND_NAMES
from app.i18n import format_date
from app.i18n import gettext as _
from app.queries.dashboard import load_dashboard
from app.render import render
from app.settings import today


def grid_url(kind: str, contract_id: int, period) -> str:
    """The grid of that contract, kind and period (where a window's row is dealt with)."""
    return f"/readings/{kind}?contract={contract_id}&period={period_value(period)}"


def archive_url(contract_id: int, point_id: int, kind: str) -> str:
    """The archive filtered to one meter's connection point and kind."""
    return f"/archive?contract={contract_id}&point={point_id}&kind={kind}"


async def dashboard_page(request: Request) -> Response:
    """The home dashboard of the logged-in user."""
    now = today()
    board = await load_dashboard(request.user.id, now)
    return render(request, "home/index.html", {
        "board": board,
        "kind_titles": {str(k): _(v) for k, v in METER_KIND_NAMES.items()},
        "window_text": lambda words: words.text(_, format_date),
        "texts": {"last_day": _(LAST_DAY_WORDS), "next": _(NEXT_WINDOW_WORDS),
                  "missing": _(MISSING_WORDS), "missing_reason": _(MISSING_REASON)},
        "grid_url": grid_url,
        "archive_url": archive_url,
    })
