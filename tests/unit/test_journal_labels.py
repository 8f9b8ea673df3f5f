"""Every action code the journal can show has a label in Russian and English (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import i18n
from app.controllers.operator_journal import ACTION_LABELS, action_labels

APP = Path(__file__).resolve().parents[2] / "app"
# record_audit(who, "code" …) and its `"a" if x else "b"` form; reading_audit's actions
AUDIT_CALL = re.compile(r'record_audit\(\s*[^,]+,\s*"(\w+)"(?:\s+if\s+\w+\s+else\s+"(\w+)")?')
READING_ACTIONS = {"save", "transmit", "correct", "billing_accepted", "billing_rejected",
                   "billing_released"}


def test_every_recorded_action_has_a_label():
    found = set(READING_ACTIONS)
    for path in APP.rglob("*.py"):
        for match in AUDIT_CALL.finditer(path.read_text(encoding="utf-8")):
            found.update(code for code in match.groups() if code)
    assert len(found) > 20
    assert found - set(ACTION_LABELS) == set()


@pytest.mark.parametrize(("code", "ru", "en"), [
    ("contract_linked", "Договор подключён", "Contract linked"),
    ("user_blocked", "Пользователь заблокирован", "User blocked"),
    ("billing_rejected", "Отклонено биллингом", "Rejected by billing"),
    ("correct", "Исправлено после передачи", "Corrected after transmission"),
    ("api_token_revoked", "Токен API отозван", "API token revoked"),
])
def test_action_label_per_language(code, ru, en):
    for locale, expected in (("ru", ru), ("en", en)):
        token = i18n.current_locale.set(locale)
        try:
            assert action_labels()[code] == expected
        finally:
            i18n.current_locale.reset(token)
