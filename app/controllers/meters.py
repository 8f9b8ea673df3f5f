"""A meter's history (SPEC §11, /meters/{id}): 36 months of consumption as an SVG bar chart
drawn on the server, and the same data as a table. R8: another organization's meter → 404."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from app.controllers._scope import owned_or_404
from app.domain import N_
from app.domain.calendar import month_start
from app.domain.history import (
    chart_layout,
    consumption_series,
    history_baseline,
    history_periods,
    summarize,
)
from app.domain.notifications import METER_KIND_NAMES, verification_overdue
from app.domain.vocabulary import ReadingStatus
from app.i18n import gettext as _
from app.queries.meters import meter_for_user, meter_readings
from app.render import render
from app.security import requires_login
from app.settings import today

STATUS_LABELS = {
    ReadingStatus.draft: N_("сохранено, не передано"),
    ReadingStatus.transmitted: N_("передано, ожидает обработки"),
    ReadingStatus.accepted: N_("принято"),
    ReadingStatus.rejected: N_("отклонено"),
}
MAX_ID = 2**31 - 1  # meter ids are int4: a larger number is no meter (asyncpg refuses it)


class MetersController(Controller):
    path = "/meters"
    guards = [requires_login]

    @get("/{meter_id:int}")
    async def history(self, request: Request, meter_id: FromPath[int]) -> Response:
        """The meter's last 36 periods: chart, text summary, table."""
        meter = owned_or_404(await meter_for_user(request.user.id, meter_id)
                             if 0 < meter_id <= MAX_ID else None)
        now = today()
        periods = history_periods(month_start(now))
        found = await meter_readings(meter.id, periods[0], periods[-1])
        months = consumption_series(meter.kind, meter.digits, found.shown, periods)
        baseline = history_baseline(meter.kind, meter.digits, found.accepted)
        return render(request, "meters/history.html", {
            "meter": meter,
            "kind_title": _(METER_KIND_NAMES[meter.kind]),
            "overdue": verification_overdue(now, meter.verification_due),
            "months": months,
            "newest_first": list(reversed(months)),
            "baseline": baseline,
            "chart": chart_layout(months, baseline),
            "summary": summarize(months),
            "status_labels": {str(k): _(v) for k, v in STATUS_LABELS.items()},
        })
