"""«Пользователи» (SPEC §10): the operator's view of the accounts — search, linked contracts,
last login, blocking and unlinking. Every change is audited with the operator as the actor.

Blocked = `portal_user.is_active` false: the current-user query, the login lookup, the
reminder and the mail jobs already read it, so a blocked account is treated as gone
everywhere; blocking also bumps the session generation, which ends its sessions at once.
"""

from __future__ import annotations

import json

from app import db
from app.queries.audit import record_audit
from app.queries.contracts import unlink_contract
from app.queries.progress import like_pattern

USERS_SQL = """
SELECT u.id, u.email, u.full_name, u.organization, u.role, u.is_active, u.last_login_at,
       u.created_at,
       coalesce(json_agg(json_build_object('id', c.id, 'billing_id', c.billing_id,
                                           'number', c.number, 'name', cp.name, 'inn', cp.inn)
                         ORDER BY c.billing_id) FILTER (WHERE c.id IS NOT NULL), '[]')
         AS contracts,
       count(*) OVER () AS total
FROM portal_user u
LEFT JOIN contract_link l ON l."user" = u.id
LEFT JOIN contract c ON c.id = l.contract
LEFT JOIN counterparty cp ON cp.id = c.counterparty
WHERE $1 = '' OR u.email ILIKE $2 OR u.full_name ILIKE $2 OR u.organization ILIKE $2
   OR EXISTS (SELECT 1 FROM contract_link l2
              JOIN contract c2 ON c2.id = l2.contract
              JOIN counterparty cp2 ON cp2.id = c2.counterparty
              WHERE l2."user" = u.id
                AND (c2.billing_id::text = $1 OR left(cp2.inn, length($1)) = $1
                     OR c2.number ILIKE $2 OR cp2.name ILIKE $2))
GROUP BY u.id
ORDER BY u.email
LIMIT $3 OFFSET $4
"""


async def search_users(search: str, limit: int, offset: int = 0) -> tuple[int, list[dict]]:
    """(accounts found, one page of them with their linked contracts), by e-mail, name,
    organization, or a linked contract's №, number, INN or counterparty name."""
    search = search.strip()
    rows = await db.fetch(USERS_SQL, search, like_pattern(search), limit, offset)
    users = []
    for r in rows:
        user = dict(r)
        if isinstance(user["contracts"], str):
            user["contracts"] = json.loads(user["contracts"])
        users.append(user)
    return (rows[0]["total"] if rows else 0), users


async def set_blocked(operator_id: int, user_id: int, blocked: bool) -> str | None:
    """Block (ending every session at once) or unblock the account; its e-mail, or None when
    there is no such account."""
    async with db.transaction():
        email = await db.fetchval(
            """UPDATE portal_user SET is_active = NOT $2,
                   session_generation = session_generation + CASE WHEN $2 THEN 1 ELSE 0 END
               WHERE id = $1 RETURNING email""", user_id, blocked)
        if email is not None:
            await record_audit(operator_id, "user_blocked" if blocked else "user_unblocked",
                               {"user": user_id, "email": email})
    return email


async def unlink_by_operator(operator_id: int, user_id: int, contract_id: int) -> bool:
    """Remove one user's link to a contract (the subscriber's own «Удалить»), audited as the
    operator's action too; False when there was no such link."""
    async with db.transaction():
        gone = await unlink_contract(user_id, contract_id)
        if gone:
            await record_audit(operator_id, "operator_unlinked_contract",
                               {"user": user_id, "contract": contract_id})
    return gone
