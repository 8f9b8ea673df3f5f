"""Billing-side acceptance of handed-over readings."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.billing_checks import (
    BillingMeterState,
    HandedOver,
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
        assert reason_part in verdict.reason


def test_rollover_reason_names_both_values():
    verdict = judge(item(200), ACTIVE)
    assert verdict.reason == (
        "Показание 200 меньше последнего принятого (231), переход через ноль не подтверждён"
    )


def test_batch_carries_an_accepted_item_to_the_next_period_of_the_same_meter():
    october = item(240, rid=1, period=OCT, read_on=date(2018, 10, 8))
    november = item(235, rid=2, period=NOV, read_on=date(2018, 11, 8))  # below October
    verdicts = judge_batch([november, october], {1: ACTIVE, 2: ACTIVE})
    assert verdicts[1].accepted
    assert not verdicts[2].accepted
    assert "(240)" in verdicts[2].reason


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
    assert not verdicts[2].accepted and "(300)" in verdicts[2].reason


def test_other_meters_are_independent():
    a = item(240, rid=1, meter=7)
    b = item(100, rid=2, meter=8)
    verdicts = judge_batch([a, b], {1: ACTIVE, 2: BillingMeterState(True, 5, Decimal(50))})
    assert verdicts[1].accepted and verdicts[2].accepted
