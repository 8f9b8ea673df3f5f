"""Every command of README's "## Commands" block, run exactly as printed, as a newcomer runs it.

On a scratch copy of the project (fresh `var/`, the worktree's `.venv` linked in) with
DATABASE_URL / REDIS_URL unset, in three situations: (b) nothing running, (a) while the
server of `make run` runs, (c) with the URLs set to this test session's servers. Each
command must exit 0 (and print what its `# -> ...` comment says); afterwards no server it
started may still run. A command added to README is tested without anyone remembering.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The only substitutions allowed: placeholders of the README, the password by environment.
EMAIL = "newcomer.operator@example.ru"
OPERATOR_PASSWORD = "readme-operator-pass-1"


def readme_commands() -> list[tuple[str, str | None]]:
    """(command line, expected stdout or None) for each line of the Commands block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's Commands section has no ```sh block"
    commands = []
    for line in block.group(1).splitlines():
        command, _, comment = line.partition(" #")
        if command.strip():
            expected = comment.strip()[2:].strip() if comment.strip().startswith("->") else None
            commands.append((command.strip(), expected))
    return commands


def argv_of(command: str, billing_dir: Path) -> list[str]:
    words = {"DIR": str(billing_dir), "EMAIL": EMAIL}
    return [words.get(word, word) for word in shlex.split(command)]


def servers(var: Path) -> set[int]:
    """Live processes of embedded servers on `var`: pid files, and anything running in var/."""
    pids = set()
    for pid_file in (var / "pg" / "postmaster.pid", var / "redis" / "redis.pid"):
        try:
            pids.add(int(pid_file.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    # A server that lost its pid file still runs in its data dir; its backends (children,
    # which come and go with connections) are not counted.
    in_var = {proc.info["pid"]: proc.info["ppid"]
              for proc in psutil.process_iter(["pid", "ppid", "cwd"])
              if (proc.info["cwd"] or "").startswith(str(var))}
    pids |= {pid for pid, ppid in in_var.items() if ppid not in in_var}
    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def wait_servers_gone(var: Path, keep: set[int], timeout: float = 15) -> set[int]:
    """Servers other than `keep` still alive after `timeout` (a stop may take a moment)."""
    deadline = time.monotonic() + timeout
    while (left := servers(var) - keep) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """The tracked (and new, unignored) files of this checkout, with its .venv linked in."""
    # Short path: unix sockets of the embedded servers live under it (< 108 bytes).
    copy = Path("/tmp") / f"rc-{secrets.token_hex(3)}"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    files += [str(p.relative_to(ROOT)) for p in ROOT.glob("locale/*/LC_MESSAGES/*.mo")]
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    yield copy
    leftover = servers(copy / "var")
    for pid in leftover:  # a failed test must not leave servers behind for the next one
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass
    shutil.rmtree(copy, ignore_errors=True)
    assert not leftover, f"embedded servers left running: {leftover}"


@pytest.fixture(scope="module")
def billing_dir(tmp_path_factory) -> Path:
    """The demo billing files, written as `demo-data` writes them."""
    from app.demo import write_demo_billing

    directory = tmp_path_factory.mktemp("billing")
    write_demo_billing(directory, date.today())
    return directory


def newcomer_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "VAR_DIR", "PICCOLO_CONF", "SECRET_KEY",
                        "APP_TODAY", "VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "OPERATOR_PASSWORD": OPERATOR_PASSWORD, "WEB_WORKERS": "1", **extra}


def run_every_command(scratch: Path, billing_dir: Path, env: dict[str, str]) -> list[str]:
    """Run each README command; return the failures (all of them, not just the first)."""
    var = scratch / "var"
    failures = []
    for command, expected in readme_commands():
        before = servers(var)
        done = subprocess.run(argv_of(command, billing_dir), cwd=scratch, env=env,
                              capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            failures.append(f"{command}\n  exit {done.returncode}\n  "
                            + "\n  ".join(done.stderr.strip().splitlines()[-6:]))
        elif expected is not None and done.stdout.strip() != expected:
            failures.append(f"{command}\n  printed {done.stdout.strip()!r}, README says "
                            f"{expected!r}")
        if left := wait_servers_gone(var, before):
            failures.append(f"{command}\n  left servers running: {sorted(left)}")
        if stopped := before - servers(var):
            failures.append(f"{command}\n  stopped servers it did not start: {sorted(stopped)}")
    return failures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_commands_with_nothing_running(scratch, billing_dir):
    assert not servers(scratch / "var")
    failures = run_every_command(scratch, billing_dir, newcomer_env())
    assert not failures, "\n".join(failures)


def test_readme_commands_while_make_run_serves(scratch, billing_dir):
    env = newcomer_env(PORT=str(free_port()))
    log_path = scratch / "make-run.log"  # a file, not a pipe: nobody reads it while it serves
    with log_path.open("wb") as log:
        server = subprocess.Popen([".venv/bin/python", "-m", "app", "run"], cwd=scratch,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl+C" not in log_path.read_text(errors="replace"):
            assert server.poll() is None and time.monotonic() < deadline, \
                log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        failures = run_every_command(scratch, billing_dir, env)
        assert not failures, "\n".join(failures)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    assert not wait_servers_gone(scratch / "var", set()), "make run left its servers running"


def test_readme_commands_with_urls_set(scratch, billing_dir):
    """DATABASE_URL / REDIS_URL of this session's servers (own database): nothing embedded."""
    name = f"wp_readme_{secrets.token_hex(3)}"
    session_url = urlsplit(os.environ["DATABASE_URL"])
    url = urlunsplit(session_url._replace(path="/" + name))

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        env = newcomer_env(DATABASE_URL=url, REDIS_URL=os.environ["REDIS_URL"])
        failures = run_every_command(scratch, billing_dir, env)
        assert not failures, "\n".join(failures)
        assert not servers(scratch / "var"), "an embedded server started although URLs are set"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":  # pragma: no cover - list what the test would run
    for command, expected in readme_commands():
        print(command, "->", expected, file=sys.stderr)
