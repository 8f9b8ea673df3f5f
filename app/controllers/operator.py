"""Operator area: calendar overrides, a summary of the portal's data, billing batches."""

from __future__ import annotations

from babel.dates import format_date
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from app.billing.adapter import outbox_dir
from app.controllers._forms import clean_text, redirect
from app.controllers._scope import DbId
from app.domain.calendar import WorkingCalendar
from app.domain.overrides import check_override
from app.i18n import current_locale
from app.i18n import gettext as _
from app.metrics import enqueue
from app.queries import calendar as calendar_q
from app.queries.audit import record_audit
from app.queries.billing import batch_by_uid, recent_batches
from app.queries.operator import portal_summary
from app.queries.windows import recompute_windows
from app.render import flash, render
from app.security import requires_operator
from app.settings import today

TEMPLATE = "operator/index.html"
PRODUCTION = WorkingCalendar()  # the `holidays` calendar alone, to show what an override changes


async def _calendar_context(form: dict | None = None, errors: dict | None = None,
                            message: str | None = None) -> dict:
    overrides = await calendar_q.list_overrides()
    return {
        "overrides": [
            {**dict(o), "production_working": PRODUCTION.is_working_day(o["day"]),
             "weekday": format_date(o["day"], "EEEE", locale=current_locale.get())}
            for o in overrides
        ],
        "form": form or {},
        "errors": errors or {},
        "message": message,
    }


class OperatorController(Controller):
    path = "/operator"
    guards = [requires_operator]

    @get("/", name="operator")
    async def index(self, request: Request) -> Response:
        """The operator page: summary figures and the calendar overrides."""
        ctx = await _calendar_context()
        ctx["summary"] = await portal_summary()
        ctx["batches"] = await recent_batches()
        return render(request, TEMPLATE, ctx)

    @get("/batches")
    async def batches(self, request: Request) -> Response:
        """The billing batches section (its block for htmx, else the whole page)."""
        ctx = {"batches": await recent_batches()}
        if not request.htmx:
            ctx.update(await _calendar_context(), summary=await portal_summary())
        return render(request, TEMPLATE, ctx, fragment="batches")

    @post("/batches/refresh")
    async def refresh_now(self, request: Request) -> Response:
        """Queue an archive refresh for the worker now (at most one per minute)."""
        from datetime import UTC, datetime

        job_id = f"refresh_archive:manual:{datetime.now(UTC):%Y%m%d%H%M}"
        queued = await enqueue(request.app.state.queue, "refresh_archive", _job_id=job_id)
        await record_audit(request.user.id, "archive_refresh_requested",
                           {"job": job_id, "queued": queued is not None})
        message = (_("Обновление архива поставлено в очередь: пакет появится через минуту.")
                   if queued is not None else _("Обновление архива уже запущено."))
        if request.htmx:
            return render(request, TEMPLATE, {"batches": await recent_batches(),
                                              "batches_message": message}, block="batches")
        flash(request, "success", message)
        return redirect(request, "/operator#batches")

    @get("/batches/{uid:str}/file")
    async def batch_file(self, uid: FromPath[str]) -> File:
        """The outbox CSV of one billing batch as a download (404 if unknown or not written)."""
        batch = await batch_by_uid(uid[:64])
        if batch is None or not batch["file_name"]:
            raise NotFoundException()
        path = outbox_dir() / batch["file_name"]
        if not path.is_file():
            raise NotFoundException()
        return File(path=path, filename=batch["file_name"], media_type="text/csv; charset=utf-8",
                    content_disposition_type="attachment")

    @post("/calendar")
    async def add_override(self, request: Request) -> Response:
        """Add an override; 422 with the typed values and a message per field when invalid."""
        data = await request.form()
        form = {"day": clean_text(data.get("day"), 20), "kind": clean_text(data.get("kind"), 10),
                "note": clean_text(data.get("note"), 200)}
        override, problems = check_override(form["day"], form["kind"], PRODUCTION)
        errors = {name: problem.text(_) for name, problem in problems.items()}
        if override is not None and await calendar_q.add_override(
                request.user.id, override.day, override.is_working, form["note"]) is None:
            errors["day"] = _("Для этой даты исключение уже есть")
        if errors:
            return await self._calendar(request, form, errors, status=422)
        await recompute_windows(today())  # the reading pages read the stored windows
        return await self._calendar(
            request, message=_("Исключение добавлено"), redirect_to="/operator#calendar")

    @post("/calendar/{override_id:int}/delete")
    async def delete_override(self, request: Request, override_id: DbId) -> Response:
        """Delete an override (404 when it is already gone)."""
        if await calendar_q.delete_override(request.user.id, override_id) is None:
            raise NotFoundException()
        await recompute_windows(today())
        return await self._calendar(
            request, message=_("Исключение удалено"), redirect_to="/operator#calendar")

    async def _calendar(self, request: Request, form: dict | None = None,
                        errors: dict | None = None, *, message: str | None = None,
                        redirect_to: str | None = None, status: int = 200) -> Response:
        """htmx: the calendar block; plain POST: the page again (errors) or a redirect."""
        if redirect_to and not request.htmx:
            flash(request, "success", message or "")
            return redirect(request, redirect_to)
        ctx = await _calendar_context(form, errors, message)
        if not request.htmx:
            ctx.update(summary=await portal_summary(), batches=await recent_batches())
        return render(request, TEMPLATE, ctx, fragment="calendar", status=status)
