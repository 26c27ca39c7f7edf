"""The feeds process's configuration: one TOML file naming the collectors to run.

    [[source]]                  # one table per collector
    name = "app-rss"            # unique: the name on the wall and in GET /api/v1/feeds
    kind = "rss"                # rss | atom | wordpress | accesslog | simulator
    interval_s = 60             # seconds between steps (default per kind)
    url = "https://cms.example/app.xml"   # every other key is an option of that kind
    password_env = "WP_APP_PASSWORD"      # `<option>_env`: the option's value is read from
                                          # that environment variable (secrets never go here)
    [alerts]                    # the derived alerts (feeds/derived.py); every key optional
    spike_factor = 3.0

feeds.example.toml (at the repository root) documents every option. Errors name the file,
the line and the source, and say what is wrong: `load` checks the file's shape, `build` turns
each source into a collector. The collector classes are imported only when a source names
their kind, so a kind whose module is not installed is a clear "not available" error.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

from dispatch import schema
from dispatch.errors import ConfigError
from feeds.collector import Collector
from feeds.derived import AlertSettings


@dataclass(frozen=True)
class Kind:
    """Where a kind's collector class lives, and its default interval."""

    module: str
    cls: str
    interval_s: float


KINDS: dict[str, Kind] = {
    "rss": Kind("feeds.rss", "RssCollector", 60.0),
    "atom": Kind("feeds.rss", "RssCollector", 60.0),
    "wordpress": Kind("feeds.wordpress", "WordPressCollector", 60.0),
    "accesslog": Kind("feeds.tailer", "AccessLogCollector", 1.0),
    "simulator": Kind("feeds.run", "SimulatorCollector", 1.0),
}
RESERVED_NAMES = frozenset({"derived-alerts"})
NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_OPTIONS = frozenset({"password", "secret", "token", "api_key", "app_password"})
COMMON = ("name", "kind", "interval_s", "enabled")
NOT_OPTIONS = frozenset({"client"})  # constructor parameters for tests, not for the file
INTERVAL_RANGE = (0.1, 86_400.0)


@dataclass(frozen=True)
class SourceConfig:
    """One [[source]]: its common fields, its kind's options as written, and where it is."""

    name: str
    kind: str
    interval_s: float
    options: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # "feeds.toml:12 [[source]] 'app-rss'", for error messages


@dataclass(frozen=True)
class FeedsConfig:
    path: Path
    sources: tuple[SourceConfig, ...]
    alerts: AlertSettings


def load(path: Path) -> FeedsConfig:
    """Read and check a config file; raises ConfigError saying where and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the feeds config {path}: {exc.strerror or exc}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> FeedsConfig:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = _Locator(path, text)
    unknown = sorted(set(doc) - {"source", "alerts"})
    if unknown:
        raise ConfigError(
            f"{where.top(unknown[0])}: unknown section or key {unknown[0]!r}; "
            "a feeds config has [[source]] tables and one [alerts] table"
        )
    raw_sources = doc.get("source", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{where.top('source')}: write each source as a [[source]] table")
    sources: list[SourceConfig] = []
    for index, raw in enumerate(raw_sources):
        source = _source(raw, index, where)
        if source is None:
            continue
        clash = next((s for s in sources if s.name == source.name), None)
        if clash is not None:
            raise ConfigError(
                f"{source.where}: the name {source.name!r} is already used by {clash.where}; "
                "every source needs its own name"
            )
        sources.append(source)
    alerts = doc.get("alerts", {})
    if not isinstance(alerts, dict):
        raise ConfigError(f"{where.top('alerts')}: [alerts] must be a table")
    return FeedsConfig(path, tuple(sources), _alerts(alerts, where))


def _source(raw: Any, index: int, where: _Locator) -> SourceConfig | None:
    """One [[source]] checked; None if it says enabled = false."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where.source(index)}: write each source as a [[source]] table")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(
            f'{where.source(index, "name")}: needs name = "..." (1-64 letters, digits, '
            f"'-', '_', '.' or ':'), got {name!r}"
        )
    here = where.source(index, None, name)
    if name in RESERVED_NAMES:
        raise ConfigError(f"{here}: the name {name!r} is reserved; choose another")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ConfigError(
            f"{where.source(index, 'kind', name)}: unknown kind {kind!r}; "
            f"kind must be one of {', '.join(sorted(KINDS))}"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where.source(index, 'enabled', name)}: enabled must be true or false")
    interval = raw.get("interval_s", KINDS[kind].interval_s)
    low, high = INTERVAL_RANGE
    if not _is_number(interval) or not low <= interval <= high:
        raise ConfigError(
            f"{where.source(index, 'interval_s', name)}: interval_s must be a number of seconds "
            f"from {low:g} to {high:g}, got {interval!r}"
        )
    options = {k: v for k, v in raw.items() if k not in COMMON}
    for key, value in options.items():
        if key in SECRET_OPTIONS:
            raise ConfigError(
                f"{where.source(index, key, name)}: secrets do not belong in this file; "
                f'set {key}_env = "NAME" and put the {key} in that environment variable'
            )
        if key.endswith("_env") and not (isinstance(value, str) and ENV_NAME.match(value)):
            raise ConfigError(
                f"{where.source(index, key, name)}: {key} must name an environment variable "
                f"(letters, digits, '_'), got {value!r}"
            )
    if not enabled:
        return None
    return SourceConfig(name, kind, float(interval), options, here)


def _alerts(raw: Mapping[str, Any], where: _Locator) -> AlertSettings:
    """The [alerts] table checked against AlertSettings' fields and their bounds."""
    known = {f.name for f in fields(AlertSettings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        here = where.alerts(key)
        if key not in known:
            raise ConfigError(
                f"{here}: unknown option {key!r} in [alerts]; options: {', '.join(sorted(known))}"
            )
        if key == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{here}: enabled must be true or false")
        elif key == "stage_limits_min":
            value = _stage_limits(value, here)
        else:
            low, high = AlertSettings.BOUNDS[key]
            if not _is_number(value) or not low <= value <= high:
                raise ConfigError(
                    f"{here}: {key} must be a number from {low:g} to {high:g}, got {value!r}"
                )
        values[key] = value
    return AlertSettings(**values)


def _stage_limits(value: Any, here: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{here}: stage_limits_min must be a table, e.g. {{editing = 60}}")
    limits = dict(AlertSettings().stage_limits_min)
    for stage, minutes in value.items():
        if stage not in schema.STAGES:
            raise ConfigError(
                f"{here}: stage_limits_min names an unknown stage {stage!r}; "
                f"stages: {', '.join(schema.STAGES)}"
            )
        if not _is_number(minutes) or minutes < 0:
            raise ConfigError(
                f"{here}: stage_limits_min.{stage} must be minutes (0 turns it off), "
                f"got {minutes!r}"
            )
        limits[stage] = float(minutes)
    return {stage: m for stage, m in limits.items() if m > 0}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- building collectors ------------------------------------------------------------------------
def collector_class(source: SourceConfig) -> type:
    """The class of a source's kind, imported now; ConfigError if it is not available."""
    kind = KINDS[source.kind]
    try:
        module = importlib.import_module(kind.module)
    except ModuleNotFoundError as exc:
        if exc.name not in (kind.module, None):
            raise ConfigError(
                f"{source.where}: kind {source.kind!r} needs the Python package {exc.name!r}, "
                "which is not installed"
            ) from None
        raise ConfigError(
            f"{source.where}: kind {source.kind!r} is not available in this installation "
            f"({kind.module} is missing)"
        ) from None
    cls = getattr(module, kind.cls, None)
    if not isinstance(cls, type):
        raise ConfigError(
            f"{source.where}: kind {source.kind!r} is not available in this installation "
            f"({kind.module} has no {kind.cls})"
        )
    return cls


def build(source: SourceConfig, env: Mapping[str, str] | None = None) -> Collector:
    """Make a source's collector: `<kind's class>(name=…, interval_s=…, **options)`, each
    `<option>_env` replaced by `<option>` read from the environment. The class's keyword
    parameters are the kind's options; a missing or unknown one is a ConfigError."""
    environ = os.environ if env is None else env
    cls = collector_class(source)
    kwargs: dict[str, Any] = {"name": source.name, "interval_s": source.interval_s}
    for key, value in source.options.items():
        if key.endswith("_env"):
            secret = environ.get(value, "")
            if not secret:
                raise ConfigError(
                    f"{source.where}: {key} names the environment variable {value}, "
                    "which is not set (or empty)"
                )
            kwargs[key.removesuffix("_env")] = secret
        else:
            kwargs[key] = value
    params = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if "kind" in params or takes_any:
        kwargs["kind"] = source.kind
    accepted = sorted(
        n
        for n, p in params.items()
        if n not in COMMON and n not in NOT_OPTIONS and p.kind is not p.VAR_KEYWORD
    )
    unknown = sorted(k for k in kwargs if k in NOT_OPTIONS or (k not in params and not takes_any))
    if unknown:
        raise ConfigError(
            f"{source.where}: kind {source.kind!r} has no option {unknown[0]!r}; "
            f"its options: {', '.join(accepted) or '(none)'}"
        )
    missing = [
        n for n, p in params.items()
        if p.default is p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and n not in kwargs
    ]  # fmt: skip
    if missing:
        raise ConfigError(
            f"{source.where}: kind {source.kind!r} needs the option {missing[0]!r}"
            + (f" (or {missing[0]}_env)" if missing[0] in SECRET_OPTIONS else "")
        )
    try:
        collector = cls(**kwargs)
    except (ValueError, TypeError, ConfigError) as exc:
        text = exc.text if isinstance(exc, ConfigError) else str(exc)
        raise ConfigError(f"{source.where}: {text.removeprefix(source.name + ': ')}") from None
    return cast(Collector, collector)


def default_path(settings_path: Path | None, data_dir: Path) -> Path | None:
    """The config to use: NEWSROOM_FEEDS_CONFIG if set, else NEWSROOM_DATA_DIR/feeds.toml if
    that file exists, else none (the feeds process then runs the simulator)."""
    if settings_path is not None:
        return settings_path
    candidate = data_dir / "feeds.toml"
    return candidate if candidate.is_file() else None


# --- locating keys in the text, for error messages ----------------------------------------------
class _Locator:
    """Finds the line a [[source]] or [alerts] key is on (tomllib does not say)."""

    HEADER = re.compile(r"^\s*\[")

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.sources = [
            i for i, line in enumerate(self.lines) if re.match(r"^\s*\[\[\s*source\s*\]\]", line)
        ]
        self.alerts_at = [
            i for i, line in enumerate(self.lines) if re.match(r"^\s*\[\s*alerts[\s.\]]", line)
        ]

    def _key_line(self, start: int, key: str | None) -> int:
        if key is not None:
            pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
            for i in range(start + 1, len(self.lines)):
                if self.HEADER.match(self.lines[i]):
                    break
                if pattern.match(self.lines[i]):
                    return i + 1
        return start + 1

    def top(self, key: str) -> str:
        pattern = re.compile(rf"^\s*\[*\s*{re.escape(key)}\b")
        line = next((i + 1 for i, t in enumerate(self.lines) if pattern.match(t)), None)
        return f"{self.path}:{line}" if line else str(self.path)

    def source(self, index: int, key: str | None = None, name: str | None = None) -> str:
        label = f"[[source]] {name!r}" if name else f"[[source]] #{index + 1}"
        if index >= len(self.sources):
            return f"{self.path} {label}"
        return f"{self.path}:{self._key_line(self.sources[index], key)} {label}"

    def alerts(self, key: str) -> str:
        for start in self.alerts_at:
            line = self._key_line(start, key)
            if line != start + 1 or key in self.lines[start]:
                return f"{self.path}:{line} [alerts]"
        return f"{self.path} [alerts]"
