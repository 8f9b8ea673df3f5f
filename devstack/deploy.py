"""deploy/'s files, run as they are: the nginx site in front of serve processes, and the
systemd units' commands, for the scale-out test and the `nginx` bench scenario.

Nothing here writes its own nginx or process configuration: `render()` fills the
`${PORTAL_*}` placeholders exactly as the README's envsubst does, `Nginx` starts Debian's
nginx with the rendered site included in a minimal main config (what /etc/nginx/nginx.conf
is on a server), and `UnitProcess` runs a unit's ExecStart with its Environment= and
EnvironmentFile= (no systemd in a container or CI).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx-portal.conf"
WEB_UNIT = DEPLOY / "systemd" / "water-portal-web@.service"
WORKER_UNIT = DEPLOY / "systemd" / "water-portal-worker@.service"
PLACEHOLDER = re.compile(r"\$\{(PORTAL_[A-Z0-9_]+)\}")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def render(text: str, values: dict[str, str]) -> str:
    """Fill ${PORTAL_*} (only those: nginx's own $variables stay); a missing value fails."""
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise KeyError(f"placeholders without a value: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def wait_http(url: str, timeout: float = 60, proc: subprocess.Popen | None = None,
              log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}\n"
                               + (log.read_text(errors="replace")[-3000:] if log else ""))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


class Nginx:
    """Debian's nginx, in the foreground, with deploy/nginx-portal.conf as its only site."""

    def __init__(self, workdir: Path, values: dict[str, str]) -> None:
        self.dir = workdir
        self.values = {"PORTAL_LOG_DIR": str(workdir), "PORTAL_SERVER_NAME": "_",
                       "PORTAL_ROOT": str(ROOT), **values}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        listen = self.values["PORTAL_LISTEN"]
        return f"http://{listen if ':' in listen else '127.0.0.1:' + listen}"

    def write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        site = self.dir / "water-portal.conf"
        site.write_text(render(SITE.read_text(), self.values))
        main = self.dir / "nginx.conf"
        temp = self.dir / "tmp"
        temp.mkdir(exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        main.write_text(f"""{user}
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
        return main

    def start(self) -> Nginx:
        main = self.write_config()
        check = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(self.dir)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("nginx -t refused the config:\n" + check.stderr)
        self.proc = subprocess.Popen([NGINX, "-c", str(main), "-p", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.url + "/static/app.css", 30, self.proc, self.dir / "error.log")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def access_log(self) -> str:
        path = self.dir / "water-portal.access.log"
        return path.read_text(errors="replace") if path.exists() else ""


def unit_command(unit: Path, values: dict[str, str], instance: str = ""
                 ) -> tuple[list[str], dict[str, str], Path]:
    """(argv, environment, working directory) of a unit's ExecStart, as systemd would run it:
    the process environment of the caller, then EnvironmentFile=, then Environment=, with %i
    the instance."""
    text = render(unit.read_text(), values).replace("%i", instance)
    env: dict[str, str] = {}
    argv: list[str] = []
    cwd = ROOT
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("EnvironmentFile="):
            path = Path(line.split("=", 1)[1].lstrip("-"))
            for entry in path.read_text().splitlines():
                entry = entry.strip()
                if entry and not entry.startswith("#") and "=" in entry:
                    key, value = entry.split("=", 1)
                    env[key] = value
        elif line.startswith("Environment="):
            key, value = line.split("=", 1)[1].split("=", 1)
            env[key] = value
        elif line.startswith("WorkingDirectory="):
            cwd = Path(line.split("=", 1)[1])
        elif line.startswith("ExecStart="):
            argv = shlex.split(line.split("=", 1)[1])
    if not argv:
        raise ValueError(f"{unit.name}: no ExecStart")
    return argv, env, cwd


class UnitProcess:
    """A unit's ExecStart running (start / kill -9 / restart), its output in one log file."""

    def __init__(self, unit: Path, values: dict[str, str], instance: str, log: Path,
                 base_env: dict[str, str] | None = None) -> None:
        self.argv, self.env, self.cwd = unit_command(unit, values, instance)
        self.env = {**(base_env if base_env is not None else os.environ), **self.env}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> UnitProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT)
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 45) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid
