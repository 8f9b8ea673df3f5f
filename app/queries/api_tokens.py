"""API tokens of «Доступ для учётных систем (API)» and the API's stored idempotent answers.

A token is stored as its SHA-256 only. `token_principal` is the one query every API request
makes to learn who calls (one round trip: user, scope, and the last-used stamp). Piccolo's
builder for the profile's CRUD; raw SQL for the per-request lookup and the idempotency upsert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app import db
from app.queries.audit import record_audit
from app.tables import ApiToken

IDEMPOTENCY_TTL_HOURS = 24


@dataclass(frozen=True)
class Principal:
    """Who an API request acts for: the token's user, its scope and the user's locale."""

    token_id: int
    user_id: int
    scope: str
    locale: str


async def create_token(user_id: int, name: str, scope: str, token_hash: str,
                       expires_at: datetime) -> int:
    async with db.transaction():
        rows = await ApiToken.insert(ApiToken(
            user=user_id, name=name, scope=scope, token_hash=token_hash, expires_at=expires_at,
        )).returning(ApiToken.id)
        await record_audit(user_id, "api_token_created",
                           {"token": rows[0]["id"], "name": name, "scope": scope})
    return rows[0]["id"]


async def tokens_of(user_id: int) -> list[dict]:
    """The user's tokens, newest first: name, scope, created, last used, expiry, revoked."""
    return await ApiToken.select(
        ApiToken.id, ApiToken.name, ApiToken.scope, ApiToken.created_at, ApiToken.expires_at,
        ApiToken.last_used_at, ApiToken.revoked_at,
    ).where(ApiToken.user == user_id).order_by(ApiToken.id, ascending=False)


async def revoke_token(user_id: int, token_id: int) -> bool:
    """«Отозвать»: the user's own token stops working at once (revoking it again changes
    nothing); False if it is not the user's."""
    async with db.transaction():
        rows = await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(
            (ApiToken.id == token_id) & (ApiToken.user == user_id)
            & ApiToken.revoked_at.is_null()
        ).returning(ApiToken.id)
        if rows:
            await record_audit(user_id, "api_token_revoked", {"token": token_id})
            return True
    return await ApiToken.exists().where(
        (ApiToken.id == token_id) & (ApiToken.user == user_id))


# Who calls: an unrevoked, unexpired token of an active user — the operator's «Заблокировать»
# clears is_active, so a blocked user's tokens answer 401 from the next request on. The
# last-used stamp is written at most once a minute per token, so a busy integration does not
# write on every request.
PRINCIPAL_SQL = """
WITH t AS (
    SELECT t.id, t."user", t.scope, u.locale, t.last_used_at
    FROM api_token t JOIN portal_user u ON u.id = t."user"
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND u.is_active
), touched AS (
    UPDATE api_token SET last_used_at = now()
    FROM t WHERE api_token.id = t.id
      AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
)
SELECT id, "user", scope, locale FROM t
"""


async def token_principal(token_hash: str) -> Principal | None:
    """The principal of a live token, None for an unknown, revoked or expired one."""
    row = await db.fetchrow(PRINCIPAL_SQL, token_hash)
    if row is None:
        return None
    return Principal(row["id"], row["user"], row["scope"], row["locale"])


# ---------------------------------------------------------------- Idempotency-Key

# Claim the key inside the caller's transaction. A second request with the same key blocks on
# the unique index until the first one's transaction ends; then it gets no row back and reads
# the stored answer. A key older than 24 hours is claimed afresh.
CLAIM_SQL = f"""
INSERT INTO api_idempotency AS i ("user", key, request_hash, status_code, response, created_at)
VALUES ($1, $2, $3, 0, '', now())
ON CONFLICT ("user", key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, status_code = 0, response = '', created_at = now()
    WHERE i.created_at < now() - interval '{IDEMPOTENCY_TTL_HOURS} hours'
RETURNING id
"""


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    response: str


async def claim_idempotency_key(user_id: int, key: str, request_hash: str
                                ) -> StoredAnswer | None:
    """Inside a transaction: None when this request owns the key now (answer it, then
    `store_answer`), else the answer stored by the request that owned it first."""
    if await db.fetchval(CLAIM_SQL, user_id, key, request_hash) is not None:
        return None
    row = await db.fetchrow(
        """SELECT request_hash, status_code, response FROM api_idempotency
           WHERE "user" = $1 AND key = $2""", user_id, key)
    return StoredAnswer(row["request_hash"], row["status_code"], row["response"])


async def store_answer(user_id: int, key: str, status_code: int, response: str) -> None:
    await db.execute(
        """UPDATE api_idempotency SET status_code = $3, response = $4
           WHERE "user" = $1 AND key = $2""", user_id, key, status_code, response)


async def purge_idempotency_keys() -> int:
    """Forget answers older than 24 hours (a daily job); how many were deleted."""
    result = await db.execute(
        f"DELETE FROM api_idempotency WHERE created_at < now() - interval "
        f"'{IDEMPOTENCY_TTL_HOURS} hours'")
    return int(result.split()[-1])
