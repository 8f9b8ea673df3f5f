"""Billing's reject reasons become codes with parameters (issue 19): the rows billing rejected
before keep their text, and those whose text is one of the built-in checks' Russian messages
(app/domain/billing_checks.py as it was) get its code and parameters, so they are shown in the
reader's language. Any other text (a real billing's own words) stays text only."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T18:40:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "reject reasons of earlier rows parsed into reject_code + reject_params"

_DMY = r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})"
_ISO = "m[{y}] || '-' || m[{mo}] || '-' || m[{d}]"

# (code, regular expression of the old text, params as a jsonb expression of its groups m)
PATTERNS = [
    ("not_active", r"^Прибор учёта не числится действующим в биллинге$", "'{}'::jsonb"),
    ("negative", r"^Объём не может быть отрицательным$", "'{}'::jsonb"),
    ("digits", r"^Показание не соответствует разрядности прибора учёта \(([0-9]+)\)$",
     "jsonb_build_object('digits', m[1]::int)"),
    ("below_last",
     r"^Показание ([0-9]+) меньше последнего принятого \(([0-9]+)\), "
     r"переход через ноль не подтверждён$",
     "jsonb_build_object('value', m[1], 'last', m[2])"),
    ("date_before_last",
     rf"^Дата показания {_DMY} раньше даты последнего принятого показания \({_DMY}\)$",
     f"jsonb_build_object('read_on', {_ISO.format(y=3, mo=2, d=1)}, "
     f"'last_read_on', {_ISO.format(y=6, mo=5, d=4)})"),
    ("rejected", r"^Отклонено биллингом$", "'{}'::jsonb"),
]


def statements() -> list[str]:
    return [
        f"""UPDATE reading r SET reject_code = '{code}', reject_params = {params}
            FROM (SELECT id, regexp_match(reject_reason, $re${pattern}$re$) AS m FROM reading
                  WHERE reject_code IS NULL AND reject_reason ~ $re${pattern}$re$) p
            WHERE r.id = p.id"""
        for code, pattern, params in PATTERNS
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from app.piccolo_conf import DB

        for statement in statements():
            await DB.run_ddl(statement)

    manager.add_raw(run)
    return manager
