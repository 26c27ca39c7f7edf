"""The deadline board's schedule: the file, its defaults and the countdown rule (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import wall_schedule as ws
from dashboards.wall_schedule import Slot

MINUTE = 60_000
DAY = 24 * 60 * MINUTE
NOW = 1_800_000_000_000
MIDNIGHT_CN = NOW - (NOW + 8 * 3_600_000) % DAY  # a midnight in China (16:00 UTC)


def at(hh: int, mm: int, ss: int = 0) -> int:
    return MIDNIGHT_CN + ((hh * 60 + mm) * 60 + ss) * 1000


def test_the_defaults_are_a_county_centres_day() -> None:
    schedule = ws.load(Path("/nonexistent"))
    assert schedule.channels() == ["tv", "radio", "sms", "wechat"]
    assert [ws.hhmm(s.start) for s in schedule.slots_of("tv")] == ["18:30", "21:00"]
    assert schedule.stage_limits_min == {"reporting": 240, "editing": 60, "review": 30}
    assert schedule.error == ""


def test_china_time_whatever_the_server_zone() -> None:
    assert ws.minute_of_day(at(7, 30)) == 450
    assert ws.minute_of_day(at(23, 59, 30)) == pytest.approx(1439.5)


def test_the_next_bulletin_and_an_open_window() -> None:
    slots = list(ws.DEFAULT_SLOTS)
    tv = ws.next_slot([s for s in slots if s.channel == "tv"], at(18, 0))
    assert tv is not None and not tv.open and ws.hhmm(tv.slot.start) == "18:30"
    assert ws.countdown(tv.ms) == "30:00"
    after = ws.next_slot([s for s in slots if s.channel == "tv"], at(21, 0, 1))
    assert after is not None and ws.hhmm(after.slot.start) == "18:30"  # tomorrow
    assert ws.countdown(after.ms) == "21:29:59"
    wechat = ws.next_slot([s for s in slots if s.channel == "wechat"], at(19, 15))
    assert wechat is not None and wechat.open and ws.countdown(wechat.ms) == "45:00"


def test_a_window_across_midnight() -> None:
    night = [Slot("web", 23 * 60, 60)]
    inside = ws.next_slot(night, at(0, 30))
    assert inside is not None and inside.open and inside.ms == 30 * MINUTE
    before = ws.next_slot(night, at(22, 0))
    assert before is not None and not before.open and before.ms == 60 * MINUTE


def test_a_schedule_file_replaces_the_slots_and_may_set_limits(tmp_path: Path) -> None:
    (tmp_path / "schedule.toml").write_text(
        '[[slot]]\nchannel = "tv"\nat = "19:00"\nname = "湘乡新闻"\n'
        '[[slot]]\nchannel = "wechat"\nfrom = "06:30"\nuntil = "07:15"\n'
        "[stage_limits]\nediting = 90\nreview = 0\n",
        encoding="utf-8",
    )
    schedule = ws.load(tmp_path)
    assert schedule.slots == (Slot("tv", 1140, 1140, "湘乡新闻"), Slot("wechat", 390, 435))
    assert schedule.stage_limits_min == {"reporting": 240, "editing": 90}  # 0 turns one off
    (tmp_path / "schedule.toml").write_text("[stage_limits]\nediting = 20\n")
    assert ws.load(tmp_path).slots == ws.DEFAULT_SLOTS


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[slot]]\nchannel = "tv"\nat = "25:00"\n', "18:30"),
        ('[[slot]]\nchannel = "fax"\nat = "10:00"\n', "channel"),
        ('[[slot]]\nchannel = "tv"\n', "either `at`"),
        ('[[slot]]\nchannel = "tv"\nfrom = "10:00"\nuntil = "10:00"\n', "end after"),
        ("[stage_limits]\nprinting = 5\n", "unknown stage"),
        ("[bulletins]\n", "unknown tables"),
        ("not toml at all [", "schedule.toml"),
    ],
)
def test_a_broken_file_is_reported_and_the_defaults_are_used(
    tmp_path: Path, text: str, says: str
) -> None:
    (tmp_path / "schedule.toml").write_text(text)
    schedule = ws.load(tmp_path)
    assert schedule.slots == ws.DEFAULT_SLOTS
    assert says in schedule.error and schedule.error.startswith("schedule.toml")
