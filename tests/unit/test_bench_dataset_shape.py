"""The bench dataset's shape rules (bench/data.py): skew, totals, valid INNs."""

from __future__ import annotations

import random

import pytest
from stdnum.ru import inn as stdnum_inn

from bench.data import (
    GRID_METERS,
    bench_database_name,
    build_dataset,
    company_inn,
    contract_sizes,
    history_records,
    personal_inn,
)


@pytest.mark.parametrize(
    ("n_contracts", "n_meters"), [(10_000, 40_000), (1_000, 4_000), (100_000, 400_000)])
def test_contract_sizes_hit_the_totals_and_are_skewed(n_contracts, n_meters):
    sizes = contract_sizes(n_contracts, n_meters, random.Random(1))
    assert len(sizes) == n_contracts
    assert sum(sizes) == n_meters
    assert sizes[0] == GRID_METERS
    assert sum(1 for s in sizes if s <= 5) / n_contracts > 0.9  # most are small
    assert 100 <= max(sizes[1:]) <= 500  # a few are very large
    assert min(sizes) >= 1


def test_tiny_scale_keeps_the_grid_contract_and_at_least_one_meter_each():
    sizes = contract_sizes(10, 40, random.Random(1))
    assert sizes[0] == GRID_METERS and len(sizes) == 10 and min(sizes) == 1


@pytest.mark.parametrize("n", [1, 1234567, 9999999])
def test_generated_inns_are_valid(n):
    assert stdnum_inn.is_valid(company_inn(n)) and len(company_inn(n)) == 10
    assert stdnum_inn.is_valid(personal_inn(n)) and len(personal_inn(n)) == 12


def test_history_is_24_months_per_meter_and_cold_values_never_roll_over():
    ds = build_dataset(0.01)
    rows = list(history_records(ds))
    assert len(rows) == 24 * len(ds.meters)
    kinds = {m[0]: m[8] for m in ds.meters}
    last: dict[int, object] = {}
    for row in rows:
        meter, value = row[1], row[3]
        if kinds[meter] == "cold" and meter in last:
            assert value >= last[meter]
        last[meter] = value
    assert len({(r[1], r[2]) for r in rows}) == len(rows)


@pytest.mark.parametrize(("scale", "name"), [
    (1, "water_portal_bench_1"), (0.1, "water_portal_bench_0_1"), (10, "water_portal_bench_10")])
def test_bench_database_name_is_never_the_dev_database(scale, name):
    assert bench_database_name(scale) == name
