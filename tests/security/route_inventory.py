"""The app's own route table, classified for the security tests.

Every (method, path) that `create_app()` registers is an `Endpoint`. The tests in
test_route_inventory.py are parametrized over these, so a route added anywhere in the app is
tested the day it lands, and a route the rules below cannot classify FAILS the suite until it
is listed here with a reason.

Classification:
- guards: `requires_login` / `requires_operator` (controller- or handler-level);
- PUBLIC: the routes an anonymous visitor may use (each with its reason); any other route
  without a guard is a failure;
- scope (rule R8): which request parameters carry an id of another organization's data.
  Inferred from path parameters and from the names the handler reads (source scan for
  `.get("contract")`, `.getall("meter_id")`, ... of contract/point/meter/reading);
  SCOPE_OVERRIDES gives the parameters where the handler reads them indirectly; UNSCOPED
  lists subscriber routes that take no such id, with the reason. A subscriber route in
  neither is a failure. ROW_FIELDS: row inputs named after a meter (value-<meter id>).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

# Anonymous visitors may use these; everything else must carry a login/operator guard.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/"): "the login block",
    ("POST", "/login"): "signing in",
    ("POST", "/logout"): "destroys whatever session the cookie names; harmless when anonymous",
    ("GET", "/register"): "registration form",
    ("POST", "/register"): "registration",
    ("GET", "/password/remind"): "password reminder form",
    ("POST", "/password/remind"): "password reminder",
    ("GET", "/password/reset/{token:str}"): "one-time reset link from the e-mail",
    ("POST", "/password/reset/{token:str}"): "one-time reset link from the e-mail",
    ("POST", "/lang"): "language switch",
    ("GET", "/static/{file_path:path}"): "CSS/JS assets",
    ("GET", "/profile/email/confirm/{token:str}"):
        "single-use e-mail change link (hashed 256-bit token); refuses another logged-in user",
    ("GET", "/calendar/{name:str}"): "«Календарь сроков» feed: the hashed 256-bit token is the "
                                     "credential (calendar apps cannot log in); revoked → 404",
    ("GET", "/unsubscribe/{token:str}"): "unsubscribe link from a mail: a confirm page only",
    ("POST", "/unsubscribe/{token:str}"): "RFC 8058 one-click unsubscribe, signed token",
    ("GET", "/help"): "«Как снять показания»: text for everyone, linked from the footer",
    ("GET", "/privacy"): "the privacy policy the registration consent links to",
    ("GET", "/healthz"): "liveness probe for the proxy/orchestrator: {\"status\": \"ok\"}, no I/O",
    ("GET", "/readyz"): "readiness probe: which of PostgreSQL/Redis answers, nothing else",
    ("GET", "/metrics"): "Prometheus scrape; its own guard: loopback or the METRICS_TOKEN bearer, "
                         "else 404 (tests/integration/test_ops.py)",
    ("GET", "/api/v1"): "the API's docs page (Swagger UI, vendored): no data",
    ("GET", "/api/v1/docs"): "the API's docs page (Swagger UI, vendored): no data",
    ("GET", "/api/v1/openapi.json"): "the API's OpenAPI document: routes and models, no data",
    ("GET", "/api/v1/{path:str}"): "Litestar's schema router: 404 for any other /api/v1 path",
}

# API routes (SPEC §8) act for a bearer token's user (guard requires_api_token), not a session.
# Each one's billing ids: where they are and what they name, for the generated API isolation
# walk (tests/security/test_api_inventory.py). An /api/v1 route missing here fails the suite.
API_SCOPE: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/contracts"): {},
    ("GET", "/api/v1/contracts/{contract_id:int}/meters"): {"path:contract_id": "contract"},
    ("GET", "/api/v1/contracts/{contract_id:int}/windows"): {"path:contract_id": "contract"},
    ("GET", "/api/v1/readings"): {"query:contract": "contract"},
    ("POST", "/api/v1/readings"): {"body:items[].meter_id": "meter"},
}

# GET routes that are not HTML pages for people (JSON probes, the metrics text): the browser
# walks (test_csp_browser.py) skip them; every other walk covers them.
NOT_PAGES = {"/healthz", "/readyz", "/metrics",
             # file downloads (Chromium's goto of a download is not a page load)
             "/archive/export.csv", "/archive/export.xlsx", "/operator/progress/export.xlsx",
             "/readings/cold/template", "/readings/hot/template"}

# Unsafe routes without CSRF protection, each with its reason (tested in its own test file).
CSRF_EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/unsubscribe/{token:str}"): "mail clients POST List-Unsubscribe=One-Click with no "
    "cookie (RFC 8058); the token signed over user + kind is the proof "
    "(tests/integration/test_notify.py: forged token → 404, nothing changed)",
    ("POST", "/api/v1/readings"): "bearer token in the Authorization header, no cookie: a "
    "cross-site form cannot send it (tests/integration/test_api.py: a session alone is 401)",
}

# The kinds of id that belong to one organization, and the request names that carry them.
SCOPE_KINDS = ("contract", "point", "meter", "reading")
# A handler reading a request parameter: params.get("contract"), form.getall("meter_id"), ...
_NAME_RE = re.compile(
    r"""\.get(?:all|one)?\(\s*["']((contract|point|meter|reading|period)(?:_id)?)["']""")
# Not another organization's data, but needed for a meaningful request: filled, never foreign.
PLAIN_KINDS = ("period",)
_PATH_KIND_RE = re.compile(r"^(contract|point|meter|reading)(?:_id)?$")

# (method, path) -> {"query"|"form": {request name: kind}} where the source scan cannot see it.
# The archive screen and its exports read the filter through parse_archive_query().
_ARCHIVE_FILTER = {"query": {"contract": "contract", "point": "point"}}
SCOPE_OVERRIDES: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("GET", "/archive"): _ARCHIVE_FILTER,
    ("GET", "/archive/export.xlsx"): _ARCHIVE_FILTER,
    ("GET", "/archive/export.csv"): _ARCHIVE_FILTER,
}

# Routes whose form names carry an id (one input per meter row): (method, path) -> the name
# pattern with {meter}; the generator cannot see these, test_route_inventory probes them.
ROW_FIELDS: dict[tuple[str, str], list[str]] = {
    ("POST", "/readings/cold"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/hot"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/cold/check"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/hot/check"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/cold/paste"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/hot/paste"): ["value-{meter}", "date-{meter}"],
    # another page of a long grid (the form carries every row) and «Скачать шаблон» with
    # the typed values (issue 12)
    ("POST", "/readings/cold/page"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/hot/page"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/cold/template"): ["value-{meter}", "date-{meter}"],
    ("POST", "/readings/hot/template"): ["value-{meter}", "date-{meter}"],
}

# Subscriber routes that take no id of contract/point/meter/reading, with the reason.
UNSCOPED: dict[tuple[str, str], str] = {
    ("GET", "/connect"): "the connection request form; shows nothing of any contract",
    ("POST", "/connect"): "INN + contract number are the proof (R5), rate-limited per user",
    ("GET", "/contracts"): "lists the user's own links only",
    ("GET", "/profile"): "the user's own account only",
    ("POST", "/profile"): "edits the user's own contact details",
    ("POST", "/profile/password"): "the user's own password (current one required)",
    ("POST", "/profile/email"): "mails a link for the user's own address",
    ("POST", "/profile/logout-everywhere"): "ends the user's own sessions",
    ("POST", "/profile/notifications"): "the user's own notification flags",
    ("POST", "/profile/calendar"): "replaces the user's own calendar link",
    ("POST", "/profile/api-tokens"): "creates a token for the user's own account",
    ("POST", "/profile/api-tokens/{token_id:int}/revoke"): "a token id, resolved against the "
    "user's own tokens (404 otherwise: tests/integration/test_api.py)",
    ("GET", "/receipts"): "lists the user's own receipts only",
    ("GET", "/receipts/{number:int}"): "a receipt number, resolved against the user's own "
    "receipts on linked contracts (404 otherwise: tests/integration/test_receipts.py)",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: object = field(compare=False, repr=False)
    path_params: dict = field(compare=False, repr=False, default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def unsafe(self) -> bool:
        return self.method not in SAFE_METHODS

    @property
    def guards(self) -> list:
        # Litestar wraps resolved guards in AsyncCallable; compare the functions themselves.
        return [getattr(g, "func", g) for g in self.handler.resolve_guards()]

    @property
    def needs_login(self) -> bool:
        from app.security import requires_login, requires_operator

        return any(g in (requires_login, requires_operator) for g in self.guards)

    @property
    def needs_api_token(self) -> bool:
        from app.api.auth import requires_api_token

        return requires_api_token in self.guards

    @property
    def operator_only(self) -> bool:
        from app.security import requires_operator

        return requires_operator in self.guards

    @property
    def source(self) -> str:
        fn = getattr(self.handler, "fn", None)
        fn = getattr(fn, "__func__", fn)
        try:
            return inspect.getsource(fn)
        except (OSError, TypeError):
            return ""

    def scope(self) -> dict[str, dict[str, str]]:
        """{"path"|"query"|"form": {name: kind}} of the ids this route takes."""
        result: dict[str, dict[str, str]] = {"path": {}, "query": {}, "form": {}}
        for name in self.path_params:
            if m := _PATH_KIND_RE.match(name):
                result["path"][name] = m.group(1)
        where = "query" if not self.unsafe else "form"
        signature = getattr(self.handler, "parsed_fn_signature", None)
        names = set(signature.parameters) if signature else set()
        for name in names - set(self.path_params):
            if m := _PATH_KIND_RE.match(name):
                result["query"][name] = m.group(1)
        for m in _NAME_RE.finditer(self.source):
            name, kind = m.group(1), m.group(2)
            if name not in self.path_params:
                result[where][name] = kind
        for where_, names_ in SCOPE_OVERRIDES.get(self.key, {}).items():
            result[where_].update(names_)
        return result

    def is_scoped(self) -> bool:
        return any(kind not in PLAIN_KINDS
                   for names in self.scope().values() for kind in names.values())


@lru_cache(maxsize=1)
def endpoints() -> tuple[Endpoint, ...]:
    """Every (method, path) of the app, HEAD/OPTIONS left out (Litestar derives them)."""
    from litestar.routes import HTTPRoute

    from app.web import create_app

    app = create_app(manage_pool=False)
    found: dict[tuple[str, str], Endpoint] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            raise AssertionError(f"unexpected route type {type(route).__name__} at {route.path}")
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                found[(method, route.path)] = Endpoint(
                    method, route.path, handler, dict(route.path_parameters)
                )
    return tuple(sorted(found.values(), key=lambda e: (e.path, e.method)))


def fill_path(endpoint: Endpoint, ids: dict[str, int] | None = None) -> str:
    """The path with every parameter filled: scoped ones from `ids` (kind -> id), others dummy."""
    path = endpoint.path
    scope = endpoint.scope()["path"]
    for name, definition in endpoint.path_params.items():
        kind = scope.get(name)
        if kind and ids and kind in ids:
            value = str(ids[kind])
        elif definition.type is int:
            value = "1"
        elif "path" in definition.full:
            value = "app.css"
        else:
            value = "x"
        path = path.replace("{" + definition.full + "}", value)
    return path
