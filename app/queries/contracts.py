"""Contracts as seen by a user: every contract-scoped route resolves its contract here (R8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app import db
from app.domain.ids import parse_db_id
from app.queries.audit import record_audit
from app.queries.mails import queue_new_user

CONTRACT_COLUMNS = """
    c.id, c.billing_id, c.number, c.signed_on, c.deadline_day, c.discharge_deadline_day,
    cp.name AS counterparty_name, cp.inn AS counterparty_inn
"""

# The user's linked contracts (R8): every read of a user's contract, by the web or the API,
# starts from this and narrows it.
_LINKED_CONTRACTS = f"""SELECT {CONTRACT_COLUMNS}
    FROM contract_link l
    JOIN contract c ON c.id = l.contract
    JOIN counterparty cp ON cp.id = c.counterparty
    WHERE l."user" = $1"""


@dataclass(frozen=True)
class ContractView:
    id: int
    billing_id: int
    number: str
    signed_on: date | None
    deadline_day: int
    discharge_deadline_day: int
    counterparty_name: str
    counterparty_inn: str


async def user_contracts(user_id: int) -> list[ContractView]:
    """The contracts linked to this user, by billing id."""
    rows = await db.fetch(f"{_LINKED_CONTRACTS} ORDER BY c.billing_id", user_id)
    return [ContractView(**dict(r)) for r in rows]


@dataclass(frozen=True)
class CoUser:
    """Another user linked to one of the user's contracts, and since when."""

    email: str
    linked_at: datetime


async def co_users(user_id: int) -> dict[int, list[CoUser]]:
    """For each contract linked to the user: its other (active) users, earliest link first."""
    rows = await db.fetch(
        """SELECT mine.contract, u.email, other.created_at AS linked_at
           FROM contract_link mine
           JOIN contract_link other ON other.contract = mine.contract
                                   AND other."user" <> mine."user"
           JOIN portal_user u ON u.id = other."user" AND u.is_active
           WHERE mine."user" = $1
           ORDER BY mine.contract, other.created_at, u.email""",
        user_id,
    )
    result: dict[int, list[CoUser]] = {}
    for r in rows:
        result.setdefault(r["contract"], []).append(CoUser(r["email"], r["linked_at"]))
    return result


def _as_id(value: int | str | None) -> int | None:
    """A form's or query's id, bounded (an int beyond int4 would be asyncpg's DataError)."""
    return parse_db_id(value)


async def contract_for_user(user_id: int, contract_id: int | str | None) -> ContractView | None:
    """Contract `contract_id` if it is linked to the user, else None (never another's data)."""
    if (cid := _as_id(contract_id)) is None:
        return None
    row = await db.fetchrow(f"{_LINKED_CONTRACTS} AND c.id = $2", user_id, cid)
    return ContractView(**dict(row)) if row else None


async def contract_for_user_by_billing_id(user_id: int, billing_id: int) -> ContractView | None:
    """The user's linked contract with this billing «№» (the API's id), else None."""
    if (bid := _as_id(billing_id)) is None:
        return None
    row = await db.fetchrow(f"{_LINKED_CONTRACTS} AND c.billing_id = $2", user_id, bid)
    return ContractView(**dict(row)) if row else None


async def selected_contract(
    user_id: int, requested: int | str | None
) -> tuple[ContractView, list[ContractView]] | None:
    """The contract a contract page shows: the requested one, else the user's first; plus all
    the user's contracts for the selector. None when the requested one is not the user's, or
    the user has none."""
    contracts = await user_contracts(user_id)
    if requested not in (None, ""):
        # The list is exactly the user's linked contracts: picking from it is the same R8
        # check as contract_for_user, without a second query on every contract page.
        wanted = _as_id(requested)
        chosen = next((c for c in contracts if c.id == wanted), None)
        return (chosen, contracts) if chosen else None
    return (contracts[0], contracts) if contracts else None


# ---------------------------------------------------------------- connection requests (R5, R6)


async def find_contract_by_inn_and_number(inn: str, number_norm: str) -> int | None:
    """Id of the billing contract with this number whose counterparty has this INN."""
    return await db.fetchval(
        """SELECT c.id FROM contract c JOIN counterparty cp ON cp.id = c.counterparty
           WHERE cp.inn = $1 AND c.number_norm = $2
           ORDER BY c.billing_id LIMIT 1""",
        inn, number_norm,
    )


async def link_contract(user_id: int, contract_id: int) -> bool:
    """Link the contract to the user; False when it already was (concurrent submits included:
    the unique index on (user, contract) makes the second insert wait, then do nothing)."""
    async with db.transaction():
        new_id = await db.fetchval(
            """INSERT INTO contract_link ("user", contract, created_at) VALUES ($1, $2, now())
               ON CONFLICT ("user", contract) DO NOTHING RETURNING id""",
            user_id, contract_id,
        )
        if new_id is not None:
            await record_audit(user_id, "contract_linked", {"contract": contract_id})
            # «К договору №N подключён новый пользователь»: to the contract's other users.
            await queue_new_user(new_id, contract_id, user_id)
    return new_id is not None


async def unlink_contract(user_id: int, contract_id: int) -> bool:
    """Remove only this user's link; billing data, readings and other users' links stay."""
    async with db.transaction():
        gone = await db.fetchval(
            """DELETE FROM contract_link WHERE "user" = $1 AND contract = $2 RETURNING id""",
            user_id, contract_id,
        )
        if gone is not None:
            await record_audit(user_id, "contract_unlinked", {"contract": contract_id})
    return gone is not None


async def log_connection_request(user_id: int, inn: str, number: str, outcome: str,
                                 contract_id: int | None = None) -> None:
    """One row per connection attempt, whatever its outcome."""
    await db.execute(
        """INSERT INTO connection_request ("user", inn, number, outcome, contract, created_at)
           VALUES ($1, $2, $3, $4, $5, now())""",
        user_id, inn[:40], number[:200], outcome, contract_id,
    )


async def count_throttled_attempt(user_id: int, inn: str, number: str,
                                  window_seconds: int) -> None:
    """A refused attempt while the user is throttled: one row per window counts them all
    (the first refused attempt's INN and number, `attempts` the count), so a script that keeps
    posting cannot grow the table."""
    async with db.transaction():
        # the user's row lock serializes two concurrent refusals: one row, both counted
        await db.execute("""SELECT 1 FROM portal_user WHERE id = $1 FOR UPDATE""", user_id)
        counted = await db.fetchval(
            """UPDATE connection_request SET attempts = attempts + 1
               WHERE id = (SELECT id FROM connection_request
                           WHERE "user" = $1 AND outcome = 'throttled'
                             AND created_at > now() - make_interval(secs => $2)
                           ORDER BY created_at DESC LIMIT 1)
               RETURNING id""",
            user_id, float(window_seconds),
        )
        if counted is None:
            await log_connection_request(user_id, inn, number, "throttled")

