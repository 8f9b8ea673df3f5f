"""Billing-side acceptance of handed-over readings."""

import json
from datetime import date
from decimal import Decimal

import pytest

from app.domain.billing_checks import (
    BillingMeterState,
    HandedOver,
    RejectReason,
    judge,
    judge_batch,
)

OCT = date(2018, 10, 1)
NOV = date(2018, 11, 1)


def item(value, read_on=date(2018, 10, 8), kind="cold", rollover=False, rid=1, meter=7,
         period=OCT) -> HandedOver:
    return HandedOver(rid, meter, kind, period, Decimal(value), read_on, rollover)


ACTIVE = BillingMeterState(active=True, digits=5, last_value=Decimal(231),
                    last_read_on=date(2018, 9, 4), last_period=date(2018, 9, 1))


@pytest.mark.parametrize(
    ("handed", "meter", "accepted", "reason_part"),
    [
        (item(240), ACTIVE, True, None),
        (item(231), ACTIVE, True, None),  # no consumption is fine
        (item(240), BillingMeterState(active=True, digits=5), True, None),  # first reading ever
        (item(240), BillingMeterState(active=False, digits=5), False, "не числится действующим"),
        (item(200), ACTIVE, False, "меньше последнего принятого (231)"),
        (item(12, rollover=True), ACTIVE, True, None),
        (item("100000"), ACTIVE, False, "разрядности"),
        (item("240.5"), ACTIVE, False, "разрядности"),
        (item(240, read_on=date(2018, 9, 3)), ACTIVE, False, "раньше даты последнего"),
        (item(240, read_on=date(2018, 9, 4)), ACTIVE, True, None),  # same day is not before
        (item("1.250", kind="hot"), ACTIVE, True, None),  # volumes are not cumulative
        (item("-0.001", kind="hot"), ACTIVE, False, "отрицательным"),
        (item("0.000", kind="hot", read_on=date(2018, 9, 1)), ACTIVE, False, "раньше даты"),
    ],
)
def test_judge(handed, meter, accepted, reason_part):
    verdict = judge(handed, meter)
    assert verdict.accepted is accepted
    if reason_part is None:
        assert verdict.reason is None
    else:
        assert reason_part in verdict.reason.text


def test_rollover_reason_names_both_values():
    verdict = judge(item(200), ACTIVE)
    assert verdict.reason.text == (
        "Показание 200 меньше последнего принятого (231), переход через ноль не подтверждён"
    )
    assert (verdict.reason.code, dict(verdict.reason.params)) == (
        "below_last", {"value": "200", "last": "231"})


def test_batch_carries_an_accepted_item_to_the_next_period_of_the_same_meter():
    october = item(240, rid=1, period=OCT, read_on=date(2018, 10, 8))
    november = item(235, rid=2, period=NOV, read_on=date(2018, 11, 8))  # below October
    verdicts = judge_batch([november, october], {1: ACTIVE, 2: ACTIVE})
    assert verdicts[1].accepted
    assert not verdicts[2].accepted
    assert "(240)" in verdicts[2].reason.text


def test_batch_rejected_item_is_not_carried():
    october = item(100, rid=1, period=OCT)  # rejected: below 231
    november = item(235, rid=2, period=NOV, read_on=date(2018, 11, 8))
    verdicts = judge_batch([october, november], {1: ACTIVE, 2: ACTIVE})
    assert not verdicts[1].accepted
    assert verdicts[2].accepted


def test_batch_newer_database_state_wins_over_an_older_carried_item():
    october = item(240, rid=1, period=OCT)
    december_state = BillingMeterState(True, 5, Decimal(300), date(2018, 11, 8), NOV)
    december = item(290, rid=2, period=date(2018, 12, 1), read_on=date(2018, 12, 8))
    verdicts = judge_batch([october, december], {1: ACTIVE, 2: december_state})
    assert verdicts[1].accepted
    assert not verdicts[2].accepted and "(300)" in verdicts[2].reason.text


def test_other_meters_are_independent():
    a = item(240, rid=1, meter=7)
    b = item(100, rid=2, meter=8)
    verdicts = judge_batch([a, b], {1: ACTIVE, 2: BillingMeterState(True, 5, Decimal(50))})
    assert verdicts[1].accepted and verdicts[2].accepted


# ---------------------------------------------------------------- code → words, per language

@pytest.mark.parametrize(("code", "params", "text", "ru", "en"), [
    ("not_active", {}, None, "Прибор учёта не числится действующим в биллинге",
     "The meter is not registered as active in billing"),
    ("negative", {}, None, "Объём не может быть отрицательным", "The volume cannot be negative"),
    ("digits", {"digits": 5}, None,
     "Показание не соответствует разрядности прибора учёта (5)",
     "The reading does not fit the meter's number of digits (5)"),
    ("below_last", {"value": "1200", "last": "12310"}, None,
     "Показание 1\u00a0200 меньше последнего принятого (12\u00a0310), переход через ноль "
     "не подтверждён",
     "The reading 1,200 is less than the last accepted one (12,310); the rollover past zero "
     "was not confirmed"),
    ("date_before_last", {"read_on": "2026-11-01", "last_read_on": "2026-12-01"}, None,
     "Дата показания 01.11.2026 раньше даты последнего принятого показания (01.12.2026)",
     "The reading date 1 Nov 2026 is before the date of the last accepted reading "
     "(1 Dec 2026)"),
    ("rejected", {}, None, "Отклонено биллингом", "Rejected by billing"),
    # a real billing's own words: shown as they came, in either language
    (None, {}, "Лицевой счёт закрыт", "Лицевой счёт закрыт", "Лицевой счёт закрыт"),
    ("acct_closed", {"x": 1}, "Лицевой счёт закрыт", "Лицевой счёт закрыт", "Лицевой счёт закрыт"),
    # a known code whose parameters do not fit falls back to the stored text
    ("digits", {}, "Разрядность!", "Разрядность!", "Разрядность!"),
    ("below_last", {"value": "abc", "last": "1"}, "Старый текст", "Старый текст", "Старый текст"),
    # an unknown code with no text at all still says something
    ("acct_closed", {}, None, "Отклонено биллингом", "Rejected by billing"),
])
def test_reason_text_per_language(code, params, text, ru, en):
    from app import i18n

    reason = RejectReason.of(code, json.dumps(params), text)
    for locale, expected in (("ru", ru), ("en", en)):
        token = i18n.current_locale.set(locale)
        try:
            assert i18n.format_reason(reason) == expected
        finally:
            i18n.current_locale.reset(token)


def test_no_reason_is_none():
    assert RejectReason.of(None, None, None) is None
    assert RejectReason.of(None, "{}", "") is None


@pytest.mark.parametrize(("handed", "meter", "code", "params"), [
    (item(240), BillingMeterState(active=False, digits=5), "not_active", {}),
    (item("-0.001", kind="hot"), ACTIVE, "negative", {}),
    (item("100000"), ACTIVE, "digits", {"digits": 5}),
    (item(200), ACTIVE, "below_last", {"value": "200", "last": "231"}),
    (item(240, read_on=date(2018, 9, 3)), ACTIVE, "date_before_last",
     {"read_on": "2018-09-03", "last_read_on": "2018-09-04"}),
])
def test_judge_answers_codes_with_json_params(handed, meter, code, params):
    reason = judge(handed, meter).reason
    assert reason.code == code
    assert json.loads(reason.json_params) == params
    # the stored text is the Russian message: what an operator reads and the fallback
    assert RejectReason(None, {}, reason.text).text_in(str, str, str) == reason.text
