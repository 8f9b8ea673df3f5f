"""The markdown table of a bench run (also pasted into README's Performance section)."""

from __future__ import annotations


def _fmt(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    return str(value)


def markdown(doc: dict) -> str:
    m = doc["machine"]
    opts = doc["options"]
    main = doc["datasets"]["main"] or {}
    compare = doc["datasets"].get("compare") or {}
    lines = [
        f"### Bench run {doc['started_at']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, Python {m['python']}, "
        f"load average before the run {m['load_before']}. "
        f"Web workers: {opts['workers']} (app and baseline). "
        f"Dataset: scale {opts['scale']} = {_fmt(main.get('contracts'))} contracts, "
        f"{_fmt(main.get('meters'))} meters, {_fmt(main.get('readings'))} readings"
        + (f"; archive also on scale {opts['compare_scale']} = "
           f"{_fmt(compare.get('readings'))} readings" if compare else "")
        + f". {opts['duration']:g} s measured per scenario. Run took {doc['total_seconds']} s. "
        "Server CPU = user + system time of the server's processes, PostgreSQL and Redis "
        "during the measured seconds, per request.",
        "",
        "| scenario | conns | requests | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['name']} | {r['connections']} | {r['requests']} | {_fmt(r['rps'], 1)} | "
            f"{_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} | {r['errors']} | "
            f"{_fmt(r.get('server_cpu_ms_per_request'), 1)} |")
    for name, reason in doc.get("unavailable", {}).items():
        lines.append(f"| {name} | – | – | – | – | – | – | not available: {reason} | – |")
    summary = doc.get("summary") or {}
    if summary:
        lines += ["", "| figure we steer by | value | target |", "|---|---:|---|"]
        for key, (value, target) in summary.items():
            lines.append(f"| {key} | {value} | {target} |")
    errors = [(r["name"], r["error_samples"]) for r in doc["results"] if r["error_samples"]]
    if errors:
        lines += ["", "Error samples:"]
        for name, samples in errors:
            lines.append(f"- {name}: {samples[0]}")
    return "\n".join(lines) + "\n"
