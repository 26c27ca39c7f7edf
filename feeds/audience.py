"""The simulated audience: how many people each channel reaches, minute by minute (pure).

The curve follows the wall clock in China time (UTC+8), whatever the simulator's rate: a
faster newsroom publishes more, but the county does not wake up faster.
"""

from __future__ import annotations

import math
import random
from typing import cast

from dispatch.schema import CHANNELS, Channel, Traffic

CHINA_UTC_OFFSET_H = 8
MINUTE_MS = 60_000
ALL_CHANNELS = cast(tuple[Channel, ...], CHANNELS)

# Views (or reach) per minute at the evening peak, for a county of about 900,000 people.
PEAK_PER_MIN: dict[str, float] = {
    "app": 900,
    "web": 450,
    "wechat": 1600,
    "weibo": 500,
    "douyin": 2600,
    "sms": 350,
    "radio": 1500,
    "tv": 3200,
}
# Broadcast and SMS count people reached, not page views.
REACH_CHANNELS = frozenset({"sms", "radio", "tv"})
# Heights of the (morning, noon, evening) peaks: radio lives on the morning drive, TV on
# the evening news, the SMS paper goes out at breakfast.
_PEAKS: dict[str, tuple[float, float, float]] = {
    "radio": (1.0, 0.5, 0.4),
    "tv": (0.2, 0.5, 1.0),
    "sms": (1.0, 0.3, 0.6),
}
_DEFAULT_PEAKS = (0.6, 0.75, 1.0)
_PEAK_HOURS = (7.5, 12.3, 20.5)
_PEAK_WIDTHS = (1.2, 1.0, 1.8)
NIGHT_FLOOR = 0.04
_SHARE_RATIO = {"wechat": 0.05, "weibo": 0.04, "douyin": 0.03}


def china_hour(ts_ms: int) -> float:
    """Hour of day (0-24, fractional) in China time."""
    return (ts_ms / 3_600_000 + CHINA_UTC_OFFSET_H) % 24


def daily_factor(ts_ms: int, channel: str = "app") -> float:
    """The share of the peak audience awake and reading at `ts_ms`: about 0.04 at night, 1 at
    the channel's highest peak."""
    hour = china_hour(ts_ms)
    total = NIGHT_FLOOR
    heights = _PEAKS.get(channel, _DEFAULT_PEAKS)
    for height, centre, width in zip(heights, _PEAK_HOURS, _PEAK_WIDTHS, strict=True):
        d = min(abs(hour - centre), 24 - abs(hour - centre))  # the day wraps at midnight
        total += height * math.exp(-0.5 * (d / width) ** 2)
    return min(total, 1.0)


def expected_per_min(ts_ms: int, channel: str) -> float:
    """Mean views (or reach) per minute on `channel` at `ts_ms`, before noise and spikes."""
    return PEAK_PER_MIN[channel] * daily_factor(ts_ms, channel)


def make_traffic(
    channel: Channel,
    amount: int,
    window_start: int,
    window_s: int,
    rng: random.Random,
    story_id: str | None = None,
) -> Traffic:
    """One traffic window: views with visitors, shares and engaged seconds, or reach."""
    window_s = max(1, min(window_s, 86_400))
    if channel in REACH_CHANNELS:
        return Traffic(
            channel=channel,
            story_id=story_id,
            window_start=window_start,
            window_s=window_s,
            views=0,
            reach=amount,
        )
    return Traffic(
        channel=channel,
        story_id=story_id,
        window_start=window_start,
        window_s=window_s,
        views=amount,
        visitors=round(amount * rng.uniform(0.55, 0.8)),
        shares=round(amount * _SHARE_RATIO.get(channel, 0.01) * rng.uniform(0.5, 1.5)),
        engaged_s=round(amount * rng.uniform(25, 70)),
    )


def noise(rng: random.Random) -> float:
    """Minute-to-minute wobble: log-normal, about ±10 %."""
    return math.exp(rng.gauss(0, 0.1))


def history(seed: int, now_ms: int, minutes: int = 60) -> list[Traffic]:
    """Whole-minute windows for every channel over the `minutes` before the current minute,
    oldest first, so a wall started now has an hour to draw. Deterministic per (seed, minute,
    channel) and independent of the live simulation's random stream."""
    current = now_ms - now_ms % MINUTE_MS
    out = []
    for k in range(minutes, 0, -1):
        start = current - k * MINUTE_MS
        for channel in ALL_CHANNELS:
            rng = random.Random(f"history:{seed}:{start}:{channel}")
            amount = round(expected_per_min(start, channel) * noise(rng))
            out.append(make_traffic(channel, amount, start, 60, rng))
    return out
