"""The account mails the worker sends for the login block: the password reminder's link and
the answer to a registration. The web request does the same for every address and only
queues these (issue 18, F4); the lookups that differ happen here, out of its timing."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from app import i18n
from app.i18n import gettext as _
from app.mail import send_mail
from app.queries import users as q
from app.security import token_hash
from app.settings import get_settings

RESET_TTL = timedelta(hours=1)


async def password_reminder(email: str) -> int:
    """Mail a one-time reset link (1 hour) if the address is an active account's; the number
    of mails sent (0 for an unknown address: nothing is sent to it)."""
    user = await q.active_user_by_email(email)
    if user is None:
        return 0
    token = secrets.token_urlsafe(32)
    await q.add_reset_token(user["id"], token_hash(token), RESET_TTL)
    reset = i18n.current_locale.set(i18n.pick_locale(user["locale"]))
    try:
        subject = _("Смена пароля в личном кабинете абонента")
        body = _(
            "Здравствуйте!\n\nЧтобы задать новый пароль, откройте ссылку:\n{link}\n\n"
            "Ссылка действует 1 час и только один раз. Если вы не запрашивали смену "
            "пароля, просто удалите это письмо.\n\nМУП «Ижводоканал»"
        ).format(link=f"{get_settings().public_url}/password/reset/{token}")
    finally:
        i18n.current_locale.reset(reset)
    await asyncio.to_thread(send_mail, email, subject, body)
    return 1


async def registration_mail(user_id: int, created: bool) -> int:
    """Tell the address what its registration did: the account is ready, or (the address
    was registered already) someone tried to register with it and nothing changed."""
    account = await q.account_of(user_id)
    if account is None:
        return 0
    base = get_settings().public_url
    reset = i18n.current_locale.set(i18n.pick_locale(account["locale"]))
    try:
        if created:
            subject = _("Регистрация в личном кабинете абонента")
            body = _(
                "Здравствуйте!\n\nАдрес {email} зарегистрирован в личном кабинете абонента "
                "МУП «Ижводоканал». Войдите: {link}\n\nЕсли вы не регистрировались, "
                "позвоните в МУП «Ижводоканал».\n\nМУП «Ижводоканал»"
            ).format(email=account["email"], link=f"{base}/")
        else:
            subject = _("Попытка регистрации с вашим адресом")
            body = _(
                "Здравствуйте!\n\nКто-то пытался зарегистрироваться в личном кабинете "
                "абонента с адресом {email}, но он уже зарегистрирован. Ваша учётная запись "
                "не изменена.\n\nЕсли вы забыли пароль, восстановите его: {link}\n\n"
                "МУП «Ижводоканал»"
            ).format(email=account["email"], link=f"{base}/password/remind")
    finally:
        i18n.current_locale.reset(reset)
    await asyncio.to_thread(send_mail, account["email"], subject, body)
    return 1
