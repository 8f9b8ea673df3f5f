"""The 200-meter grid of the demo data in daily use (issue 19, the grid's items): nothing
typed is lost, the grid stays manageable at 200 rows, the result shows where the eye is,
paste matches by meter, nothing jumps while typing, a transmit that cannot act is disabled
with its reason, errors sit under their input, and the no-JavaScript grid posts once (PRG).

Contract 16010 (АО «Ижевский хлебозавод»: 200 cold + 4 hot meters, deadline day 10) is
linked to the demo subscriber; the servers run on FROZEN = 10.03.2026, inside the March
window (08.03–10.03); April's window opens 08.04.2026.
"""

from __future__ import annotations

import re
import time
from datetime import date
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import PASTE_JS, GridPage, LoginPage
from tests.helpers import DEMO_EMAIL, demo_contract_of_demo_user, sql

pytestmark = pytest.mark.e2e

FROZEN = date(2026, 3, 10)
PERIOD = date(2026, 3, 1)
ROWS = 200


@pytest.fixture(scope="module")
def contract_id() -> int:
    return demo_contract_of_demo_user(16010, FROZEN)


@pytest.fixture(scope="module")
def server(contract_id, live_server_factory):
    return live_server_factory(APP_TODAY=FROZEN.isoformat())


@pytest.fixture(scope="module")
def signed_in(server, browser, browser_context_args, tmp_path_factory) -> str:
    """The demo subscriber's session, logged in once for the module (a login costs seconds
    of argon2 on this machine); each test's context starts from it."""
    context = browser.new_context(**browser_context_args)
    LoginPage(context.new_page(), server.url).login()
    state = tmp_path_factory.mktemp("grid200") / "state.json"
    context.storage_state(path=state)
    context.close()
    return str(state)


@pytest.fixture
def page(signed_in, browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "storage_state": signed_in,
                                     "viewport": {"width": 1280, "height": 800}})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def meters(contract_id) -> list[dict]:
    """The cold meters in grid order, each with a next value that passes every check."""
    rows = sql(
        """SELECT m.id, m.serial, m.billing_id AS code, m.digits,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                     AND r.period < $2 ORDER BY period DESC LIMIT 1) AS previous
           FROM meter m JOIN connection_point p ON p.id = m.point
           WHERE p.contract = $1 AND m.kind = 'cold' ORDER BY p.address, m.billing_id, m.id""",
        contract_id, PERIOD)
    out = []
    for r in rows:
        previous = int(r["previous"])
        ok = previous + 1 if previous + 1 < 10 ** r["digits"] else previous
        out.append({**dict(r), "previous": previous, "ok": str(ok)})
    return out


@pytest.fixture(autouse=True)
def clean_readings(contract_id):
    """Each test starts from a grid with nothing entered for March and April."""
    mine = """SELECT r.id FROM reading r JOIN meter m ON m.id = r.meter
              JOIN connection_point p ON p.id = m.point WHERE p.contract = $2 AND r.period >= $1"""
    for table in ("reading_audit", "receipt_line"):
        sql(f"DELETE FROM {table} WHERE reading IN ({mine})", PERIOD, contract_id)
    sql(f"DELETE FROM reading WHERE id IN ({mine})", PERIOD, contract_id)
    sql("UPDATE portal_user SET locale = 'ru' WHERE email = $1", DEMO_EMAIL)


def open_grid(page: Page, server, contract_id: int, period: str = "2026-03") -> GridPage:
    grid = GridPage(page, server.url)
    page.goto(f"{server.url}/readings/cold?contract={contract_id}&period={period}")
    expect(grid.inputs).to_have_count(ROWS)
    return grid


def stored(meter_ids: list[int]) -> dict[int, str]:
    rows = sql("""SELECT meter, status FROM reading WHERE meter = ANY($1::int[]) AND period = $2""",
               meter_ids, PERIOD)
    return {r["meter"]: r["status"] for r in rows}


# ---------------------------------------------------------------- 1. nothing typed is lost


def test_typed_values_survive_leaving_language_switch_and_an_expired_session(
        server, contract_id, meters, page: Page):
    grid = open_grid(page, server, contract_id)
    here = f"/readings/cold?contract={contract_id}&period=2026-03"
    grid.inputs.first.focus()
    grid.type_down([m["ok"] for m in meters[:3]])
    expect(grid.counter).to_have_text(f"Заполнено 3 из {ROWS}")

    # leaving with unsaved values asks first (dismissed: the page stays, values too)
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    grid.menu.get_by_role("link", name="Архив показаний").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(here)

    # the language switch: same grid, contract and period, typed values back, no question
    # (the URL is `here` before and after: wait for the navigation itself, or the next step
    # races the page that is still loading)
    with page.expect_navigation(url="**" + here):
        page.get_by_role("button", name="EN").click()
    expect(page.locator("h1")).to_have_text("Cold-water meter readings")
    for i in range(3):
        expect(grid.value(meters[i]["id"])).to_have_value(meters[i]["ok"])
    expect(page.locator("#grid-draft-note")).to_contain_text("3")
    with page.expect_navigation(url="**" + here):
        page.get_by_role("button", name="RU").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert dialogs == ["beforeunload"]

    # the session ends while typing: the row's check meets the login, which returns to the
    # grid, where the values are back
    page.context.clear_cookies(name="sid")
    grid.value(meters[3]["id"]).fill("0" + meters[3]["ok"])  # saved as the number it is
    expect(page).to_have_url(re.compile(r"/\?next="))
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/?next=" + quote(here, safe=""))
    LoginPage(page, server.url).sign_in()
    page.wait_for_url("**" + here)
    for i in range(3):
        expect(grid.value(meters[i]["id"])).to_have_value(meters[i]["ok"])
    expect(grid.value(meters[3]["id"])).to_have_value("0" + meters[3]["ok"])
    expect(page.locator("#grid-draft-note")).to_contain_text(
        "Восстановлены несохранённые значения: 4")

    # saved: the draft is gone, leaving asks nothing; a saved row shows what is stored
    grid.save(keyboard=True)
    expect(grid.message).to_have_text("Сохранено строк: 4.")
    expect(grid.value(meters[3]["id"])).to_have_value(meters[3]["ok"])
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('grid-draft'))"
                         ) == []
    page.reload()
    expect(page.locator("#grid-draft-note")).to_have_count(0)
    assert dialogs == ["beforeunload"]


def test_a_draft_keeps_the_ticked_rollover_and_anomaly_confirmations(
        server, contract_id, meters, page: Page):
    """A value below the last one asks «прошёл через ноль?» (and, the consumption being a
    whole dial, «показание верное?»): the ticks are part of the draft, so a reload brings
    back the value and its ticks, and the restored row saves without asking again."""
    grid = open_grid(page, server, contract_id)
    m = next(m for m in meters if m["previous"] > 10)
    mid, value = m["id"], str(m["previous"] - 1)
    grid.check(mid, value)
    boxes = page.locator(f"#fb-{mid} label.confirm input")
    expect(page.locator(f"#rollover-{mid}")).to_be_visible()
    names = sorted(boxes.evaluate_all("boxes => boxes.map(b => b.name)"))
    assert f"rollover-{mid}" in names
    for name in names:
        page.locator(f"#{name}").check()
    draft = page.evaluate(f"""() => JSON.parse(localStorage.getItem(
        'grid-draft:' + document.querySelector('form[data-grid]').dataset.draft)).rows['{mid}']""")
    assert draft[0] == value and sorted(draft[2]) == names

    page.once("dialog", lambda dialog: dialog.accept())  # the leave-page question
    with page.expect_response(lambda r: "/readings/cold/check" in r.url):
        page.reload()
    expect(grid.value(mid)).to_have_value(value)
    expect(page.locator("#grid-draft-note")).to_contain_text(
        "Восстановлены несохранённые значения: 1")
    for name in names:
        expect(page.locator(f"#{name}")).to_be_checked()
    # the ticks are still in the draft: a second reload keeps them too
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: "/readings/cold/check" in r.url):
        page.reload()
    for name in names:
        expect(page.locator(f"#{name}")).to_be_checked()

    grid.save()
    expect(grid.message).to_have_text("Сохранено строк: 1.")
    assert stored([mid]) == {mid: "draft"}


def test_a_tick_confirms_its_value_and_a_new_value_asks_again(
        server, contract_id, meters, page: Page):
    """«Да, прибор учёта прошёл через ноль» confirms the value it was ticked for: typing
    another value below the last one brings the question back unticked (the tick stayed and
    confirmed a value the user never confirmed), and transmitting then asks for it."""
    grid = open_grid(page, server, contract_id)
    m = next(m for m in meters if m["previous"] > 10)
    mid = m["id"]
    grid.check(mid, str(m["previous"] - 1))
    box = page.locator(f"#rollover-{mid}")
    expect(box).to_be_visible()
    boxes = page.locator(f"#fb-{mid} label.confirm input")
    for each in boxes.all():
        each.check()
    grid.check(mid, str(m["previous"] - 2))
    expect(box).to_be_visible()
    for each in boxes.all():
        expect(each).not_to_be_checked()
    grid.transmit()
    expect(grid.message).to_contain_text("Строк с ошибками: 1")
    assert stored([mid]).get(mid) != "transmitted"
    # (the consumption of a whole dial also asks «показание верное?»): tick what is asked
    for other in page.locator(f"#fb-{mid} label.confirm input").all():
        other.check()
    grid.transmit()
    expect(grid.message).to_contain_text("Передано строк: 1.")
    assert stored([mid]) == {mid: "transmitted"}


def test_contract_and_period_selector_keeps_the_draft_without_asking(
        server, contract_id, meters, page: Page):
    """Changing the grid's contract or period with typed values loses nothing — the draft is
    per contract and period and comes back with the grid — so it asks nothing; a link out of
    the grid still asks, and so does the selector when the browser cannot keep the draft."""
    grid = open_grid(page, server, contract_id)
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    grid.inputs.first.focus()
    grid.type_down([m["ok"] for m in meters[:2]])

    # to April and back: no question, the values come back with the note
    grid.period.select_option("2026-04")
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_url("**period=2026-04")
    expect(grid.value(meters[0]["id"])).to_have_value("")
    grid.period.select_option("2026-03")
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_url("**period=2026-03")
    for m in meters[:2]:
        expect(grid.value(m["id"])).to_have_value(m["ok"])
    expect(page.locator("#grid-draft-note")).to_contain_text(
        "Восстановлены несохранённые значения: 2")
    assert dialogs == []

    # another contract and back, likewise
    page.locator("#contract-select").select_option(index=0)
    other = page.locator("#contract-select").input_value()
    assert other != str(contract_id)
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_url(f"**contract={other}**")
    page.locator("#contract-select").select_option(str(contract_id))
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_url(f"**contract={contract_id}**")
    for m in meters[:2]:
        expect(grid.value(m["id"])).to_have_value(m["ok"])
    assert dialogs == []
    # the focus is in the first empty row, ready to type (it was 14 Tabs away)
    expect(grid.value(meters[2]["id"])).to_be_focused()

    # leaving the grid by a link still asks (dismissed: the page stays)
    grid.menu.get_by_role("link", name="Архив показаний").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]

    # storage refuses the draft: the selector asks too, as any leaving does
    page.evaluate("() => { Storage.prototype.setItem = () => { throw new Error('full'); }; }")
    grid.period.select_option("2026-04")
    page.get_by_role("button", name="Показать", exact=True).click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload", "beforeunload"]
    assert "period=2026-03" in page.url


def test_deep_links_survive_the_login_and_next_stays_on_this_site(server, contract_id, page):
    page.context.clear_cookies()
    deep = f"/readings/hot?contract={contract_id}&period=2026-04"
    page.goto(server.url + deep)
    assert page.url.endswith("/?next=" + quote(deep, safe=""))
    LoginPage(page, server.url).sign_in()
    page.wait_for_url("**" + deep)
    expect(page.locator("#period-select")).to_have_value("2026-04")
    page.context.clear_cookies()
    page.goto(server.url + "/?next=//evil.example/")
    LoginPage(page, server.url).sign_in()
    expect(page.get_by_text("Вы успешно авторизовались!")).to_be_visible()
    assert page.url.startswith(server.url)


# ---------------------------------------------------------------- 2, 3, 9: the big grid


ROW_HEIGHTS_JS = """() => Array.from(document.querySelectorAll('table.reading-grid tbody tr'))
  .map(tr => tr.getBoundingClientRect().height)"""


def test_the_200_row_grid_is_compact_sticky_filterable(server, contract_id, meters, page: Page):
    grid = open_grid(page, server, contract_id)
    heights = sorted(page.evaluate(ROW_HEIGHTS_JS))
    median = heights[len(heights) // 2]
    assert median <= 48, median  # was ≈ 100 px (the address wrapped to three lines)
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height < 200 * 48 + 1200  # was ≈ 18 600 px
    bar_top = grid.bar.bounding_box()["y"]
    above_fold = page.evaluate("""top => Array.from(document.querySelectorAll(
        'table.reading-grid tbody tr')).filter(tr => tr.getBoundingClientRect().bottom <= top)
        .length""", bar_top)
    print(f"\n1280x800: median row {median:.0f} px, page {page_height} px, "
          f"{above_fold} rows above the fold")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # the address stays on one line; its whole text is in the title and the input's label
    address = page.locator("td.addr").nth(7)
    assert address.get_attribute("title") == address.text_content()
    # only one live region on the page: the grid's, polite
    expect(page.locator("#grid [aria-live], #grid [role=status], #grid [role=alert]")
           ).to_have_count(0)
    expect(page.locator("#grid-live")).to_have_attribute("aria-live", "polite")

    # row 150: its input clear of the sticky header and the sticky bar
    bad = meters[150]
    target = grid.value(bad["id"])
    target.focus()
    page.keyboard.type("12,5")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    head = page.locator("table.reading-grid thead th").first.bounding_box()
    bar = grid.bar.bounding_box()
    box = target.bounding_box()
    assert abs(head["y"]) <= 1, head  # stuck to the top of the window
    assert abs(bar["y"] + bar["height"] - 800) <= 1, bar  # stuck to its bottom
    assert head["y"] + head["height"] <= box["y"] and box["y"] + box["height"] <= bar["y"]

    # 9: the message under the input, the input red and described by it
    expect(grid.error(bad["id"])).to_have_text(re.compile("только чёрные цифры"))
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_attribute("aria-describedby", f"msg-value-{bad['id']}")
    assert target.evaluate("i => getComputedStyle(i).borderTopColor") == "rgb(179, 38, 30)"
    expect(target.locator("xpath=..").locator(".field-error")).to_have_count(1)
    expect(grid.live).to_contain_text("только чёрные цифры")

    # 3: Ctrl+S at row 150 — the result in the bar, in view, and announced once
    grid.value(meters[151]["id"]).fill(meters[151]["ok"])
    assert grid.save(keyboard=True).status == 422
    expect(grid.bar.locator("#grid-message")).to_have_text(
        "Сохранено строк: 1. Строк с ошибками: 1 — они выделены красным.")
    msg = grid.message.bounding_box()
    assert 0 <= msg["y"] and msg["y"] + msg["height"] <= 800
    expect(grid.live).to_have_text(re.compile("^Сохранено строк: 1. Строк с ошибками: 1"))
    expect(target).to_be_focused()  # focus on the first invalid field
    expect(grid.counter).to_have_text(f"Заполнено 2 из {ROWS}")

    # filter by serial / address, only empty, only with errors; go to the first error
    search = page.get_by_label("Найти прибор")
    search.fill(meters[37]["serial"])
    visible = page.locator("table.reading-grid tbody tr:visible")
    expect(visible).to_have_count(1)
    expect(visible.first).to_contain_text(meters[37]["serial"])
    search.fill("")
    show = page.get_by_label("Показать")
    show.select_option("errors")
    expect(visible).to_have_count(1)
    expect(page.locator("#grid-shown")).to_have_text(f"Показано строк: 1 из {ROWS}")
    show.select_option("empty")
    expect(visible).to_have_count(ROWS - 2)
    show.select_option("all")
    expect(visible).to_have_count(ROWS)
    page.keyboard.press("Home")
    grid.inputs.first.focus()
    page.get_by_role("button", name="К первой ошибке").click()
    expect(target).to_be_focused()
    assert stored([bad["id"], meters[151]["id"]]) == {meters[151]["id"]: "draft"}


# ---------------------------------------------------------------- 4. paste


def test_paste_matches_rows_by_serial_and_a_single_column_is_positional(
        server, contract_id, meters, page: Page):
    grid = open_grid(page, server, contract_id)
    chosen = [meters[i] for i in (120, 3, 77, 41)]  # another order than the grid's
    grid.inputs.first.focus()
    with page.expect_response(lambda r: r.url.endswith("/readings/cold/paste")) as response:
        page.evaluate(PASTE_JS, "".join(f"{m['serial']}\t{m['ok']}\r\n" for m in chosen))
    assert response.value.status == 200
    expect(grid.message).to_have_text(
        "Вставлено значений: 4 — строки сопоставлены по номеру прибора учёта")
    for m in chosen:
        expect(grid.value(m["id"])).to_have_value(m["ok"])
    expect(grid.value(meters[0]["id"])).to_have_value("")  # not positional
    expect(grid.inputs.first).to_be_focused()

    start = meters[10]
    grid.value(start["id"]).focus()
    with page.expect_response(lambda r: r.url.endswith("/readings/cold/paste")):
        page.evaluate(PASTE_JS, "\n".join(m["ok"] for m in meters[10:13]) + "\n")
    expect(grid.message).to_have_text(
        "Вставлено значений: 3 — по порядку строк, начиная с текущей")
    for m in meters[10:13]:
        expect(grid.value(m["id"])).to_have_value(m["ok"])
    expect(grid.value(meters[12]["id"])).to_be_focused()
    expect(grid.feedback(meters[12]["id"])).to_contain_text("Расход")
    # two numeric columns, no serial of this contract: refused, nothing filled
    with page.expect_response(lambda r: r.url.endswith("/readings/cold/paste")):
        page.evaluate(PASTE_JS, "11 111111\t5\n22 222222\t6\n")
    expect(grid.message).to_contain_text("непонятно, где показания")
    expect(grid.value(meters[12]["id"])).to_have_value(meters[12]["ok"])
    assert stored([m["id"] for m in meters]) == {}


# ---------------------------------------------------------------- 5. no layout jump


def test_the_input_being_typed_in_does_not_move(server, contract_id, meters, page: Page):
    grid = open_grid(page, server, contract_id)
    row = next(m for m in meters[20:] if m["previous"] + 5000 < 10 ** m["digits"])
    i = meters.index(row)
    grid.value(row["id"]).focus()
    with page.expect_response(lambda r: "/check?" in r.url and f"meter={row['id']}" in r.url):
        page.keyboard.type(str(row["previous"] + 5000))  # far above 3× the mean: a question
        page.keyboard.press("Enter")
        below = grid.value(meters[i + 1]["id"])
        expect(below).to_be_focused()
        before = below.bounding_box()["y"]
        page.keyboard.type("1")
    expect(grid.feedback(row["id"])).to_contain_text("Да, показание верное")
    page.wait_for_timeout(50)
    assert abs(below.bounding_box()["y"] - before) <= 1


# ---------------------------------------------------------------- 3. the result where the eye is


@pytest.mark.parametrize("width", [1280, 375])
def test_saving_at_row_100_leaves_the_page_where_it_was(server, contract_id, meters, page: Page,
                                                         width):
    """Ctrl+S half-way down: the result is in the sticky bar and the rows stay put. Before,
    the browser's scroll anchoring held the old rows while htmx put the answer above them,
    and the page ended at its bottom (4 189 → 8 271 px at 1280)."""
    page.set_viewport_size({"width": width, "height": 740})
    grid = open_grid(page, server, contract_id)
    row = meters[100]
    grid.value(row["id"]).focus()
    page.keyboard.type(row["ok"])
    before = grid.value(row["id"]).bounding_box()["y"]
    scrolled = page.evaluate("() => scrollY")
    assert scrolled > 1000  # half-way down the page, not at its top
    grid.save(keyboard=True)
    expect(grid.message).to_have_text("Сохранено строк: 1.")
    expect(grid.message).to_be_in_viewport()
    assert abs(grid.value(row["id"]).bounding_box()["y"] - before) <= 2
    assert abs(page.evaluate("() => scrollY") - scrolled) <= 2


# ---------------------------------------------------------------- 7. a button that cannot act


def test_transmit_before_the_window_is_disabled_with_its_reason(server, contract_id, meters,
                                                                page: Page):
    grid = open_grid(page, server, contract_id, "2026-04")
    expect(grid.transmit_button).to_be_disabled()
    reason = page.locator("#transmit-reason")
    expect(reason).to_have_text("Передача показаний за Апрель 2026 откроется 08.04.2026")
    assert grid.bar.locator("#transmit-reason").count() == 1  # beside the button
    grid.inputs.first.focus()
    page.keyboard.type(meters[0]["ok"])
    page.keyboard.press("Control+Enter")
    expect(grid.live).to_have_text("Передача показаний за Апрель 2026 откроется 08.04.2026")
    expect(grid.message).to_have_count(0)
    # March: open, enabled, no reason
    open_grid(page, server, contract_id)
    expect(grid.transmit_button).to_be_enabled()
    expect(reason).to_have_count(0)


# ---------------------------------------------------------------- no JavaScript: PRG


def test_without_javascript_the_grid_posts_once_and_keeps_typed_values(
        server, contract_id, meters, browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "java_script_enabled": False})
    page = context.new_page()
    try:
        LoginPage(page, server.url).login()
        grid = open_grid(page, server, contract_id)
        good, bad = meters[5], meters[6]
        grid.value(good["id"]).fill(good["ok"])
        grid.value(bad["id"]).fill("12,5")
        response = grid.save()
        assert response.status == 303
        page.wait_for_url(f"**/readings/cold?contract={contract_id}&period=2026-03")
        expect(grid.message).to_have_text(
            "Сохранено строк: 1. Строк с ошибками: 1 — они выделены красным.")
        expect(grid.value(bad["id"])).to_have_value("12,5")
        expect(grid.error(bad["id"])).to_contain_text("только чёрные цифры")
        expect(grid.value(bad["id"])).to_have_attribute("aria-invalid", "true")
        expect(grid.row(bad["id"])).to_have_class("row-error")
        expect(grid.counter).to_have_text(f"Заполнено 2 из {ROWS}")
        assert stored([good["id"], bad["id"]]) == {good["id"]: "draft"}
        reload = page.reload()
        assert reload.request.method == "GET"  # F5 does not post again
        expect(grid.message).to_have_count(0)
        expect(grid.value(good["id"])).to_have_value(good["ok"])
        # Enter in a row presses «Сохранить значения» (the form's first submit button)
        grid.value(meters[7]["id"]).fill(meters[7]["ok"])
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            grid.value(meters[7]["id"]).press("Enter")
        assert posted.value.url.split("?")[0].endswith("/readings/cold")
        expect(grid.message).to_have_text("Сохранено строк: 2.")
    finally:
        context.close()


# ---------------------------------------------------------------- keyboard only, 200 meters


def test_200_meters_by_keyboard_only(server, contract_id, meters, page: Page):
    """The whole entry without a mouse: Tab to the first row, a value and Enter per row,
    Ctrl+S, Ctrl+Enter. Every focus move is logged in the page and compared at the end; the
    counter is checked every 50 rows. Each value's digits go in as one input event
    (`insert_text`: what fast typing gives the page; pressing them one by one costs this
    shared machine ~50 ms a key in the test driver) and are counted as the keys a user
    presses. The keystrokes and the time are printed (run with -s), not asserted."""
    grid = open_grid(page, server, contract_id)
    page.evaluate("""() => { window.focusLog = [];
      document.addEventListener('focusin', e => window.focusLog.push(e.target.id)); }""")
    keys = 0
    started = time.monotonic()
    first = f"value-{meters[0]['id']}"
    for _ in range(60):
        if page.evaluate("document.activeElement.id") == first:
            break
        page.keyboard.press("Tab")
        keys += 1
    tabs = keys
    page.evaluate("window.focusLog = []")
    for i, m in enumerate(meters):
        page.keyboard.insert_text(m["ok"])
        page.keyboard.press("Enter")
        keys += len(m["ok"]) + 1
        if (i + 1) % 50 == 0:
            expect(grid.counter).to_have_text(f"Заполнено {i + 1} из {ROWS}")
    # Enter moved the focus to the next row every time, and nowhere else; the last stays
    assert page.evaluate("window.focusLog") == [f"value-{m['id']}" for m in meters[1:]]
    expect(grid.value(meters[-1]["id"])).to_be_focused()
    page.keyboard.press("Control+s")
    keys += 1
    expect(grid.message).to_have_text(f"Сохранено строк: {ROWS}.", timeout=20_000)
    expect(grid.message).to_be_focused()  # the result, in the bar, has the focus
    page.keyboard.press("Control+Enter")
    keys += 1
    expect(grid.message).to_contain_text(f"Передано строк: {ROWS}.", timeout=20_000)
    elapsed = time.monotonic() - started
    expect(grid.counter).to_have_text(f"Заполнено {ROWS} из {ROWS}")
    got = stored([m["id"] for m in meters])
    assert len(got) == ROWS and set(got.values()) == {"transmitted"}
    print(f"\n200-meter entry by keyboard: {keys} keystrokes ({tabs} Tab to the first row), "
          f"{elapsed:.1f} s")
