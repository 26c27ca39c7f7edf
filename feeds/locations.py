"""Location fixes from trackers, as pure functions: OwnTracks (HTTP mode) and Traccar Client's
OsmAnd protocol (query string, form body, and the JSON body of Traccar Client 9+).

Parsers take the bytes or parameters a tracker sent and return fixes: dicts of
`schema.Location` fields in SI units (`lat`, `lon`, `ts` in epoch ms, `accuracy_m`,
`speed_mps`, `heading`, `battery`, `source`), without `reporter_id` and `received_at`, which the
HTTP layer adds. They never do I/O and raise nothing but `InvalidInput`, whose text says what
was wrong. A negative accuracy, speed, heading or battery is a tracker's "unknown" and becomes
None. The renderers go the other way, so the simulator can drive the real parsers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dispatch import schema
from dispatch.errors import InvalidInput

Fix = dict[str, Any]
MAX_BODY = schema.MAX_MESSAGE_BYTES
MAX_FIXES = 500  # fixes in one request (a queue flushed at once)
KNOT_MPS = 1852 / 3600
KMH_MPS = 1 / 3.6
MAX_TS_MS = 10**14
# How OwnTracks messages are handled: positions, and types that carry none (answered `[]`).
OWNTRACKS_POSITIONS = ("location", "transition")


# --- shared checks -------------------------------------------------------------------------
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any, name: str) -> float:
    """A finite JSON number (a bool or a numeric string is a wrong type)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a number, got {_show(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise InvalidInput(f"{name} is out of range: {_show(value)}") from None
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be a finite number, got {_show(value)}")
    return out


def _text_number(value: str, name: str) -> float:
    try:
        out = float(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {_show(value)}") from None
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be a finite number, got {_show(value)}")
    return out


def _position(lat: float, lon: float) -> tuple[float, float]:
    if not -90 <= lat <= 90:
        raise InvalidInput(f"lat must be within ±90, got {lat}")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"lon must be within ±180, got {lon}")
    return lat, lon


def _ms(value: float, name: str) -> int:
    if not 0 <= value <= MAX_TS_MS:  # also catches ±inf from scaling a huge number
        raise InvalidInput(f"{name} is not a plausible time: {_show(value)}")
    return round(value)


def _measure(value: float | None, name: str, top: float) -> float | None:
    """A measurement in SI units: negative means unknown (None); above `top` is refused."""
    if value is None or value < 0:
        return None
    if value > top * (1 + 1e-9):  # a hair over: unit conversion's rounding, not bad data
        raise InvalidInput(f"{name} {value:g} is out of range (at most {top:g})")
    return min(value, top)


def _fix(
    lat: float,
    lon: float,
    ts: int,
    source: str,
    accuracy_m: float | None = None,
    speed_mps: float | None = None,
    heading: float | None = None,
    battery: float | None = None,
) -> Fix:
    lat, lon = _position(lat, lon)
    return {
        "lat": lat,
        "lon": lon,
        "ts": ts,
        "accuracy_m": _measure(accuracy_m, "accuracy", 100_000),
        "speed_mps": _measure(speed_mps, "speed", 500),
        "heading": _measure(heading, "heading", 360),
        "battery": _measure(battery, "battery", 100),
        "source": source,
    }


def _load_json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        raise InvalidInput(f"the body is {len(body)} bytes; the limit is {MAX_BODY}")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {_show(str(exc))}") from None


def _objects(data: Any, what: str) -> list[dict[str, Any]]:
    """One JSON object or an array of them."""
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_FIXES:
        raise InvalidInput(f"at most {MAX_FIXES} of {what} in one request, got {len(items)}")
    for item in items:
        if not isinstance(item, dict):
            raise InvalidInput(f"each of {what} must be a JSON object, got {_show(item)}")
    return items


# --- OwnTracks -----------------------------------------------------------------------------
def parse_owntracks(body: bytes) -> list[Fix]:
    """Fixes in an OwnTracks HTTP-mode body: one message (or an array of them). `location` and
    `transition` (when it has lat, lon and tst) give fixes; `lwt`, `card`, `waypoint`,
    `status` and other types give none. An empty body gives none."""
    if not body.strip():
        return []
    fixes = []
    for msg in _objects(_load_json(body), "the OwnTracks messages"):
        kind = msg.get("_type")
        if not isinstance(kind, str):
            raise InvalidInput(f"an OwnTracks message needs a string _type, got {_show(kind)}")
        if kind == "encrypted":
            raise InvalidInput(
                "the message is encrypted: clear OwnTracks' Encryption key (an advanced"
                " setting); the connection is protected by HTTPS instead"
            )
        if kind not in OWNTRACKS_POSITIONS:
            continue
        if kind == "transition" and not {"lat", "lon", "tst"} <= msg.keys():
            continue
        fixes.append(_owntracks_fix(msg))
    return fixes


def _owntracks_fix(msg: Mapping[str, Any]) -> Fix:
    missing = [name for name in ("lat", "lon", "tst") if name not in msg]
    if missing:
        raise InvalidInput(f"an OwnTracks {msg['_type']} needs {', '.join(missing)}")

    def opt(name: str, scale: float = 1.0) -> float | None:
        value = msg.get(name)
        return None if value is None else _number(value, name) * scale

    return _fix(
        _number(msg["lat"], "lat"),
        _number(msg["lon"], "lon"),
        _ms(_number(msg["tst"], "tst") * 1000, "tst"),
        "owntracks",
        accuracy_m=opt("acc"),
        speed_mps=opt("vel", KMH_MPS),
        heading=opt("cog"),
        battery=opt("batt"),
    )


def to_owntracks(fix: schema.Location | Mapping[str, Any]) -> dict[str, Any]:
    """An OwnTracks `location` message for a fix, with the whole numbers the app sends."""
    f = fix.model_dump() if isinstance(fix, schema.Location) else fix
    out: dict[str, Any] = {"_type": "location", "lat": f["lat"], "lon": f["lon"]}
    out["tst"] = int(f["ts"]) // 1000
    if f.get("accuracy_m") is not None:
        out["acc"] = round(f["accuracy_m"])
    if f.get("speed_mps") is not None:
        out["vel"] = round(f["speed_mps"] / KMH_MPS)
    if f.get("heading") is not None:
        out["cog"] = round(f["heading"]) % 360
    if f.get("battery") is not None:
        out["batt"] = round(f["battery"])
    return out


# --- OsmAnd (Traccar Client) ---------------------------------------------------------------
def parse_timestamp(text: str | float, name: str = "timestamp") -> int:
    """Epoch ms from epoch seconds, epoch ms, ISO-8601 or `yyyy-MM-dd HH:mm:ss` (UTC unless the
    text has an offset). Numbers of 10^11 and more are milliseconds."""
    if isinstance(text, str):
        raw = text.strip()
        if re.fullmatch(r"\d{1,20}(\.\d{1,9})?", raw):
            value = float(raw)
        else:
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                hint = " (a '+' in a URL must be sent as %2B)" if " " in raw else ""
                raise InvalidInput(
                    f"{name} must be epoch seconds or ms, ISO-8601 or 'yyyy-MM-dd HH:mm:ss',"
                    f" got {_show(text)}{hint}"
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            try:
                return _ms(when.timestamp() * 1000, name)
            except OverflowError:  # year 1 with an offset east of UTC
                raise InvalidInput(f"{name} is not a plausible time: {_show(text)}") from None
    else:
        value = _number(text, name)
    return _ms(value if value >= 1e11 else value * 1000, name)


def parse_osmand_query(params: Mapping[str, str]) -> tuple[str, Fix]:
    """(device id, fix) from OsmAnd parameters (a GET query or a form body): id or deviceid,
    lat and lon or location=lat,lon, timestamp, speed (knots), bearing or heading, accuracy
    (m), batt (%). Other parameters (altitude, hdop, charge...) are ignored."""
    device = (params.get("id") or params.get("deviceid") or "").strip()
    if not device:
        raise InvalidInput("an OsmAnd request needs the device id (id or deviceid)")
    if len(device) > 64:
        raise InvalidInput(f"the device id is {len(device)} characters; at most 64")
    if "lat" in params or "lon" in params:
        if "lat" not in params or "lon" not in params:
            raise InvalidInput("an OsmAnd request needs both lat and lon")
        lat, lon = _text_number(params["lat"], "lat"), _text_number(params["lon"], "lon")
    elif "location" in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise InvalidInput(f"location must be 'lat,lon', got {_show(params['location'])}")
        lat, lon = _text_number(parts[0], "lat"), _text_number(parts[1], "lon")
    else:
        raise InvalidInput("an OsmAnd request needs lat and lon (or location=lat,lon)")
    if "timestamp" not in params:
        raise InvalidInput("an OsmAnd request needs a timestamp (the device's fix time)")

    def opt(*names: str, scale: float = 1.0) -> float | None:
        for name in names:
            value = params.get(name, "").strip()
            if value:
                return _text_number(value, name) * scale
        return None

    return device, _fix(
        lat,
        lon,
        parse_timestamp(params["timestamp"]),
        "osmand",
        accuracy_m=opt("accuracy"),
        speed_mps=opt("speed", scale=KNOT_MPS),
        heading=opt("bearing", "heading"),
        battery=opt("batt"),
    )


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (the last of a repeated name)."""
    if len(body) > MAX_BODY:
        raise InvalidInput(f"the body is {len(body)} bytes; the limit is {MAX_BODY}")
    try:
        text = body.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the form body is not valid: {_show(str(exc))}") from None


def parse_osmand_json(
    body: bytes, params: Mapping[str, str] | None = None
) -> list[tuple[str, Fix]]:
    """(device id, fix) pairs from Traccar Client's JSON body (the transistorsoft format:
    `device_id` and `location` with `timestamp`, `coords` in m/s and degrees, and `battery`
    `level` 0-1). `location` may be an array; the device id may come from the query instead."""
    data = _load_json(body)
    if not isinstance(data, dict):
        raise InvalidInput(f"the OsmAnd JSON body must be an object, got {_show(data)}")
    device = data.get("device_id", (params or {}).get("id") or (params or {}).get("deviceid"))
    if not isinstance(device, str) or not device.strip():
        raise InvalidInput(f"the OsmAnd JSON body needs a string device_id, got {_show(device)}")
    if len(device.strip()) > 64:
        raise InvalidInput(f"the device id is {len(device.strip())} characters; at most 64")
    if "location" not in data:
        raise InvalidInput("the OsmAnd JSON body needs a location")
    return [
        (device.strip(), _osmand_json_fix(loc))
        for loc in _objects(data["location"], "the locations")
    ]


def _osmand_json_fix(loc: Mapping[str, Any]) -> Fix:
    coords = loc.get("coords")
    if not isinstance(coords, dict):
        raise InvalidInput(f"location.coords must be an object, got {_show(coords)}")
    for name in ("latitude", "longitude"):
        if name not in coords:
            raise InvalidInput(f"location.coords needs {name}")
    if "timestamp" not in loc:
        raise InvalidInput("location needs a timestamp (the device's fix time)")
    stamp = loc["timestamp"]
    if not isinstance(stamp, str):
        stamp = _number(stamp, "location.timestamp")
    battery = loc.get("battery")
    level = None
    if isinstance(battery, dict) and battery.get("level") is not None:
        level = _number(battery["level"], "battery.level")
        if level > 1:
            raise InvalidInput(f"battery.level is a fraction 0-1, got {level:g}")
    elif battery is not None and not isinstance(battery, dict):
        raise InvalidInput(f"location.battery must be an object, got {_show(battery)}")

    def opt(name: str) -> float | None:
        value = coords.get(name)
        return None if value is None else _number(value, f"coords.{name}")

    return _fix(
        _number(coords["latitude"], "coords.latitude"),
        _number(coords["longitude"], "coords.longitude"),
        parse_timestamp(stamp, "location.timestamp"),
        "osmand",
        accuracy_m=opt("accuracy"),
        speed_mps=opt("speed"),
        heading=opt("heading"),
        battery=None if level is None or level < 0 else level * 100,
    )


def to_osmand_query(device_id: str, fix: schema.Location | Mapping[str, Any]) -> dict[str, str]:
    """The query Traccar Client sends for a fix: epoch seconds, speed in knots."""
    f = fix.model_dump() if isinstance(fix, schema.Location) else fix
    out = {
        "id": device_id,
        "lat": repr(float(f["lat"])),
        "lon": repr(float(f["lon"])),
        "timestamp": str(int(f["ts"]) // 1000),
    }
    if f.get("speed_mps") is not None:
        out["speed"] = repr(f["speed_mps"] / KNOT_MPS)
    if f.get("heading") is not None:
        out["bearing"] = repr(float(f["heading"]))
    if f.get("accuracy_m") is not None:
        out["accuracy"] = repr(float(f["accuracy_m"]))
    if f.get("battery") is not None:
        out["batt"] = repr(float(f["battery"]))
    return out
