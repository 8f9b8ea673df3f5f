"""Page objects for the end-to-end tests (the piccolo_admin e2e style): one class per screen
holds its selectors and its actions; the tests keep the assertions.

Every action that sends a request waits for that request's response
(`page.expect_response`), never for a fixed time, and returns it for the test to judge.
"""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Download, Locator, Page, Response, expect

from tests.helpers import DEMO_EMAIL, DEMO_PASSWORD

OPERATOR_EMAIL, OPERATOR_PASSWORD = "operator@izhvodokanal.example", "operpass2026"
SIGNED_IN = "Вы успешно авторизовались!"

# page.evaluate(PASTE_JS, text): a clipboard paste of `text` into the focused input
PASTE_JS = """text => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  document.activeElement.dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def _post_to(path: str):
    """A response predicate: a POST whose URL ends with `path` (query string ignored)."""
    return lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path)


class BasePage:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.menu = page.get_by_role("navigation", name="Меню")


class LoginPage(BasePage):
    """«Вход в ваш кабинет» on the home page (an htmx form: POST /login, then HX-Redirect)."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.email = page.get_by_label("Адрес электронной почты")
        self.password = page.get_by_label("Пароль")
        self.button = page.get_by_role("button", name="Войти")

    def goto(self) -> LoginPage:
        self.page.goto(self.base_url + "/")
        return self

    def sign_in(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> Response:
        """Fill the form on the current page and submit it; returns POST /login's response."""
        self.email.fill(email)
        self.password.fill(password)
        with self.page.expect_response(_post_to("/login")) as response:
            self.button.click()
        return response.value

    def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> LoginPage:
        """Open the home page, sign in and wait for the greeting after the redirect."""
        self.goto().sign_in(email, password)
        expect(self.page.get_by_text(SIGNED_IN)).to_be_visible()
        return self

    def login_operator(self) -> LoginPage:
        return self.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)


class GridPage(BasePage):
    """/readings/cold and /readings/hot: one grid (templates/readings/grid.html).

    A row is addressed by its meter id; `meter_id(index)` gives the id of the row at a
    position in grid order.
    """

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.kind = "cold"
        self.inputs = page.locator("input.grid-value")
        self.message = page.locator("#grid-message")
        self.period = page.locator("#period-select")
        self.bar = page.locator("#grid-bar")
        self.counter = page.locator("#grid-counter")
        self.live = page.locator("#grid-live")
        self.transmit_button = page.get_by_role("button", name="Передать значения")
        self.ok_rows = page.locator("tr.row-ok")
        self.error_rows = page.locator("tr.row-error")

    def goto(self, kind: str = "cold", contract: int | None = None) -> GridPage:
        self.kind = kind
        query = f"?contract={contract}" if contract is not None else ""
        self.page.goto(f"{self.base_url}/readings/{kind}{query}")
        return self

    # ------------------------------------------------------------ rows

    def meter_id(self, index: int) -> int:
        """The meter id of the row at `index` (0-based, grid order)."""
        return int(self.inputs.nth(index).get_attribute("id").removeprefix("value-"))

    def value(self, meter: int) -> Locator:
        return self.page.locator(f"#value-{meter}")

    def date(self, meter: int) -> Locator:
        return self.page.locator(f"#date-{meter}")

    def row(self, meter: int) -> Locator:
        return self.page.locator(f"#row-{meter}")

    def feedback(self, meter: int) -> Locator:
        """The row's state cell: inline check result, status, billing's reason."""
        return self.page.locator(f"#fb-{meter}")

    def error(self, meter: int, field: str = "value") -> Locator:
        """The message under a row's input ("value" or "date"), which the input names in its
        aria-describedby."""
        return self.page.locator(f"#msg-{field}-{meter}")

    def fill(self, meter: int, value: str, read_on: str | None = None) -> GridPage:
        """Type a value (and a reading date, as typed) into a row; its check is not awaited."""
        self.value(meter).fill(str(value))
        if read_on is not None:
            self.date(meter).fill(read_on)
        return self

    def check(self, meter: int, value: str) -> Response:
        """Fill a row and wait for its inline check (POST …/check, after htmx's delay)."""
        with self.page.expect_response(_post_to(f"/readings/{self.kind}/check")) as response:
            self.value(meter).fill(str(value))
        return response.value

    def type_down(self, values: list[str]) -> None:
        """Type each value into the focused row and press Enter (to the next row)."""
        for value in values:
            self.page.keyboard.type(value)
            self.page.keyboard.press("Enter")

    # ------------------------------------------------------------ whole-grid actions

    def _post(self, act) -> Response:
        with self.page.expect_response(_post_to(f"/readings/{self.kind}")) as response:
            act()
        return response.value

    def save(self, keyboard: bool = False) -> Response:
        """«Сохранить значения» (or Ctrl+S in the focused row)."""
        return self._post(lambda: self.page.keyboard.press("Control+s") if keyboard
                          else self.page.get_by_role("button", name="Сохранить значения").click())

    def receipt_link(self) -> Locator:
        """«Квитанция о передаче № N» in the summary after a transmit that changed something."""
        return self.message.locator("a.receipt-link")

    def transmit(self, keyboard: bool = False) -> Response:
        """«Передать значения» (or Ctrl+Enter in the focused row)."""
        return self._post(lambda: self.page.keyboard.press("Control+Enter") if keyboard
                          else self.page.get_by_role("button", name="Передать значения").click())

    def download_template(self) -> Download:
        """«Скачать шаблон»: the grid as XLSX, through the browser's download."""
        with self.page.expect_download() as download:
            self.page.get_by_role("button", name="Скачать шаблон").click()
        return download.value

    def upload(self, path) -> Response:
        """Choose `path` in the file input and press «Загрузить из файла» (htmx swaps the grid;
        without JavaScript the browser navigates to the answer)."""
        self.page.locator("#grid-file").set_input_files(path)
        with self.page.expect_response(_post_to(f"/readings/{self.kind}/upload")) as response:
            self.page.get_by_role("button", name="Загрузить из файла").click()
        return response.value


class ReceiptPage(BasePage):
    """«Квитанция о передаче № N» (/receipts/<N>) and the «Квитанции» list."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.title = page.locator("main h1").first
        self.lines = page.locator("table.receipt-lines tbody tr")
        self.sheets = page.locator(".receipt-page")

    def goto(self, number: int) -> ReceiptPage:
        self.page.goto(f"{self.base_url}/receipts/{number}")
        return self

    def open_list_from_menu(self) -> ReceiptPage:
        self.menu.get_by_role("link", name="Квитанции", exact=True).click()
        expect(self.page.get_by_role("heading", name="Квитанции")).to_be_visible()
        return self

    def line(self, serial: str) -> Locator:
        return self.lines.filter(has_text=serial)

    def status(self, serial: str) -> Locator:
        return self.line(serial).locator(".status")

    def reason(self, serial: str) -> Locator:
        return self.line(serial).locator(".reject-reason")


class ArchivePage(BasePage):
    """«Архив показаний» (/archive): the filter is an htmx GET that pushes its URL."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.heading = page.get_by_role("heading", name="Сведения о предыдущих показаниях")
        self.point = page.get_by_label("Адрес точки подключения")
        self.date_from = page.get_by_label("Дата от")
        self.date_to = page.get_by_label("Дата до")

    def goto(self) -> ArchivePage:
        self.page.goto(self.base_url + "/archive")
        return self

    def open_from_menu(self) -> ArchivePage:
        self.page.get_by_role("link", name="Архив показаний").click()
        expect(self.heading).to_be_visible()
        return self

    def filter(self, date_from: date | str | None = None, date_to: date | str | None = None,
               point: int | None = None) -> Response:
        """Set the given fields and press «Применить фильтр»; returns the GET's response."""
        for field, value in ((self.date_from, date_from), (self.date_to, date_to)):
            if value is not None:
                field.fill(value.isoformat() if isinstance(value, date) else value)
        if point is not None:
            self.point.select_option(str(point))
        with self.page.expect_response(re.compile(r"/archive\?")) as response:
            self.page.get_by_role("button", name="Применить фильтр").click()
        return response.value

    def reset(self) -> Response:
        with self.page.expect_response(re.compile(r"/archive")) as response:
            self.page.get_by_role("link", name="Сбросить фильтр").click()
        return response.value

    def group(self, contract_billing_id: int) -> Locator:
        return self.page.locator(f'tbody[data-contract="{contract_billing_id}"]')

    def rows(self, contract_billing_id: int) -> Locator:
        """The reading rows of one contract's group (its title row left out)."""
        return self.group(contract_billing_id).locator("tr:not(.group-title)")

    def export(self, button: str) -> Download:
        """Click «Выгрузить в Excel» / «Выгрузить CSV»; returns the finished download."""
        with self.page.expect_download() as download:
            self.page.get_by_role("link", name=button).click()
        return download.value


class ConnectPage(BasePage):
    """«Заявка на подключение» (/connect, an htmx form)."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.inn = page.get_by_label("ИНН компании")
        self.number = page.get_by_label("Номер договора с МУП «Ижводоканал»")

    def submit(self, inn: str, number: str) -> Response:
        self.inn.fill(inn)
        self.number.fill(number)
        with self.page.expect_response(_post_to("/connect")) as response:
            self.page.get_by_role("button", name="Отправить заявку").click()
        return response.value


class ContractsPage(BasePage):
    """«Мои договора» (/contracts): «Удалить» asks to confirm, then an htmx POST."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.heading = page.get_by_role("heading", name="Мои договора")

    def goto(self) -> ContractsPage:
        self.page.goto(self.base_url + "/contracts")
        return self

    def row(self, number: str) -> Locator:
        return self.page.get_by_role("row").filter(has_text=number)

    def delete(self, number: str) -> tuple[Response, str]:
        """«Удалить» the row, accepting the confirmation; (POST's response, dialog text)."""
        dialogs: list[str] = []

        def accept(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept()

        self.page.once("dialog", accept)
        with self.page.expect_response(_post_to("/delete")) as response:
            self.row(number).get_by_role("link", name="Удалить").click()
        return response.value, dialogs[0] if dialogs else ""

    def delete_dismissed(self, number: str) -> None:
        """«Удалить», then «Отмена» in the confirmation (nothing is sent)."""
        self.page.once("dialog", lambda dialog: dialog.dismiss())
        self.row(number).get_by_role("link", name="Удалить").click()


class ProfilePage(BasePage):
    """«Профиль» (/profile): one card per form, each an htmx form posting to its own route."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.password_card = page.locator("#profile-password")
        self.email_card = page.locator("#profile-email")
        self.notify_card = page.locator("#profile-notifications")
        self.api_card = page.locator("#profile-api")

    def goto(self) -> ProfilePage:
        self.page.goto(self.base_url + "/profile")
        return self

    def open_from_menu(self) -> ProfilePage:
        self.menu.get_by_role("link", name="Профиль").click()
        expect(self.page.get_by_role("heading", name="Профиль", exact=True)).to_be_visible()
        return self

    def change_password(self, current: str, new: str) -> Response:
        card = self.password_card
        card.get_by_label("Текущий пароль").fill(current)
        card.get_by_label("Новый пароль", exact=True).fill(new)
        card.get_by_label("Новый пароль ещё раз").fill(new)
        with self.page.expect_response(_post_to("/profile/password")) as response:
            card.get_by_role("button", name="Сменить пароль").click()
        return response.value

    def request_email_change(self, new_email: str, password: str) -> Response:
        card = self.email_card
        card.get_by_label("Новый адрес электронной почты").fill(new_email)
        card.get_by_label("Текущий пароль").fill(password)
        with self.page.expect_response(_post_to("/profile/email")) as response:
            card.get_by_role("button", name="Отправить ссылку").click()
        return response.value

    def notification(self, label: str) -> Locator:
        return self.notify_card.get_by_label(label)

    def save_notifications(self) -> Response:
        with self.page.expect_response(_post_to("/profile/notifications")) as response:
            self.notify_card.get_by_role("button", name="Сохранить").click()
        return response.value

    # ------------------------------------------------------------ «Доступ для учётных систем»

    def create_api_token(self, name: str, rights: str = "Чтение и передача показаний",
                         term: str = "1 год") -> tuple[Response, str]:
        """«Создать токен»; the response and the token shown once."""
        card = self.api_card
        card.get_by_label("Название токена").fill(name)
        card.get_by_label("Права").select_option(label=rights)
        card.get_by_label("Срок действия").select_option(label=term)
        with self.page.expect_response(_post_to("/profile/api-tokens")) as response:
            card.get_by_role("button", name="Создать токен").click()
        token = self.page.locator("#api-token")
        expect(token).to_be_visible()
        return response.value, token.inner_text()

    def api_token_row(self, name: str) -> Locator:
        return self.page.locator("#api-tokens tr", has_text=name)

    def revoke_api_token(self, name: str) -> Response:
        """«Отозвать» in the token's row."""
        with self.page.expect_response(lambda r: r.request.method == "POST"
                                       and r.url.endswith("/revoke")) as response:
            self.api_token_row(name).get_by_role("button", name="Отозвать").click()
        return response.value


class ImportsPage(BasePage):
    """«Загрузка данных биллинга»: files or a ZIP, then a progress bar polled by htmx."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.files = page.get_by_label("Файлы CSV или ZIP-архив")
        self.status = page.locator("#import-status")
        self.bar = self.status.get_by_role("progressbar")
        self.history = page.locator("#import-history")

    def open_from_menu(self) -> ImportsPage:
        self.menu.get_by_role("link", name="Загрузка данных биллинга").click()
        expect(self.page.get_by_role("heading", name="Загрузка данных биллинга")).to_be_visible()
        return self

    def upload(self, *paths) -> Response:
        """Choose the files and press «Загрузить»; returns the POST's response."""
        self.files.set_input_files(list(paths))
        with self.page.expect_response(_post_to("/operator/imports")) as response:
            self.page.get_by_role("button", name="Загрузить", exact=True).click()
        return response.value


class ProgressPage(BasePage):
    """«Ход передачи показаний»: the filter form (htmx GET) and the contracts found."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.results = page.locator("#progress-ui")

    def open_from_menu(self) -> ProgressPage:
        self.menu.get_by_role("link", name="Ход передачи показаний").click()
        expect(self.page.get_by_role("heading", name="Ход передачи показаний")).to_be_visible()
        return self

    def filter(self, state_label: str | None = None, search: str | None = None) -> Response:
        """Choose a state, type a search and press «Применить фильтр»."""
        if state_label is not None:
            self.page.get_by_label("Состояние").select_option(label=state_label)
        if search is not None:
            self.page.get_by_label("№, ИНН или название").fill(search)
        with self.page.expect_response(
                lambda r: "/operator/progress" in r.url and r.request.method == "GET") as resp:
            self.page.get_by_role("button", name="Применить фильтр").click()
        return resp.value

    def row(self, contract_billing_id: int) -> Locator:
        return self.results.locator(f'tr[data-contract="{contract_billing_id}"]')

    def count(self, state: str) -> Locator:
        return self.results.locator(f'[data-count="{state}"]')


class UsersPage(BasePage):
    """«Пользователи»: search, then «Заблокировать» / «Разблокировать» in a user's row."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.results = page.locator("#users-ui")

    def open_from_menu(self) -> UsersPage:
        self.menu.get_by_role("link", name="Пользователи").click()
        expect(self.page.get_by_role("heading", name="Пользователи")).to_be_visible()
        return self

    def search(self, text: str) -> Response:
        self.page.get_by_label("E-mail, имя, ИНН или №").fill(text)
        with self.page.expect_response(
                lambda r: "/operator/users" in r.url and r.request.method == "GET") as resp:
            self.page.get_by_role("button", name="Найти").click()
        return resp.value

    def row(self, email: str) -> Locator:
        return self.results.locator(f'tr[data-email="{email}"]')

    def press(self, email: str, button: str) -> Response:
        """«Заблокировать» (confirmed) or «Разблокировать» in the user's row."""
        self.page.once("dialog", lambda dialog: dialog.accept())
        with self.page.expect_response(_post_to("block")) as response:
            self.row(email).get_by_role("button", name=button).click()
        return response.value


class HomePage(BasePage):
    """Home of a user with contracts (templates/home/index.html): one row per contract and
    kind (`row(contract id, kind)`), its window sentence a link to that period's grid."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.heading = page.get_by_role("heading", name="Что нужно сделать")
        self.table = page.locator("#dashboard")

    def goto(self) -> HomePage:
        self.page.goto(self.base_url + "/")
        return self

    def row(self, contract: int, kind: str = "cold") -> Locator:
        return self.page.locator(f"#row-{contract}-{kind}")

    def window_link(self, contract: int, kind: str = "cold") -> Locator:
        return self.row(contract, kind).locator("td.window-words a")

    def open_grid(self, contract: int, kind: str = "cold") -> None:
        """Follow the row's window sentence to the grid (a full page load)."""
        with self.page.expect_navigation():
            self.window_link(contract, kind).click()


class MeterHistoryPage(BasePage):
    """/meters/{id}: the SVG chart (bars, lines), its text summary and the table."""

    def __init__(self, page: Page, base_url: str) -> None:
        super().__init__(page, base_url)
        self.chart = page.locator("svg.history-chart")
        self.bars = self.chart.locator("rect.bar")
        self.summary = page.locator("#chart-summary")
        self.table = page.locator("#history-table")

    def goto(self, meter: int) -> MeterHistoryPage:
        self.page.goto(f"{self.base_url}/meters/{meter}")
        return self
