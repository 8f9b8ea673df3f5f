"""Keyboard focus, phone layout and the smaller fixes of issue 19 (items 6, 8, 11, 12) in
Chromium: what a keyboard or phone user meets on every screen but the grid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import ArchivePage, ConnectPage, ContractsPage, LoginPage
from tests.helpers import load_demo_sync, sql

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    # a second linked contract: «Удалить» has something to remove, the archive two contracts
    sql("""INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, c.id, now() FROM portal_user u, contract c
           WHERE u.email = 'demo@izhvodokanal.example' AND c.billing_id = 15304""")
    return live_server_factory()


@pytest.fixture
def phone(browser: Browser):
    context = browser.new_context(viewport=PHONE, locale="ru-RU", has_touch=True)
    yield context.new_page()
    context.close()


def focused(page: Page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, id: e.id, text: (e.textContent || '').trim()}; }""")


def test_skip_link_is_the_first_tab_stop_and_lands_in_main(server, page: Page):
    LoginPage(page, server.url).login()
    page.goto(server.url + "/contracts")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к основному содержанию")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # the next stop is in the content, past header and menu
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_forms_focus_their_first_field_and_errors_go_to_a_summary(server, page: Page):
    page.goto(server.url + "/register")
    expect(page.locator("#f-email")).to_be_focused()  # autofocus on the first field
    # the password rule is on screen before the first attempt, tied to the field
    hint = page.locator("#h-password")
    expect(hint).to_have_text("Не менее 10 символов")
    assert "h-password" in page.locator("#f-password").get_attribute("aria-describedby")
    # the consent links to the policy
    policy = page.locator(".consent-policy").get_by_role(
        "link", name="Политика обработки персональных данных")
    expect(policy).to_have_attribute("href", "/privacy")

    page.locator("#f-email").fill("ivanova@example.ru")
    page.locator("#f-phone").fill("abc")
    with page.expect_response(lambda r: r.url.endswith("/register")):
        page.get_by_role("button", name="Зарегистрироваться").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading", name="Исправьте ошибки")).to_be_visible()
    expect(page.locator("#f-email")).to_have_value("ivanova@example.ru")  # typed values stay
    first = summary.get_by_role("link").first
    target = first.get_attribute("href")
    first.click()
    expect(page.locator(target)).to_be_focused()
    invalid = page.locator(target)
    expect(invalid).to_have_attribute("aria-invalid", "true")
    # the phone is checked: "abc" is not a phone number
    expect(page.locator("#e-phone")).to_contain_text("Введите номер телефона")


def test_connect_form_focus_after_errors_and_success(server, page: Page):
    LoginPage(page, server.url).login()
    page.goto(server.url + "/connect")
    connect = ConnectPage(page, server.url)
    expect(connect.inn).to_be_focused()
    # the extra attributes reach the browser (they used to be escaped into one attribute)
    expect(connect.inn).to_have_attribute("inputmode", "numeric")
    expect(connect.inn).to_have_attribute("autocomplete", "off")
    assert connect.submit("12", "x").status == 422
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary a[href='#f-inn']")).to_be_visible()


def test_contract_delete_moves_focus_to_the_status(server, page: Page):
    LoginPage(page, server.url).login()
    contracts = ContractsPage(page, server.url).goto()
    response, _dialog = contracts.delete("Д-15304/2019")
    assert response.status == 200
    status = page.locator("#contracts-status")
    expect(status).to_contain_text("Договор №15304 удалён из вашего кабинета.")
    expect(status).to_be_focused()
    sql("""INSERT INTO contract_link ("user", contract, created_at)
           SELECT u.id, c.id, now() FROM portal_user u, contract c
           WHERE u.email = 'demo@izhvodokanal.example' AND c.billing_id = 15304""")


def test_archive_paging_serial_filter_consumption_and_focus(server, page: Page):
    LoginPage(page, server.url).login()
    archive = ArchivePage(page, server.url).goto()
    expect(page.locator("#archive-note")).to_contain_text(
        "примет биллинг: портал передаёт показания в биллинг примерно каждые 120 мин.")
    paging = page.get_by_role("navigation", name="Страницы")
    expect(paging.locator("span.page-step", has_text="← Предыдущая")).to_have_attribute(
        "aria-disabled", "true")
    with page.expect_response(re.compile(r"/archive\?.*page=2")):
        paging.get_by_role("link", name="Следующая →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#archive-results")).to_be_focused()  # not <body>
    expect(page.get_by_text(re.compile(r"Страница 2 из \d+\."))).to_be_visible()
    expect(paging.get_by_role("link", name="← Предыдущая")).to_be_visible()

    # a meter's serial, typed without its space, finds that meter only
    serial = sql("""SELECT m.serial FROM meter m JOIN connection_point p ON p.id = m.point
                    JOIN contract c ON c.id = p.contract
                    WHERE c.billing_id = 15303 AND m.kind = 'cold' ORDER BY m.id LIMIT 1""")[0][0]
    page.get_by_label("Номер прибора учёта").fill(serial.replace(" ", ""))
    archive.filter()
    expect(page.locator("#archive-results")).to_be_focused()
    rows = archive.rows(15303)
    assert rows.count() > 1
    for i in range(rows.count()):
        expect(rows.nth(i).locator("td").first).to_have_text(serial)
    # «Расход, м³»: the difference to the next older row of the same meter (monthly history)
    cells = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(3)]
    values = [float(c.replace("\u00a0", "").replace(",", ".")) for c in cells]
    used = rows.first.locator("td.consumption-cell").inner_text()
    assert float(used.replace("\u00a0", "").replace(",", ".")) == pytest.approx(
        values[0] - values[1])

    # an invalid filter moves focus to the first invalid field
    archive.filter(date_from="2024-05-10", date_to="2024-05-01")
    expect(archive.date_from).to_be_focused()


def test_archive_contract_choice_narrows_the_addresses(server, page: Page):
    LoginPage(page, server.url).login()
    ArchivePage(page, server.url).goto()
    points = page.locator("#f-point option")
    before = points.count()
    contract = sql("SELECT id FROM contract WHERE billing_id = 15304")[0][0]
    with page.expect_response(re.compile(rf"/archive\?contract={contract}")):
        page.locator("#f-contract").select_option(str(contract))
    expect(points).not_to_have_count(before)
    own = sql("SELECT count(*) FROM connection_point WHERE contract = $1", contract)[0][0]
    expect(points).to_have_count(own + 1)  # + «Выбрать адрес»


def test_phone_header_menu_and_targets(server, phone: Page):
    LoginPage(phone, server.url).login()
    phone.goto(server.url + "/archive")
    name = phone.locator(".user-name").bounding_box()
    logout = phone.get_by_role("button", name="Выйти").bounding_box()
    assert abs(name["y"] - logout["y"]) < 12, (name, logout)  # «Выйти» never alone on a line
    menu = phone.get_by_role("navigation", name="Меню")
    assert menu.bounding_box()["height"] < 60  # one line, not four
    current = menu.locator("[aria-current=page]")
    expect(current).to_have_text("Архив показаний")
    expect(current).to_be_in_viewport()  # the menu scrolled to the current item
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # WCAG 2.2 target size: the header's controls are at least 24 × 24 px
    for control in (phone.get_by_role("button", name="Выйти"),
                    phone.get_by_role("button", name="EN")):
        box = control.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box
    phone.goto(server.url + "/profile")
    box = phone.get_by_label("Напоминать об открытии окна передачи").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box  # was 13 × 13


def test_phone_grid_is_one_card_per_meter(server, phone: Page):
    LoginPage(phone, server.url).login()
    phone.goto(server.url + "/readings/cold")
    rows = phone.locator("table.reading-grid tbody tr")
    first, second = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
    assert first["width"] <= PHONE["width"] and second["y"] >= first["y"] + first["height"]
    # serial and address above the value input, inside the same card
    serial = rows.nth(0).locator("td").first.bounding_box()
    value = rows.nth(0).locator("input.grid-value").bounding_box()
    assert serial["y"] < value["y"] and value["height"] >= 24
    wide = phone.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('nav.menu'))
        .slice(0, 5).map(e => e.outerHTML.slice(0, 120))""")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], wide


def test_phone_home_is_one_card_per_contract_and_kind(server, phone: Page):
    """«Что нужно сделать» at 375 px: each contract and kind a card that fits, the counts
    under their column names — before, eight columns scrolled sideways in their box."""
    LoginPage(phone, server.url).login()
    expect(phone.get_by_role("heading", name="Что нужно сделать")).to_be_visible()
    wrap = phone.locator(".table-wrap:has(> table.dashboard)")
    assert wrap.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    rows = phone.locator("table.dashboard tbody tr")
    first, second = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
    assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE["width"]
    assert second["y"] >= first["y"] + first["height"]  # stacked, not side by side
    done = rows.nth(0).locator("td[data-label='Передано']")
    caption = done.evaluate("e => getComputedStyle(e, '::before').content")
    assert caption == '"Передано"'
    window = rows.nth(0).locator("td.window-words")
    assert window.bounding_box()["width"] > PHONE["width"] * 0.7  # across the card


def test_operator_sees_the_operator_menu_only(server, page: Page):
    LoginPage(page, server.url).login_operator()
    expect(page.get_by_role("link", name="Перейти в рабочее место оператора")).to_be_visible()
    menu = page.get_by_role("navigation", name="Меню")
    expect(menu.get_by_role("link").first).to_have_text("Оператор")
    expect(menu.get_by_role("link").last).to_have_text("Профиль")
    for subscriber_item in ("Заявка на подключение", "Передача показаний ХВС", "Архив показаний",
                            "Мои договора"):
        expect(menu.get_by_role("link", name=subscriber_item)).to_have_count(0)
    expect(page.locator(".site-header .brand")).to_contain_text("Рабочее место оператора")
    expect(page.locator(".site-header")).not_to_contain_text("Личный кабинет абонента")


def test_footer_help_and_privacy(server, page: Page):
    page.goto(server.url + "/")
    footer = page.locator("footer.site-footer")
    for text in ("Контакты", "Часы работы", "Реквизиты", "время ижевское (UTC+4)"):
        expect(footer).to_contain_text(text)
    footer.get_by_role("link", name="Как снять показания").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Как снять показания")
    dial = page.get_by_role("img", name="Циферблат счётчика воды")
    expect(dial).to_be_visible()
    expect(page.get_by_role("heading", name="«Чёрные цифры» счётчика ХВС")).to_be_visible()
    expect(page.get_by_role("heading", name="Объемы по стокам ГВС")).to_be_visible()
    footer.get_by_role("link", name="Политика обработки персональных данных").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Политика обработки персональных данных")
