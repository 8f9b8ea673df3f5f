"""In Chromium: no page of the app triggers a Content-Security-Policy violation.

The pages are the GET routes of the route table (route_inventory), seen anonymously and as
the demo subscriber and operator, so a new screen is checked the day it lands; htmx swaps
(a failed login, a validation error) are exercised too, since htmx would inject inline
indicator styles unless configured not to.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import LoginPage
from tests.helpers import load_demo_sync
from tests.security.route_inventory import NOT_PAGES, endpoints

pytestmark = pytest.mark.e2e

PAGES = [e.path for e in endpoints()
         if e.method == "GET" and "{" not in e.path and e.path not in NOT_PAGES
         and not e.path.startswith("/api/")]
LOGINS = {"subscriber": ("demo@izhvodokanal.example", "demopass2026"),
          "operator": ("operator@izhvodokanal.example", "operpass2026")}


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


class Violations:
    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.seen.append(f"pageerror: {exc}"))

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text
                                        or "unsafe-inline" in text):
            self.seen.append(text)

    def listen_in_page(self, page: Page) -> None:
        page.evaluate("""() => { window.__csp = window.__csp || [];
            document.addEventListener('securitypolicyviolation',
                e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }""")

    def in_page(self, page: Page) -> list[str]:
        return page.evaluate("() => window.__csp || []")


@pytest.mark.parametrize("role", ["anonymous", "subscriber", "operator"])
def test_no_csp_violation_on_any_page(server, page: Page, role):
    violations = Violations(page)
    if role != "anonymous":
        LoginPage(page, server.url).login(*LOGINS[role])
    for path in PAGES:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("() => typeof window.htmx") == "object", path  # scripts ran
    assert not violations.seen, violations.seen


def test_htmx_swaps_cause_no_csp_violation(server, page: Page):
    violations = Violations(page)
    login = LoginPage(page, server.url).goto()
    violations.listen_in_page(page)
    assert login.sign_in("demo@izhvodokanal.example", "wrong-password").status == 422
    expect(page.get_by_text("Ошибка входа. Неверное имя пользователя/ пароль")).to_be_visible()
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    assert not violations.in_page(page) and not violations.seen, violations.seen


def test_an_inline_script_would_be_reported(server, page: Page):
    """The detector works: an inline script injected into a page is refused and seen."""
    violations = Violations(page)
    page.goto(server.url + "/")
    violations.listen_in_page(page)
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__inline") is None
    assert violations.seen or violations.in_page(page)


def test_api_docs_page_renders_under_the_csp(server, page: Page):
    """/api/v1/docs: the vendored Swagger UI draws the operations, no CSP violation."""
    violations = Violations(page)
    page.goto(server.url + "/api/v1/docs")
    expect(page.get_by_text("/api/v1/readings").first).to_be_visible(timeout=20000)
    assert not violations.seen, violations.seen
