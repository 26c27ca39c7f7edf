"""Derived alerts: conditions no single event shows, found by looking at the state every 30 s.

- `traffic_spike`: a story read far more in the last few minutes than it usually is;
- `story_overdue`: a story in a stage (reporting, editing, review …) past the stage's limit;
- `location_stale` / `battery_low`: a reporter on a task (accepted, en route, on scene) whose
  last fix is old, or whose battery is low.

The rules are pure functions of plain values and `now`. `DerivedAlertsCollector` is their I/O
shell, run by the feeds runner like any collector: it reads the state, applies the rules and
raises each finding with `escalation.raise_alert`, at most once per `repeat_min` for the same
condition (a SET NX with a TTL on `keys.derived_alert`), so an ongoing condition is not raised
again every cycle. The texts are in the server's language (NEWSROOM_LANG).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import redis.asyncio as aioredis

from dispatch import escalation, reporters, schema, stories, tasks
from dispatch.clock import now_ms
from dispatch.errors import NotFound
from dispatch.keys import Keys

MINUTE_MS = 60_000
MIN_BASELINE_MIN = 30  # a story needs this much history before its traffic can "spike"
ON_TASK = ("accepted", "en_route", "on_scene")
SPIKE_CANDIDATES = 50  # the most read stories of the recent window are checked


@dataclass(frozen=True)
class AlertSettings:
    """The [alerts] table of the feeds config; every field has a default."""

    enabled: bool = True
    interval_s: float = 30.0  # how often the rules run
    repeat_min: float = 30.0  # an ongoing condition is raised again at most this often
    spike_factor: float = 3.0  # recent views per minute ≥ this × the story's usual rate
    spike_min_views: float = 200  # ... and at least this many views in the recent window
    spike_recent_min: float = 5  # the recent window, minutes
    spike_baseline_min: float = 55  # the usual rate: median views per minute before the window
    stage_limits_min: dict[str, float] = field(
        default_factory=lambda: {"reporting": 240.0, "editing": 60.0, "review": 30.0}
    )
    fix_stale_min: float = 10.0  # a reporter on a task without a fix for this long
    battery_low: float = 15.0  # a reporter on a task with less battery than this (percent)

    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        "interval_s": (5, 3600),
        "repeat_min": (1, 24 * 60),
        "spike_factor": (1.1, 1000),
        "spike_min_views": (0, 10**9),
        "spike_recent_min": (1, 30),
        "spike_baseline_min": (MIN_BASELINE_MIN, 240),
        "fix_stale_min": (1, 24 * 60),
        "battery_low": (0, 100),
    }


@dataclass(frozen=True)
class Finding:
    """One alert to raise: `kind`, `subject` and `text` as the alert carries them; `key` says
    which condition it is (for de-duplication), e.g. a story and its stage."""

    kind: str
    subject: str
    key: str
    text: str
    severity: schema.Severity = "warning"


# --- texts ---------------------------------------------------------------------------------------
TEXTS: dict[str, dict[str, str]] = {
    "traffic_spike": {
        "en": "“{title}”: traffic spike, {views} views in the last {window} min, "
        "{times:.1f}× its usual {usual:g}/min",
        "zh": "“{title}”流量突增: 近{window}分钟阅读量 {views}, 是平时 ({usual:g}/分钟) 的 "
        "{times:.1f} 倍",
    },
    "story_overdue": {
        "en": "“{title}” has been in {stage} for {age} (limit {limit:g} min)",
        "zh": "“{title}”处于「{stage}」已 {age} (时限 {limit:g} 分钟)",
    },
    "location_stale": {
        "en": "{name} (task “{task}”, {state}): no location for {age}",
        "zh": "{name} (任务“{task}”, {state}): 已 {age} 没有定位",
    },
    "location_none": {
        "en": "{name} (task “{task}”, {state}): no location yet",
        "zh": "{name} (任务“{task}”, {state}): 尚无定位",
    },
    "battery_low": {
        "en": "{name} (task “{task}”, {state}): battery at {battery:.0f}%",
        "zh": "{name} (任务“{task}”, {state}): 电量仅剩 {battery:.0f}%",
    },
}
# The stage and task-state names as the alert texts say them (the dashboards have their own).
NAMES_ZH = {
    "lead": "线索", "pitched": "选题", "assigned": "已派单", "reporting": "采访中",
    "filed": "已交稿", "editing": "编辑中", "review": "审核", "published": "已发布",
    "spiked": "已撤稿", "corrected": "已更正",
    "accepted": "已接单", "en_route": "在途", "on_scene": "已到达现场",
}  # fmt: skip


def _text(key: str, lang: str, **values: Any) -> str:
    table = TEXTS[key]
    return (table.get(lang) or table["en"]).format(**values)


def _name(code: str, lang: str) -> str:
    return NAMES_ZH.get(code, code) if lang == "zh" else code.replace("_", " ")


def age_text(ms: int, lang: str) -> str:
    """'2 h 5 min' / '2小时5分钟'."""
    minutes = max(0, ms // MINUTE_MS)
    hours, rest = divmod(minutes, 60)
    if lang == "zh":
        return f"{hours}小时{rest}分钟" if hours else f"{rest}分钟"
    return f"{hours} h {rest} min" if hours else f"{rest} min"


# --- rules ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spike:
    views: int  # in the recent window
    usual: float  # the story's usual views per minute (at least 1)
    times: float  # recent views per minute / usual


def spike(
    series: Sequence[int],
    factor: float,
    min_views: float,
    recent_min: int = 5,
    baseline_min: int = 55,
) -> Spike | None:
    """Whether a story's per-minute views (oldest first, the current minute last) spike.

    The minutes before the story's first view are not its baseline (it was not out yet), and
    a story needs MIN_BASELINE_MIN minutes of history. The baseline is the median views per
    minute of up to `baseline_min` minutes before the recent window (the median, so an
    earlier spike does not raise it), at least 1. It spikes when the recent window has at
    least `min_views` views and `factor` times the baseline rate.
    """
    recent_min, baseline_min = max(1, int(recent_min)), max(1, int(baseline_min))
    first = next((i for i, v in enumerate(series) if v > 0), len(series))
    history = list(series[first:])
    if len(history) < recent_min + min(MIN_BASELINE_MIN, baseline_min):
        return None
    recent = history[-recent_min:]
    baseline = history[-recent_min - baseline_min : -recent_min]
    views = sum(recent)
    if views < min_views:
        return None
    usual = max(float(statistics.median(baseline)), 1.0)
    times = views / recent_min / usual
    return Spike(views, usual, times) if times >= factor else None


def spike_finding(story_id: str, title: str, found: Spike, window: int, lang: str) -> Finding:
    text = _text(
        "traffic_spike",
        lang,
        title=title,
        views=found.views,
        window=window,
        times=found.times,
        usual=round(found.usual, 1),
    )
    return Finding("traffic_spike", story_id, story_id, text, "info")


def overdue_stories(
    all_stories: Iterable[Mapping[str, Any]],
    limits_min: Mapping[str, float],
    now: int,
    lang: str = "en",
) -> list[Finding]:
    """Stories whose stage has a limit and that have not moved (updated_at) for longer."""
    found = []
    for story in all_stories:
        stage, updated = story.get("stage"), story.get("updated_at")
        limit = limits_min.get(stage or "")
        if not limit or not isinstance(updated, int) or now - updated <= limit * MINUTE_MS:
            continue
        text = _text(
            "story_overdue",
            lang,
            title=story.get("title") or story["story_id"],
            stage=_name(str(stage), lang),
            age=age_text(now - updated, lang),
            limit=limit,
        )
        found.append(
            Finding("story_overdue", story["story_id"], f"{story['story_id']}:{stage}", text)
        )
    return found


def reporter_findings(
    open_tasks: Iterable[Mapping[str, Any]],
    profiles: Mapping[str, Mapping[str, Any]],
    fix_stale_min: float,
    battery_low: float,
    now: int,
    lang: str = "en",
) -> list[Finding]:
    """Reporters on a task (accepted, en route, on scene) with an old fix or a low battery;
    at most one finding of each kind per reporter."""
    found: dict[tuple[str, str], Finding] = {}
    for task in sorted(open_tasks, key=lambda t: t.get("created_at") or 0):
        rid = task.get("assignee")
        rep = profiles.get(rid or "")
        if task.get("state") not in ON_TASK or rep is None or rid is None:
            continue
        about = {
            "name": rep.get("name") or rid,
            "task": task.get("title") or task.get("task_id"),
            "state": _name(str(task["state"]), lang),
        }
        fix_ts = rep.get("fix_ts")
        if not isinstance(fix_ts, int):
            text = _text("location_none", lang, **about)
            found.setdefault(("location_stale", rid), Finding("location_stale", rid, rid, text))
        elif now - fix_ts > fix_stale_min * MINUTE_MS:
            text = _text("location_stale", lang, age=age_text(now - fix_ts, lang), **about)
            found.setdefault(("location_stale", rid), Finding("location_stale", rid, rid, text))
        battery = rep.get("battery")
        if isinstance(battery, int | float) and battery < battery_low:
            text = _text("battery_low", lang, battery=battery, **about)
            found.setdefault(("battery_low", rid), Finding("battery_low", rid, rid, text))
    return list(found.values())


# --- the collector -------------------------------------------------------------------------------
async def raise_once(r: aioredis.Redis, keys: Keys, finding: Finding, repeat_s: int) -> bool:
    """Raise the finding unless the same condition was raised in the last `repeat_s` seconds.
    True if it was raised now."""
    mark = keys.derived_alert(finding.kind, finding.key)
    if not await r.set(mark, str(now_ms()), nx=True, ex=max(1, repeat_s)):
        return False
    try:
        await escalation.raise_alert(
            r, keys, finding.kind, finding.subject, finding.text, finding.severity
        )
    except BaseException:
        await r.delete(mark)  # not raised after all: the next cycle tries again
        raise
    return True


class DerivedAlertsCollector:
    """Runs the rules every `settings.interval_s` seconds; `step` returns the alerts raised."""

    kind = "derived-alerts"

    def __init__(
        self, settings: AlertSettings | None = None, lang: str = "zh", name: str = "derived-alerts"
    ) -> None:
        self.settings = settings or AlertSettings()
        self.name = name
        self.interval_s = float(self.settings.interval_s)
        self.lang = lang

    async def findings(self, r: aioredis.Redis, keys: Keys, now: int) -> list[Finding]:
        """Everything the rules find in the current state."""
        s = self.settings
        by_id = {story["story_id"]: story for story in await stories.all_stories(r, keys)}
        found = await self._spikes(r, keys, now, by_id)
        found += overdue_stories(by_id.values(), s.stage_limits_min, now, self.lang)
        open_now = await tasks.open_tasks(r, keys, limit=2000)
        assignees = {t["assignee"] for t in open_now if t.get("assignee") and t["state"] in ON_TASK}
        profiles: dict[str, Mapping[str, Any]] = {}
        for rid in sorted(assignees):
            try:
                profiles[rid] = await reporters.get(r, keys, rid)
            except NotFound:
                continue
        found += reporter_findings(
            open_now, profiles, s.fix_stale_min, s.battery_low, now, self.lang
        )
        return found

    async def _spikes(
        self, r: aioredis.Redis, keys: Keys, now: int, by_id: Mapping[str, Mapping[str, Any]]
    ) -> list[Finding]:
        s = self.settings
        recent, baseline = int(s.spike_recent_min), int(s.spike_baseline_min)
        top = await stories.top_stories(r, keys, minutes=recent, limit=SPIKE_CANDIDATES, now=now)
        found = []
        for row in top:
            if row["views"] < s.spike_min_views:
                continue
            by_channel = await stories.story_traffic(
                r, keys, row["story_id"], minutes=recent + baseline, now=now
            )
            series = [sum(minute) for minute in zip(*by_channel.values(), strict=True)]
            hit = spike(series, s.spike_factor, s.spike_min_views, recent, baseline)
            if hit is not None:
                title = by_id.get(row["story_id"], {}).get("title") or row["story_id"]
                found.append(spike_finding(row["story_id"], title, hit, recent, self.lang))
        return found

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        if not self.settings.enabled:
            return 0
        repeat_s = int(self.settings.repeat_min * 60)
        raised = 0
        for finding in await self.findings(r, keys, now_ms()):
            raised += await raise_once(r, keys, finding, repeat_s)
        return raised
