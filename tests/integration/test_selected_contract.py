"""selected_contract (app/queries/contracts.py): the user's own contract or None (R8)."""

from __future__ import annotations

import pytest

from app.queries.contracts import selected_contract


async def test_selected_contract_picks_only_the_users_own(demo_db):
    uid = demo_db["subscriber"]
    chosen, contracts = await selected_contract(uid, None)
    assert chosen.id == demo_db["linked_contract"] and [c.id for c in contracts] == [chosen.id]
    chosen, _ = await selected_contract(uid, str(demo_db["linked_contract"]))
    assert chosen.billing_id == 15303


@pytest.mark.parametrize("requested", ["foreign", "unlinked", "abc", "-1", "99999999"])
async def test_selected_contract_none_for_anything_else(demo_db, requested):
    value = str(demo_db.get(f"{requested}_contract", requested))
    assert await selected_contract(demo_db["subscriber"], value) is None
