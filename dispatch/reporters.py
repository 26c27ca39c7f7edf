"""The reporter registry: profiles, duty state, the current fix, and who should go.

A fix is applied by one Lua script, so the check "is it newer than the current one?", the
write (hash, GEO set, trail) and the live nudge happen in one round trip: duplicate and
out-of-order fixes (a phone flushing its offline queue) never move a reporter backwards.

Trackers (OwnTracks, Traccar Client) are bound to reporters by their device ids: the `devices`
hash maps each id to one reporter, written with the reporter in one script.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any, cast

import redis.asyncio as aioredis

from dispatch import auth, db, ranking, schema, tasks
from dispatch.clock import new_id, now_ms
from dispatch.errors import InvalidInput, NotFound
from dispatch.keys import Keys

TRAIL_RETENTION_MS = 24 * 3600 * 1000
NEAREST_RADIUS_KM = 100  # a county is at most about 100 km across
NEAREST_MAX = 50  # at most this many ranked reporters per query
NEAREST_CANDIDATES = 50  # at least this many candidates by straight-line distance
WORKLOAD_SCAN = 2000  # open tasks read to count workloads (a county has tens)
MAX_FUTURE_MS = 60_000  # a fix this far ahead of our clock means the device clock is wrong
MAX_DEVICES = 10  # tracker ids per reporter (a phone or two, a car tracker)
DEVICE_ID = re.compile(r"[^\s\x00-\x1f\x7f]{1,64}")  # Traccar lets users type any id

# KEYS: reporter hash, geo set, trail stream, live channel
# ARGV: reporter_id, lat, lon, ts, accuracy, speed, heading, battery, received_at, source,
#       trail min id, event json, trail retention ms, "1" to drop fixes while off duty
# Returns 1 applied, 0 duplicate or older, 2 dropped (off duty), -1 no such reporter.
_APPLY_FIX = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[14] == '1' and redis.call('HGET', KEYS[1], 'on_duty') == '0' then return 2 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'fix_ts') or '0')
if tonumber(ARGV[4]) <= cur then return 0 end
redis.call('HSET', KEYS[1], 'lat', ARGV[2], 'lon', ARGV[3], 'fix_ts', ARGV[4],
  'accuracy_m', ARGV[5], 'speed_mps', ARGV[6], 'heading', ARGV[7], 'battery', ARGV[8],
  'received_at', ARGV[9], 'source', ARGV[10])
redis.call('GEOADD', KEYS[2], ARGV[3], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[11], '*', 'fix', ARGV[12])
redis.call('PEXPIRE', KEYS[3], ARGV[13])
redis.call('PUBLISH', KEYS[4], ARGV[12])
return 1
"""

# KEYS: reporter hash, reporters set, devices hash
# ARGV: reporter_id, number of devices n, n device ids, then the profile's field/value pairs
# Returns {0} created, {1} the reporter exists, {2, device, owner} a device is already bound.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local n = tonumber(ARGV[2])
for i = 3, 2 + n do
  local owner = redis.call('HGET', KEYS[3], ARGV[i])
  if owner then return {2, ARGV[i], owner} end
end
for i = 3, 2 + n do redis.call('HSET', KEYS[3], ARGV[i], ARGV[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 3 + n))
redis.call('SADD', KEYS[2], ARGV[1])
return {0}
"""

_NUMERIC = ("lat", "lon", "fix_ts", "accuracy_m", "speed_mps", "heading", "battery", "received_at")


def _decode(data: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "reporter_id": data["reporter_id"],
        "name": data.get("name", ""),
        "skills": json.loads(data.get("skills", "[]")),
        "devices": json.loads(data.get("devices", "[]")),
        "on_duty": data.get("on_duty") == "1",
        "created_at": int(data.get("created_at", 0)),
        "source": data.get("source") or None,
    }
    for name in _NUMERIC:
        raw = data.get(name, "")
        out[name] = float(raw) if raw not in ("", None) else None
    for name in ("fix_ts", "received_at"):  # epoch milliseconds are integers on the wire
        if out[name] is not None:
            out[name] = int(out[name])
    return out


async def create(
    r: aioredis.Redis,
    keys: Keys,
    name: str,
    skills: list[str] | None = None,
    devices: list[str] | None = None,
    reporter_id: str | None = None,
) -> dict[str, Any]:
    """Register a reporter and issue their token (returned once, under `token`).

    `devices` are tracker ids (Traccar Client's device identifier) bound to this reporter; one
    already bound to another reporter is refused with InvalidInput and nothing is created."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name must be 1-100 characters")
    device_ids = _check_devices(devices or [])
    reporter_id = reporter_id or new_id("r")
    doc = {
        "reporter_id": reporter_id,
        "name": name,
        "skills": json.dumps(skills or []),
        "devices": json.dumps(device_ids),
        "on_duty": "1",
        "created_at": str(now_ms()),
    }
    fields = [part for pair in doc.items() for part in pair]
    result = await r.eval(
        _CREATE,
        3,
        keys.reporter(reporter_id),
        keys.reporters,
        keys.devices,
        reporter_id,
        len(device_ids),
        *device_ids,
        *fields,
    )
    if result[0] == 1:
        raise InvalidInput(f"reporter {reporter_id} already exists")
    if result[0] == 2:
        raise InvalidInput(
            f"device {result[1]} is already bound to reporter {result[2]}; each tracker"
            " device id can belong to one reporter only"
        )
    token, token_id = await auth.create_token(r, keys, "reporter", reporter_id, label=name)
    return {**_decode(doc), "token": token, "token_id": token_id}


def _check_devices(devices: Sequence[str]) -> list[str]:
    """Stripped, deduplicated device ids (in order); InvalidInput for a malformed one."""
    out: list[str] = []
    for raw in devices:
        device = raw.strip()
        if not DEVICE_ID.fullmatch(device):
            raise InvalidInput(
                f"device id {raw[:70]!r} must be 1-64 characters without spaces or control"
                " characters"
            )
        if device not in out:
            out.append(device)
    if len(out) > MAX_DEVICES:
        raise InvalidInput(f"a reporter may have at most {MAX_DEVICES} devices, got {len(out)}")
    return out


async def reporters_for_devices(
    r: aioredis.Redis, keys: Keys, device_ids: Sequence[str]
) -> dict[str, str]:
    """The reporter each tracker device id is bound to (one round trip); NotFound (with what
    to do) for the first id that is bound to none."""
    ids = list(dict.fromkeys(device_ids))
    found = cast("list[str | None]", await r.hmget(keys.devices, ids)) if ids else []
    for device_id, reporter_id in zip(ids, found, strict=True):
        if not reporter_id or not DEVICE_ID.fullmatch(device_id):
            raise NotFound(
                f"unknown device id {device_id[:70]!r}: bind it to a reporter first"
                f" ('newsroom reporters add NAME --devices {device_id[:70]}', or \"devices\" in"
                " POST /api/v1/reporters)"
            )
    return cast(dict[str, str], dict(zip(ids, found, strict=True)))


async def get(r: aioredis.Redis, keys: Keys, reporter_id: str) -> dict[str, Any]:
    data = await db.hgetall(r, keys.reporter(reporter_id))
    if not data:
        raise NotFound(f"no reporter {reporter_id}")
    return _decode(data)


async def all_reporters(r: aioredis.Redis, keys: Keys) -> list[dict[str, Any]]:
    ids = sorted(await db.smembers(r, keys.reporters))
    async with r.pipeline(transaction=False) as pipe:
        for rid in ids:
            pipe.hgetall(keys.reporter(rid))
        rows = await pipe.execute()
    return [_decode(d) for d in rows if d]


async def apply_fix(
    r: aioredis.Redis,
    keys: Keys,
    fix: schema.Location,
    retention_ms: int = TRAIL_RETENTION_MS,
    *,
    on_duty_only: bool = False,
) -> bool:
    """Apply a location fix. True if it became the current position; False if it was a
    duplicate or older than the current fix, or (with `on_duty_only`, for trackers that send
    around the clock) the reporter is off duty. The trail keeps `retention_ms` of fixes and
    expires that long after the last one. Raises NotFound for an unknown reporter and
    InvalidInput for a fix more than 60 s in the future."""
    applied = await apply_fixes(r, keys, [fix], retention_ms, on_duty_only=on_duty_only)
    return applied[0]


async def apply_fixes(
    r: aioredis.Redis,
    keys: Keys,
    fixes: Sequence[schema.Location],
    retention_ms: int = TRAIL_RETENTION_MS,
    *,
    on_duty_only: bool = False,
) -> list[bool]:
    """`apply_fix` for many fixes in one round trip, in the given order (each fix is checked
    and written atomically on its own). A fix too far in the future refuses the whole batch
    before any is applied; an unknown reporter raises NotFound after the others are applied."""
    now = now_ms()
    if late := [f for f in fixes if f.ts > now + MAX_FUTURE_MS]:
        raise InvalidInput(
            f"a fix is {(late[0].ts - now) // 1000} s in the future (at most"
            f" {MAX_FUTURE_MS // 1000} s); check the device clock"
        )
    min_id = str(now - retention_ms)
    duty = "1" if on_duty_only else "0"

    def s(v: float | None) -> str:
        return "" if v is None else repr(v)

    calls: list[db.ScriptCall] = [
        (
            (
                keys.reporter(fix.reporter_id),
                keys.reporter_geo,
                keys.trail(fix.reporter_id),
                keys.live_channel,
            ),
            (
                fix.reporter_id,
                repr(fix.lat),
                repr(fix.lon),
                fix.ts,
                s(fix.accuracy_m),
                s(fix.speed_mps),
                s(fix.heading),
                s(fix.battery),
                fix.received_at,
                fix.source,
                min_id,
                schema.encode(fix),
                retention_ms,
                duty,
            ),
        )
        for fix in fixes
    ]
    results = await db.eval_many(r, _APPLY_FIX, calls)
    if -1 in results:
        raise NotFound(f"no reporter {fixes[results.index(-1)].reporter_id}")
    return [result == 1 for result in results]


async def set_duty(r: aioredis.Redis, keys: Keys, reporter_id: str, on_duty: bool) -> None:
    if not await r.exists(keys.reporter(reporter_id)):
        raise NotFound(f"no reporter {reporter_id}")
    event = schema.Duty(reporter_id=reporter_id, on_duty=on_duty, at=now_ms())
    async with r.pipeline(transaction=True) as pipe:
        pipe.hset(keys.reporter(reporter_id), "on_duty", "1" if on_duty else "0")
        if not on_duty:
            pipe.zrem(keys.reporter_geo, reporter_id)  # off duty: not tracked, not offered
        pipe.publish(keys.live_channel, schema.encode(event))
        await pipe.execute()


async def nearest(
    r: aioredis.Redis,
    keys: Keys,
    lat: float,
    lon: float,
    limit: int = 5,
    skills: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """On-duty reporters ranked for a place by `dispatch.ranking` (travel time, fix age,
    battery, open tasks, required `skills`), best first, each with `rank`, `distance_km`,
    `why` and `factors`."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat must be within ±90 and lon within ±180")
    limit = max(1, min(limit, NEAREST_MAX))
    required = ranking.parse_skills(",".join(skills or ()))
    # A generous candidate set by straight-line distance; the ranker reorders it.
    found = await r.geosearch(
        keys.reporter_geo,
        longitude=lon,
        latitude=lat,
        radius=NEAREST_RADIUS_KM,
        unit="km",
        sort="ASC",
        count=max(limit * 5, NEAREST_CANDIDATES),
    )
    ids = cast(list[str], found)
    if not ids:
        return []

    async def profiles() -> list[dict[str, str]]:
        async with r.pipeline(transaction=False) as pipe:
            for rid in ids:
                pipe.hgetall(keys.reporter(rid))
            return cast(list[dict[str, str]], await pipe.execute())

    rows, open_now = await asyncio.gather(profiles(), tasks.open_tasks(r, keys, WORKLOAD_SCAN))
    return ranking.rank(
        [_decode(d) for d in rows if d],
        lat,
        lon,
        now_ms=now_ms(),
        required=required,
        workloads=ranking.count_workloads(open_now),
        limit=limit,
    )
