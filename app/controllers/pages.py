"""Pages of text anyone may read: «Как снять показания» (/help) and the privacy policy."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from app.render import render


class PagesController(Controller):
    path = "/"

    @get("/help", name="help")
    async def help(self, request: Request) -> Response:
        """How to read a meter: the black digits, the discharge volumes, with a dial picture."""
        return render(request, "pages/help.html", {
            "archive_refresh_minutes": request.app.state.settings.archive_refresh_minutes})

    @get("/privacy", name="privacy")
    async def privacy(self, request: Request) -> Response:
        """The personal data policy the registration consent refers to."""
        return render(request, "pages/privacy.html")
