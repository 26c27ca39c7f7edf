"""The tracker parsers (OwnTracks, Traccar Client's OsmAnd): real samples, every timestamp
format, units, junk, and properties (no input raises anything but InvalidInput; rendering a fix
and parsing it back gives the same fix within the formats' rounding)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import schema
from dispatch.errors import InvalidInput
from feeds.locations import (
    KNOT_MPS,
    MAX_BODY,
    parse_form,
    parse_osmand_json,
    parse_osmand_query,
    parse_owntracks,
    parse_timestamp,
    to_osmand_query,
    to_owntracks,
)

# Verbatim copies of ../shared/samples (kept here so the tests run from any checkout;
# test_samples_are_the_shared_ones checks they have not drifted).
OWNTRACKS = {
    "location.json": b'{"_type":"location","tid":"ZL","lat":27.73412,"lon":112.53187,"tst":1795680000,"acc":12,"alt":58,"vac":3,"vel":31,"cog":270,"batt":76,"bs":1,"conn":"m","t":"u","m":1,"topic":"owntracks/zhangli/phone","created_at":1795680002}\n',  # noqa: E501
    "lwt.json": b'{"_type":"lwt","tst":1795680000}\n',
    "queued.jsonl": b"""{"_type":"location","tid":"WF","lat":27.71020,"lon":112.50110,"tst":1795683600,"acc":8,"vel":0,"batt":41,"bs":1,"conn":"m"}
{"_type":"location","tid":"WF","lat":27.70950,"lon":112.50400,"tst":1795683300,"acc":9,"vel":22,"batt":42,"bs":1,"conn":"o"}
{"_type":"location","tid":"WF","lat":27.70950,"lon":112.50400,"tst":1795683300,"acc":9,"vel":22,"batt":42,"bs":1,"conn":"o"}
{"_type":"location","tid":"WF","lat":27.70800,"lon":112.50900,"tst":1795683000,"acc":30,"vel":35,"batt":43,"bs":1,"conn":"o"}
""",  # noqa: E501
    "transition.json": b'{"_type":"transition","tid":"ZL","lat":27.73510,"lon":112.52940,"tst":1795680300,"wtst":1795600000,"acc":15,"event":"enter","desc":"County courthouse","t":"c","rid":"b3a1"}\n',  # noqa: E501
}
OSMAND = {
    "requests.txt": b"""GET /ingest/osmand?id=861234050012345&lat=27.73655&lon=112.53402&timestamp=1795680060&hdop=0.9&altitude=61.0&speed=12.4&bearing=85&batt=64.0
GET /ingest/osmand?id=861234050012345&lat=27.73701&lon=112.53610&timestamp=1795680120000&speed=0.0&bearing=0&accuracy=6.5&batt=63.5&charge=false
GET /ingest/osmand?deviceid=reporter-07&location=27.72210,112.54480&timestamp=2026-11-26%2008:03:00&speed=5.1&heading=190&altitude=55
POST /ingest/osmand  id=861234050012345&lat=27.73790&lon=112.53805&timestamp=2026-11-26T08:04:00Z&speed=8.0&bearing=92&accuracy=4.0&batt=63
""",  # noqa: E501
    "transistorsoft.json": b'{"device_id":"reporter-07","location":{"timestamp":"2026-11-26T08:05:00.000Z","coords":{"latitude":27.72305,"longitude":112.54620,"accuracy":7.2,"speed":3.4,"heading":188.5,"altitude":54.0},"is_moving":true,"odometer":1532.8,"event":"motionchange","battery":{"level":0.58,"is_charging":false},"activity":{"type":"on_foot"},"extras":{}}}\n',  # noqa: E501
}
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
T0 = 1795680000000  # 2026-11-26 08:00:00 UTC


def osmand_requests() -> list[dict[str, str]]:
    """The parameters of each request in requests.txt (GET query or form body)."""
    out = []
    for line in OSMAND["requests.txt"].decode().splitlines():
        method, _, rest = line.partition(" ")
        if method == "GET":
            out.append(dict(parse_qsl(urlsplit(rest).query)))
        else:
            out.append(parse_form(rest.split(maxsplit=1)[1].encode()))
    return out


def location(fix: dict[str, Any], reporter_id: str = "r-1") -> schema.Location:
    """What the HTTP layer builds from a parsed fix (and so must never fail)."""
    return schema.Location(reporter_id=reporter_id, received_at=T0, **fix)


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/samples in this checkout")
def test_samples_are_the_shared_ones() -> None:
    for folder, files in (("owntracks", OWNTRACKS), ("osmand", OSMAND)):
        for name, data in files.items():
            assert (SHARED / folder / name).read_bytes().strip() == data.strip(), name


# --- OwnTracks -------------------------------------------------------------------------------
def test_owntracks_location_in_si_units() -> None:
    [fix] = parse_owntracks(OWNTRACKS["location.json"])
    assert fix == {
        "lat": 27.73412,
        "lon": 112.53187,
        "ts": T0,
        "accuracy_m": 12,
        "speed_mps": pytest.approx(31 / 3.6),
        "heading": 270,
        "battery": 76,
        "source": "owntracks",
    }
    assert location(fix).source == "owntracks"


def test_owntracks_transition_is_a_fix_and_lwt_is_not() -> None:
    [fix] = parse_owntracks(OWNTRACKS["transition.json"])
    assert (fix["lat"], fix["lon"], fix["ts"], fix["accuracy_m"]) == (
        27.7351,
        112.5294,
        T0 + 300_000,
        15,
    )
    assert fix["speed_mps"] is None and fix["battery"] is None
    assert parse_owntracks(OWNTRACKS["lwt.json"]) == []
    # A transition without a position (region events from a beacon, say) carries no fix.
    assert parse_owntracks(b'{"_type":"transition","event":"leave","tst":1795680000}') == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n",
        b'{"_type":"card","name":"Zhang Li","face":"iVBORw0KGgo="}',
        b'{"_type":"waypoint","desc":"Courthouse","lat":27.7,"lon":112.5,"rad":100,"tst":1}',
        b'{"_type":"status","android":{"hib":1}}',
        b'{"_type":"cmd","action":"reportLocation"}',
        b"[]",
    ],
)
def test_owntracks_types_without_a_position_are_ignored(body: bytes) -> None:
    assert parse_owntracks(body) == []


def test_owntracks_queue_as_one_array() -> None:
    lines = OWNTRACKS["queued.jsonl"].splitlines()
    fixes = parse_owntracks(b"[" + b",".join(lines) + b"]")
    assert [f["ts"] for f in fixes] == [1795683600000, 1795683300000, 1795683300000, 1795683000000]
    assert fixes[0]["speed_mps"] == 0 and fixes[3]["accuracy_m"] == 30
    assert [parse_owntracks(line)[0] for line in lines] == fixes


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"NaN", "JSON object"),
        (b'"location"', "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b'{"lat": 27.7, "lon": 112.5, "tst": 1795680000}', "_type"),
        (b'{"_type": 5}', "_type"),
        (b'{"_type":"location","lon":112.5,"tst":1795680000}', "needs lat"),
        (b'{"_type":"location","lat":27.7,"lon":112.5}', "needs tst"),
        (b'{"_type":"location","lat":"27.7","lon":112.5,"tst":1795680000}', "lat must be a number"),
        (b'{"_type":"location","lat":true,"lon":112.5,"tst":1795680000}', "lat must be a number"),
        (b'{"_type":"location","lat":91,"lon":112.5,"tst":1795680000}', "within"),
        (b'{"_type":"location","lat":27.7,"lon":-180.5,"tst":1795680000}', "within"),
        (b'{"_type":"location","lat":NaN,"lon":112.5,"tst":1795680000}', "finite"),
        (b'{"_type":"location","lat":1e400,"lon":112.5,"tst":1795680000}', "finite"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":-5}', "plausible"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1e20}', "plausible"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"batt":140}', "battery"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"vel":"fast"}', "vel"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"vel":5000}', "speed"),
        (b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"cog":400}', "heading"),
        (b'{"_type":"encrypted","data":"c2VjcmV0"}', "Encryption key"),
        (b"[" * 100_000, "limit"),
        (b"[" * 60_000, "not valid JSON"),
        (b"[" + b",".join([b"{}"] * 501) + b"]", "at most 500"),
        (b'{"_type":"location","lat":1' + b"0" * 5000 + b',"lon":1,"tst":1}', "not valid JSON"),
    ],
)
def test_owntracks_junk_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_owntracks(body)


def test_owntracks_negative_values_mean_unknown() -> None:
    body = b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"acc":-1,"vel":-1,"cog":-1,"batt":-1}'  # noqa: E501
    [fix] = parse_owntracks(body)
    assert fix["accuracy_m"] is fix["speed_mps"] is fix["heading"] is fix["battery"] is None


# --- OsmAnd ---------------------------------------------------------------------------------
def test_osmand_requests_sample() -> None:
    pairs = [parse_osmand_query(params) for params in osmand_requests()]
    assert [device for device, _ in pairs] == ["861234050012345"] * 2 + ["reporter-07"] + [
        "861234050012345"
    ]
    first, second, third, fourth = (fix for _, fix in pairs)
    # epoch seconds; speed in knots; hdop is not an accuracy in metres and is ignored
    assert first["ts"] == T0 + 60_000 and first["speed_mps"] == pytest.approx(12.4 * 0.514444)
    assert (first["heading"], first["battery"], first["accuracy_m"]) == (85, 64, None)
    # epoch milliseconds
    assert second["ts"] == T0 + 120_000 and second["speed_mps"] == 0
    assert (second["accuracy_m"], second["battery"], second["heading"]) == (6.5, 63.5, 0)
    # location=lat,lon, deviceid, heading, and 'yyyy-MM-dd HH:mm:ss' in UTC
    assert (third["lat"], third["lon"], third["ts"]) == (27.7221, 112.5448, T0 + 180_000)
    assert third["heading"] == 190 and third["speed_mps"] == pytest.approx(5.1 * KNOT_MPS)
    # a form body with an ISO-8601 time
    assert fourth["ts"] == T0 + 240_000 and fourth["accuracy_m"] == 4
    assert all(fix["source"] == "osmand" for _, fix in pairs)
    assert all(location(fix) for _, fix in pairs)


def test_osmand_json_variant_is_in_metres_per_second() -> None:
    [(device, fix)] = parse_osmand_json(OSMAND["transistorsoft.json"])
    assert device == "reporter-07"
    assert fix == {
        "lat": 27.72305,
        "lon": 112.5462,
        "ts": T0 + 300_000,
        "accuracy_m": 7.2,
        "speed_mps": 3.4,
        "heading": 188.5,
        "battery": pytest.approx(58),
        "source": "osmand",
    }


def test_osmand_json_batches_unknowns_and_device_in_query() -> None:
    loc = json.loads(OSMAND["transistorsoft.json"])["location"]
    unknown = {
        **loc,
        "coords": {**loc["coords"], "speed": -1, "heading": -1},
        "battery": {"level": -1, "is_charging": False},
    }
    body = json.dumps({"location": [loc, unknown]}).encode()
    pairs = parse_osmand_json(body, {"id": "dev-9"})
    assert [device for device, _ in pairs] == ["dev-9", "dev-9"]
    assert pairs[1][1]["speed_mps"] is pairs[1][1]["heading"] is pairs[1][1]["battery"] is None


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1795680000", T0),
        ("1795680000.25", T0 + 250),
        ("1795680000123", T0 + 123),
        ("2026-11-26 08:00:00", T0),
        ("2026-11-26T08:00:00", T0),
        ("2026-11-26T08:00:00Z", T0),
        ("2026-11-26T08:00:00.500Z", T0 + 500),
        ("2026-11-26T16:00:00+08:00", T0),
        (" 2026-11-26T08:00:00Z ", T0),
        ("0", 0),
    ],
)
def test_every_timestamp_format(text: str, ms: int) -> None:
    assert parse_timestamp(text) == ms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "epoch seconds"),
        ("yesterday", "epoch seconds"),
        ("-1795680000", "epoch seconds"),
        ("1e9", "epoch seconds"),
        ("26/11/2026 08:00", "epoch seconds"),
        ("2026-11-26T16:00:00 08:00", "%2B"),  # a '+' sent unescaped arrives as a space
        ("99999999999999999999", "plausible"),
        ("0001-01-01T00:00:00+14:00", "plausible"),
        ("1960-01-01T00:00:00Z", "plausible"),
    ],
)
def test_bad_timestamps(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_timestamp(text)


GOOD = {"id": "dev-1", "lat": "27.7", "lon": "112.5", "timestamp": "1795680000"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "device id"),
        ({"id": " "}, "device id"),
        ({"id": "x" * 65}, "at most 64"),
        ({"lat": None}, "both lat and lon"),
        ({"lat": None, "lon": None}, "needs lat and lon"),
        ({"lat": "north"}, "lat must be a number"),
        ({"lat": ""}, "lat must be a number"),
        ({"lat": "inf"}, "finite"),
        ({"lat": "-95"}, "within"),
        ({"lon": "181"}, "within"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": "soon"}, "timestamp"),
        ({"speed": "fast"}, "speed"),
        ({"speed": "1000"}, "speed .* out of range"),
        ({"bearing": "361"}, "heading"),
        ({"batt": "101"}, "battery"),
        ({"accuracy": "1e9"}, "accuracy"),
        ({"lat": None, "lon": None, "location": "27.7"}, "location must be 'lat,lon'"),
        ({"lat": None, "lon": None, "location": "27.7,112.5,3"}, "location must be 'lat,lon'"),
        ({"lat": None, "lon": None, "location": "a,b"}, "lat must be a number"),
    ],
)
def test_osmand_junk_is_refused_with_a_reason(change: dict[str, str | None], reason: str) -> None:
    params = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(InvalidInput, match=reason):
        parse_osmand_query(params)


def test_osmand_optional_fields() -> None:
    device, fix = parse_osmand_query({**GOOD, "deviceid": "other", "speed": "", "foo": "bar"})
    assert device == "dev-1" and fix["speed_mps"] is None
    assert parse_osmand_query({**GOOD, "speed": "-1", "bearing": "-1"})[1]["heading"] is None
    # lat/lon win over location
    assert parse_osmand_query({**GOOD, "location": "1,2"})[1]["lat"] == 27.7


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"[]", "must be an object"),
        (b'{"location": {}}', "device_id"),
        (b'{"device_id": 7, "location": {}}', "device_id"),
        (b'{"device_id": "d"}', "needs a location"),
        (b'{"device_id": "d", "location": 5}', "JSON object"),
        (b'{"device_id": "d", "location": {"timestamp": "2026-11-26T08:00:00Z"}}', "coords"),
        (
            b'{"device_id":"d","location":{"timestamp":"x","coords":{"latitude":1,"longitude":2}}}',
            "timestamp",
        ),  # noqa: E501
        (b'{"device_id":"d","location":{"coords":{"latitude":1,"longitude":2}}}', "timestamp"),
        (
            b'{"device_id":"d","location":{"timestamp":1795680000,"coords":{"latitude":1}}}',
            "longitude",
        ),  # noqa: E501
        (
            b'{"device_id":"d","location":{"timestamp":true,"coords":{"latitude":1,"longitude":2}}}',
            "timestamp must be a number",
        ),  # noqa: E501
        (
            b'{"device_id":"d","location":{"timestamp":1795680000,"coords":{"latitude":1,"longitude":2},"battery":{"level":58}}}',
            "fraction",
        ),  # noqa: E501
        (
            b'{"device_id":"d","location":{"timestamp":1795680000,"coords":{"latitude":1,"longitude":2},"battery":0.5}}',
            "battery must be an object",
        ),  # noqa: E501
    ],
)
def test_osmand_json_junk_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_osmand_json(body)


def test_form_bodies() -> None:
    assert parse_form(b"id=a&lat=1&id=b") == {"id": "b", "lat": "1"}
    assert parse_form(b"") == {}
    with pytest.raises(InvalidInput, match="form body"):
        parse_form(b"\xff=1")
    with pytest.raises(InvalidInput, match="form body"):
        parse_form(b"&".join(b"k%d=1" % i for i in range(200)))
    with pytest.raises(InvalidInput, match="limit"):
        parse_form(b"a" * (MAX_BODY + 1))


# --- properties ------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
numbers = st.one_of(
    st.integers(-(10**20), 10**20), st.floats(), st.sampled_from([-1, 0, 90, 180, 360, 1e13])
)
scalars = st.one_of(
    numbers, st.none(), st.booleans(), st.text(max_size=8), st.lists(numbers, max_size=2)
)
owntracks_messages = st.fixed_dictionaries(
    {"_type": st.sampled_from(["location", "transition", "lwt", "card", "encrypted", "x"])},
    optional={k: scalars for k in ("lat", "lon", "tst", "acc", "vel", "cog", "batt", "tid")},
)
osmand_params = st.dictionaries(
    st.sampled_from(
        ["id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "bearing", "heading"]
        + ["accuracy", "batt", "altitude", "hdop", "x"]
    ),
    st.one_of(st.text(max_size=30), numbers.map(str), st.sampled_from(["27.7,112.5", "1,2,3"])),
)


def _only_invalid_input(parse: Any, *args: Any) -> list[Any]:
    """Parse; a refusal must be InvalidInput with a reason, a success valid Location fields."""
    try:
        out = parse(*args)
    except InvalidInput as exc:
        assert exc.text
        return []
    fixes = out if isinstance(out, list) else [out]
    for item in fixes:
        fix = item[1] if isinstance(item, tuple) else item
        location(fix)
    return fixes


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=300), owntracks_messages.map(json.dumps).map(str.encode)))
def test_owntracks_parser_raises_only_invalid_input(body: bytes) -> None:
    _only_invalid_input(parse_owntracks, body)


@settings(max_examples=100)
@given(st.lists(st.one_of(owntracks_messages, scalars), max_size=4))
def test_owntracks_arrays_raise_only_invalid_input(messages: list[Any]) -> None:
    _only_invalid_input(parse_owntracks, json.dumps(messages).encode())


@settings(max_examples=300)
@given(osmand_params)
def test_osmand_query_parser_raises_only_invalid_input(params: dict[str, str]) -> None:
    _only_invalid_input(parse_osmand_query, params)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_osmand_form_parser_raises_only_invalid_input(body: bytes) -> None:
    try:
        params = parse_form(body)
    except InvalidInput:
        return
    _only_invalid_input(parse_osmand_query, params)


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(json.dumps).map(str.encode),
        st.fixed_dictionaries(
            {"device_id": st.one_of(st.text(max_size=10), scalars)},
            optional={
                "location": st.fixed_dictionaries(
                    {"timestamp": st.one_of(st.text(max_size=30), numbers, scalars)},
                    optional={
                        "coords": st.dictionaries(
                            st.sampled_from(["latitude", "longitude", "speed", "heading"]),
                            st.one_of(numbers, scalars),
                        ),
                        "battery": st.one_of(scalars, st.fixed_dictionaries({"level": numbers})),
                    },
                )
            },
        )
        .map(json.dumps)
        .map(str.encode),
    )
)
def test_osmand_json_parser_raises_only_invalid_input(body: bytes) -> None:
    _only_invalid_input(parse_osmand_json, body)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=40), numbers))
def test_timestamp_parser_raises_only_invalid_input(text: str | float) -> None:
    try:
        assert 0 <= parse_timestamp(text) <= 10**14
    except InvalidInput as exc:
        assert exc.text


def _optional(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.none() | strategy


fixes = st.fixed_dictionaries(
    {
        "lat": st.floats(-90, 90),
        "lon": st.floats(-180, 180),
        "ts": st.integers(0, 4 * 10**12),
        "accuracy_m": _optional(st.floats(0, 100_000)),
        "speed_mps": _optional(st.floats(0, 500)),
        "heading": _optional(st.floats(0, 360)),
        "battery": _optional(st.floats(0, 100)),
    }
)


def _close(a: float | None, b: float | None, tolerance: float, circle: bool = False) -> bool:
    if a is None or b is None:
        return a is b
    gap = abs(a - b) % 360 if circle else abs(a - b)
    return min(gap, 360 - gap) <= tolerance if circle else gap <= tolerance


@given(fixes)
def test_owntracks_round_trip(fix: dict[str, Any]) -> None:
    body = json.dumps(to_owntracks(location({**fix, "source": "sim"}))).encode()
    [back] = parse_owntracks(body)
    assert (back["lat"], back["lon"]) == (fix["lat"], fix["lon"])
    assert back["ts"] == fix["ts"] // 1000 * 1000  # OwnTracks sends whole seconds
    assert _close(back["accuracy_m"], fix["accuracy_m"], 0.5)
    assert _close(back["speed_mps"], fix["speed_mps"], 0.5 / 3.6 + 1e-9)  # whole km/h
    assert _close(back["heading"], fix["heading"], 0.5, circle=True)
    assert _close(back["battery"], fix["battery"], 0.5)
    assert back["source"] == "owntracks"


@given(
    fixes,
    st.text(st.characters(codec="utf-8", exclude_categories=["Z", "C"]), min_size=1, max_size=64),
)
def test_osmand_round_trip(fix: dict[str, Any], device: str) -> None:
    query = urlencode(to_osmand_query(device, fix))  # what travels in the URL
    back_device, back = parse_osmand_query(dict(parse_qsl(query)))
    assert back_device == device.strip()
    assert (back["lat"], back["lon"]) == (fix["lat"], fix["lon"])
    assert back["ts"] == fix["ts"] // 1000 * 1000  # Traccar Client sends whole seconds
    for name in ("accuracy_m", "speed_mps", "heading", "battery"):
        assert _close(back[name], fix[name], 1e-9 * max(1.0, fix[name] or 0)), name
    assert back["source"] == "osmand"


def test_renderers_match_the_samples() -> None:
    [fix] = parse_owntracks(OWNTRACKS["location.json"])
    rendered = to_owntracks(fix)
    sample = json.loads(OWNTRACKS["location.json"])
    assert rendered == {
        k: sample[k] for k in ("_type", "lat", "lon", "tst", "acc", "vel", "cog", "batt")
    }
    device, fix = parse_osmand_query(osmand_requests()[0])
    query = to_osmand_query(device, fix)
    assert query["id"] == "861234050012345" and query["timestamp"] == "1795680060"
    assert math.isclose(float(query["speed"]), 12.4)
