"""The OpenAPI 3.1 document of /api/v1 and its human page, served from vendored assets: Swagger
UI from npm `swagger-ui-dist` under static/swagger/ (Litestar's own render plugins load their
viewers from a CDN and start them with inline scripts, which the CSP forbids)."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

API_PATH = "/api/v1"


class VendoredSwaggerPlugin(OpenAPIRenderPlugin):
    """/api/v1/docs: a page of only same-origin assets, so `script-src 'self'` holds."""

    def __init__(self, path: str = "/docs") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(openapi_schema.get("info", {}).get("title", "API"))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="stylesheet" href="/static/api-docs.css"></head>
<body><div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body></html>""".encode()


DESCRIPTION = """\
API личного кабинета абонента МУП «Ижводоканал» для АСКУЭ, 1С и других учётных систем.

Токен создаётся в кабинете: «Профиль» → «Доступ для учётных систем (API)»; передаётся в
заголовке `Authorization: Bearer <токен>`. Идентификаторы — коды биллинга (договор «№»,
«Код прибора»). Ошибки — RFC 9457 `application/problem+json`. `POST /api/v1/readings`
с заголовком `Idempotency-Key` безопасно повторять: тот же ключ и то же тело возвращают
первый ответ (24 часа), тот же ключ с другим телом — 409.
"""


def openapi_config(router: Any) -> OpenAPIConfig:
    """The document: only the API's routes (the hypermedia routes are excluded from it)."""
    return OpenAPIConfig(
        title="Личный кабинет абонента — API",
        version="1.0.0",
        description=DESCRIPTION,
        render_plugins=[VendoredSwaggerPlugin(), JsonRenderPlugin()],
        openapi_router=router,
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer",
                                     description="API token «wp_…» from the profile page"),
        }),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )
