"""`python -m bench run`: month-end load on the bench dataset, beside a bare-stack baseline.

1. the datasets (reused when complete: `--regen` rebuilds them), portal data of a previous
   run removed;
2. the real server as `make run` starts it (`python -m app run --no-demo`, WEB_WORKERS =
   cores) on the bench database, with APP_TODAY inside every contract's window, and the
   baseline (bench/baseline.py) under its own uvicorn with as many workers;
3. the scenarios (bench/scenarios.py), each a closed loop of virtual users;
4. var/bench/results.json + results.md (and a dated copy of both); the table is printed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.settings import ROOT, get_settings

log = logging.getLogger("bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A child process serving HTTP on a free port; its log goes to var/bench/NAME.log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], out_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1", "BASE_URL": self.url}
        self.log_path = out_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, probe: str = "/") -> Server:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + probe, timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()


class CpuMeter:
    """CPU seconds (user + system) used so far by process trees: a server under test with
    its workers, and the embedded PostgreSQL (every backend) and Redis when we run them."""

    def __init__(self, *pids: int | None) -> None:
        self.pids = [pid for pid in pids if pid]

    def __call__(self) -> float:
        import psutil  # installed with pgserver

        total = 0.0
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in processes:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
        return total


def postgres_pid(database_url: str) -> int | None:
    """The postmaster of the embedded server under var/ (None for an external server)."""
    if os.environ.get("DATABASE_URL"):
        return None
    pidfile = get_settings().var_dir / "pg" / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Bench:
    """What the scenarios need: servers, databases, options; and the results so far."""

    args: object
    out_dir: Path
    app_env: dict[str, str]
    database_url: str
    meta: dict
    app: Server | None = None
    baseline: Server | None = None
    compare_url: str | None = None
    compare_meta: dict | None = None
    pg_pid: int | None = None
    redis_pid: int | None = None
    results: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def cpu(self, server: Server) -> CpuMeter:
        """Server CPU of a scenario: the server's process tree + PostgreSQL + Redis."""
        return CpuMeter(server.proc.pid if server.proc else None, self.pg_pid, self.redis_pid)

    def app_server(self, database_url: str, name: str = "app") -> Server:
        workers = str(self.args.workers)
        env = {**self.app_env, "DATABASE_URL": database_url, "WEB_WORKERS": workers}
        for attempt in (1, 2):  # this machine is shared: a start-up can be disturbed once
            server = Server(name, [sys.executable, "-m", "app", "run", "--no-demo"], env,
                            self.out_dir)
            try:
                return server.start()
            except RuntimeError:
                server.stop()
                if attempt == 2:
                    raise
                log.warning("%s did not start (see %s); trying once more", name,
                            server.log_path)
        raise AssertionError("unreachable")


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(), "os": platform.platform(terse=True),
            "load_before": [round(x, 2) for x in load]}


def redis_url_for_bench(var_dir: Path):
    """REDIS_URL when given, else an embedded Redis of its own under var/bench."""
    if url := os.environ.get("REDIS_URL"):
        return url, None
    from devstack.embedded import start_embedded

    emb = start_embedded(var_dir / "bench", need_pg=False, need_redis=True)
    # Sessions and throttling counters of earlier runs must not leak into this one.
    import redis

    client = redis.Redis.from_url(emb.redis_url)
    client.flushdb()
    client.close()
    return emb.redis_url, emb


def register(sub) -> None:
    p = sub.add_parser("run", help="month-end load benchmark; writes var/bench/")
    p.add_argument("--scale", type=float, default=1.0, help="main dataset (default 1)")
    p.add_argument("--compare-scale", type=float, default=None,
                   help="second dataset for the archive filter (default 10; 0.1 with --quick)")
    p.add_argument("--duration", type=float, default=8.0, help="seconds measured per scenario")
    p.add_argument("--connections", type=int, default=64, help="virtual users per scenario")
    p.add_argument("--surge", type=int, default=100, help="organizations in the surge")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="web workers of the app and of the baseline (default: cores)")
    p.add_argument("--regen", action="store_true", help="rebuild the datasets")
    p.add_argument("--quick", action="store_true",
                   help="development run: scale 0.1 vs 0.01, 3 s per scenario, surge 20")
    p.add_argument("--full", action="store_true",
                   help="longer run: 20 s per scenario, surge of 200 organizations")
    p.add_argument("--only", default="", help="comma-separated scenario names")
    p.add_argument("--out", default=None, help="output directory (default var/bench)")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    from bench import data, report, scenarios

    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    if args.full:
        args.duration, args.surge = max(args.duration, 20.0), max(args.surge, 200)
    if args.quick:
        args.scale, args.duration, args.surge = 0.1, 3.0, 20
        args.compare_scale = args.compare_scale or 0.01
        args.connections = min(args.connections, 16)
    if args.compare_scale is None:
        args.compare_scale = 10.0
    settings = get_settings()
    out_dir = Path(args.out) if args.out else settings.var_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "options": {k: v for k, v in vars(args).items() if k != "func"}}

    users = max(args.surge, 200)  # the same dataset serves default and --full runs
    t = time.perf_counter()
    url, meta = data.create_bench_database(args.scale, users, force=args.regen)
    compare_url = compare_meta = None
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    # The second dataset serves only the archive scenario (scale 10: minutes to build).
    if args.compare_scale and args.compare_scale != args.scale and (
            not only or "archive" in only):
        compare_url, compare_meta = data.create_bench_database(args.compare_scale, 8,
                                                               force=args.regen)
    # Migrations that landed after a dataset was built (new indexes) run now, not inside a
    # server's start-up.
    for database in filter(None, (url, compare_url)):
        data.migrate_database(database)
    info["dataset_seconds"] = round(time.perf_counter() - t, 1)
    asyncio.run(data.reset_portal_data(url))

    redis_url, redis_handle = redis_url_for_bench(settings.var_dir)
    env = {**os.environ, "REDIS_URL": redis_url, "APP_TODAY": data.BENCH_TODAY.isoformat(),
           "PICCOLO_CONF": "app.piccolo_conf", "VAR_DIR": str(out_dir / "var")}
    env.pop("DATABASE_URL", None)
    bench = Bench(args=args, out_dir=out_dir, app_env=env, database_url=url, meta=meta,
                  compare_url=compare_url, compare_meta=compare_meta,
                  pg_pid=postgres_pid(url),
                  redis_pid=redis_handle.redis_pid if redis_handle is not None else None)
    try:
        bench.app = bench.app_server(url)
        bench.baseline = Server(
            "baseline",
            [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--host", "127.0.0.1",
             "--port", "{port}", "--workers", str(args.workers), "--no-access-log"],
            {**env, "DATABASE_URL": url}, out_dir).start(probe="/health")
        asyncio.run(scenarios.run_all(bench))
    finally:
        for server in (bench.app, bench.baseline):
            if server is not None:
                server.stop()
        if redis_handle is not None:
            redis_handle.stop()
    info["total_seconds"] = round(time.perf_counter() - started, 1)
    info["datasets"] = {"main": meta, "compare": compare_meta}
    document = {**info, "results": bench.results, "summary": bench.summary,
                "unavailable": bench.unavailable}
    table = report.markdown(document)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in ("results", f"results-{stamp}"):
        (out_dir / f"{name}.json").write_text(json.dumps(document, ensure_ascii=False, indent=2))
        (out_dir / f"{name}.md").write_text(table)
    print(table)
    print(f"written: {out_dir / 'results.json'}, {out_dir / 'results.md'}")
    return 0
