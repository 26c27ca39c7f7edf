"""Settings, read once from the environment (and an optional `.env` in the working directory).

Every variable has a default that runs the single-box setup; see design.md §4.6 and the README.
Secrets are kept out of reprs so they never reach a log line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dispatch.errors import ConfigError

LANGS = ("zh", "en")
DEFAULT_ACK_TIMEOUTS = {"breaking": 30, "high": 120, "normal": 600}


def _timeouts(text: str | None) -> dict[str, int]:
    """`breaking=30,high=120,normal=600` (seconds); unnamed priorities keep their default."""
    out = dict(DEFAULT_ACK_TIMEOUTS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in out or not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(
                "NEWSROOM_ACK_TIMEOUTS must look like 'breaking=30,high=120,normal=600'"
                f" (seconds, at least 1); got {text!r}"
            )
        out[name] = int(value)
    return out


def _rate(name: str, text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """`600/60`: at most 600 requests in 60 seconds."""
    if not text:
        return default
    count, _, window = text.partition("/")
    if not (
        count.strip().isdigit() and window.strip().isdigit() and int(count) > 0 and int(window) > 0
    ):
        raise ConfigError(f"{name} must look like '600/60' (requests/seconds); got {text!r}")
    return int(count), int(window)


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; comments and blank lines are skipped, quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    data_dir: Path = Path("var")
    redis_url: str | None = None
    tenant: str = "default"
    lang: str = "zh"
    admin_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    allowed_origins: tuple[str, ...] = ()
    # Seconds a reporter has to answer (accept or decline) an offer, by priority.
    ack_timeouts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACK_TIMEOUTS))
    auto_reoffer: bool = True
    # (requests, seconds) per token and per client address, shared by every process.
    rate_token: tuple[int, int] = (600, 60)
    rate_ip: tuple[int, int] = (1200, 60)
    # How long a reporter's trail of fixes is kept (design.md §6: 24 h by default).
    trail_retention_s: int = 24 * 3600
    # The feeds process's collectors (TOML); unset: NEWSROOM_DATA_DIR/feeds.toml if it exists.
    feeds_config: Path | None = None
    # Optional map tiles ("https://tiles.example/{z}/{x}/{y}.png"); unset: local layers only.
    map_tiles: str | None = None

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def load(env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Build Settings from `env` (default: os.environ over the optional .env file)."""
    merged: dict[str, str] = {}
    if dotenv is not None:
        merged.update(_read_dotenv(dotenv))
    merged.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        value = merged.get(name, "").strip()
        return value or None

    port_text = get("NEWSROOM_PORT") or "8050"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"NEWSROOM_PORT must be a port number 1-65535, got {port_text!r}")
    lang = get("NEWSROOM_LANG") or "zh"
    if lang not in LANGS:
        raise ConfigError(f"NEWSROOM_LANG must be one of {', '.join(LANGS)}, got {lang!r}")
    tenant = get("NEWSROOM_TENANT") or "default"
    if not tenant.replace("-", "").replace("_", "").isalnum() or len(tenant) > 64:
        raise ConfigError(
            f"NEWSROOM_TENANT must be letters, digits, '-' or '_' (at most 64), got {tenant!r}"
        )
    redis_url = get("REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://", "sentinel://")):
        raise ConfigError("REDIS_URL must start with redis://, rediss://, unix:// or sentinel://")
    origins = tuple(
        o.strip().rstrip("/")
        for o in (get("NEWSROOM_ALLOWED_ORIGINS") or "").split(",")
        if o.strip()
    )
    return Settings(
        host=get("NEWSROOM_HOST") or "127.0.0.1",
        port=int(port_text),
        data_dir=Path(get("NEWSROOM_DATA_DIR") or "var").expanduser().resolve(),
        redis_url=redis_url,
        tenant=tenant,
        lang=lang,
        admin_token=get("NEWSROOM_ADMIN_TOKEN"),
        webhook_secret=get("NEWSROOM_WEBHOOK_SECRET"),
        allowed_origins=origins,
        ack_timeouts=_timeouts(get("NEWSROOM_ACK_TIMEOUTS")),
        auto_reoffer=(get("NEWSROOM_AUTO_REOFFER") or "1").lower()
        not in ("0", "false", "no", "off"),
        rate_token=_rate("NEWSROOM_RATE_TOKEN", get("NEWSROOM_RATE_TOKEN"), (600, 60)),
        rate_ip=_rate("NEWSROOM_RATE_IP", get("NEWSROOM_RATE_IP"), (1200, 60)),
        map_tiles=_tile_url(get("NEWSROOM_MAP_TILES")),
        trail_retention_s=_hours(
            "NEWSROOM_TRAIL_RETENTION_H", get("NEWSROOM_TRAIL_RETENTION_H"), 24
        ),
        feeds_config=Path(fc).expanduser().resolve()
        if (fc := get("NEWSROOM_FEEDS_CONFIG"))
        else None,
    )


def _tile_url(text: str | None) -> str | None:
    if text is None:
        return None
    if not text.startswith(("http://", "https://", "/")) or "{z}" not in text:
        raise ConfigError(
            "NEWSROOM_MAP_TILES must be a tile URL with {z}, {x} and {y}, e.g. "
            f"http://tiles.internal/{{z}}/{{x}}/{{y}}.png; got {text!r}"
        )
    return text


def _hours(name: str, text: str | None, default: float) -> int:
    """Hours (fractions allowed, e.g. 0.5) as whole seconds; at least one minute."""
    if text is None:
        return int(default * 3600)
    try:
        hours = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of hours, got {text!r}") from None
    if not 1 / 60 <= hours <= 24 * 366:
        raise ConfigError(f"{name} must be between 1/60 and 8784 hours, got {text!r}")
    return int(hours * 3600)
