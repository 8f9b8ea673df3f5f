"""Login block, registration, logout, password reminder/reset and the language switch."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from redis.exceptions import RedisError

from app import db, throttle
from app.controllers._forms import EMAIL_RE, clean_text, client_ip, redirect, safe_next
from app.domain.passwords import password_problems
from app.i18n import LOCALES
from app.i18n import gettext as _
from app.i18n import pick_locale as i18n_pick
from app.render import is_fragment_request, render
from app.security import (
    DUMMY_HASH,
    current_user,
    hash_password,
    rotate_session,
    token_hash,
    verify_password,
)
from app.settings import get_settings

RESET_TTL = timedelta(hours=1)
REGISTER_FIELDS = ("email", "full_name", "phone", "position", "organization")
REGISTER_MAX = {"email": 254, "full_name": 200, "phone": 50, "position": 200, "organization": 500}


def _block(request: Request, name: str) -> str | None:
    return name if is_fragment_request(request) else None


class AuthController(Controller):
    path = "/"

    @get("/", name="home")
    async def home(self, request: Request) -> Response:
        """The login block, or «Вы успешно авторизовались!» for a logged-in user."""
        notice = {
            "registered": _(
                "Регистрация завершена. Войдите, указав адрес электронной почты и пароль."
            ),
            "reset": _("Пароль изменён. Войдите с новым паролем."),
        }.get(request.query_params.get("notice", ""))
        return render(request, "auth/login.html", {"notice": notice})

    @post("/login")
    async def login(self, request: Request) -> Response:
        """Check credentials; on success rotate the session and go to the success block."""
        form = await request.form()
        email = clean_text(form.get("email"), 254).lower()
        password = form.get("password") or ""
        redis = request.app.state.redis
        ip = client_ip(request)
        checks = ((throttle.LOGIN_PER_EMAIL, email), (throttle.LOGIN_PER_IP, ip))

        def failed(message: str, status: int = 422) -> Response:
            return render(
                request,
                "auth/login.html",
                {"error": message, "email": email, "notice": None},
                block=_block(request, "login"),
                status=status,
            )

        if await throttle.is_blocked(redis, *checks):
            return failed(
                _("Слишком много неудачных попыток входа. Повторите через 15 минут."), 429
            )
        row = await db.fetchrow(
            "SELECT id, password_hash FROM portal_user WHERE email = $1 AND is_active", email
        )
        ok = await asyncio.to_thread(
            verify_password, row["password_hash"] if row else DUMMY_HASH, password
        )
        if not (row and ok):
            await throttle.hit(redis, *checks)
            return failed(_("Ошибка входа. Неверное имя пользователя/ пароль"))
        await throttle.clear(redis, throttle.LOGIN_PER_EMAIL, email)
        if (chosen := request.cookies.get("lang")) in LOCALES:
            # The language picked on the login page is the one the user wants from now on.
            await db.execute("UPDATE portal_user SET locale = $1 WHERE id = $2", chosen, row["id"])
        request.clear_session()
        request.set_session({"uid": row["id"]})
        rotate_session(request)
        return redirect(request, "/")

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        """Destroy the session: the old cookie no longer works."""
        if request.scope.get("_session_unavailable"):
            # Redis is down, so the session cannot be destroyed now: say so (503) rather than
            # pretend, and make the browser forget the cookie.
            from app.web import error_page

            response = error_page(request, RedisError("session store unavailable at logout"))
            response.delete_cookie("sid")
            return response
        request.clear_session()
        return Redirect("/", status_code=303)

    @get("/register")
    async def register_form(self, request: Request) -> Response:
        if current_user(request):
            return Redirect("/", status_code=303)
        return render(request, "auth/register.html", {"form": {}, "errors": {}, "error": None})

    @post("/register")
    async def register(self, request: Request) -> Response:
        """Create a subscriber account; every field required, password confirmed, consent given."""
        data = await request.form()
        form = {name: clean_text(data.get(name), 2 * REGISTER_MAX[name])
                for name in REGISTER_FIELDS}
        form["email"] = form["email"].lower()
        form["consent"] = data.get("consent") == "yes"
        password, confirm = data.get("password") or "", data.get("password_confirm") or ""
        errors: dict[str, str] = {}
        for name in REGISTER_FIELDS:
            if not form[name]:
                errors[name] = _("Заполните это поле")
            elif len(form[name]) > REGISTER_MAX[name]:  # the column's size: else a 500
                errors[name] = _("Не более {max} символов").format(max=REGISTER_MAX[name])
        if form["email"] and not EMAIL_RE.match(form["email"]):
            errors["email"] = _("Введите адрес электронной почты, например name@example.ru")
        for problem in password_problems(password, confirm):
            key = "password_confirm" if problem.code == "password_mismatch" else "password"
            errors.setdefault(key, problem.text(_))
        if not form["consent"]:
            errors["consent"] = _("Нужно согласие на обработку персональных данных")

        def again(status: int, error: str | None = None) -> Response:
            return render(
                request,
                "auth/register.html",
                {"form": form, "errors": errors, "error": error},
                block=_block(request, "form"),
                status=status,
            )

        if errors:
            return again(422)
        redis = request.app.state.redis
        ip_check = (throttle.REGISTER_PER_IP, client_ip(request))
        if await throttle.is_blocked(redis, ip_check):
            return again(429, _("Слишком много регистраций с вашего адреса. Повторите через час."))
        await throttle.hit(redis, ip_check)
        password_hash = await asyncio.to_thread(hash_password, password)
        new_id = await db.fetchval(
            """INSERT INTO portal_user (email, password_hash, full_name, phone, position,
                   organization, role, locale, is_active, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, 'subscriber', $7, true, now())
               ON CONFLICT (email) DO NOTHING RETURNING id""",
            form["email"], password_hash, form["full_name"], form["phone"], form["position"],
            form["organization"], i18n_pick(request.cookies.get("lang")),
        )
        if new_id is None:
            errors["email"] = _("Пользователь с таким адресом уже зарегистрирован")
            return again(422)
        return redirect(request, "/?notice=registered")

    @get("/password/remind")
    async def remind_form(self, request: Request) -> Response:
        return render(request, "auth/remind.html", {"sent": False, "error": None})

    @post("/password/remind")
    async def remind(self, request: Request) -> Response:
        """Mail a one-time link; the same answer whether or not the address exists."""
        form = await request.form()
        email = clean_text(form.get("email"), 254).lower()
        if not EMAIL_RE.match(email):
            return render(
                request,
                "auth/remind.html",
                {"sent": False, "error": None, "email": email,
                 "errors": {"email": _(
                     "Введите адрес электронной почты, например name@example.ru")}},
                block=_block(request, "form"),
                status=422,
            )
        redis = request.app.state.redis
        checks = ((throttle.REMIND_PER_EMAIL, email), (throttle.REMIND_PER_IP, client_ip(request)))
        if await throttle.is_blocked(redis, *checks):
            return render(
                request,
                "auth/remind.html",
                {"sent": False, "email": email,
                 "error": _("Слишком много запросов. Повторите через 15 минут.")},
                block=_block(request, "form"),
                status=429,
            )
        await throttle.hit(redis, *checks)
        user = await db.fetchrow(
            "SELECT id, locale FROM portal_user WHERE email = $1 AND is_active", email
        )
        if user:
            token = secrets.token_urlsafe(32)
            await db.execute(
                """INSERT INTO password_reset ("user", token_hash, expires_at, created_at)
                   VALUES ($1, $2, $3, now())""",
                user["id"], token_hash(token), datetime.now(UTC) + RESET_TTL,
            )
            base = (get_settings().base_url or str(request.base_url)).rstrip("/")
            link = f"{base}/password/reset/{token}"
            subject = _("Смена пароля в личном кабинете абонента")
            body = _(
                "Здравствуйте!\n\nЧтобы задать новый пароль, откройте ссылку:\n{link}\n\n"
                "Ссылка действует 1 час и только один раз. Если вы не запрашивали смену "
                "пароля, просто удалите это письмо.\n\nМУП «Ижводоканал»"
            ).format(link=link)
            await request.app.state.queue.enqueue_job("send_email", email, subject, body)
        return render(
            request, "auth/remind.html", {"sent": True, "error": None},
            block=_block(request, "form"),
        )

    @get("/password/reset/{token:str}")
    async def reset_form(self, request: Request, token: FromPath[str]) -> Response:
        valid = await db.fetchval(
            """SELECT 1 FROM password_reset
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()""",
            token_hash(token),
        )
        return render(
            request, "auth/reset.html",
            {"token": token, "invalid": not valid, "errors": {}},
            status=200 if valid else 404,
        )

    @post("/password/reset/{token:str}")
    async def reset(self, request: Request, token: FromPath[str]) -> Response:
        """Set the new password and burn the token, in one transaction."""
        form = await request.form()
        password, confirm = form.get("password") or "", form.get("password_confirm") or ""
        errors: dict[str, str] = {}
        for problem in password_problems(password, confirm):
            key = "password_confirm" if problem.code == "password_mismatch" else "password"
            errors.setdefault(key, problem.text(_))
        if errors:
            return render(
                request, "auth/reset.html", {"token": token, "invalid": False, "errors": errors},
                block=_block(request, "form"), status=422,
            )
        password_hash = await asyncio.to_thread(hash_password, password)
        async with db.transaction():
            row = await db.fetchrow(
                """SELECT id, "user" FROM password_reset
                   WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
                   FOR UPDATE""",
                token_hash(token),
            )
            if row is None:
                return render(
                    request, "auth/reset.html", {"token": token, "invalid": True, "errors": {}},
                    block=_block(request, "form"), status=404,
                )
            await db.execute(
                "UPDATE portal_user SET password_hash = $1 WHERE id = $2",
                password_hash, row["user"],
            )
            await db.execute(
                """UPDATE password_reset SET used_at = now()
                   WHERE "user" = $1 AND used_at IS NULL""",
                row["user"],
            )
            await db.execute(
                """INSERT INTO audit_event ("user", action, details, created_at)
                   VALUES ($1, 'password_reset', '{}', now())""",
                row["user"],
            )
        return redirect(request, "/?notice=reset")

    @post("/lang")
    async def switch_language(self, request: Request) -> Response:
        """Remember the language in a cookie, and on the account of a logged-in user."""
        form = await request.form()
        lang = form.get("lang") if form.get("lang") in LOCALES else "ru"
        user = current_user(request)
        if user:
            await db.execute("UPDATE portal_user SET locale = $1 WHERE id = $2", lang, user.id)
        response = Redirect(safe_next(form.get("next")), status_code=303)
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response
