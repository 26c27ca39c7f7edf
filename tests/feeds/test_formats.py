"""The simulator's events survive the sources' real formats (feeds/formats.py)."""

from __future__ import annotations

import pytest

from dispatch import schema
from feeds import formats, webhooks
from feeds.sim_content import tracker_device

NOW = 1_795_700_000_000


def test_a_story_through_the_signed_cms_webhook_is_the_same_story() -> None:
    story = schema.Story(
        story_id="s-7",
        title="防汛调度会",
        stage="editing",
        channels=["app", "wechat"],
        byline="张丽",
        priority="high",
        updated_at=NOW - 3_600_000,  # an old update is still delivered now (sent_at)
        source="sim",
    )
    assert formats.story(story, NOW) == story


def test_traffic_through_the_analytics_push_and_the_access_log_adds_up_the_same() -> None:
    minute = NOW - NOW % 60_000 - 60_000
    windows = [
        schema.Traffic(story_id="s-7", channel="app", window_start=minute, views=41),
        schema.Traffic(channel="radio", window_start=minute, reach=5200),
        schema.Traffic(story_id="s-8", channel="web", window_start=minute, views=17),
    ]
    got = formats.traffic(windows, NOW)
    assert windows[:2] == [t for t in got if t.channel != "web"]
    web = [t for t in got if t.channel == "web"]  # from log lines: split by where readers came from
    assert {t.via for t in web} == {"search", "direct", "other"}
    assert {(t.story_id, t.window_start) for t in web} == {("s-8", minute)}
    assert sum(t.views for t in web) == 17


def test_more_traffic_than_one_push_may_carry_goes_as_several_pushes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    minute = NOW - NOW % 60_000 - 60_000
    windows = [
        schema.Traffic(story_id=f"s-{n}", channel="app", window_start=minute, views=n, shares=1)
        for n in range(1, 1501)
    ]
    bodies: list[bytes] = []
    parse = webhooks.parse_traffic

    def spy(body: bytes, now: int) -> list[schema.Traffic]:
        bodies.append(body)
        return parse(body, now)  # which refuses a body over either limit

    monkeypatch.setattr(webhooks, "parse_traffic", spy)
    assert formats.traffic(windows, NOW) == windows
    assert len(bodies) > 1 and max(len(b) for b in bodies) > webhooks.MAX_BODY_BYTES * 0.9


@pytest.mark.parametrize("reporter", ["r-sim-01", "r-sim-02"])
def test_a_fix_through_a_tracker_keeps_place_time_and_units(reporter: str) -> None:
    fix = schema.Location(
        reporter_id=reporter,
        lat=27.73412,
        lon=112.53301,
        accuracy_m=8.0,
        speed_mps=5.0,
        heading=90.0,
        battery=64.0,
        ts=NOW,
        received_at=NOW + 120,
        source="sim",
    )
    device = tracker_device(reporter)
    got = formats.location(fix, device)
    assert got.source == ("osmand" if device else "owntracks")
    assert (got.reporter_id, got.ts, got.received_at) == (reporter, NOW, NOW + 120)
    assert got.lat == pytest.approx(fix.lat, abs=1e-5)
    assert got.lon == pytest.approx(fix.lon, abs=1e-5)
    assert got.speed_mps == pytest.approx(5.0, abs=0.3)  # km/h or knots on the wire
    assert (got.heading, got.battery, got.accuracy_m) == (90.0, 64.0, 8.0)
