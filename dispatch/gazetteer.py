"""The gazetteer: place names the newsroom uses, each with a point, so the desk can type
"东山学校" instead of coordinates.

One Redis hash per tenant (`keys.places`): place name -> "lat,lon". It is seeded once, on first
use, with places in Xiangxiang (湘乡市); after that it is the newsroom's own list, edited by
supervisors and admins (REST `/api/v1/places`). The seed's points are approximate (good to a
few hundred metres, enough to rank who is nearest); correct them with PUT.

The matching (`suggest`, `parse_point`, `nearest`) is pure; the rest is a thin Redis shell.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import TypedDict, cast

import redis.asyncio as aioredis

from dispatch import db, ranking
from dispatch.auth import Principal
from dispatch.errors import InvalidInput, NotFound
from dispatch.keys import Keys

MAX_NAME = 40
MAX_PLACES = 5000
SUGGEST_LIMIT = 8
# A field that is never a place (names are never empty): marks the hash as seeded, so a
# newsroom that deleted every seeded place does not get them back.
SEEDED = ""

# Approximate points in and around the county seat (27.734 N, 112.533 E).
SEED: tuple[tuple[str, float, float], ...] = (
    ("湘乡市政府", 27.7343, 112.5341),
    ("湘乡市融媒体中心", 27.7352, 112.5318),
    ("东山学校", 27.7391, 112.5581),
    ("湘乡火车站", 27.7478, 112.5466),
    ("湘乡汽车站", 27.7326, 112.5199),
    ("湘乡市人民医院", 27.7381, 112.5268),
    ("湘乡市中医医院", 27.7309, 112.5386),
    ("湘乡市第一中学", 27.7402, 112.5177),
    ("湘乡经济开发区", 27.7121, 112.5602),
    ("湘乡市体育中心", 27.7236, 112.5297),
    ("湘乡大桥", 27.7301, 112.5332),
    ("云门寺", 27.7362, 112.5236),
    ("水府庙水库", 27.6452, 112.2801),
    ("望春门街道", 27.7331, 112.5262),
    ("新湘路街道", 27.7383, 112.5372),
    ("昆仑桥街道", 27.7203, 112.5198),
    ("东山街道", 27.7421, 112.5563),
    ("棋梓镇", 27.7012, 112.3715),
    ("壶天镇", 27.5831, 112.4219),
    ("月山镇", 27.8206, 112.3522),
    ("山枣镇", 27.7618, 112.6287),
    ("金石镇", 27.5526, 112.5512),
    ("泉塘镇", 27.8408, 112.4721),
    ("虞唐镇", 27.6405, 112.4852),
)

# KEYS: places hash. ARGV: the seed as name, "lat,lon" pairs. Seeds a hash that does not exist.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], '', '1', unpack(ARGV))
return 1
"""


class Place(TypedDict):
    name: str
    lat: float
    lon: float


def check_name(name: str) -> str:
    """The name as stored (trimmed, NFC); InvalidInput if it is empty, too long or has control
    characters."""
    clean = unicodedata.normalize("NFC", name).strip()
    if not clean or len(clean) > MAX_NAME:
        raise InvalidInput(f"a place name is 1-{MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in clean):
        raise InvalidInput("a place name cannot contain control characters")
    return clean


def check_point(lat: float, lon: float) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat must be within ±90 and lon within ±180")
    return round(lat, 6), round(lon, 6)


def _encode(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def _decode(name: str, raw: str) -> Place | None:
    try:
        lat, lon = (float(part) for part in raw.split(","))
    except ValueError:
        return None
    return Place(name=name, lat=lat, lon=lon)


async def _ensure_seeded(r: aioredis.Redis, keys: Keys) -> None:
    pairs = [part for name, lat, lon in SEED for part in (name, _encode(lat, lon))]
    await r.eval(_SEED, 1, keys.places, *pairs)


async def all_places(r: aioredis.Redis, keys: Keys) -> list[Place]:
    """Every place, by name."""
    await _ensure_seeded(r, keys)
    rows = await db.hgetall(r, keys.places)
    found = (_decode(name, raw) for name, raw in rows.items() if name != SEEDED)
    return sorted((p for p in found if p is not None), key=lambda p: p["name"])


async def lookup(r: aioredis.Redis, keys: Keys, name: str) -> Place:
    """The place called `name`; NotFound if there is none."""
    await _ensure_seeded(r, keys)
    clean = check_name(name)
    raw = cast("str | None", await r.hget(keys.places, clean))
    place = _decode(clean, raw) if raw else None
    if place is None:
        raise NotFound(f"no place called {clean!r}; see GET /api/v1/places")
    return place


async def put(
    r: aioredis.Redis, keys: Keys, actor: Principal, name: str, lat: float, lon: float
) -> tuple[Place, bool]:
    """Add a place or move an existing one (supervisors and admins). Returns (place, created)."""
    actor.require("supervisor")
    clean = check_name(name)
    lat, lon = check_point(lat, lon)
    await _ensure_seeded(r, keys)
    if not await r.hexists(keys.places, clean) and await r.hlen(keys.places) > MAX_PLACES:
        raise InvalidInput(f"the gazetteer holds at most {MAX_PLACES} places; remove some first")
    created = bool(await r.hset(keys.places, clean, _encode(lat, lon)))
    return Place(name=clean, lat=lat, lon=lon), created


async def remove(r: aioredis.Redis, keys: Keys, actor: Principal, name: str) -> Place:
    """Remove a place (supervisors and admins); NotFound if there is none."""
    actor.require("supervisor")
    place = await lookup(r, keys, name)
    await r.hdel(keys.places, place["name"])
    return place


# --- matching (pure) -------------------------------------------------------------------------
def _fold(text: str) -> str:
    """What matching compares: NFKC (full-width letters and digits become ASCII), case-folded,
    without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def suggest(places: Iterable[Place], query: str, limit: int = SUGGEST_LIMIT) -> list[Place]:
    """Places whose name starts with `query`, then those that contain it; shorter names
    first within each group (the likelier pick), then by name. An empty query matches nothing.
    """
    q = _fold(query)
    if not q:
        return []
    scored: list[tuple[int, int, str, Place]] = []
    for place in places:
        name = _fold(place["name"])
        if name.startswith(q):
            group = 0 if name == q else 1
        elif q in name:
            group = 2
        else:
            continue
        scored.append((group, len(name), place["name"], place))
    scored.sort(key=lambda item: item[:3])
    return [place for *_key, place in scored[: max(0, limit)]]


_POINT = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,，;；\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def parse_point(text: str) -> tuple[float, float] | None:
    """Coordinates typed as text: "27.74, 112.52" (a comma, full-width comma, semicolon or
    space between latitude and longitude). None if the text is not a valid point."""
    match = _POINT.match(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def nearest(places: Iterable[Place], lat: float, lon: float) -> tuple[Place, float] | None:
    """The place closest to (lat, lon) and its distance in km; None if there are no places."""
    best: tuple[Place, float] | None = None
    for place in places:
        km = ranking.distance_km(lat, lon, place["lat"], place["lon"])
        if best is None or km < best[1]:
            best = (place, km)
    return best
