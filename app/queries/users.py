"""Accounts: login, registration, reset tokens, locale, the current user, operator creation.

Piccolo's query builder for the plain CRUD; raw SQL only for the current user, whose contract
ids come aggregated in the same round trip (it runs on every request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app import db
from app.queries.audit import record_audit
from app.tables import PasswordReset, User


@dataclass
class CurrentUser:
    id: int
    email: str
    full_name: str
    role: str
    locale: str
    contract_ids: list[int] = field(default_factory=list)
    session_generation: int = 0  # a session of an older generation is not this user's any more

    @property
    def is_operator(self) -> bool:
        return self.role == User.Role.operator

    @property
    def has_contracts(self) -> bool:
        return bool(self.contract_ids)


CURRENT_USER_SQL = """
SELECT u.id, u.email, u.full_name, u.role, u.locale, u.session_generation,
       coalesce(array_agg(l.contract ORDER BY l.contract) FILTER (WHERE l.contract IS NOT NULL),
                '{}') AS contract_ids
FROM portal_user u LEFT JOIN contract_link l ON l."user" = u.id
WHERE u.id = $1 AND u.is_active
GROUP BY u.id
"""


async def load_current_user(user_id: int) -> CurrentUser | None:
    """The active user with this id and the ids of their linked contracts, or None."""
    row = await db.fetchrow(CURRENT_USER_SQL, user_id)
    return CurrentUser(**dict(row)) if row else None


async def active_user_by_email(email: str) -> dict | None:
    """{id, password_hash, locale, session_generation} of the active account with this
    (lower-cased) e-mail."""
    return await User.select(User.id, User.password_hash, User.locale,
                             User.session_generation).where(
        (User.email == email) & (User.is_active.eq(True))
    ).first()


async def login_candidate(email: str) -> dict | None:
    """{id, password_hash, locale, session_generation, is_active} of the account with this
    (lower-cased) e-mail, blocked or not: a blocked user who knows the password is told so."""
    return await User.select(User.id, User.password_hash, User.locale,
                             User.session_generation, User.is_active).where(
        User.email == email).first()


async def record_login(user_id: int) -> None:
    """Stamp the successful login (the operator's «Пользователи» shows it)."""
    await User.update({User.last_login_at: datetime.now(UTC)}).where(User.id == user_id)


async def set_locale(user_id: int, locale: str) -> None:
    await User.update({User.locale: locale}).where(User.id == user_id)


async def register_subscriber(email: str, password_hash: str, full_name: str, phone: str,
                              position: str, organization: str, locale: str
                              ) -> tuple[int, bool]:
    """(user id, created) for a registration with this e-mail. An existing account is left as
    it was, but its row is written too (the e-mail set to itself): both paths do the same
    work and commit a write, so the answer's timing does not tell them apart."""
    row = await db.fetchrow(
        """INSERT INTO portal_user (email, password_hash, full_name, phone, position,
                                    organization, role, locale, is_active, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'subscriber', $7, true, now())
           ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
           RETURNING id, (xmax = 0) AS created""",
        email, password_hash, full_name, phone, position, organization, locale)
    return row["id"], row["created"]


async def account_of(user_id: int) -> dict | None:
    """{email, locale, is_active} of the account (the worker's registration mail)."""
    return await User.select(User.email, User.locale, User.is_active).where(
        User.id == user_id).first()


async def create_operator(email: str, name: str, password_hash: str) -> int:
    """Create the operator account, or make the existing account with this e-mail an operator
    with this password; its id."""
    rows = await User.insert(
        User(email=email, password_hash=password_hash, full_name=name, phone="",
             position="Оператор", organization="МУП «Ижводоканал»", role=User.Role.operator,
             locale="ru", is_active=True)
    ).on_conflict(
        target=User.email, action="DO UPDATE", values=[User.role, User.password_hash]
    ).returning(User.id)
    return rows[0]["id"]


# ---------------------------------------------------------------- password reset tokens


async def add_reset_token(user_id: int, token_hash: str, ttl: timedelta) -> None:
    await PasswordReset.insert(
        PasswordReset(user=user_id, token_hash=token_hash, expires_at=datetime.now(UTC) + ttl)
    )


def _usable(token_hash: str):
    return ((PasswordReset.token_hash == token_hash) & PasswordReset.used_at.is_null()
            & (PasswordReset.expires_at > datetime.now(UTC)))


async def reset_token_is_valid(token_hash: str) -> bool:
    """The token exists, is unused and has not expired."""
    return await PasswordReset.exists().where(_usable(token_hash))


async def reset_password(token_hash: str, password_hash: str) -> int | None:
    """Set the password of the token's user and burn all their open tokens, in one
    transaction; the user's id, or None when the token is unknown, used or expired."""
    async with db.transaction():
        row = await PasswordReset.select(PasswordReset.user).where(
            _usable(token_hash)).lock_rows().first()
        if row is None:
            return None
        user_id = row["user"]
        # A new password from the mailed link ends every session of the user (whoever had
        # the old password may be logged in somewhere): bump the session generation.
        await User.update({User.password_hash: password_hash,
                           User.session_generation: User.session_generation + 1}
                          ).where(User.id == user_id)
        await PasswordReset.update({PasswordReset.used_at: datetime.now(UTC)}).where(
            (PasswordReset.user == user_id) & PasswordReset.used_at.is_null())
        await record_audit(user_id, "password_reset", {})
    return user_id
