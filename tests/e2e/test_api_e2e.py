"""API v1 from the integrator's side, in Chromium and over real HTTP: a token created in
«Профиль», the copyable client docs/api_client.py transmits with it, the readings are green
in the grid; «Отозвать» in the browser → the next call is 401."""

from __future__ import annotations

import importlib.util
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import GridPage, LoginPage, ProfilePage
from tests.helpers import ROOT, load_demo_sync, sql

pytestmark = pytest.mark.e2e


def api_client():
    """docs/api_client.py, imported as an integrator would copy it."""
    spec = importlib.util.spec_from_file_location("api_client", ROOT / "docs/api_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(live_server_factory):
    load_demo_sync()
    return live_server_factory()


def test_token_from_profile_transmits_green_then_revoked_is_401(server, page: Page, tmp_path):
    client = api_client()
    LoginPage(page, server.url).login()
    profile = ProfilePage(page, server.url).goto()
    response, token = profile.create_api_token("АСКУЭ e2e")
    assert response.status == 200 and token.startswith("wp_")
    expect(profile.api_token_row("АСКУЭ e2e")).to_contain_text("не использовался")

    contracts = client.call(server.url, token)
    assert [c["id"] for c in contracts] == [15303]
    meters = [m for m in client.call(server.url, token, path="/api/v1/contracts/15303/meters")
              if m["kind"] == "cold"][1:4]
    period = client.call(server.url, token,
                         path="/api/v1/contracts/15303/windows")["period"]
    today = date.today().isoformat()
    csv_file = tmp_path / "readings.csv"
    csv_file.write_text("meter_id;value;date\n" + "".join(
        f"{m['id']};{int(m['previous']['value']) + 3};{today}\n" for m in meters))
    body = {"period": period, "transmit": True, "items": client.read_items(str(csv_file))}
    wire = client.json.loads(client.json.dumps(body, default=str))
    answer = client.call(server.url, token, "POST", "/api/v1/readings", wire, key="e2e-1")
    assert [i["status"] for i in answer["items"]] == ["transmitted"] * 3, answer
    assert len(answer["receipts"]) == 1

    grid = GridPage(page, server.url).goto("cold")
    codes = {m["id"] for m in meters}
    ids = {r["id"] for r in sql("SELECT id FROM meter WHERE billing_id = ANY($1::int[])",
                                list(codes))}
    for meter_id in ids:  # green: transmitted, as if sent from the grid
        expect(grid.row(meter_id)).to_have_class(re.compile(r"\brow-ok\b"))

    profile.goto()
    expect(profile.api_token_row("АСКУЭ e2e")).not_to_contain_text("не использовался")
    assert profile.revoke_api_token("АСКУЭ e2e").status == 200
    expect(profile.api_card).to_contain_text("Токен отозван")
    with pytest.raises(client.ApiError) as refused:
        client.call(server.url, token)
    assert refused.value.status == 401
