"""A simulated county newsroom: reporters on the move, stories through the pipeline, audience.

Pure and deterministic: no I/O and no clock. `Newsroom.step(now_ms, dt_s)` advances the model
and returns the schema events that happened. Inside, it is a discrete-event simulation on its
own clock (seconds since the start, advancing `dt_s * rate` per step): every happening is
scheduled at an exact simulated time and processed in time order, so the same seed gives the
same events however the caller slices time. Events are stamped with wall-clock milliseconds,
mapped linearly onto the step's window `[now_ms - dt_s*1000, now_ms]`.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import get_args

from dispatch.schema import (
    FINISHED_STAGES,
    Channel,
    Duty,
    Location,
    Priority,
    Stage,
    Story,
    Traffic,
)
from feeds import audience
from feeds.sim_content import Profile, profile, story_title
from feeds.sim_field import HOME_RADIUS_M, LOW_BATTERY, FieldReporter, random_point

SimEvent = Location | Duty | Story | Traffic

PIPELINE: tuple[Stage, ...] = get_args(Stage)[:8]  # lead … published, the normal path
# Minutes (simulated) a story spends in each stage before the next one.
STAGE_MINUTES: dict[str, tuple[float, float]] = {
    "lead": (3, 20),
    "pitched": (2, 15),
    "assigned": (5, 20),
    "reporting": (15, 60),
    "filed": (2, 10),
    "editing": (5, 30),
    "review": (3, 15),
}
BREAKING_PACE = 0.25  # breaking news skips the queue
SPIKE_CHANCE = 0.03  # per step out of lead/pitched/assigned/reporting: ~11 % are spiked
CORRECT_CHANCE = 0.06  # published stories that need a correction later
FIX_MOVING_S, FIX_STILL_S = 5.0, 30.0  # like OwnTracks' move mode / significant changes
TRAFFIC_EVERY_S = 15.0
# A finished story (published, spiked, corrected) draws readers and is remembered for a day
# after it finished, then forgotten: a simulator that runs for weeks holds a day of stories.
STORY_KEPT_S = 24 * 3600.0
READ_HALF_LIFE_S = 3 * 3600.0  # a published story's readership halves every three hours
STORY_SHARE = 0.6  # of a channel's audience that reads published stories (the rest: front pages)
SHIFT_H, BREAK_MIN = (2.0, 5.0), (20.0, 120.0)
DWELL_MIN = (2.0, 20.0)  # time on scene before moving on
SPIKE_MIN, SPIKE_PEAK = (3.0, 8.0), (2.0, 5.0)
_DIGITAL: tuple[Channel, ...] = ("app", "web", "wechat")
_SPIKABLE = frozenset({"lead", "pitched", "assigned", "reporting"})  # before anything is filed


@dataclass
class _Story:
    story_id: str
    title: str
    desk: str
    priority: Priority
    stage: Stage = "lead"
    channels: list[Channel] = field(default_factory=list)
    byline: str = ""
    deadline: int | None = None
    last_ts: int = 0
    appeal: float = 0.0  # how much of its channels' audience it draws once published
    done_at: float | None = None  # simulated time it was published, spiked or corrected
    published_at: float = 0.0  # simulated time it was (first) published

    def event(self, ts: int) -> Story:
        self.last_ts = max(ts, self.last_ts + 1)  # updated_at must grow, or the update is a no-op
        return Story(
            story_id=self.story_id,
            title=self.title,
            stage=self.stage,
            desk=self.desk,
            channels=list(self.channels),
            byline=self.byline,
            deadline=self.deadline,
            priority=self.priority,
            updated_at=self.last_ts,
            source="sim",
        )


@dataclass
class _Spike:
    story_id: str
    channels: tuple[Channel, ...]
    start: float
    end: float
    peak: float


class Newsroom:
    """The simulated newsroom. `step()` returns Location (source "sim"), Duty, Story (source
    "sim") and Traffic events; `roster()` the reporter profiles to register first.

    `rate` speeds up the newsroom (movement, stories, breaking-news spikes: rate 10 gives ten
    times the events), not the audience's day, which follows the wall clock. `stories` is the
    size of the board at the start; a new lead appears whenever a story is published or
    spiked, so the number in progress stays the same. The first call, `step(start_ms, 0)`,
    returns the initial state: every reporter's duty, first fixes and every story.
    """

    def __init__(
        self, seed: int, start_ms: int, rate: float = 1.0, reporters: int = 30, stories: int = 40
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.seed, self.rate, self.start_ms = seed, rate, start_ms
        self._rng = random.Random(seed)
        self._queue: list[tuple[float, int, str, str, int]] = []
        self._seq = 0
        self._t = 0.0  # simulated seconds since the start
        self._now_ms = start_ms  # the current step's end, for mapping simulated time to ms
        self._out: list[SimEvent] = []
        self._profiles = [profile(n) for n in range(1, reporters + 1)]
        self._field: dict[str, FieldReporter] = {}
        self._stories: dict[str, _Story] = {}
        self._spikes: list[_Spike] = []
        self._next_story = 1
        self._traffic_from = start_ms
        self._carry: dict[Channel, float] = {ch: 0.0 for ch in audience.ALL_CHANNELS}
        for p in self._profiles:
            self._add_reporter(p)
        for _ in range(stories):
            self._add_story(0.0, initial=True)
        self._schedule(TRAFFIC_EVERY_S, "traffic")

    # --- public ----------------------------------------------------------------------------
    def roster(self) -> list[Profile]:
        """The reporters to register before the first step (the same for every seed)."""
        return list(self._profiles)

    def history(self, now_ms: int, minutes: int = 60) -> list[Traffic]:
        """Per-minute traffic for the `minutes` before `now_ms`, to backfill the wall's chart."""
        return audience.history(self.seed, now_ms, minutes)

    def step(self, now_ms: int, dt_s: float) -> list[SimEvent]:
        """Advance by `dt_s` wall-clock seconds ending at `now_ms`; return the events, in order."""
        if dt_s < 0:
            raise ValueError(f"dt_s must not be negative, got {dt_s}")
        self._now_ms, self._out = now_ms, []
        self._t += dt_s * self.rate
        while self._queue and self._queue[0][0] <= self._t:
            t, _, kind, key, gen = heapq.heappop(self._queue)
            getattr(self, "_on_" + kind)(t, key, gen)
        return self._out

    # --- scheduling ------------------------------------------------------------------------
    def _schedule(self, t: float, kind: str, key: str = "", gen: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, kind, key, gen))

    def _ts(self, t: float) -> int:
        """Wall-clock ms of simulated time `t` within the current step."""
        return round(self._now_ms - (self._t - t) * 1000 / self.rate)

    def _minutes(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high) * 60

    # --- reporters -------------------------------------------------------------------------
    def _add_reporter(self, p: Profile) -> None:
        rng = self._rng
        rep = FieldReporter(
            p,
            home=random_point(rng, HOME_RADIUS_M),
            battery=rng.uniform(45, 100),
            on_duty=rng.random() < 0.85,
        )
        self._field[p.reporter_id] = rep
        self._schedule(0.0, "announce", p.reporter_id, rep.gen)
        # Spread the first duty changes over a shift so they do not all happen at once.
        span = SHIFT_H[1] * 3600 if rep.on_duty else BREAK_MIN[1] * 60
        self._schedule(rng.uniform(0.05, 1) * span, "duty", p.reporter_id, rep.gen)

    def _on_announce(self, t: float, rid: str, gen: int) -> None:
        rep = self._field[rid]
        self._out.append(Duty(reporter_id=rid, on_duty=rep.on_duty, at=self._ts(t)))
        if rep.on_duty:
            self._start_shift(t, rep, first=True)

    def _start_shift(self, t: float, rep: FieldReporter, first: bool = False) -> None:
        rid = rep.profile.reporter_id
        self._schedule(t, "fix", rid, rep.gen)
        self._schedule(t + self._minutes(0, 10 if first else 3), "depart", rid, rep.gen)

    def _on_fix(self, t: float, rid: str, gen: int) -> None:
        rep = self._field[rid]
        if gen != rep.gen or not rep.on_duty:
            return
        self._out.append(rep.fix(t, self._ts(t), self._rng))
        if rep.battery < LOW_BATTERY:  # goes off duty to charge
            self._schedule(t, "duty", rid, rep.gen)
        self._schedule(t + (FIX_MOVING_S if rep.moving else FIX_STILL_S), "fix", rid, rep.gen)

    def _on_depart(self, t: float, rid: str, gen: int) -> None:
        rep = self._field[rid]
        if gen == rep.gen and rep.on_duty:
            self._schedule(rep.depart(t, self._rng), "arrive", rid, gen)

    def _on_arrive(self, t: float, rid: str, gen: int) -> None:
        rep = self._field[rid]
        if gen == rep.gen and rep.on_duty:
            rep.arrive(t)
            self._schedule(t + self._minutes(*DWELL_MIN), "depart", rid, gen)

    def _on_duty(self, t: float, rid: str, gen: int) -> None:
        rep = self._field[rid]
        if gen != rep.gen:
            return
        rep.set_duty(t, not rep.on_duty)
        self._out.append(Duty(reporter_id=rid, on_duty=rep.on_duty, at=self._ts(t)))
        if rep.on_duty:
            self._start_shift(t, rep)
            self._schedule(t + self._rng.uniform(*SHIFT_H) * 3600, "duty", rid, rep.gen)
        else:  # the break lasts at least until the phone is back to 60 %
            charge_s = max(0.0, 60 - rep.battery) / 35 * 3600
            self._schedule(t + max(self._minutes(*BREAK_MIN), charge_s), "duty", rid, rep.gen)

    # --- stories ---------------------------------------------------------------------------
    def _add_story(self, t: float, initial: bool = False) -> None:
        rng = self._rng
        priority: Priority = rng.choices(("normal", "high", "breaking"), (75, 20, 5))[0]
        title, desk = story_title(rng, priority == "breaking")
        story = _Story(f"s-sim-{self._next_story:02d}", title, desk, priority)
        self._next_story += 1
        self._forget_finished(t)
        self._stories[story.story_id] = story
        if initial:  # the board at the start is mid-flow, with some stories already out
            story.stage = rng.choices(PIPELINE, (4, 3, 3, 4, 2, 3, 2, 5))[0]
            if PIPELINE.index(story.stage) >= PIPELINE.index("assigned"):
                story.byline = rng.choice(self._profiles).name if self._profiles else ""
            if story.stage == "published":
                story.channels = self._channels(story)
                story.done_at = t
        self._schedule(t, "announce_story", story.story_id)

    def _forget_finished(self, t: float) -> None:
        old = [
            sid
            for sid, story in self._stories.items()
            if story.done_at is not None and t - story.done_at > STORY_KEPT_S
        ]
        for sid in old:
            del self._stories[sid]

    def _on_announce_story(self, t: float, sid: str, _gen: int) -> None:
        story = self._stories[sid]
        self._out.append(story.event(self._ts(t)))
        if story.stage != "published":
            fraction = self._rng.random() if t == 0.0 else 1.0  # mid-stage at the start
            self._schedule(t + fraction * self._stage_s(story), "stage", sid)

    def _stage_s(self, story: _Story) -> float:
        pace = BREAKING_PACE if story.priority == "breaking" else 1.0
        return self._minutes(*STAGE_MINUTES[story.stage]) * pace

    def _channels(self, story: _Story) -> list[Channel]:
        if story.priority == "breaking":
            return list(audience.ALL_CHANNELS)
        odds: tuple[tuple[Channel, float], ...] = (
            ("weibo", 0.5),
            ("douyin", 0.6),
            ("sms", 0.2),
            ("radio", 0.3),
            ("tv", 0.3 if story.priority == "high" else 0.1),
        )
        return [*_DIGITAL, *(ch for ch, p in odds if self._rng.random() < p)]

    def _on_stage(self, t: float, sid: str, _gen: int) -> None:
        story, rng = self._stories[sid], self._rng
        if story.stage == "published":  # a correction after publication
            story.stage = "corrected"
        elif story.stage in _SPIKABLE and rng.random() < SPIKE_CHANCE:
            story.stage = "spiked"
        else:
            story.stage = PIPELINE[PIPELINE.index(story.stage) + 1]
        if story.stage == "assigned":
            story.byline = rng.choice(self._profiles).name if self._profiles else ""
            remaining = sum(sum(STAGE_MINUTES[s]) / 2 for s in PIPELINE[2:7]) * 60
            story.deadline = self._ts(t + remaining)
        if story.stage == "published":
            story.channels = self._channels(story)
            story.appeal = rng.paretovariate(1.6)  # a few stories are read far more
            story.published_at = t
            if story.priority == "breaking":
                end = t + self._minutes(*SPIKE_MIN)
                self._spikes.append(
                    _Spike(sid, tuple(story.channels), t, end, rng.uniform(*SPIKE_PEAK))
                )
            if rng.random() < CORRECT_CHANCE:
                self._schedule(t + self._minutes(10, 60), "stage", sid)
        if story.stage in FINISHED_STAGES:
            story.done_at = t
        self._out.append(story.event(self._ts(t)))
        if story.stage in ("published", "spiked"):
            self._add_story(t)
        elif story.stage != "corrected":
            self._schedule(t + self._stage_s(story), "stage", sid)

    # --- audience --------------------------------------------------------------------------
    def _on_traffic(self, t: float, _key: str, _gen: int) -> None:
        start, end = self._traffic_from, max(self._ts(t), self._traffic_from)
        self._traffic_from = end
        window_s = round((end - start) / 1000)
        self._spikes = [s for s in self._spikes if s.end > t]
        for ch in audience.ALL_CHANNELS:
            base = audience.expected_per_min((start + end) // 2, ch) * (end - start) / 60_000
            base *= audience.noise(self._rng)
            amount = self._take(ch, base)
            for story_id, part in self._readers(ch, amount, t):
                self._out.append(
                    audience.make_traffic(ch, part, start, window_s, self._rng, story_id=story_id)
                )
            for spike in self._spikes:
                if ch in spike.channels:
                    boost = spike.peak * (spike.end - t) / (spike.end - spike.start)
                    extra = self._take(ch, base * boost)
                    self._out.append(
                        audience.make_traffic(
                            ch, extra, start, window_s, self._rng, story_id=spike.story_id
                        )
                    )
        self._schedule(t + TRAFFIC_EVERY_S, "traffic")

    def _readers(self, ch: Channel, amount: int, t: float) -> list[tuple[str | None, int]]:
        """Split a channel's audience: STORY_SHARE of it over the published stories on that
        channel by their appeal, fading with their age (READ_HALF_LIFE_S), the rest to no story
        (front pages, live streams, programmes)."""
        read = [
            (s, s.appeal * 0.5 ** ((t - s.published_at) / READ_HALF_LIFE_S))
            for s in self._stories.values()
            if s.appeal and ch in s.channels and s.stage in ("published", "corrected")
        ]
        total = sum(weight for _, weight in read)
        out: list[tuple[str | None, int]] = []
        left = amount
        for story, weight in read:
            part = int(amount * STORY_SHARE * weight / total)
            if part:
                out.append((story.story_id, part))
                left -= part
        return [*out, (None, left)]

    def _take(self, ch: Channel, amount: float) -> int:
        """Whole views out of a fractional amount, carrying the rest, so short windows at high
        rates neither lose nor invent audience."""
        total = amount + self._carry[ch]
        whole = int(total)
        self._carry[ch] = total - whole
        return whole
