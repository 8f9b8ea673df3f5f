"""The shell of the portal's own ASGI middlewares: each acts on HTTP requests only, and every
other scope (lifespan, websocket) passes straight through to the app."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """Subclasses implement `handle`, called for HTTP scopes only; `self.app` is the next app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
