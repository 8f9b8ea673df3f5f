"""Issue 4: a meter past its planned verification date is flagged in its grid row."""

from __future__ import annotations

import re
from datetime import timedelta

from app import db
from app.settings import today
from tests.helpers import login

FLAG = "срок поверки истёк"


def row_html(html: str, meter_id: int) -> str:
    match = re.search(rf'<tr id="row-{meter_id}".*?</tr>', html, re.S)
    assert match, f"no grid row for meter {meter_id}"
    return match.group(0)


async def test_overdue_verification_is_flagged_in_the_row(client, demo_db):
    ids = [r["id"] for r in await db.fetch(
        """SELECT m.id FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' ORDER BY m.id LIMIT 3""")]
    past, due_today, unknown = ids
    await db.execute("UPDATE meter SET verification_due = $2 WHERE id = $1",
                     past, today() - timedelta(days=1))
    await db.execute("UPDATE meter SET verification_due = $2 WHERE id = $1", due_today, today())
    await db.execute("UPDATE meter SET verification_due = NULL WHERE id = $1", unknown)
    await login(client)
    html = (await client.get("/readings/cold")).text
    assert FLAG in row_html(html, past)
    assert FLAG not in row_html(html, due_today)  # due today is not yet past
    assert FLAG not in row_html(html, unknown)
