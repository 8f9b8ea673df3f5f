"""axe-core on every screen, in Russian and English, at 1280 and 375 px (issue 19, item 10).

The screens are not a hand-kept list: every GET route of the app's route table
(`tests/security/route_inventory.endpoints()`) is opened as the role its guards ask for
(anonymous, subscriber, operator). A route with a path parameter needs a way to open a real
one (`PARAM_SCREENS`), a route that answers no HTML page a reason (`NOT_SCREENS`): a new
route in neither fails this test until it is listed, so a new screen is swept the day it
lands. `STATES` adds screens that are states of a route (an error after a submit, the home
page of a logged-in user, …).

A screen fails on any serious or critical axe violation, on any rule of `ALSO_FAILS` (moderate
rules this project has fixed and keeps fixed), and at 375 px when the page scrolls sideways.
One browser, three logged-in contexts per language, axe injected once per context; the whole
sweep takes about a minute here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.pages import OPERATOR_EMAIL, OPERATOR_PASSWORD, GridPage, LoginPage
from tests.helpers import DEMO_EMAIL, DEMO_PASSWORD, ROOT, load_demo_sync, run_sync, sql
from tests.security.route_inventory import API_SCOPE, NOT_PAGES, endpoints

pytestmark = pytest.mark.e2e

WIDTHS = (1280, 375)
FAILING_IMPACTS = {"serious", "critical"}
# Moderate rules the issue named and that stay fixed.
ALSO_FAILS = {"page-has-heading-one", "landmark-one-main", "region", "heading-order"}

# GET routes that answer no HTML page (downloads, feeds, assets).
NOT_SCREENS: dict[str, str] = {
    "/static/{file_path:path}": "CSS/JS assets",
    "/archive/export.xlsx": "download of the archive filter",
    "/archive/export.csv": "download of the archive filter",
    "/readings/cold/template": "XLSX template download",
    "/readings/hot/template": "XLSX template download",
    "/calendar/{name:str}": "iCalendar feed",
    "/operator/batches/{uid:str}/file": "a batch's CSV file",
    "/operator/progress/export.xlsx": "download of «Ход передачи показаний»",
    "/api/v1/openapi.json": "the API's OpenAPI document (JSON)",
    "/api/v1/{path:str}": "Litestar's schema router: 404 JSON for any other /api/v1 path",
}

# Screens drawn by script after the page loads: swept once this selector is there. The API
# docs are the vendored Swagger UI, made to pass by static/api-docs.css and api-docs.js.
READY: dict[str, str] = {
    "/api/v1": ".swagger-ui .opblock",
    "/api/v1/docs": ".swagger-ui .opblock",
}


@dataclass
class World:
    """Ids and tokens the parametrized screens need (made by the `world` fixture)."""

    linked_contract: int = 0
    receipt: int = 0
    reset_token: str = ""
    unsubscribe_token: str = ""
    billing_import: int = 0
    meter: int = 0
    reading: int = 0


# GET routes with a path parameter: how to open a real one.
PARAM_SCREENS: dict[str, Callable[[World], str]] = {
    "/password/reset/{token:str}": lambda w: f"/password/reset/{w.reset_token}",
    "/contracts/{contract_id:int}/delete": lambda w: f"/contracts/{w.linked_contract}/delete",
    "/receipts/{number:int}": lambda w: f"/receipts/{w.receipt}",
    "/unsubscribe/{token:str}": lambda w: f"/unsubscribe/{w.unsubscribe_token}",
    "/profile/email/confirm/{token:str}": lambda w: "/profile/email/confirm/expired-link",
    "/operator/imports/{import_id:int}": lambda w: f"/operator/imports/{w.billing_import}",
    "/meters/{meter_id:int}": lambda w: f"/meters/{w.meter}",
    "/operator/journal/readings/{reading_id:int}":
        lambda w: f"/operator/journal/readings/{w.reading}",
}


@dataclass
class Screen:
    name: str
    role: str  # anonymous | subscriber | operator
    url: str
    act: Callable[[Page], None] | None = field(default=None, repr=False)


def _submit(button_ru: str, button_en: str, **fill: str) -> Callable[[Page], None]:
    """Fill the named inputs (with invalid values) and press the button."""
    def act(page: Page) -> None:
        for name, value in fill.items():
            page.locator(f"[name={name}]").fill(value)
        name = button_en if page.locator("html").get_attribute("lang") == "en" else button_ru
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.get_by_role("button", name=name, exact=True).first.click()
        page.wait_for_load_state()
    return act


# States of a route reached by an action, or seen by another role.
STATES: list[Screen] = [
    Screen("login error", "anonymous", "/",
           _submit("Войти", "Sign in", email="nobody@example.ru", password="wrong")),
    Screen("registration errors", "anonymous", "/register",
           _submit("Зарегистрироваться", "Register")),
    Screen("reminder error", "anonymous", "/password/remind",
           _submit("Напомнить", "Send reminder", email="not-an-email")),
    Screen("not found", "anonymous", "/no-such-page"),
    Screen("home, logged in", "subscriber", "/"),
    Screen("connect errors", "subscriber", "/connect",
           _submit("Отправить заявку", "Send request")),
    Screen("archive filter error", "subscriber",
           "/archive?date_from=2024-05-10&date_to=2024-05-01"),
    Screen("archive by serial", "subscriber", "/archive?serial=13"),
    Screen("hot grid", "subscriber", "/readings/hot"),
    Screen("operator home", "operator", "/"),
    Screen("operator profile", "operator", "/profile"),
]


def route_screens(world: World) -> list[Screen]:
    """One screen per GET route of the app, as the role its guards ask for."""
    screens, unclassified = [], []
    for endpoint in endpoints():
        if (endpoint.method != "GET" or endpoint.path in NOT_SCREENS
                or endpoint.path in NOT_PAGES or endpoint.key in API_SCOPE):  # JSON
            continue
        role = ("operator" if endpoint.operator_only
                else "subscriber" if endpoint.needs_login else "anonymous")
        if "{" in endpoint.path:
            if endpoint.path not in PARAM_SCREENS:
                unclassified.append(endpoint.path)
                continue
            url = PARAM_SCREENS[endpoint.path](world)
        else:
            url = endpoint.path
        screens.append(Screen(endpoint.path, role, url))
    assert not unclassified, (
        f"GET routes with parameters the axe sweep cannot open: {unclassified}; "
        "add them to PARAM_SCREENS (or NOT_SCREENS with a reason)")
    return screens


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    # two linked contracts: the screens show their contract selectors
    sql("""INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, c.id, now() FROM portal_user u, contract c
           WHERE u.email = $1 AND c.billing_id = 15304""", DEMO_EMAIL)
    return live_server_factory()


@pytest.fixture(scope="module")
def world(server, browser: Browser) -> World:
    """A transmitted reading with its receipt, a valid reset link, an unsubscribe link."""
    from app.domain.unsubscribe import make_token
    from app.queries import users as q
    from app.security import token_hash

    w = World()
    w.linked_contract = sql("SELECT id FROM contract WHERE billing_id = 15303")[0]["id"]
    subscriber = sql("SELECT id FROM portal_user WHERE email = $1", DEMO_EMAIL)[0]["id"]
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    LoginPage(page, server.url).login()
    grid = GridPage(page, server.url).goto("cold")
    meter = grid.meter_id(0)
    previous = sql("""SELECT value FROM reading WHERE meter = $1 AND status = 'accepted'
                      ORDER BY period DESC LIMIT 1""", meter)[0]["value"]
    grid.check(meter, str(int(previous) + 3))
    grid.transmit()
    expect(grid.receipt_link()).to_be_visible()
    context.close()
    w.meter = meter
    w.reading = sql("SELECT id FROM reading WHERE meter = $1 AND status = 'transmitted'",
                    meter)[0]["id"]
    w.receipt = sql("SELECT max(number) AS n FROM receipt")[0]["n"]
    w.reset_token = "axe-sweep-" + os.urandom(8).hex()
    from datetime import timedelta

    run_sync(lambda: q.add_reset_token(subscriber, token_hash(w.reset_token), timedelta(hours=1)))
    w.unsubscribe_token = make_token(os.environ["SECRET_KEY"], subscriber, "window_open")
    w.billing_import = sql(
        """INSERT INTO billing_import (state, finished_at, error_count, errors, files)
           VALUES ('failed', now(), 1, '["meters.csv:3: неизвестная точка подключения"]',
                   '[{"name": "meters.csv", "size": 120}]') RETURNING id""")[0]["id"]
    return w


LOGINS = {"subscriber": (DEMO_EMAIL, DEMO_PASSWORD),
          "operator": (OPERATOR_EMAIL, OPERATOR_PASSWORD)}


def _context(browser: Browser, server, role: str, lang: str) -> BrowserContext:
    """A context in `lang` (the lang cookie; a login stores it on the account), logged in
    as `role`, with axe-core injected into every page it opens."""
    context = browser.new_context(locale="ru-RU" if lang == "ru" else "en-US")
    host = server.url.split("//")[1].split(":")[0]
    context.add_cookies([{"name": "lang", "value": lang, "domain": host, "path": "/"}])
    context.add_init_script(script=Axe().axe_script)
    if role in LOGINS:
        page = context.new_page()
        page.goto(server.url + "/")
        email, password = LOGINS[role]
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        with page.expect_response(lambda r: r.url.endswith("/login")):
            page.locator("form[action='/login'] button[type=submit]").click()
        expect(page.locator(".user-name")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.close()
    return context


AXE_OPTIONS = {"resultTypes": ["violations"]}


def _axe(page: Page) -> list[dict]:
    return page.evaluate("(options) => axe.run(document, options).then(r => r.violations)",
                         AXE_OPTIONS)


def _sideways(page: Page) -> int:
    """How many px the page scrolls sideways (0: it fits the viewport)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_screen_has_no_serious_axe_violation(server, world, browser: Browser, lang):
    screens = route_screens(world) + STATES
    contexts: dict[str, BrowserContext] = {}
    pages: dict[str, Page] = {}
    failures: list[str] = []
    table: list[str] = []
    try:
        for screen in screens:
            if screen.role not in contexts:
                contexts[screen.role] = _context(browser, server, screen.role, lang)
                pages[screen.role] = contexts[screen.role].new_page()
            page = pages[screen.role]
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            response = page.goto(server.url + screen.url)
            assert response is not None and response.status < 500, (screen.name, response)
            if screen.act:
                screen.act(page)
            if screen.name in READY:
                page.wait_for_selector(READY[screen.name])
                page.wait_for_timeout(100)  # api-docs.js fixes up on the next frame
            for width in WIDTHS:
                started = time.perf_counter()
                page.set_viewport_size({"width": width, "height": 900})
                bad = [v for v in _axe(page)
                       if v["impact"] in FAILING_IMPACTS or v["id"] in ALSO_FAILS]
                sideways = _sideways(page) if width < 600 else 0
                table.append(f"| {screen.name} | {screen.role} | {lang} | {width} | "
                             f"{len(bad)} | {sideways} | {time.perf_counter() - started:.1f} |")
                for v in bad:
                    targets = [n["target"] for n in v["nodes"][:3]]
                    failures.append(f"{screen.name} [{screen.url}] {lang} {width}px: "
                                    f"{v['id']} ({v['impact']}) {v['help']} at {targets}")
                if sideways > 0:
                    failures.append(f"{screen.name} [{screen.url}] {lang} {width}px: "
                                    f"scrolls sideways by {sideways}px")
    finally:
        for context in contexts.values():
            context.close()
    report = ROOT / "var" / f"axe-{lang}.md"
    report.write_text("| screen | role | lang | width | failing | sideways px | axe s |\n"
                      "|---|---|---|---|---|---|---|\n" + "\n".join(table) + "\n")
    assert not failures, "\n".join(failures)


def test_api_docs_opened_up_have_no_serious_axe_violation(server, browser: Browser):
    """The sweep sees the API docs as they load; here every operation, the schemas and
    «Try it out» are opened too (parameter fields, the enum select, Execute/Cancel)."""
    context = browser.new_context(locale="ru-RU")
    context.add_init_script(script=Axe().axe_script)
    page = context.new_page()
    try:
        page.goto(server.url + "/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock")
        for button in page.locator(".opblock-summary-control").all():
            button.click()
        page.locator(".models-control").click()
        for button in page.locator(".try-out__btn").all():
            button.click()
        expect(page.locator(".btn.execute").first).to_be_visible()
        page.wait_for_timeout(200)
        bad = [f"{v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes'][:3]]}"
               for v in _axe(page) if v["impact"] in FAILING_IMPACTS or v["id"] in ALSO_FAILS]
        assert not bad, "\n".join(bad)
    finally:
        context.close()
