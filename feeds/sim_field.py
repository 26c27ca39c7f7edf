"""Reporters in the field: where they are, how fast they move, what is left of their battery.

Pure: every method takes the simulated time `t` (seconds since the simulation started) and,
where chance is involved, the simulator's random stream. A leg is a straight line at a
constant speed, so a position is exact at any `t`, however coarse the caller's steps.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from dispatch.schema import Location
from feeds.sim_content import Profile

CENTRE = (27.734, 112.533)  # Xiangxiang, Hunan
RADIUS_M = 12_000.0  # every waypoint is within this distance of the centre
HOME_RADIUS_M = 5_000.0  # reporters live and start their shifts in and around town
WALK_MPS = (1.0, 1.6)
DRIVE_MPS = (8.0, 15.0)
DRIVE_OVER_M = 1_500.0  # nobody walks further than this to a scene
NEARBY_CHANCE, NEARBY_M = 0.4, 1_200.0
ACCURACY_M = {"still": (5.0, 15.0), "walk": (5.0, 20.0), "drive": (8.0, 30.0)}
# Battery use in percent per hour: GPS and the screen cost more on the move.
DRAIN_PER_H = {"still": 4.0, "walk": 10.0, "drive": 8.0}
CHARGE_PER_H = 35.0
LOW_BATTERY = 8.0
_M_PER_DEG = 111_320.0

Mode = Literal["still", "walk", "drive"]
Point = tuple[float, float]


def offset(point: Point, north_m: float, east_m: float) -> Point:
    """The point `north_m` and `east_m` metres from `point` (flat earth: fine over 12 km)."""
    lat, lon = point
    return (lat + north_m / _M_PER_DEG, lon + east_m / (_M_PER_DEG * math.cos(math.radians(lat))))


def distance_m(a: Point, b: Point) -> float:
    """Equirectangular distance in metres; within 0.1 % of the great circle at county scale."""
    mid = math.radians((a[0] + b[0]) / 2)
    north = (b[0] - a[0]) * _M_PER_DEG
    east = (b[1] - a[1]) * _M_PER_DEG * math.cos(mid)
    return math.hypot(north, east)


def bearing_deg(a: Point, b: Point) -> float:
    mid = math.radians((a[0] + b[0]) / 2)
    north = b[0] - a[0]
    east = (b[1] - a[1]) * math.cos(mid)
    return math.degrees(math.atan2(east, north)) % 360.0


def random_point(rng: random.Random, radius_m: float, around: Point = CENTRE) -> Point:
    """A point uniformly distributed over the disc (sqrt keeps the density even)."""
    r = radius_m * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    return offset(around, r * math.cos(a), r * math.sin(a))


@dataclass
class FieldReporter:
    """One reporter's physical state. `gen` changes at every duty change, so steps scheduled
    during an earlier shift can be recognised and ignored."""

    profile: Profile
    home: Point
    battery: float
    on_duty: bool = True
    start: Point = CENTRE  # where the current leg starts, or where the reporter stands
    dest: Point = CENTRE
    leg_start: float = 0.0
    leg_end: float = 0.0
    speed: float = 0.0
    mode: Mode = "still"
    battery_t: float = 0.0
    gen: int = 0
    last_ts: int = 0

    def __post_init__(self) -> None:
        self.start = self.dest = self.home

    @property
    def moving(self) -> bool:
        return self.mode != "still"

    def position(self, t: float) -> Point:
        if not self.moving or t >= self.leg_end:
            return self.dest
        f = (t - self.leg_start) / (self.leg_end - self.leg_start)
        return (
            self.start[0] + f * (self.dest[0] - self.start[0]),
            self.start[1] + f * (self.dest[1] - self.start[1]),
        )

    def settle(self, t: float) -> None:
        """Bring the battery up to time `t` under the current activity."""
        hours = max(0.0, t - self.battery_t) / 3600
        if not self.on_duty:
            self.battery = min(100.0, self.battery + CHARGE_PER_H * hours)
        else:
            self.battery = max(0.0, self.battery - DRAIN_PER_H[self.mode] * hours)
        self.battery_t = max(self.battery_t, t)

    def depart(self, t: float, rng: random.Random) -> float:
        """Set off for a new waypoint; return the arrival time."""
        self.settle(t)
        self.start = self.position(t)
        self.dest = random_point(rng, RADIUS_M)
        if rng.random() < NEARBY_CHANCE:  # the next address is often round the corner
            nearby = random_point(rng, NEARBY_M, around=self.start)
            if distance_m(CENTRE, nearby) <= RADIUS_M:
                self.dest = nearby
        far = distance_m(self.start, self.dest)
        self.mode = "drive" if far > DRIVE_OVER_M else "walk"
        self.speed = rng.uniform(*(DRIVE_MPS if self.mode == "drive" else WALK_MPS))
        self.leg_start, self.leg_end = t, t + max(far / self.speed, 1.0)
        return self.leg_end

    def arrive(self, t: float) -> None:
        self.settle(t)
        self.start = self.dest
        self.mode, self.speed = "still", 0.0

    def set_duty(self, t: float, on_duty: bool) -> None:
        """Start or end a shift. Off duty, a reporter goes home (untracked) and charges."""
        self.settle(t)
        self.on_duty = on_duty
        self.gen += 1
        self.start = self.dest = self.home
        self.mode, self.speed = "still", 0.0

    def fix(self, t: float, ts: int, rng: random.Random) -> Location:
        """A GPS fix at simulated time `t`, stamped `ts` (epoch ms, strictly increasing)."""
        self.settle(t)
        accuracy = rng.uniform(*ACCURACY_M[self.mode])
        # GPS error is roughly normal with the reported accuracy as its outer bound.
        err = min(abs(rng.gauss(0, accuracy / 2)), accuracy)
        angle = rng.uniform(0, 2 * math.pi)
        lat, lon = offset(self.position(t), err * math.cos(angle), err * math.sin(angle))
        speed = 0.0
        heading: float | None = None
        if self.moving and t < self.leg_end:
            low, high = DRIVE_MPS if self.mode == "drive" else WALK_MPS
            speed = min(high, max(low, self.speed * rng.uniform(0.97, 1.03)))
            heading = round(bearing_deg(self.start, self.dest), 1)
        self.last_ts = max(ts, self.last_ts + 1)
        return Location(
            reporter_id=self.profile.reporter_id,
            lat=round(lat, 6),
            lon=round(lon, 6),
            accuracy_m=round(accuracy, 1),
            speed_mps=round(speed, 2),
            heading=heading,
            battery=round(self.battery, 1),
            ts=self.last_ts,
            received_at=self.last_ts,
            source="sim",
        )
