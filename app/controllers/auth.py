"""Login block, registration, logout, password reminder/reset and the language switch."""

from __future__ import annotations

import asyncio
import secrets

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from redis.exceptions import RedisError

from app import throttle
from app.controllers._forms import (
    EMAIL_RE,
    clean_text,
    client_ip,
    password_errors,
    redirect,
    safe_next,
)
from app.controllers.home import dashboard_page
from app.domain.contacts import phone_problem
from app.domain.lockout import device_cookie, device_nonce
from app.errors import error_page
from app.i18n import LOCALES
from app.i18n import gettext as _
from app.i18n import pick_locale as i18n_pick
from app.metrics import enqueue
from app.queries import users as q
from app.render import flash, pop_session, render
from app.security import (
    DUMMY_HASH,
    hash_password,
    rotate_csrf_token,
    start_session,
    token_hash,
    verify_password,
)

REGISTER_FIELDS = ("email", "full_name", "phone", "position", "organization")
REGISTER_MAX = {"email": 254, "full_name": 200, "phone": 50, "position": 200, "organization": 500}


def _registration(data) -> tuple[dict, str, dict[str, str]]:
    """The cleaned registration form, the password and a message per invalid field."""
    form = {name: clean_text(data.get(name), 2 * REGISTER_MAX[name]) for name in REGISTER_FIELDS}
    form["email"] = form["email"].lower()
    form["consent"] = data.get("consent") == "yes"
    password = data.get("password") or ""
    errors: dict[str, str] = {}
    for name in REGISTER_FIELDS:
        if not form[name]:
            errors[name] = _("Заполните это поле")
        elif len(form[name]) > REGISTER_MAX[name]:  # the column's size: else a 500
            errors[name] = _("Не более {max} символов").format(max=REGISTER_MAX[name])
    if form["phone"] and "phone" not in errors and (problem := phone_problem(form["phone"])):
        errors["phone"] = problem.text(_)
    if form["email"] and not EMAIL_RE.match(form["email"]):
        errors["email"] = _("Введите адрес электронной почты, например name@example.ru")
    errors.update(password_errors(password, data.get("password_confirm") or ""))
    if not form["consent"]:
        errors["consent"] = _("Нужно согласие на обработку персональных данных")
    return form, password, errors


DEVICE_COOKIE = "device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600


async def _authenticate(request: Request, email: str,
                        password: str) -> tuple[int | None, int, str, int]:
    """(user id, its session generation, "", 200) for these credentials, else
    (None, 0, the message, the status). Throttled as app/domain/lockout.py describes: a
    browser with this account's device cookie only by its own failures; any other by the
    (account, client) pair, the client address and the account's growing delay."""
    redis = request.app.state.redis
    secret = request.app.state.settings.secret_key
    nonce = device_nonce(secret, email, request.cookies.get(DEVICE_COOKIE))
    device_check = (throttle.LOGIN_PER_DEVICE, nonce or "")
    if nonce and await throttle.is_blocked(redis, device_check):
        nonce = None  # this browser's own failures used its trust up: a stranger's rules
    if nonce:
        checks: tuple = (device_check,)
    else:
        ip = client_ip(request)
        checks = ((throttle.LOGIN_PER_PAIR, f"{email}|{ip}"), (throttle.LOGIN_PER_IP, ip))
        if await throttle.is_blocked(redis, *checks):
            return None, 0, _(
                "Слишком много неудачных попыток входа. Повторите через 15 минут."), 429
        if (wait := await throttle.account_wait(redis, email)) > 0:
            return None, 0, _(
                "Слишком много неудачных попыток входа. Повторите через {seconds} с."
            ).format(seconds=wait), 429
    user = await q.login_candidate(email)
    # Verify against a dummy hash for an unknown e-mail, so timing does not reveal it.
    ok = await asyncio.to_thread(
        verify_password, user["password_hash"] if user else DUMMY_HASH, password)
    if not (user and ok):
        await throttle.hit(redis, *checks)
        if not nonce:
            await throttle.hit_account(redis, email)
        return None, 0, _("Ошибка входа. Неверное имя пользователя/ пароль"), 422
    await throttle.clear(redis, *checks[0])
    if not user["is_active"]:  # told only to whoever knows the password
        return None, 0, _("Учётная запись заблокирована. Обратитесь в МУП «Ижводоканал»."), 422
    await q.record_login(user["id"])
    return user["id"], user["session_generation"], "", 200


def _trust_this_browser(request: Request, response: Response, email: str) -> None:
    """The device cookie (OWASP): this browser logged in to the account."""
    settings = request.app.state.settings
    response.set_cookie(
        DEVICE_COOKIE, device_cookie(settings.secret_key, email, secrets.token_hex(16)),
        max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="lax", secure=settings.https)


async def _create_account(request: Request, form: dict, password: str
                          ) -> tuple[int, dict[str, str], str | None]:
    """(status, field errors, form error) of a registration; 201 when accepted. The same
    work and the same answer whether or not the address is registered (no enumeration): the
    password is hashed, one upsert writes a row either way (app/queries/users.py), and the
    worker mails the address what happened (app/account_mails.py)."""
    redis = request.app.state.redis
    ip_check = (throttle.REGISTER_PER_IP, client_ip(request))
    if await throttle.is_blocked(redis, ip_check):
        return 429, {}, _("Слишком много регистраций с вашего адреса. Повторите через час.")
    await throttle.hit(redis, ip_check)
    password_hash = await asyncio.to_thread(hash_password, password)
    user_id, created = await q.register_subscriber(
        form["email"], password_hash, form["full_name"], form["phone"], form["position"],
        form["organization"], i18n_pick(request.cookies.get("lang")))
    await enqueue(request.app.state.queue, "registration_mail", user_id, created)
    return 201, {}, None


class AuthController(Controller):
    path = "/"

    @get("/", name="home")
    async def home(self, request: Request, notice: FromQuery[str] = "") -> Response:
        """The login block for a visitor (returning to `next` after login); for a logged-in
        user `next` if there is one, else the dashboard (SPEC §11) when they have contracts,
        else «Вы успешно авторизовались!» and the way to connect one."""
        target = safe_next(request.query_params.get("next"), "")
        if request.user and target:
            return Redirect(target, status_code=303)
        if request.user and request.user.has_contracts:
            return await dashboard_page(request)
        if request.user:
            # the login's greeting is this block's own first line: not a second time above it
            return render(request, "auth/login.html", {"notice": None, "flashes": []})
        text = {
            "registered": _(
                "Регистрация завершена. Войдите, указав адрес электронной почты и пароль."
            ),
            "reset": _("Пароль изменён. Войдите с новым паролем."),
        }.get(notice)
        return render(request, "auth/login.html", {
            "notice": text, "next": target, "email": pop_session(request, "login_email", "")})

    @post("/login")
    async def login(self, request: Request) -> Response:
        """Check credentials; on success rotate the session and go to the success block."""
        form = await request.form()
        email = clean_text(form.get("email"), 254).lower()
        uid, generation, error, status = await _authenticate(
            request, email, form.get("password") or "")
        if uid is None:
            return render(request, "auth/login.html",
                          {"error": error, "email": email, "notice": None,
                           "next": safe_next(form.get("next"), "")},
                          fragment="login", status=status)
        if (chosen := request.cookies.get("lang")) in LOCALES:
            # The language picked on the login page is the one the user wants from now on.
            await q.set_locale(uid, chosen)
        start_session(request, uid, generation)
        flash(request, "success", _("Вы успешно авторизовались!"))  # on the next page
        response = redirect(request, safe_next(form.get("next")))
        rotate_csrf_token(request, response)
        _trust_this_browser(request, response, email)
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        """Destroy the session: the old cookie no longer works."""
        if request.scope.get("_session_unavailable"):
            # Redis is down, so the session cannot be destroyed now: say so (503) rather than
            # pretend, and make the browser forget the cookie.
            response = error_page(request, RedisError("session store unavailable at logout"))
            response.delete_cookie("sid")
            return response
        request.clear_session()
        response = Redirect("/", status_code=303)
        rotate_csrf_token(request, response)
        return response

    @get("/register")
    async def register_form(self, request: Request) -> Response:
        """The registration form (a logged-in user goes home)."""
        if request.user:
            return Redirect("/", status_code=303)
        return render(request, "auth/register.html", {"form": {}, "errors": {}, "error": None})

    @post("/register")
    async def register(self, request: Request) -> Response:
        """Create a subscriber account; every field required, password confirmed, consent given."""
        form, password, errors = _registration(await request.form())
        status, error = 422, None
        if not errors:
            status, errors, error = await _create_account(request, form, password)
            if status == 201:
                # Not logged in at once (issue 19 did): a session for a new address and
                # none for a registered one would tell them apart (issue 18, F4). The same
                # answer for both; the mail says what happened.
                # The login form then has the address filled in (the visitor typed it: it
                # tells nothing about whether it was registered before).
                request.session["login_email"] = form["email"]
                return redirect(request, "/?notice=registered")
        return render(request, "auth/register.html",
                      {"form": form, "errors": errors, "error": error},
                      fragment="form", status=status)

    @get("/password/remind")
    async def remind_form(self, request: Request) -> Response:
        """The «Забыли пароль?» form."""
        return render(request, "auth/remind.html", {"sent": False, "error": None})

    @post("/password/remind")
    async def remind(self, request: Request) -> Response:
        """Mail a one-time link; the same answer whether or not the address exists."""
        email = clean_text((await request.form()).get("email"), 254).lower()
        ctx: dict = {"sent": False, "error": None, "email": email}
        checks = ((throttle.REMIND_PER_EMAIL, email), (throttle.REMIND_PER_IP, client_ip(request)))
        if not EMAIL_RE.match(email):
            ctx["errors"], status = {"email": _(
                "Введите адрес электронной почты, например name@example.ru")}, 422
        elif await throttle.is_blocked(request.app.state.redis, *checks):
            ctx["error"], status = _("Слишком много запросов. Повторите через 15 минут."), 429
        else:
            await throttle.hit(request.app.state.redis, *checks)
            # The same for every address: the worker looks it up and mails a link if it is
            # an active account's (app/account_mails.py), so neither the answer nor its time
            # says whether it is registered.
            await enqueue(request.app.state.queue, "password_reminder", email)
            ctx, status = {"sent": True, "error": None}, 200
        return render(request, "auth/remind.html", ctx, fragment="form", status=status)

    @get("/password/reset/{token:str}")
    async def reset_form(self, request: Request, token: FromPath[str]) -> Response:
        """The new-password form, or «link invalid» (404) for a used or expired token."""
        valid = await q.reset_token_is_valid(token_hash(token))
        return render(request, "auth/reset.html",
                      {"token": token, "invalid": not valid, "errors": {}},
                      status=200 if valid else 404)

    @post("/password/reset/{token:str}")
    async def reset(self, request: Request, token: FromPath[str]) -> Response:
        """Set the new password and burn the token, in one transaction."""
        form = await request.form()
        errors = password_errors(form.get("password") or "", form.get("password_confirm") or "")
        ctx = {"token": token, "invalid": False, "errors": errors}
        if errors:
            return render(request, "auth/reset.html", ctx, fragment="form", status=422)
        password_hash = await asyncio.to_thread(hash_password, form["password"])
        if await q.reset_password(token_hash(token), password_hash) is None:
            return render(request, "auth/reset.html", {**ctx, "invalid": True},
                          fragment="form", status=404)
        return redirect(request, "/?notice=reset")

    @post("/lang")
    async def switch_language(self, request: Request) -> Response:
        """Remember the language in a cookie, and on the account of a logged-in user."""
        form = await request.form()
        lang = form.get("lang") if form.get("lang") in LOCALES else "ru"
        if request.user:
            await q.set_locale(request.user.id, lang)
        response = Redirect(safe_next(form.get("next")), status_code=303)
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True,
                            secure=request.app.state.settings.https)
        return response
