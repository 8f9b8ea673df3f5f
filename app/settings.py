"""Settings read from the environment once, and the app-wide notion of "today"."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    redis_url: str | None
    smtp_url: str | None
    host: str
    port: int
    secret_key: str
    archive_refresh_minutes: int
    app_today: date | None
    var_dir: Path
    web_workers: int
    base_url: str | None
    api_rate_limit: int = 600  # API requests per token and minute (SPEC §8: 429 beyond)
    # uvicorn's --forwarded-allow-ips: the proxies whose X-Forwarded-For/-Proto are believed.
    # Empty (the default) believes nobody; the nginx deployment sets 127.0.0.1.
    forwarded_allow_ips: str = ""
    # The zone every timestamp is shown in (pages, mails): the utility's, Izhevsk (UTC+4).
    timezone: str = "Europe/Samara"
    # TOML with the utility's contacts, hours and legal details for the footer (app/utility.py);
    # None: the demo utility's.
    utility_file: Path | None = None

    @property
    def public_url(self) -> str:
        """The portal's absolute address for links in mails and feeds, never from a request:
        BASE_URL, else the address `make run` listens on. No trailing slash."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def https(self) -> bool:
        """Served over https (BASE_URL says so): Secure cookies and HSTS."""
        return (self.base_url or "").startswith("https://")


def _secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else a random one kept under var/ across restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _timezone(name: str) -> str:
    """An IANA zone name zoneinfo knows (a typo fails at start, not on the first page)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"TIMEZONE={name!r} is not a known IANA time zone") from error
    return name


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var")).resolve()
    today = os.environ.get("APP_TODAY") or None
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        smtp_url=os.environ.get("SMTP_URL") or None,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        secret_key=_secret_key(var_dir),
        archive_refresh_minutes=int(os.environ.get("ARCHIVE_REFRESH_MINUTES", "120")),
        app_today=date.fromisoformat(today) if today else None,
        var_dir=var_dir,
        web_workers=int(os.environ.get("WEB_WORKERS", "1")),
        base_url=os.environ.get("BASE_URL") or None,
        api_rate_limit=int(os.environ.get("API_RATE_LIMIT", "600")),
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "").strip(),
        timezone=_timezone(os.environ.get("TIMEZONE") or "Europe/Samara"),
        utility_file=ROOT / file if (file := os.environ.get("UTILITY_FILE")) else None,
    )


def today() -> date:
    """Today's date, frozen by APP_TODAY for demos and acceptance runs."""
    frozen = get_settings().app_today
    return frozen if frozen is not None else date.today()
