"""All database tables. Billing-owned data is keyed by billing ids; readings are never deleted.

The nested enums (`Reading.Status`, `Meter.Kind`, ...) are the domain's vocabulary
(app/domain/vocabulary.py), so rules, queries and columns spell every value the same way.

Constraints that Piccolo cannot express (composite and partial unique indexes, CHECKs) are
added by the raw-SQL migration `migrations/portal_2_constraints.py`.
"""

from piccolo.columns import (
    JSONB,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.domain.vocabulary import (
    ApiScope,
    AuditChannel,
    BatchState,
    ImportState,
    MailKind,
    MeterKind,
    ReadingSource,
    ReadingStatus,
    UserRole,
)


class Counterparty(Table):
    billing_id = Integer(unique=True, help_text="Counterparty id in billing")
    name = Varchar(length=500)
    inn = Varchar(
        length=12, index=True, help_text="10 digits (organization) or 12 (sole proprietor)"
    )


class Contract(Table):
    billing_id = Integer(unique=True, help_text="Contract id in billing, shown to users as «№»")
    number = Varchar(length=100, help_text="Contract number as printed on the contract")
    number_norm = Varchar(
        length=100, index=True, help_text="Trimmed, casefolded number for lookups"
    )
    counterparty = ForeignKey(Counterparty, on_delete=OnDelete.restrict, index=True)
    signed_on = Date(null=True, default=None)
    deadline_day = SmallInt(help_text="Day of month readings are due (1–31)")
    discharge_deadline_day = SmallInt(help_text="Day of month hot-water volumes are due (1–31)")


class ConnectionPoint(Table):
    billing_id = Integer(unique=True)
    contract = ForeignKey(Contract, on_delete=OnDelete.restrict, index=True)
    address = Varchar(length=500)


class Meter(Table):
    Kind = MeterKind

    billing_id = Integer(unique=True)
    point = ForeignKey(ConnectionPoint, on_delete=OnDelete.restrict, index=True)
    serial = Varchar(length=100, help_text="Serial number, e.g. «13 300963»")
    model = Varchar(length=200, help_text="Model, e.g. «VLF-R-1.5»")
    address = Varchar(length=500, help_text="Installation address")
    verification_due = Date(null=True, default=None, help_text="Planned verification date")
    digits = SmallInt(default=5, help_text="Black digits on the dial")
    kind = Varchar(length=4, choices=Kind, default=Kind.cold)
    active = Boolean(default=True)


class User(Table, tablename="portal_user"):
    Role = UserRole

    email = Varchar(length=254, unique=True, help_text="Login, stored lower-cased")
    password_hash = Varchar(length=200)
    full_name = Varchar(length=200)
    phone = Varchar(length=50)
    position = Varchar(length=200)
    organization = Varchar(length=500)
    role = Varchar(length=12, choices=Role, default=Role.subscriber)
    locale = Varchar(length=5, default="ru")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # «Уведомления» on «Профиль» (SPEC §9): which mails the user wants; all on by default.
    notify_window_open = Boolean(default=True)
    notify_last_day = Boolean(default=True)
    notify_results = Boolean(default=True)
    notify_verification = Boolean(default=True)
    notify_receipt = Boolean(default=True)
    # Bumped to end every session of the user (password change, «Выйти на всех устройствах»):
    # a session remembers the generation it was created with; an older one is anonymous.
    session_generation = Integer(default=0)
    last_login_at = Timestamptz(null=True, default=None, help_text="Last successful login")


class BillingBatch(Table):
    """One hand-off of transmitted readings to billing (one outbox file)."""

    State = BatchState

    uid = Varchar(length=64, unique=True)
    state = Varchar(length=10, choices=State, default=State.prepared)
    item_count = Integer(default=0)
    accepted_count = Integer(default=0)
    rejected_count = Integer(default=0)
    file_name = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    applied_at = Timestamptz(null=True, default=None)


class Reading(Table):
    """A cold-water reading (whole m³) or, on a hot meter, a discharge volume (m³, 3 decimals)."""

    Status = ReadingStatus
    Source = ReadingSource

    meter = ForeignKey(Meter, on_delete=OnDelete.restrict)
    period = Date(help_text="Reporting period: first day of the month")
    value = Numeric(digits=(15, 3))
    read_on = Date()
    status = Varchar(length=12, choices=Status, default=Status.draft)
    source = Varchar(length=8, choices=Source, default=Source.portal)
    rollover_confirmed = Boolean(default=False)
    anomaly_confirmed = Boolean(default=False)
    reject_reason = Text(null=True, default=None,
                         help_text="Billing's reason as text: its own words, or the Russian "
                                   "text of reject_code (shown when the code is unknown)")
    reject_code = Varchar(length=40, null=True, default=None,
                          help_text="Billing's reason code (app.domain.billing_checks)")
    reject_params = JSONB(null=True, default=None, help_text="The reason's parameters")
    batch = ForeignKey(BillingBatch, on_delete=OnDelete.restrict, null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    transmitted_at = Timestamptz(null=True, default=None)
    processed_at = Timestamptz(null=True, default=None)


class ReadingAudit(Table):
    """Every change of a reading: who, when, old → new."""

    reading = ForeignKey(Reading, on_delete=OnDelete.restrict, index=True)
    changed_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    changed_at = Timestamptz(default=TimestamptzNow())
    action = Varchar(length=20)
    old_value = Numeric(digits=(15, 3), null=True, default=None)
    new_value = Numeric(digits=(15, 3), null=True, default=None)
    old_read_on = Date(null=True, default=None)
    new_read_on = Date(null=True, default=None)
    old_status = Varchar(length=12, null=True, default=None)
    new_status = Varchar(length=12, null=True, default=None)
    note = Text(null=True, default=None)
    channel = Varchar(length=8, choices=AuditChannel, null=True, default=None,
                      help_text="grid, upload, api or billing; null for rows before it existed")


class ContractLink(Table):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    contract = ForeignKey(Contract, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ConnectionRequest(Table):
    """Log of every connection attempt (R5)."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    inn = Varchar(length=40)
    number = Varchar(length=200)
    outcome = Varchar(length=20)
    contract = ForeignKey(Contract, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # A throttled row stands for every refused attempt of its window (issue 18, F10).
    attempts = Integer(default=1, help_text="Attempts this row counts (throttled: the window's)")


class AuditEvent(Table):
    """Account-level audit: contract linked/unlinked, password changed, ..."""

    user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    action = Varchar(length=40)
    details = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class CalendarOverride(Table):
    day = Date(unique=True)
    is_working = Boolean()
    note = Varchar(length=200, default="")


class SubmissionWindow(Table):
    """Stored window per contract, kind and period, computed by the daily deadline job."""

    contract = ForeignKey(Contract, on_delete=OnDelete.cascade)
    kind = Varchar(length=4, choices=Meter.Kind)
    period = Date()
    deadline_day = SmallInt()
    opens = Date()
    closes = Date()
    computed_at = Timestamptz(default=TimestamptzNow())


class PasswordReset(Table):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class EmailChange(Table):
    """A pending «Сменить адрес электронной почты»: the link mailed to the new address."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    new_email = Varchar(length=254)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CalendarToken(Table):
    """The user's secret «Календарь сроков» link; only its SHA-256 is stored."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class ApiToken(Table):
    """A token of «Доступ для учётных систем (API)» (SPEC §8): it acts for its user; only its
    SHA-256 is stored. `scope` is read or submit (submit includes read)."""

    Scope = ApiScope

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    scope = Varchar(length=6, choices=Scope)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ApiIdempotency(Table):
    """The first answer to a POST with an `Idempotency-Key` (SPEC §8), kept 24 hours: written
    in the same transaction as the readings it answers, unique per user and key."""

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    key = Varchar(length=200)
    request_hash = Varchar(length=64, help_text="SHA-256 of the method, path and parsed body")
    status_code = SmallInt()
    response = Text(help_text="The JSON body answered the first time")
    created_at = Timestamptz(default=TimestamptzNow())


class MailOutbox(Table):
    """Every mail the portal decided to send, once: `key` names the event (kind + what +
    whom), inserted ON CONFLICT DO NOTHING in the transaction that decides the event. The
    sender renders it on its first attempt (subject/body kept for the retries) and stamps
    sent_at; attempts/last_error/next_attempt_at carry the retries while SMTP is down."""

    Kind = MailKind

    key = Text(unique=True, help_text="Event key, e.g. window_open:12:cold:2026-11-01:7")
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16, choices=Kind)
    payload = JSONB(default={}, help_text="What the templates need to render the mail")
    subject = Text(null=True, default=None)
    body_text = Text(null=True, default=None)
    body_html = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)


class Receipt(Table):
    """«Квитанция о передаче № …»: one per transmit that changed something; `number` comes
    from the sequence receipt_number_seq (portal-wide, never reused)."""

    number = BigInt(unique=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    contract = ForeignKey(Contract, on_delete=OnDelete.restrict)
    kind = Varchar(length=4, choices=Meter.Kind)
    period = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class ReceiptLine(Table):
    """What was transmitted, as it was: the reading's status now is read through `reading`."""

    receipt = ForeignKey(Receipt, on_delete=OnDelete.cascade, index=True)
    reading = ForeignKey(Reading, on_delete=OnDelete.restrict)
    meter = ForeignKey(Meter, on_delete=OnDelete.restrict)
    value = Numeric(digits=(15, 3))
    read_on = Date()


class BillingImport(Table):
    """One upload on «Загрузка данных биллинга» and its ARQ job: who, when, state, progress,
    counts and errors. At most one is queued or running (partial unique index
    billing_import_one_active)."""

    State = ImportState

    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow(), help_text="Last progress (heartbeat)")
    state = Varchar(length=8, choices=State, default=State.queued)
    files = JSONB(default=[], help_text="Names and sizes of the uploaded files")
    progress = SmallInt(default=0, help_text="0–100")
    step = Varchar(length=40, default="", help_text="What the job is doing now")
    inserted = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    counts = JSONB(default={}, help_text="Per file: inserted, updated, unchanged")
    error_count = Integer(default=0)
    errors = JSONB(default=[], help_text="`file:line: reason`, the first 1 000")


class BillingImportFile(Table):
    """The uploaded bytes of one file of an import, read by the worker, deleted when done."""

    billing_import = ForeignKey(BillingImport, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=40)
    content = Bytea()
