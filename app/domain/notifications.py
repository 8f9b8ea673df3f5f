"""Which mail goes to whom and when (SPEC §9): the event selection rules, pure.

The cron (app/worker.py `queue_reminders`) hands the stored windows and meters of today to
these rules; the queries (app/queries/mails.py) write one outbox row per event key, so each
event reaches each user at most once. Billing's answers, receipts and new users are decided
where they happen (the refresh, the transmit, the connection request).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from app.domain import N_
from app.domain.vocabulary import MailKind, MeterKind, ReadingStatus

# The user's switch («Уведомления» on «Профиль») of each kind. `new_user` has none: it is a
# security notice (someone gained access to the contract's data) and always goes out.
MAIL_FLAGS: dict[str, str] = {
    MailKind.window_open: "notify_window_open",
    MailKind.last_day: "notify_last_day",
    MailKind.results: "notify_results",
    MailKind.verification: "notify_verification",
    MailKind.receipt: "notify_receipt",
}
# The switches as «Профиль» → «Уведомления» names them (also the unsubscribe page's words).
MAIL_KIND_TITLES: dict[str, str] = {
    MailKind.window_open: N_("Напоминать об открытии окна передачи"),
    MailKind.last_day: N_("Напоминать в последний день срока, если показания не переданы"),
    MailKind.results: N_("Сообщать о результате обработки показаний"),
    MailKind.verification: N_("Предупреждать о сроке поверки прибора учёта (за 30 дней)"),
    MailKind.receipt: N_("Присылать квитанцию о передаче"),
}
# What is transmitted for a meter kind, as mails and receipts name it.
METER_KIND_NAMES: dict[str, str] = {
    MeterKind.cold: N_("показания ХВС"),
    MeterKind.hot: N_("объёмы по стокам ГВС"),
}
VERIFICATION_NOTICE_DAYS = 30
# A meter "has something transmitted" for a period when one of its readings of that period
# is transmitted or accepted; a draft or a rejected reading is not.
TRANSMITTED_STATUSES = (ReadingStatus.transmitted, ReadingStatus.accepted)


@dataclass(frozen=True)
class WindowToday:
    """A stored submission window as the cron sees it today."""

    contract_id: int
    kind: str
    period: date
    opens: date
    closes: date
    meters: int  # active meters of this kind on the contract
    missing: int  # of them, with nothing transmitted for the period


def nothing_transmitted(statuses: Iterable[str | None]) -> bool:
    """A meter's readings of one period leave it without a transmitted value."""
    return not any(s in TRANSMITTED_STATUSES for s in statuses)


def window_mails(today: date, window: WindowToday) -> list[str]:
    """The mail kinds a window calls for today.

    - window_open: on its first day; a cron that missed that day (worker down) catches up
      while the window is open and before its last day, which has its own mail;
    - last_day: on the window's last day (`closes`, already moved to the first working day
      by the production calendar, R1) while some active meter has nothing transmitted.
    A contract with no active meter of the kind gets neither.
    """
    if window.meters == 0 or not window.opens <= today <= window.closes:
        return []
    kinds = []
    if today < window.closes:
        kinds.append(MailKind.window_open)
    if today == window.closes and window.missing > 0:
        kinds.append(MailKind.last_day)
    return kinds


def verification_due_soon(today: date, due: date | None) -> bool:
    """Planned verification within the next 30 days (today included); past dates are the
    grid's flag, not a mail."""
    return due is not None and today <= due <= today + timedelta(days=VERIFICATION_NOTICE_DAYS)


def verification_overdue(today: date, due: date | None) -> bool:
    """The planned verification date has passed: the grid flags the row (R2), home lists it."""
    return due is not None and due < today


def wants(flags: Mapping[str, bool], kind: str) -> bool:
    """Does a user with these notify_* flags get mails of this kind?"""
    flag = MAIL_FLAGS.get(kind)
    return True if flag is None else bool(flags.get(flag, True))


def event_key(kind: str, *parts: object) -> str:
    """The outbox key: one mail per key, ever (dates as ISO, ids as numbers)."""
    return ":".join([str(kind), *(p.isoformat() if isinstance(p, date) else str(p)
                                  for p in parts)])
