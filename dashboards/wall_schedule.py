"""The wall's channel deadline board and stage limits: a schedule file, or the defaults.

`NEWSROOM_DATA_DIR/schedule.toml` if present, else the built-in schedule typical of a county
centre. Times are China time (UTC+8, no daylight saving), "HH:MM". A slot is a moment (`at`:
a bulletin, the SMS newspaper's send) or a window (`from` and `until`: a WeChat push window):

    [[slot]]
    channel = "tv"          # one of dispatch.schema.CHANNELS
    at = "18:30"
    name = "湘乡新闻"         # optional; shown as written, in both languages

    [[slot]]
    channel = "wechat"
    from = "07:00"
    until = "08:00"

    [stage_limits]          # minutes a story may stay in a stage before the wall calls it stuck
    reporting = 240
    editing = 60
    review = 30

Slots in the file replace the built-in ones; a file without slots keeps them (and may set only
stage limits). A file that cannot be read is reported on the wall and the defaults are used.
The board's countdowns tick in the browser (assets/wall_kiosk.js), from the slots as minutes
of the day; `next_slot` is the same rule in Python for the first render and the tests.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatch import schema

log = logging.getLogger(__name__)

FILE_NAME = "schedule.toml"
UTC_OFFSET_MS = 8 * 3_600_000  # China time
DAY_MIN = 24 * 60
MINUTE_MS = 60_000
DEFAULT_STAGE_LIMITS_MIN: dict[str, float] = {"reporting": 240.0, "editing": 60.0, "review": 30.0}


@dataclass(frozen=True)
class Slot:
    """One moment (start == end) or window [start, end) of a channel, in minutes of the day."""

    channel: str
    start: int
    end: int
    name: str = ""

    @property
    def window(self) -> bool:
        return self.end != self.start


@dataclass(frozen=True)
class Schedule:
    slots: tuple[Slot, ...]
    stage_limits_min: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_LIMITS_MIN)
    )
    error: str = ""  # why the file was not used ("" when it was, or there is none)

    def channels(self) -> list[str]:
        """The board's rows: each channel once, in the order the slots first name it."""
        return list(dict.fromkeys(slot.channel for slot in self.slots))

    def slots_of(self, channel: str) -> list[Slot]:
        return [slot for slot in self.slots if slot.channel == channel]


def _hm(h: int, m: int) -> int:
    return h * 60 + m


DEFAULT_SLOTS: tuple[Slot, ...] = (
    Slot("tv", _hm(18, 30), _hm(18, 30)),
    Slot("tv", _hm(21, 0), _hm(21, 0)),
    Slot("radio", _hm(7, 0), _hm(7, 0)),
    Slot("radio", _hm(12, 0), _hm(12, 0)),
    Slot("radio", _hm(17, 30), _hm(17, 30)),
    Slot("sms", _hm(7, 30), _hm(7, 30)),
    Slot("wechat", _hm(7, 0), _hm(8, 0)),
    Slot("wechat", _hm(12, 0), _hm(12, 0)),
    Slot("wechat", _hm(18, 0), _hm(20, 0)),
)
DEFAULT = Schedule(DEFAULT_SLOTS)


class ScheduleError(ValueError):
    """The schedule file is not valid; the message says where and how to fix it."""


def parse_time(text: Any, where: str) -> int:
    """ "HH:MM" (00:00-23:59) as minutes of the day."""
    if isinstance(text, str):
        hours, _, minutes = text.strip().partition(":")
        if hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            h, m = int(hours), int(minutes)
            if 0 <= h < 24 and 0 <= m < 60:
                return _hm(h, m)
    raise ScheduleError(f'{where}: a time must look like "18:30" (China time), got {text!r}')


def _slot(raw: Any, index: int) -> Slot:
    where = f"slot {index + 1}"
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: must be a [[slot]] table")
    unknown = set(raw) - {"channel", "at", "from", "until", "name"}
    if unknown:
        raise ScheduleError(f"{where}: unknown keys {sorted(unknown)}")
    channel = raw.get("channel")
    if channel not in schema.CHANNELS:
        raise ScheduleError(f"{where}: channel must be one of {', '.join(schema.CHANNELS)}")
    name = raw.get("name", "")
    if not isinstance(name, str) or len(name) > 40:
        raise ScheduleError(f"{where}: name must be a string of at most 40 characters")
    if "at" in raw and not ({"from", "until"} & set(raw)):
        at = parse_time(raw["at"], where)
        return Slot(channel, at, at, name)
    if {"from", "until"} <= set(raw) and "at" not in raw:
        start, end = parse_time(raw["from"], where), parse_time(raw["until"], where)
        if end == start:
            raise ScheduleError(f"{where}: a window must end after it starts")
        return Slot(channel, start, end, name)
    raise ScheduleError(f"{where}: give either `at`, or `from` and `until`")


def _limits(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ScheduleError("[stage_limits] must be a table of stage = minutes")
    out = dict(DEFAULT_STAGE_LIMITS_MIN)
    for stage, minutes in raw.items():
        if stage not in schema.STAGES:
            raise ScheduleError(f"[stage_limits]: unknown stage {stage!r}")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
            raise ScheduleError(f"[stage_limits]: {stage} must be minutes (0 turns it off)")
        out[stage] = float(minutes)
    return {stage: limit for stage, limit in out.items() if limit > 0}


def parse(data: dict[str, Any]) -> Schedule:
    """A schedule from the parsed TOML; raises ScheduleError."""
    unknown = set(data) - {"slot", "stage_limits"}
    if unknown:
        raise ScheduleError(
            f"unknown tables or keys {sorted(unknown)} (use [[slot]], [stage_limits])"
        )
    raw_slots = data.get("slot", [])
    if not isinstance(raw_slots, list) or len(raw_slots) > 100:
        raise ScheduleError("[[slot]] must be a list of at most 100 tables")
    slots = tuple(_slot(raw, i) for i, raw in enumerate(raw_slots)) or DEFAULT_SLOTS
    limits = _limits(data.get("stage_limits", {}))
    return Schedule(slots, limits)


def load(data_dir: Path) -> Schedule:
    """The schedule of `data_dir/schedule.toml`, or the defaults (with `error` set if the file
    exists but cannot be used)."""
    path = data_dir / FILE_NAME
    if not path.is_file():
        return DEFAULT
    try:
        with path.open("rb") as f:
            return parse(tomllib.load(f))
    except (OSError, tomllib.TOMLDecodeError, ScheduleError) as exc:
        log.warning("wall: %s is not used: %s", path, exc)
        return Schedule(DEFAULT_SLOTS, error=f"{FILE_NAME}: {exc}")


# --- countdowns (the same rule as assets/wall_kiosk.js) ---------------------------------------
def minute_of_day(now_ms: int) -> float:
    """China-time minutes since midnight, with the seconds as a fraction."""
    return ((now_ms + UTC_OFFSET_MS) % (DAY_MIN * MINUTE_MS)) / MINUTE_MS


@dataclass(frozen=True)
class Next:
    slot: Slot
    open: bool  # inside the window now
    ms: int  # until it starts (or, when open, until it closes)


def next_slot(slots: list[Slot], now_ms: int) -> Next | None:
    """An open window first (the one closing soonest), else the slot starting soonest."""
    now = minute_of_day(now_ms)
    best: Next | None = None
    for slot in slots:
        inside = slot.window and (
            slot.start <= now < slot.end
            if slot.start < slot.end
            else now >= slot.start or now < slot.end
        )  # a window across midnight
        if inside:
            left = ((slot.end - now) % DAY_MIN) * MINUTE_MS
            candidate = Next(slot, True, round(left))
        else:
            wait = (slot.start - now) % DAY_MIN
            candidate = Next(slot, False, round(wait * MINUTE_MS))
        if best is None or (candidate.open, -candidate.ms) > (best.open, -best.ms):
            best = candidate
    return best


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def countdown(ms: int) -> str:
    """ "1:05:09" or "05:09"."""
    seconds = max(0, ms // 1000)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
