"""Which mail goes to whom on which day (SPEC §9): the event selection rules as tables."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.calendar import WorkingCalendar, submission_window
from app.domain.notifications import (
    MAIL_FLAGS,
    WindowToday,
    event_key,
    nothing_transmitted,
    verification_due_soon,
    wants,
    window_mails,
)
from app.domain.unsubscribe import make_token, read_token
from app.domain.vocabulary import MailKind

OPEN, LAST = MailKind.window_open, MailKind.last_day
NOV = date(2026, 11, 1)


def window(deadline_day: int, period: date = NOV, meters: int = 3, missing: int = 3,
           overrides: dict | None = None) -> WindowToday:
    opens, closes = submission_window(period, deadline_day, WorkingCalendar(overrides or {}))
    return WindowToday(1, "cold", period, opens, closes, meters, missing)


@pytest.mark.parametrize(("deadline_day", "today", "expected"), [
    # d = 25, Wed 25.11.2026: window 23.11 (Mon) – 25.11 (Wed)
    (25, date(2026, 11, 22), []),              # the day before it opens
    (25, date(2026, 11, 23), [OPEN]),          # first day
    (25, date(2026, 11, 24), [OPEN]),          # a missed first day caught up (same key)
    (25, date(2026, 11, 25), [LAST]),          # last day, nothing transmitted
    (25, date(2026, 11, 26), []),              # closed
    # d = 7, Sat 07.11.2026: D' is Mon 09.11, so the window is 05.11 – 09.11
    (7, date(2026, 11, 5), [OPEN]),
    (7, date(2026, 11, 7), [OPEN]),            # the deadline day itself is not the last day
    (7, date(2026, 11, 8), [OPEN]),
    (7, date(2026, 11, 9), [LAST]),            # the first working day after D
    # d = 4, Wed 04.11.2026 is a holiday (Day of National Unity): last day Thu 05.11
    (4, date(2026, 11, 4), [OPEN]),
    (4, date(2026, 11, 5), [LAST]),
    # d = 31 in November is clamped to 30.11 (Mon): window 28.11 – 30.11
    (31, date(2026, 11, 28), [OPEN]),
    (31, date(2026, 11, 30), [LAST]),
])
def test_window_mails_by_day_and_working_days(deadline_day, today, expected):
    assert window_mails(today, window(deadline_day)) == expected


def test_an_override_moves_the_last_day():
    # The operator declares Wed 25.11.2026 a day off: the last day becomes Thu 26.11.
    moved = window(25, overrides={date(2026, 11, 25): False})
    assert moved.closes == date(2026, 11, 26)
    assert window_mails(date(2026, 11, 25), moved) == [OPEN]
    assert window_mails(date(2026, 11, 26), moved) == [LAST]


@pytest.mark.parametrize(("meters", "missing", "on_last_day", "on_first_day"), [
    (3, 3, [LAST], [OPEN]),   # nothing transmitted
    (3, 1, [LAST], [OPEN]),   # some meter still without a transmitted value
    (3, 0, [], [OPEN]),       # everything transmitted: no last-day reminder
    (0, 0, [], []),           # no active meter of this kind: no mail at all
])
def test_last_day_only_while_some_meter_has_nothing_transmitted(meters, missing, on_last_day,
                                                               on_first_day):
    w = window(25, meters=meters, missing=missing)
    assert window_mails(date(2026, 11, 25), w) == on_last_day
    assert window_mails(date(2026, 11, 23), w) == on_first_day


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], True),
    ([None], True),
    (["draft"], True),                  # saved but not transmitted
    (["rejected"], True),               # billing refused it: a new value is due
    (["rejected", "draft"], True),
    (["transmitted"], False),
    (["accepted"], False),
    (["rejected", "transmitted"], False),
])
def test_nothing_transmitted(statuses, expected):
    assert nothing_transmitted(statuses) is expected


@pytest.mark.parametrize(("due", "expected"), [
    (None, False),
    (date(2026, 11, 24), False),   # already past: the grid flags it, no mail
    (date(2026, 11, 25), True),    # today
    (date(2026, 12, 25), True),    # the 30th day
    (date(2026, 12, 26), False),   # the 31st day
])
def test_verification_within_30_days(due, expected):
    assert verification_due_soon(date(2026, 11, 25), due) is expected


@pytest.mark.parametrize("kind", list(MAIL_FLAGS))
def test_each_kind_respects_its_own_flag(kind):
    all_on = {flag: True for flag in MAIL_FLAGS.values()}
    assert wants(all_on, kind)
    assert not wants({**all_on, MAIL_FLAGS[kind]: False}, kind)
    others = [k for k in MAIL_FLAGS if k != kind]
    assert all(wants({**all_on, MAIL_FLAGS[kind]: False}, k) for k in others)


def test_new_user_notice_has_no_switch():
    assert wants({flag: False for flag in MAIL_FLAGS.values()}, MailKind.new_user)


def test_event_keys_name_the_event_and_the_user():
    assert event_key(OPEN, 12, "cold", NOV, 7) == "window_open:12:cold:2026-11-01:7"
    assert event_key(OPEN, 12, "cold", NOV, 7) != event_key(OPEN, 12, "cold", NOV, 8)
    assert event_key(OPEN, 12, "cold", NOV, 7) != event_key(LAST, 12, "cold", NOV, 7)


def test_unsubscribe_token_round_trip_and_forgeries():
    token = make_token("secret", 7, "receipt")
    assert read_token("secret", token) == (7, "receipt")
    user, kind, signature = token.split(".")
    assert read_token("other-secret", token) is None            # another key
    assert read_token("secret", f"8.{kind}.{signature}") is None  # another user
    assert read_token("secret", f"{user}.results.{signature}") is None  # another kind
    assert read_token("secret", f"{user}.{kind}.{signature[:-1]}x") is None
    for junk in ("", "7", "7.receipt", "x.receipt.abc", "7.new_user.abc", "7.receipt.абв",
                 "99999999999.receipt.abc", "1.2.3.4"):
        assert read_token("secret", junk) is None
