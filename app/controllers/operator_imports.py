"""«Загрузка данных биллинга» (SPEC §10): the upload, its progress bar and the history.

The upload is checked for shape here (app.billing.upload: which files, sizes, the ZIP), stored
as a queued import and handed to the worker; the files' contents are validated and imported
by the worker with exactly the code of `import-billing` (app.billing.directory).
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from app.billing.upload import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, TOO_BIG, UploadRefused, upload_files
from app.controllers._forms import redirect
from app.controllers._scope import DbId
from app.i18n import gettext as _
from app.metrics import enqueue
from app.queries import imports as q
from app.render import flash, render
from app.security import requires_operator

TEMPLATE = "operator/imports.html"
BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024  # the files plus the form's other fields


async def _page(current: dict | None = None, **extra) -> dict:
    history = await q.recent_imports()
    if current is None and history:
        current = history[0]
    return {"current": current, "history": history, **extra}


class BillingImportController(Controller):
    path = "/operator/imports"
    guards = [requires_operator]

    @get("/")
    async def index(self, request: Request) -> Response:
        """The upload form, the latest import (polled while it runs) and the history."""
        return render(request, TEMPLATE, await _page())

    @post("/", request_max_body_size=BODY_LIMIT)
    async def upload(self, request: Request) -> Response:
        """Store the upload as a queued import and queue its job; 413/422/409 with a message
        (nothing stored) when the upload is too big, is not the six files, or another import
        is under way."""
        try:
            form = await request.form()
            parts = []
            for upload in form.getall("files", []):
                if isinstance(upload, UploadFile) and upload.filename:
                    parts.append((upload.filename, await upload.read()))
                    await upload.close()
        except RequestEntityTooLarge:  # refused on Content-Length, before the body is read
            return await self._refused(request, _(TOO_BIG).format(mb=MAX_UPLOAD_MB), 413)
        try:
            files = upload_files(parts)
        except UploadRefused as exc:
            return await self._refused(request, exc.problem.text(_), 422)
        import_id = await q.start_import(request.user.id, files)
        if import_id is None:
            return await self._refused(
                request, _("Загрузка данных уже выполняется: дождитесь её окончания"), 409)
        try:
            await enqueue(
                request.app.state.queue, "import_billing_upload", import_id,
                _job_id=f"billing_import:{import_id}")
        except Exception:
            await q.finish_import(import_id, step="not_queued")
            raise
        flash(request, "success", _("Файлы загружены, импорт начат"))
        return redirect(request, "/operator/imports")  # the page then polls the import

    @get("/{import_id:int}")
    async def status(self, request: Request, import_id: DbId) -> Response:
        """One import's state: the block the page polls every second while it runs."""
        current = await q.import_by_id(import_id) if 0 < import_id < 2**31 else None
        if current is None:
            raise NotFoundException()
        if not request.htmx:
            return render(request, TEMPLATE, await _page(current))
        ctx = {"current": current}
        if not current["active"]:
            ctx.update(history=await q.recent_imports(), oob_history=True)
        return render(request, TEMPLATE, ctx, block="status")

    async def _refused(self, request: Request, message: str, status: int) -> Response:
        return render(request, TEMPLATE, await _page(error=message), fragment="upload",
                      status=status)
