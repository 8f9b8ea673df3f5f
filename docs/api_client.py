"""A minimal client of the portal's API v1 — standard library only; copy and adapt it.

    python docs/api_client.py --url https://portal.example --token wp_... contracts
    python docs/api_client.py --url ... --token ... submit readings.csv --period 2026-11 --transmit

readings.csv: `meter_id;value;date` per line (a header line is skipped), e.g.
    49001;231;2026-11-25

Safe to rerun: the Idempotency-Key is derived from what is sent, so a retry after a timeout
or a crash answers the first answer instead of transmitting twice; 429 waits `Retry-After`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal


class ApiError(Exception):
    def __init__(self, status: int, problem: dict) -> None:
        super().__init__(f"{status} {problem.get('title')}: {problem.get('detail')}")
        self.status, self.problem = status, problem


def call(url: str, token: str, method: str = "GET", path: str = "/api/v1/contracts",
         body: dict | None = None, key: str | None = None, attempts: int = 5):
    """One API request; retries 429/5xx/network errors with the same Idempotency-Key."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    for attempt in range(attempts):
        request = urllib.request.Request(url.rstrip("/") + path, data=data, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            problem = json.loads(exc.read() or b"{}")
            retry = exc.code == 429 or exc.code >= 500
            if not retry or attempt == attempts - 1:
                raise ApiError(exc.code, problem) from None
            time.sleep(int(exc.headers.get("Retry-After", "0")) or 2 ** attempt)
        except urllib.error.URLError:
            if attempt == attempts - 1:
                raise
            time.sleep(2 ** attempt)
    raise AssertionError("unreachable")


def read_items(path: str) -> list[dict]:
    items = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.reader(fh, delimiter=";"):
            if not row or not row[0].strip().isdigit():
                continue  # header or blank line
            meter_id, value, date = (cell.strip() for cell in row[:3])
            # A JSON number, exactly as written in the file (no float rounding).
            items.append({"meter_id": int(meter_id), "value": Decimal(value.replace(",", ".")),
                          "date": date})
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("contracts")
    submit = sub.add_parser("submit")
    submit.add_argument("csv")
    submit.add_argument("--period", required=True, help="YYYY-MM")
    submit.add_argument("--transmit", action="store_true", help="transmit, not only save")
    args = parser.parse_args()
    try:
        if args.command == "contracts":
            print(json.dumps(call(args.url, args.token), ensure_ascii=False, indent=2))
            return 0
        body = {"period": args.period, "transmit": args.transmit,
                "items": read_items(args.csv)}
        wire = json.loads(json.dumps(body, default=str))  # Decimal -> "231" (a JSON string)
        key = hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()
        answer = call(args.url, args.token, "POST", "/api/v1/readings", wire, key=key)
    except ApiError as exc:
        print(exc, json.dumps(exc.problem.get("errors", []), ensure_ascii=False),
              file=sys.stderr)
        return 1
    refused = [i for i in answer["items"] if i["status"] == "refused"]
    for item in answer["items"]:
        reasons = "; ".join(p["message"] for p in item["problems"])
        print(f"{item['meter_id']}\t{item['status']}\t{reasons}")
    if answer["receipts"]:
        print("Квитанции:", ", ".join(map(str, answer["receipts"])))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
