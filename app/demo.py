"""`demo-data`: a small, realistic Izhevsk dataset loaded through the billing import path."""

from __future__ import annotations

import asyncio
import csv
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stdnum.ru import inn as stdnum_inn

from app.billing.directory import ImportReport, import_billing
from app.domain.calendar import add_months, month_start, period_value
from app.domain.vocabulary import MeterKind, UserRole
from app.queries import demo as q
from app.security import hash_password
from app.settings import today

DEMO_SUBSCRIBER = ("demo@izhvodokanal.example", "demopass2026")
DEMO_OPERATOR = ("operator@izhvodokanal.example", "operpass2026")

STREETS = [
    "ул. Ленина", "ул. Пушкинская", "ул. Карла Маркса", "ул. Удмуртская", "ул. Горького",
    "ул. Кирова", "ул. Холмогорова", "ул. 10 лет Октября", "ул. Ворошилова", "ул. Воткинское шоссе",
]
MODELS = ["VLF-R-1.5", "ВСХ-15", "СГВ-15", "ВСКМ 90-20", "ЭКО НОМ-20", "ВМХ-50"]


def company_inn(seed: int) -> str:
    base = f"18{seed:07d}"[:9]  # 18 — Udmurtia
    return base + stdnum_inn.calc_company_check_digit(base)


def personal_inn(seed: int) -> str:
    base = f"18{seed:08d}"[:10]
    return base + stdnum_inn.calc_personal_check_digits(base)


def demo_counterparties(day: int) -> list[dict]:
    """Counterparties with their contracts: (billing id, number, deadline, cold, hot meters)."""
    return [
        {"id": 501, "name": "ООО «Ромашка»", "inn": company_inn(1234567),
         "contracts": [(15303, "Д-15303/2018", day, 12, 2), (15304, "Д-15304/2019", 25, 5, 1)]},
        {"id": 502, "name": "АО «Ижевский хлебозавод»", "inn": company_inn(2345678),
         "contracts": [(16010, "16010-ХВ", 10, 200, 4)]},
        {"id": 503, "name": "ИП Петров Сергей Иванович", "inn": personal_inn(34567890),
         "contracts": [(17001, "П-17001", 6, 3, 0)]},
        {"id": 504, "name": "МБОУ «СОШ № 25»", "inn": company_inn(4567891),
         "contracts": [(18020, "18020/ШК", 20, 20, 2)]},
    ]


def write_demo_billing(directory: Path, on: date) -> None:
    """Write the demo billing directory (deterministic for a given load day)."""
    rng = random.Random(15303)
    directory.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list]] = {name: [] for name in (
        "counterparties", "contracts", "points", "meters", "readings", "volumes")}
    current = month_start(on)
    point_id, meter_id = 70000, 49000
    for cp in demo_counterparties(on.day):
        rows["counterparties"].append([cp["id"], cp["name"], cp["inn"]])
        for contract_id, number, deadline, cold, hot in cp["contracts"]:
            signed = date(2018, 1, 15) + timedelta(days=contract_id % 300)
            rows["contracts"].append(
                [contract_id, number, cp["id"], signed.isoformat(), deadline, max(1, deadline - 2)
                 if contract_id != 15303 else deadline]
            )
            n_points = max(1, (cold + hot) // 8)
            points = []
            for p in range(n_points):
                point_id += 1
                street = STREETS[(contract_id + p) % len(STREETS)]
                address = f"г Ижевск, {street}, дом {10 + (contract_id + 7 * p) % 190}"
                rows["points"].append([point_id, contract_id, address])
                points.append((point_id, address))
            for m in range(cold + hot):
                meter_id += 1
                kind = MeterKind.cold if m < cold else MeterKind.hot
                pid, address = points[m % n_points]
                digits = 6 if m % 17 == 16 else 5
                due = date(2025, 1, 1) + timedelta(days=rng.randint(0, 1800))
                serial = f"{rng.randint(10, 99)} {rng.randint(100000, 999999)}"
                place = address + (f", кв/оф {m + 1}" if n_points < cold + hot else "")
                rows["meters"].append([meter_id, pid, serial, MODELS[m % len(MODELS)],
                                       place, due.isoformat(), digits, kind])
                value = rng.randint(0, 5000)
                if contract_id == 15303 and m == 0:
                    value = 99_700  # about to roll over: shows the rollover question
                mean = rng.choice([3, 5, 8, 12, 20, 40])
                for back in range(24, 0, -1):
                    period = add_months(current, -back)
                    read_on = period.replace(day=min(deadline, 28))
                    if kind == MeterKind.cold:
                        value = (value + max(0, int(rng.gauss(mean, mean / 4)))) % (10 ** digits)
                        rows["readings"].append(
                            [meter_id, period_value(period), value, read_on.isoformat()])
                    else:
                        volume = Decimal(rng.randint(500, 15000)) / 1000
                        rows["volumes"].append(
                            [meter_id, period_value(period), f"{volume:.3f}",
                             read_on.isoformat()])
    headers = {
        "counterparties": ["id", "name", "inn"],
        "contracts": ["id", "number", "counterparty_id", "signed_on", "deadline_day",
                      "discharge_deadline_day"],
        "points": ["id", "contract_id", "address"],
        "meters": ["id", "point_id", "serial", "model", "address", "verification_due", "digits",
                   "kind"],
        "readings": ["meter_id", "period", "value", "read_on"],
        "volumes": ["meter_id", "period", "volume", "read_on"],
    }
    for name, data in rows.items():
        with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=";")
            writer.writerow(headers[name])
            writer.writerows(data)


async def ensure_user(email: str, password: str, full_name: str, role: UserRole,
                      organization: str) -> int:
    existing = await q.user_id_by_email(email)
    if existing:
        return existing
    password_hash = await asyncio.to_thread(hash_password, password)
    position = "Главный энергетик" if role == UserRole.subscriber else "Оператор"
    return await q.add_demo_user(email, password_hash, full_name, position, organization, role)


async def load_demo_data(directory: Path) -> ImportReport:
    """Idempotent: re-running updates changed rows and adds nothing twice."""
    write_demo_billing(directory, today())
    report = await import_billing(directory)
    uid = await ensure_user(*DEMO_SUBSCRIBER, "Иванова Мария Петровна", UserRole.subscriber,
                            "ООО «Ромашка»")
    await ensure_user(*DEMO_OPERATOR, "Оператор Ижводоканала", UserRole.operator,
                      "МУП «Ижводоканал»")
    await q.link_contract(uid, 15303)
    return report
