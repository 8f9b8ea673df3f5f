"""«Профиль» (SPEC §9): contact details, password, e-mail, sessions, notifications, and the
«Календарь сроков» link with its feed /calendar/<token>.ics."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app import i18n, throttle
from app.controllers._forms import EMAIL_RE, base_url, clean_text, password_errors, redirect
from app.domain.contacts import phone_problem
from app.domain.feed import FeedEvent, feed_events, feed_periods, render_ics
from app.domain.grid import DEADLINE_FIELDS
from app.domain.vocabulary import ApiScope, MeterKind
from app.i18n import format_datetime
from app.i18n import gettext as _
from app.metrics import enqueue
from app.queries import api_tokens
from app.queries import profile as q
from app.queries.profile import CONTACT_COLUMNS, NOTIFY_COLUMNS, EmailChangeOutcome
from app.render import render
from app.security import (
    hash_password,
    requires_login,
    start_session,
    token_hash,
    verify_password,
)
from app.settings import today

EMAIL_CHANGE_TTL = timedelta(hours=24)
# «Срок действия» of a new API token, in days; a year unless the user picks another.
API_TOKEN_TERMS = (30, 90, 365, 730)
API_TOKEN_DEFAULT_TERM = 365
API_TOKEN_PREFIX = "wp_"  # a fixed prefix lets secret scanners recognise a leaked token
CONTACT_MAX = {"full_name": 200, "phone": 50, "position": 200, "organization": 500}
TEMPLATE = "profile/index.html"


@contextmanager
def _locale(locale: str) -> Iterator[None]:
    """Word a mail in its recipient's language, whoever's request sends it."""
    token = i18n.current_locale.set(i18n.pick_locale(locale))
    try:
        yield
    finally:
        i18n.current_locale.reset(token)


async def _mail(request: Request, to: str, subject: str, body: str) -> None:
    await enqueue(request.app.state.queue, "send_email", to, subject, body)


def _notify_labels() -> list[tuple[str, str]]:
    return [
        ("notify_window_open", _("Напоминать об открытии окна передачи")),
        ("notify_last_day", _("Напоминать в последний день срока, если показания не переданы")),
        ("notify_results", _("Сообщать о результате обработки показаний")),
        ("notify_verification",
         _("Предупреждать о сроке поверки прибора учёта (за 30 дней)")),
        ("notify_receipt", _("Присылать квитанцию о передаче")),
    ]


async def _page(request: Request, fragment: str | None = None, status: int = 200,
                **ctx) -> Response:
    """The profile page (or one of its blocks for htmx) with the stored values, overridden by
    what the handler passes (typed values, errors, messages)."""
    stored = await q.profile_of(request.user.id)
    context = {
        "profile": stored,
        "contacts": {c: stored[c] for c in CONTACT_COLUMNS},
        "notify": [(name, label, stored[name]) for name, label in _notify_labels()],
        "errors": {},
        "api_tokens": await api_tokens.tokens_of(request.user.id),
        "api_terms": _api_term_labels(),
        "api_scopes": _api_scope_labels(),
        "api_form": {"name": "", "scope": ApiScope.submit, "term": API_TOKEN_DEFAULT_TERM},
        "now": datetime.now(UTC),
        **ctx,
    }
    return render(request, TEMPLATE, context, fragment=fragment, status=status)


def _api_term_labels() -> list[tuple[int, str]]:
    return [(30, _("30 дней")), (90, _("90 дней")), (365, _("1 год")), (730, _("2 года"))]


def _api_scope_labels() -> dict[str, str]:
    return {ApiScope.read: _("Только чтение"),
            ApiScope.submit: _("Чтение и передача показаний")}


def new_api_token() -> str:
    """A 256-bit secret with the portal's recognisable prefix."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def _contacts_form(data) -> tuple[dict[str, str], dict[str, str]]:
    """The cleaned contact fields and a message per invalid one (rules of registration)."""
    form = {name: clean_text(data.get(name), 2 * CONTACT_MAX[name]) for name in CONTACT_COLUMNS}
    errors: dict[str, str] = {}
    for name in CONTACT_COLUMNS:
        if not form[name]:
            errors[name] = _("Заполните это поле")
        elif len(form[name]) > CONTACT_MAX[name]:
            errors[name] = _("Не более {max} символов").format(max=CONTACT_MAX[name])
    if form["phone"] and "phone" not in errors and (problem := phone_problem(form["phone"])):
        errors["phone"] = problem.text(_)
    return form, errors


async def _check_current_password(request: Request, password: str) -> str | None:
    """None when `password` is the user's; else the message (throttled per user)."""
    redis = request.app.state.redis
    check = (throttle.PROFILE_PASSWORD_PER_USER, str(request.user.id))
    if await throttle.is_blocked(redis, check):
        return _("Слишком много неудачных попыток. Повторите через 15 минут.")
    stored = await q.password_hash_of(request.user.id)
    if stored and await asyncio.to_thread(verify_password, stored, password):
        await throttle.clear(redis, *check)
        return None
    await throttle.hit(redis, check)
    return _("Неверный текущий пароль")


def _kind_label(kind: str) -> str:
    return _("показания ХВС") if kind == MeterKind.cold else _("объёмы по стокам ГВС")


def _feed_host(request: Request) -> str:
    return urlsplit(base_url(request)).hostname or "portal"


class ProfileController(Controller):
    path = "/profile"
    guards = [requires_login]

    @get("/", name="profile")
    async def show(self, request: Request) -> Response:
        """The whole «Профиль» page."""
        return await _page(request)

    @post("/")
    async def save_contacts(self, request: Request) -> Response:
        """«Сохранить»: full name, phone, position, organization; typed values stay on error."""
        form, errors = _contacts_form(await request.form())
        if errors:
            return await _page(request, "contacts", 422, contacts=form, errors=errors)
        await q.update_contacts(request.user.id, form)
        return await _page(request, "contacts",
                           contacts_message=_("Данные профиля сохранены"))

    @post("/password")
    async def change_password(self, request: Request) -> Response:
        """«Сменить пароль»: the current one, the new one twice; every other session ends."""
        data = await request.form()
        current = data.get("current_password") or ""
        new = data.get("password") or ""
        errors = password_errors(new, data.get("password_confirm") or "")
        if (problem := await _check_current_password(request, current)) is not None:
            errors["current_password"] = problem
        elif not errors and new == current:
            errors["password"] = _("Новый пароль совпадает с текущим")
        if errors:
            return await _page(request, "password", 422, errors=errors)
        generation = await q.change_password(
            request.user.id, await asyncio.to_thread(hash_password, new))
        start_session(request, request.user.id, generation)  # this one stays logged in
        await _mail(request, request.user.email, _("Пароль личного кабинета изменён"), _(
            "Здравствуйте!\n\nПароль вашего личного кабинета абонента изменён {when}. "
            "На всех остальных устройствах выполнен выход.\n\nЕсли это сделали не вы, "
            "восстановите доступ по ссылке «Забыли пароль?» на странице входа: {link}\n\n"
            "МУП «Ижводоканал»"
        ).format(when=format_datetime(datetime.now(UTC), seconds=False),
                 link=f"{base_url(request)}/password/remind"))
        return await _page(request, "password", password_message=_(
            "Пароль изменён. На остальных устройствах выполнен выход."))

    @post("/email")
    async def request_email_change(self, request: Request) -> Response:
        """«Сменить адрес электронной почты»: mail a 24-hour link to the new address. The
        answer is the same whether or not the address is taken (that mail says so)."""
        data = await request.form()
        new_email = clean_text(data.get("new_email"), 300).lower()
        errors: dict[str, str] = {}
        if not EMAIL_RE.match(new_email) or len(new_email) > 254:
            errors["new_email"] = _("Введите адрес электронной почты, например name@example.ru")
        elif new_email == request.user.email:
            errors["new_email"] = _("Это ваш текущий адрес")
        if (problem := await _check_current_password(
                request, data.get("email_password") or "")) is not None:
            errors["email_password"] = problem
        redis = request.app.state.redis
        check = (throttle.EMAIL_CHANGE_PER_USER, str(request.user.id))
        if not errors and await throttle.is_blocked(redis, check):
            errors["new_email"] = _("Слишком много запросов. Повторите через час.")
        if errors:
            return await _page(request, "email", 422, errors=errors, new_email=new_email)
        await throttle.hit(redis, check)
        if await q.email_taken(new_email):
            await _mail(request, new_email, _("Смена адреса в личном кабинете абонента"), _(
                "Здравствуйте!\n\nКто-то попросил сделать этот адрес адресом входа в личный "
                "кабинет абонента, но он уже зарегистрирован в портале. Адрес не изменён.\n\n"
                "Если вы забыли пароль, восстановите его: {link}\n\nМУП «Ижводоканал»"
            ).format(link=f"{base_url(request)}/password/remind"))
        else:
            token = secrets.token_urlsafe(32)
            await q.add_email_change(request.user.id, new_email, token_hash(token),
                                     EMAIL_CHANGE_TTL)
            await _mail(request, new_email, _("Подтвердите адрес электронной почты"), _(
                "Здравствуйте!\n\nЧтобы сделать этот адрес адресом входа в личный кабинет "
                "абонента, откройте ссылку:\n{link}\n\nСсылка действует 24 часа и только один "
                "раз. Если вы ничего не меняли, просто удалите это письмо.\n\n"
                "МУП «Ижводоканал»"
            ).format(link=f"{base_url(request)}/profile/email/confirm/{token}"))
        return await _page(request, "email", email_message=_(
            "Мы отправили ссылку для подтверждения на адрес {email}. Адрес изменится, когда "
            "вы откроете ссылку из письма (она действует 24 часа)."
        ).format(email=new_email))

    @post("/logout-everywhere")
    async def logout_everywhere(self, request: Request) -> Response:
        """«Выйти на всех устройствах»: every session of the user ends, this one included."""
        await q.end_all_sessions(request.user.id)
        request.clear_session()
        return redirect(request, "/")

    @post("/notifications")
    async def save_notifications(self, request: Request) -> Response:
        """«Уведомления»: the five checkboxes (an unticked box is absent from the form)."""
        data = await request.form()
        await q.set_notifications(request.user.id,
                                  {name: data.get(name) == "on" for name in NOTIFY_COLUMNS})
        return await _page(request, "notifications",
                           notify_message=_("Настройки уведомлений сохранены"))

    @post("/calendar")
    async def new_calendar_link(self, request: Request) -> Response:
        """«Создать новую ссылку»: the old link stops working; the new one is shown once."""
        token = secrets.token_urlsafe(32)  # 256 bits
        await q.new_calendar_token(request.user.id, token_hash(token))
        return await _page(request, "calendar",
                           calendar_url=f"{base_url(request)}/calendar/{token}.ics")


    @post("/api-tokens")
    async def create_api_token(self, request: Request) -> Response:
        """«Создать токен»: name, rights, term; the token is shown once, its hash is kept."""
        data = await request.form()
        form = {"name": clean_text(data.get("name"), 200), "scope": data.get("scope") or "",
                "term": data.get("term") or ""}
        errors: dict[str, str] = {}
        if not form["name"]:
            errors["name"] = _("Заполните это поле")
        elif len(form["name"]) > 100:
            errors["name"] = _("Не более {max} символов").format(max=100)
        if form["scope"] not in set(ApiScope):
            errors["scope"] = _("Выберите права токена")
        term = int(form["term"]) if form["term"].isdigit() else 0
        if term not in API_TOKEN_TERMS:
            errors["term"] = _("Выберите срок действия")
        if errors:
            return await _page(request, "api", 422, errors=errors, api_form=form)
        token = new_api_token()
        await api_tokens.create_token(request.user.id, form["name"], form["scope"],
                                      token_hash(token),
                                      datetime.now(UTC) + timedelta(days=term))
        return await _page(request, "api", api_token=token, api_token_name=form["name"])

    @post("/api-tokens/{token_id:int}/revoke")
    async def revoke_api_token(self, request: Request, token_id: FromPath[int]) -> Response:
        """«Отозвать»: the token answers 401 from now on; another user's token id is 404."""
        if not 0 < token_id < 2**31 or not await api_tokens.revoke_token(
                request.user.id, token_id):
            raise NotFoundException()
        return await _page(request, "api", api_message=_(
            "Токен отозван: запросы с ним больше не принимаются."))


class EmailConfirmController(Controller):
    """The link mailed to the new address. SPEC §9: the change happens when it is opened, so
    the GET itself changes the address (the 256-bit single-use token is the credential). It
    works without logging in (it proves the mailbox), but not for another logged-in user."""

    path = "/profile/email/confirm"

    @get("/{token:str}")
    async def confirm(self, request: Request, token: FromPath[str]) -> Response:
        """Change the address, burn the link and tell the old address; else say why not."""
        result = await q.apply_email_change(
            token_hash(token), request.user.id if request.user else None)
        if result.outcome == EmailChangeOutcome.changed:
            with _locale(result.locale):
                await _mail(request, result.old_email, _("Адрес электронной почты изменён"), _(
                    "Здравствуйте!\n\nАдрес входа в ваш личный кабинет абонента изменён на "
                    "{email}. Письма портала теперь приходят туда.\n\nЕсли это сделали не вы, "
                    "позвоните в МУП «Ижводоканал».\n\nМУП «Ижводоканал»"
                ).format(email=result.new_email))
        return render(request, "profile/email_confirm.html",
                      {"outcome": result.outcome, "new_email": result.new_email},
                      status=_CONFIRM_STATUS[result.outcome])


_CONFIRM_STATUS = {EmailChangeOutcome.changed: 200, EmailChangeOutcome.invalid: 404,
                   EmailChangeOutcome.foreign: 403, EmailChangeOutcome.taken: 409}


class CalendarFeedController(Controller):
    """GET /calendar/<token>.ics — no login: the secret link is the credential."""

    path = "/calendar"

    @get("/{name:str}", media_type="text/calendar")
    async def feed(self, request: Request, name: FromPath[str]) -> Response:
        """The RFC 5545 feed of the link's user; an unknown or revoked link is 404."""
        token = name.removesuffix(".ics")
        if token == name or not token or len(token) > 100:
            raise NotFoundException()
        owner = await q.calendar_owner(token_hash(token))
        if owner is None:
            raise NotFoundException()
        periods = feed_periods(today())
        contracts, windows = await q.feed_windows(owner["id"], periods)
        host = _feed_host(request)
        with _locale(owner["locale"]):
            def summary(event: FeedEvent) -> str:
                return _("Договор №{contract}: передать {kind} до {deadline}").format(
                    contract=event.contract_billing_id, kind=_kind_label(event.kind),
                    deadline=i18n.format_date(event.closes))

            body = render_ics(
                feed_events(contracts, windows, periods, [str(k) for k in DEADLINE_FIELDS],
                            host),
                _("Сроки передачи показаний — МУП «Ижводоканал»"), summary,
                datetime.now(UTC))
        # Litestar appends "; charset=utf-8" to a text/* media type.
        return Response(body, media_type="text/calendar", headers={
            "Cache-Control": "private, max-age=900",
            "Content-Disposition": 'inline; filename="izhvodokanal.ics"'})

