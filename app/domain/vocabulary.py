"""The domain's vocabulary: one enum per concept, the only spelling of a status or a kind.

`app/tables.py` nests these very classes in the tables (`Reading.Status is ReadingStatus`, used
as the columns' `choices=`), queries pass their values as parameters, and the rules compare
against them; no status or kind is typed out as a string anywhere else in Python.
"""

from enum import Enum


class Term(str, Enum):
    """A stored value: compares, hashes, prints and formats as its plain string."""

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


# Functional form: the tables nest these enums and the migrations record them by the nested
# names (Status, Source, Kind, State, Role), so those names must stay.
ReadingStatus = Term("Status", [(v, v) for v in ("draft", "transmitted", "accepted", "rejected")])
ReadingSource = Term("Source", [(v, v) for v in ("billing", "portal")])
MeterKind = Term("Kind", [(v, v) for v in ("cold", "hot")])
BatchState = Term("State", [(v, v) for v in ("prepared", "written", "applied")])
UserRole = Term("Role", [(v, v) for v in ("subscriber", "operator")])
# What a mail is about; each kind but `new_user` has its notify_<kind> switch on the user
# (MAIL_FLAGS in app/domain/notifications.py).
MailKind = Term("Kind", [(v, v) for v in ("window_open", "last_day", "results", "verification",
                                         "receipt", "new_user")])
# A billing directory upload on «Загрузка данных биллинга»: queued → running → done | failed.
ImportState = Term("State", [(v, v) for v in ("queued", "running", "done", "failed")])
# Through which door a reading change came (reading_audit.channel): the grid, a spreadsheet
# upload into the grid, the JSON API, billing's answer or its directory import.
AuditChannel = Term("Channel", [(v, v) for v in ("grid", "upload", "api", "billing")])
# What an API token may do (SPEC §8): read, or submit readings (submit includes read).
ApiScope = Term("Scope", [(v, v) for v in ("read", "submit")])
