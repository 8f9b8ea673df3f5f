"""Billing directory CSV parsing and cross-file checks (SPEC §6)."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.billing_csv import FILES, check_references, parse_csv

VOLUME_REASON = "expected a non-negative volume with up to 3 decimals"


def test_files_spec():
    assert {name: [c.name for c in cols] for name, cols in FILES.items()} == {
        "counterparties.csv": ["id", "name", "inn"],
        "contracts.csv": [
            "id",
            "number",
            "counterparty_id",
            "signed_on",
            "deadline_day",
            "discharge_deadline_day",
        ],
        "points.csv": ["id", "contract_id", "address"],
        "meters.csv": [
            "id",
            "point_id",
            "serial",
            "model",
            "address",
            "verification_due",
            "digits",
            "kind",
        ],
        "readings.csv": ["meter_id", "period", "value", "read_on"],
        "volumes.csv": ["meter_id", "period", "volume", "read_on"],
    }


def test_good_file_with_semicolons_and_bom():
    text = (
        "\ufeffID; Name ;INN;comment\r\n"
        '1;ООО "Ромашка";7707083893;x\r\n'
        "\r\n"
        '2;"ИП Иванов; торговля";5001 0073 2259;\r\n'
        ";;;\r\n"
    )
    rows, errors = parse_csv("counterparties.csv", text)
    assert errors == []
    assert rows == [
        {"_line": 2, "id": 1, "name": 'ООО "Ромашка"', "inn": "7707083893"},
        {"_line": 4, "id": 2, "name": "ИП Иванов; торговля", "inn": "500100732259"},
    ]


def test_good_contracts_with_commas():
    text = (
        "id,number,counterparty_id,signed_on,deadline_day,discharge_deadline_day\n"
        "15303, ВК-12 ,1,2016-03-01,8,\n"
        "15304,ВК-13,1,2017-01-15,25,20\n"
    )
    rows, errors = parse_csv("contracts.csv", text)
    assert errors == []
    assert rows == [
        {
            "_line": 2,
            "id": 15303,
            "number": "ВК-12",
            "counterparty_id": 1,
            "signed_on": date(2016, 3, 1),
            "deadline_day": 8,
            "discharge_deadline_day": 8,
        },
        {
            "_line": 3,
            "id": 15304,
            "number": "ВК-13",
            "counterparty_id": 1,
            "signed_on": date(2017, 1, 15),
            "deadline_day": 25,
            "discharge_deadline_day": 20,
        },
    ]


def test_meters_defaults_and_optional_columns():
    text = (
        "id;point_id;serial;model;address;verification_due;digits;kind\n"
        "1;10;13 300963;VLF-R-1.5;ул. Ленина, 1;2024-05-01;;cold\n"
        "2;10;777;;;;6;HOT\n"
    )
    rows, errors = parse_csv("meters.csv", text)
    assert errors == []
    assert [(r["digits"], r["kind"], r["verification_due"]) for r in rows] == [
        (5, "cold", date(2024, 5, 1)),
        (6, "hot", None),
    ]
    # Columns with a default may be left out of the header altogether.
    rows, errors = parse_csv(
        "meters.csv", "id,point_id,serial,model,address,kind\n3,10,S,M,A,cold\n"
    )
    assert errors == []
    assert rows[0]["digits"] == 5 and rows[0]["verification_due"] is None


def test_readings_and_volumes():
    rows, errors = parse_csv(
        "readings.csv",
        "meter_id;period;value;read_on\n1;2018-09;231;2018-09-07\n1;2018-10;240,000;2018-10-08\n",
    )
    assert errors == []
    assert [(r["period"], r["value"]) for r in rows] == [
        (date(2018, 9, 1), 231),
        (date(2018, 10, 1), 240),
    ]
    rows, errors = parse_csv(
        "volumes.csv",
        'meter_id,period,volume,read_on\n2,2018-09,"12,5",2018-09-07\n2,2018-10,0.125,2018-10-08\n',
    )
    assert errors == []
    assert [r["volume"] for r in rows] == [Decimal("12.500"), Decimal("0.125")]


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        (
            "counterparties.csv",
            "id;name;inn\n1;A;7707083894\n0;B;7707083893\n\nx;;7736207543\n",
            [
                "counterparties.csv:2: inn: invalid INN '7707083894'"
                " (10 or 12 digits with valid check digits)",
                "counterparties.csv:3: id: expected a positive integer, got '0'",
                "counterparties.csv:5: id: expected a positive integer, got 'x'",
                "counterparties.csv:5: name: must not be empty",
            ],
        ),
        (
            "contracts.csv",
            "id,number,counterparty_id,signed_on,deadline_day,discharge_deadline_day\n"
            "1,N,1,01.03.2016,32,0\n"
            "2,N,1,2016-02-30,8,8\n",
            [
                "contracts.csv:2: signed_on: expected a date YYYY-MM-DD, got '01.03.2016'",
                "contracts.csv:2: deadline_day: expected an integer 1..31, got '32'",
                "contracts.csv:2: discharge_deadline_day: expected an integer 1..31, got '0'",
                "contracts.csv:3: signed_on: expected a date YYYY-MM-DD, got '2016-02-30'",
            ],
        ),
        (
            "meters.csv",
            "id,point_id,serial,model,address,verification_due,digits,kind\n"
            "1,1,S,M,A,,10,cold\n"
            "2,1,S,M,A,,0,warm\n"
            "3,1,S,M,A\n",
            [
                "meters.csv:2: digits: expected an integer 1..9, got '10'",
                "meters.csv:3: digits: expected an integer 1..9, got '0'",
                "meters.csv:3: kind: expected 'cold' or 'hot', got 'warm'",
                "meters.csv:4: expected 8 fields, got 5",
            ],
        ),
        (
            "readings.csv",
            "meter_id;period;value;read_on\n1;2018-13;12.5;2018-10-08\n1;2018-10;-1;2018-10-08\n",
            [
                "readings.csv:2: period: expected a period YYYY-MM, got '2018-13'",
                "readings.csv:2: value: expected a non-negative whole number of m³, got '12.5'",
                "readings.csv:3: value: expected a non-negative whole number of m³, got '-1'",
            ],
        ),
        (
            "volumes.csv",
            'meter_id,period,volume,read_on\n2,2018-10,1.2345,2018-10-08\n\n\n2,2018-11,"1e3",2018-11-08\n',
            [
                f"volumes.csv:2: volume: {VOLUME_REASON}, got '1.2345'",
                f"volumes.csv:5: volume: {VOLUME_REASON}, got '1e3'",
            ],
        ),
        (
            "points.csv",
            'id;contract_id;address\n1;1;"ул. Ленина,\n д. 1"\n2;1;\n',
            ["points.csv:4: address: must not be empty"],  # a quoted field spans lines 2–3
        ),
    ],
)
def test_bad_rows_are_reported_with_line(filename, text, expected):
    rows, errors = parse_csv(filename, text)
    assert errors == expected
    assert all(r["_line"] not in {int(e.split(":")[1]) for e in errors} for r in rows)


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("counterparties.csv", "id;name\n1;A\n", "counterparties.csv:1: missing column(s): inn"),
        ("points.csv", "ID,Address\n", "points.csv:1: missing column(s): contract_id"),
        ("points.csv", "", "points.csv:1: missing header row"),
        ("points.csv", "\ufeff\n1;1;A\n", "points.csv:1: missing header row"),
        ("points.csv", "id;id;contract_id;address\n", "points.csv:1: duplicate column(s): id"),
    ],
)
def test_bad_header(filename, text, expected):
    assert parse_csv(filename, text) == ([], [expected])


def test_unknown_file_is_a_programming_error():
    with pytest.raises(KeyError):
        parse_csv("unknown.csv", "id\n")


def parsed(files: dict[str, str]) -> dict[str, list[dict]]:
    data = {}
    for name, text in files.items():
        rows, errors = parse_csv(name, text)
        assert errors == []
        data[name] = rows
    return data


DIRECTORY = {
    "counterparties.csv": "id;name;inn\n1;A;7707083893\n2;B;7736207543\n",
    "contracts.csv": "id;number;counterparty_id;signed_on;deadline_day;discharge_deadline_day\n"
    "10;N1;1;2016-01-01;8;\n11;N2;2;2016-01-01;8;\n",
    "points.csv": "id;contract_id;address\n100;10;A\n101;11;B\n",
    "meters.csv": "id;point_id;serial;model;address;verification_due;digits;kind\n"
    "1000;100;S1;M;A;;4;cold\n1001;101;S2;M;B;;;hot\n",
    "readings.csv": "meter_id;period;value;read_on\n1000;2018-09;231;2018-09-07\n",
    "volumes.csv": "meter_id;period;volume;read_on\n1001;2018-09;1.5;2018-09-07\n",
}


def test_consistent_directory():
    assert check_references(parsed(DIRECTORY)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "contracts.csv": "id;number;counterparty_id;signed_on;deadline_day\n"
                "10;N;3;2016-01-01;8\n"
            },
            [
                "contracts.csv:2: counterparty_id: unknown id 3",
                "points.csv:3: contract_id: unknown id 11",
            ],
        ),
        (
            {"counterparties.csv": "id,name,inn\n1,A,7707083893\n\n1,B,7736207543\n"},
            [
                "counterparties.csv:4: duplicate id 1 (first on line 2)",
                "contracts.csv:3: counterparty_id: unknown id 2",
            ],
        ),
        (
            {"points.csv": "id;contract_id;address\n100;10;A\n101;12;B\n"},
            ["points.csv:3: contract_id: unknown id 12"],
        ),
        (
            {
                "meters.csv": "id;point_id;serial;model;address;verification_due;digits;kind\n"
                "1000;100;S1;M;A;;4;cold\n1001;102;S2;M;B;;;cold\n"
            },
            [
                "meters.csv:3: point_id: unknown id 102",
                "volumes.csv:2: meter_id: meter 1001 is not a hot-water meter",
            ],
        ),
        (
            {
                "readings.csv": "meter_id;period;value;read_on\n1000;2018-09;231;2018-09-07\n"
                "1000;2018-10;10000;2018-10-07\n1000;2018-09;232;2018-09-08\n1999;2018-09;1;2018-09-07\n"
            },
            [
                "readings.csv:3: value: 10000 does not fit the meter's 4 digits",
                "readings.csv:4: duplicate reading for meter 1000, period 2018-09"
                " (first on line 2)",
                "readings.csv:5: meter_id: unknown id 1999",
            ],
        ),
        (
            {
                "volumes.csv": "meter_id;period;volume;read_on\n1001;2018-09;1.5;2018-09-07\n"
                "1001;2018-09;1.6;2018-09-07\n1000;2018-10;1;2018-10-07\n"
            },
            [
                "volumes.csv:3: duplicate volume for meter 1001, period 2018-09 (first on line 2)",
                "volumes.csv:4: meter_id: meter 1000 is not a hot-water meter",
            ],
        ),
    ],
)
def test_reference_errors(changes, expected):
    assert check_references(parsed({**DIRECTORY, **changes})) == expected


def test_references_to_known_database_ids():
    data = parsed(
        {
            "contracts.csv": "id;number;counterparty_id;signed_on;deadline_day\n"
            "10;N;7;2016-01-01;8\n",
            "points.csv": "id;contract_id;address\n100;20;A\n",
            "meters.csv": "id;point_id;serial;model;address;verification_due;digits;kind\n"
            "1000;200;S;M;A;;;cold\n",
            "readings.csv": "meter_id;period;value;read_on\n3000;2018-09;1;2018-09-07\n",
            "volumes.csv": "meter_id;period;volume;read_on\n3001;2018-09;1;2018-09-07\n"
            "3000;2018-09;1;2018-09-07\n",
        }
    )
    known = {
        "counterparties": {7},
        "contracts": {20},
        "points": {200},
        "meters": {3000},
        "hot_meters": {3001},
    }
    assert check_references(data, known) == [
        "volumes.csv:3: meter_id: meter 3000 is not a hot-water meter"
    ]
    assert "contracts.csv:2: counterparty_id: unknown id 7" in check_references(data)
