"""«Журнал» (SPEC §10): account events and reading changes, filtered by user, contract,
meter and dates, newest first; a reading's whole history (old → new, who, when, channel)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException

from app.controllers._forms import clean_text
from app.controllers._pager import page_number, page_url, paging
from app.controllers._scope import DbId
from app.controllers.meters import STATUS_LABELS
from app.domain import N_
from app.domain.readings import ReadingError, parse_reading_date
from app.i18n import gettext as _
from app.queries.audit import journal_page, reading_history
from app.render import render
from app.security import requires_operator

TEMPLATE = "operator/journal.html"
PER_PAGE = 50
FIELDS = ("who", "contract", "meter", "date_from", "date_to")


# What each journal action code means (audit_event.action, reading_audit.action); a code not
# listed (a new one, or a row older than this list) is shown as the code itself.
ACTION_LABELS = {
    # account events
    "api_token_created": N_("Выпущен токен API"),
    "api_token_revoked": N_("Токен API отозван"),
    "archive_refresh_requested": N_("Запрошено обновление архива"),
    "billing_import_started": N_("Загрузка данных биллинга начата"),
    "billing_import_done": N_("Загрузка данных биллинга завершена"),
    "billing_import_failed": N_("Загрузка данных биллинга не удалась"),
    "calendar_link_created": N_("Создана ссылка на календарь сроков"),
    "calendar_override_added": N_("Изменён календарь: день добавлен"),
    "calendar_override_deleted": N_("Изменён календарь: день удалён"),
    "contract_linked": N_("Договор подключён"),
    "contract_unlinked": N_("Договор отключён"),
    "operator_unlinked_contract": N_("Оператор отключил договор"),
    "email_changed": N_("E-mail изменён"),
    "email_change_refused": N_("Смена e-mail отклонена"),
    "logout_everywhere": N_("Выход на всех устройствах"),
    "notifications_changed": N_("Изменены уведомления"),
    "password_changed": N_("Пароль изменён"),
    "password_reset": N_("Пароль восстановлен"),
    "profile_updated": N_("Профиль изменён"),
    "user_blocked": N_("Пользователь заблокирован"),
    "user_unblocked": N_("Пользователь разблокирован"),
    # reading changes
    "save": N_("Сохранено"),
    "transmit": N_("Передано"),
    "correct": N_("Исправлено после передачи"),
    "billing_accepted": N_("Принято биллингом"),
    "billing_rejected": N_("Отклонено биллингом"),
    "billing_released": N_("Возвращено из пакета биллинга"),
}


def action_labels() -> dict[str, str]:
    return {code: _(label) for code, label in ACTION_LABELS.items()}


def status_labels() -> dict[str, str]:
    return {str(code): _(label) for code, label in STATUS_LABELS.items()}


def channel_labels() -> dict[str, str]:
    return {"grid": _("таблица"), "upload": _("файл"), "api": _("API"),
            "billing": _("биллинг")}


def _date(raw: str) -> date | None:
    """What a date input sends (ISO), or a date typed as a page shows it (no date input)."""
    if not raw:
        return None
    try:
        return parse_reading_date(raw)
    except ReadingError:
        raise ValueError(raw) from None


def _url(form: dict[str, str], page: int = 1) -> str:
    return page_url("/operator/journal", form, page)


class JournalController(Controller):
    path = "/operator/journal"
    guards = [requires_operator]

    @get("/")
    async def index(self, request: Request) -> Response:
        """One page of the journal for the filter; only the results block for htmx."""
        params = request.query_params
        form = {name: clean_text(params.get(name), 254) for name in FIELDS}
        errors: dict[str, str] = {}
        contract = None
        if form["contract"]:
            if form["contract"].isdigit() and 0 < int(form["contract"]) < 2**31:
                contract = int(form["contract"])
            else:
                errors["contract"] = _("Номер договора — это число, например 15303")
        dates = {}
        for name in ("date_from", "date_to"):
            try:
                dates[name] = _date(form[name])
            except ValueError:
                errors[name] = _("Укажите дату в формате ДД.ММ.ГГГГ")
        total, rows, page = 0, [], page_number(params.get("page"))
        if not errors:
            total, rows = await journal_page(form["who"], contract, form["meter"],
                                             dates["date_from"], dates["date_to"], PER_PAGE,
                                             (page - 1) * PER_PAGE)
        return render(request, TEMPLATE, {
            "form": form, "errors": errors, "rows": rows, "total": total,
            "channels": channel_labels(), "actions": action_labels(),
            "statuses": status_labels(),
            **paging(page, total, PER_PAGE, lambda n: _url(form, n)),
        }, fragment="journal", status=422 if errors else 200)

    @get("/readings/{reading_id:int}")
    async def reading(self, request: Request, reading_id: DbId) -> Response:
        """A reading's full history, oldest first (404 for an unknown id)."""
        if not 0 < reading_id < 2**31:
            raise NotFoundException()
        reading, changes = await reading_history(reading_id)
        if reading is None:
            raise NotFoundException()
        return render(request, "operator/reading_history.html", {
            "reading": reading, "changes": changes, "channels": channel_labels(),
            "actions": action_labels(), "statuses": status_labels()})
