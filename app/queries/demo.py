"""The demo dataset's own rows beyond the billing import: its two users and their link."""

from __future__ import annotations

from app import db
from app.domain.vocabulary import UserRole


async def user_id_by_email(email: str) -> int | None:
    return await db.fetchval("SELECT id FROM portal_user WHERE email = $1", email)


async def add_demo_user(email: str, password_hash: str, full_name: str, position: str,
                        organization: str, role: UserRole) -> int:
    """Insert the user (or keep the existing one with that e-mail); its id."""
    return await db.fetchval(
        """INSERT INTO portal_user (email, password_hash, full_name, phone, position, organization,
               role, locale, is_active, created_at)
           VALUES ($1, $2, $3, '+7 3412 00-00-00', $4, $5, $6, 'ru', true, now())
           ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id""",
        email, password_hash, full_name, position, organization, role,
    )


async def link_contract(user_id: int, contract_billing_id: int) -> None:
    """Link the user to the contract with this billing id (kept if already linked)."""
    await db.execute(
        """INSERT INTO contract_link ("user", contract, created_at)
           SELECT $1, id, now() FROM contract WHERE billing_id = $2
           ON CONFLICT ("user", contract) DO NOTHING""",
        user_id, contract_billing_id,
    )
