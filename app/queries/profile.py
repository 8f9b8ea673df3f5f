"""«Профиль» (SPEC §9): contact details, password, e-mail change links, ending every session,
notification preferences and the «Календарь сроков» token with its windows.

Piccolo's query builder for the plain CRUD, as in users.py; the feed's one join is raw SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import asyncpg

from app import db
from app.domain.feed import FeedContract
from app.domain.grid import DEADLINE_FIELDS
from app.queries.audit import record_audit
from app.queries.windows import windows_of_contracts
from app.tables import CalendarToken, EmailChange, User

# The five «Уведомления» checkboxes, in the order the page shows them (the mails read them).
NOTIFY_COLUMNS = ("notify_window_open", "notify_last_day", "notify_results",
                  "notify_verification", "notify_receipt")
CONTACT_COLUMNS = ("full_name", "phone", "position", "organization")


async def profile_of(user_id: int) -> dict | None:
    """E-mail, contact details, locale, notification flags and the calendar link's date."""
    row = await User.select(
        User.email, User.locale, *(User._meta.get_column_by_name(c) for c in CONTACT_COLUMNS),
        *(User._meta.get_column_by_name(c) for c in NOTIFY_COLUMNS),
    ).where(User.id == user_id).first()
    if row is None:
        return None
    token = await CalendarToken.select(CalendarToken.created_at).where(
        (CalendarToken.user == user_id) & CalendarToken.revoked_at.is_null()
    ).order_by(CalendarToken.created_at, ascending=False).first()
    row["calendar_created_at"] = token["created_at"] if token else None
    return row


async def update_contacts(user_id: int, values: dict[str, str]) -> None:
    await User.update({User._meta.get_column_by_name(c): values[c] for c in CONTACT_COLUMNS}
                      ).where(User.id == user_id)
    await record_audit(user_id, "profile_updated", {})


async def set_notifications(user_id: int, flags: dict[str, bool]) -> None:
    await User.update({User._meta.get_column_by_name(c): bool(flags[c]) for c in NOTIFY_COLUMNS}
                      ).where(User.id == user_id)
    await record_audit(user_id, "notifications_changed", flags)


async def password_hash_of(user_id: int) -> str | None:
    row = await User.select(User.password_hash).where(
        (User.id == user_id) & User.is_active.eq(True)).first()
    return row["password_hash"] if row else None


async def _bump_generation(user_id: int) -> int:
    rows = await User.update({User.session_generation: User.session_generation + 1}).where(
        User.id == user_id).returning(User.session_generation)
    return rows[0]["session_generation"]


async def change_password(user_id: int, password_hash: str) -> int:
    """Set the new password and end every session of the user (the caller re-issues its own);
    the user's new session generation."""
    async with db.transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        generation = await _bump_generation(user_id)
        await record_audit(user_id, "password_changed", {})
    return generation


async def end_all_sessions(user_id: int) -> int:
    """«Выйти на всех устройствах»: every session of the user becomes anonymous."""
    async with db.transaction():
        generation = await _bump_generation(user_id)
        await record_audit(user_id, "logout_everywhere", {})
    return generation


# ---------------------------------------------------------------- e-mail change


async def email_taken(email: str) -> bool:
    return await User.exists().where(User.email == email)


async def add_email_change(user_id: int, new_email: str, token_hash: str,
                           ttl: timedelta) -> None:
    """A new link replaces the user's earlier unused ones (only the latest works)."""
    async with db.transaction():
        await EmailChange.update({EmailChange.used_at: datetime.now(UTC)}).where(
            (EmailChange.user == user_id) & EmailChange.used_at.is_null())
        await EmailChange.insert(EmailChange(
            user=user_id, new_email=new_email, token_hash=token_hash,
            expires_at=datetime.now(UTC) + ttl))


class EmailChangeOutcome(StrEnum):
    changed = "changed"
    invalid = "invalid"  # unknown, used or expired
    foreign = "foreign"  # another user's link
    taken = "taken"  # the address was registered meanwhile


@dataclass(frozen=True)
class EmailChangeResult:
    outcome: EmailChangeOutcome
    user_id: int | None = None
    old_email: str = ""
    new_email: str = ""
    locale: str = "ru"


def _usable(token_hash: str):
    return ((EmailChange.token_hash == token_hash) & EmailChange.used_at.is_null()
            & (EmailChange.expires_at > datetime.now(UTC)))


async def apply_email_change(token_hash: str, acting_user_id: int | None) -> EmailChangeResult:
    """Change the address of the link's user and burn the link, in one transaction.

    `acting_user_id`: who opened it (None: not logged in). A link opened by another logged-in
    user changes nothing; so does one whose address was registered after it was sent (also
    when a registration wins the race between our check and our update: the unique index).
    """
    try:
        return await _apply_email_change(token_hash, acting_user_id)
    except asyncpg.UniqueViolationError:
        return EmailChangeResult(EmailChangeOutcome.taken)


async def _apply_email_change(token_hash: str, acting_user_id: int | None) -> EmailChangeResult:
    async with db.transaction():
        link = await EmailChange.select(
            EmailChange.id, EmailChange.user, EmailChange.new_email
        ).where(_usable(token_hash)).lock_rows().first()
        if link is None:
            return EmailChangeResult(EmailChangeOutcome.invalid)
        user_id = link["user"]
        if acting_user_id is not None and acting_user_id != user_id:
            return EmailChangeResult(EmailChangeOutcome.foreign)
        user = await User.select(User.email, User.locale).where(
            (User.id == user_id) & User.is_active.eq(True)).lock_rows().first()
        if user is None:
            return EmailChangeResult(EmailChangeOutcome.invalid)
        await EmailChange.update({EmailChange.used_at: datetime.now(UTC)}).where(
            EmailChange.id == link["id"])
        new_email = link["new_email"]
        if await User.exists().where((User.email == new_email) & (User.id != user_id)):
            await record_audit(user_id, "email_change_refused", {"reason": "taken"})
            return EmailChangeResult(EmailChangeOutcome.taken, user_id, user["email"],
                                     new_email, user["locale"])
        await User.update({User.email: new_email}).where(User.id == user_id)
        await EmailChange.update({EmailChange.used_at: datetime.now(UTC)}).where(
            (EmailChange.user == user_id) & EmailChange.used_at.is_null())
        await record_audit(user_id, "email_changed", {"old": user["email"], "new": new_email})
    return EmailChangeResult(EmailChangeOutcome.changed, user_id, user["email"], new_email,
                             user["locale"])


# ---------------------------------------------------------------- calendar feed


async def new_calendar_token(user_id: int, token_hash: str) -> None:
    """Revoke the user's calendar links and store the new one's hash."""
    async with db.transaction():
        await CalendarToken.update({CalendarToken.revoked_at: datetime.now(UTC)}).where(
            (CalendarToken.user == user_id) & CalendarToken.revoked_at.is_null())
        await CalendarToken.insert(CalendarToken(user=user_id, token_hash=token_hash))
        await record_audit(user_id, "calendar_link_created", {})


async def calendar_owner(token_hash: str) -> dict | None:
    """{id, locale} of the active user whose unrevoked calendar link this is."""
    return await db.fetchrow(
        """SELECT u.id, u.locale FROM calendar_token t JOIN portal_user u ON u.id = t."user"
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.is_active""",
        token_hash,
    )


async def feed_windows(
    user_id: int, periods: list[date]
) -> tuple[list[FeedContract], dict[tuple[int, str], dict[date, tuple[date, date]]]]:
    """The user's linked contracts and, per (billing id, kind), their windows of these periods
    (stored ones; missing ones are computed and stored as the grid does)."""
    rows = await db.fetch(
        """SELECT c.id, c.billing_id, c.number, c.deadline_day, c.discharge_deadline_day
           FROM contract_link l JOIN contract c ON c.id = l.contract
           WHERE l."user" = $1 ORDER BY c.billing_id""",
        user_id,
    )
    contracts = [FeedContract(r["billing_id"], r["number"]) for r in rows]
    by_id = await windows_of_contracts(
        [(r["id"], str(kind), r[field]) for r in rows for kind, field in DEADLINE_FIELDS.items()],
        periods)
    billing_ids = {r["id"]: r["billing_id"] for r in rows}
    windows = {(billing_ids[contract], kind): found for (contract, kind), found in by_id.items()}
    return contracts, windows
