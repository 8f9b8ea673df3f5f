"""«Результат обработки переданных показаний» words billing's reason in the recipient's
language (issue 19): the outbox payload keeps the code and params; an older payload (text
only) still reads."""

from __future__ import annotations

import pytest

from app.notify import render

LINE = {"contract": 15303, "serial": "13 300001", "kind": "cold", "address": "ул. Ленина",
        "period": "2026-11-01", "value": "200", "read_on": "2026-11-25", "status": "rejected",
        "reason": "Показание 200 меньше последнего принятого (12310), переход через ноль "
                  "не подтверждён",
        "reason_code": "below_last", "reason_params": '{"value": "200", "last": "12310"}'}
OLD = {**LINE, "reason": "Прибор снят с учёта"}
del OLD["reason_code"], OLD["reason_params"]


@pytest.mark.parametrize(("locale", "expected"), [
    ("ru", "Показание 200 меньше последнего принятого (12\u00a0310), переход через ноль "
           "не подтверждён"),
    ("en", "The reading 200 is less than the last accepted one (12,310); the rollover past "
           "zero was not confirmed"),
])
def test_results_mail_words_the_reason_in_the_recipients_language(locale, expected):
    _subject, text, html = render("results", {"batch": "b1", "lines": [LINE, OLD]}, 1, locale)
    assert expected in text
    assert "Прибор снят с учёта" in text  # billing's own words, as they came
    assert expected.replace("'", "&#39;") in html
