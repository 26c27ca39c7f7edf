"""End to end against a real `newsroom serve`: OwnTracks and Traccar Client (OsmAnd) requests
move reporters, an offline queue never moves them back, bad input and bad auth get a 4xx with a
reason and store nothing, and a reporter's trail expires after the configured retention."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_locations import OWNTRACKS, T0

from dashboards import maps
from dispatch.keys import Keys
from dispatch.redis_server import EmbeddedRedis
from feeds.locations import to_osmand_query, to_owntracks
from servers import Server

pytestmark = pytest.mark.integration
KEYS = Keys("default")
RETENTION_H = "0.05"  # three minutes


@pytest.fixture(scope="module")
def srv(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (every test makes its own reporters), with a short trail."""
    server = Server(
        redis_server.url,
        tmp_path_factory.mktemp("ingest"),
        extra_env={"NEWSROOM_TRAIL_RETENTION_H": RETENTION_H, "NEWSROOM_RATE_IP": "100000/60"},
    ).start()
    yield server
    server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log and "Warning" not in log, log[-3000:]


@pytest.fixture(scope="module")
def store(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


def _admin(srv: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {srv.admin_token}"}


def _new_reporter(srv: Server, name: str = "张丽", devices: list[str] | None = None) -> Any:
    r = httpx.post(
        srv.url + "/api/v1/reporters",
        json={"name": name, "devices": devices or []},
        headers=_admin(srv),
    )
    assert r.status_code == 201, r.text
    return r.json()


def _reporter(srv: Server, reporter_id: str) -> Any:
    r = httpx.get(f"{srv.url}/api/v1/reporters/{reporter_id}", headers=_admin(srv))
    assert r.status_code == 200, r.text
    return r.json()


def _owntracks(srv: Server, token: str, body: bytes | dict[str, Any]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        srv.url + "/ingest/owntracks",
        content=content,
        auth=("zhangli", token),
        headers={"Content-Type": "application/json"},
    )


def _sample(name: str) -> list[dict[str, Any]]:
    """An OwnTracks sample moved to about now: the samples' 08:00 becomes two hours ago, and
    the gaps between messages are kept."""
    shift = int(time.time()) - 7200 - T0 // 1000
    out = []
    for line in OWNTRACKS[name].splitlines():
        msg = json.loads(line)
        if "tst" in msg:
            msg["tst"] += shift
        out.append(msg)
    return out


def _now_fix(lat: float, seconds_ago: float = 0, **extra: Any) -> dict[str, Any]:
    return {"lat": lat, "lon": 112.53, "ts": int((time.time() - seconds_ago) * 1000), **extra}


# --- OwnTracks -------------------------------------------------------------------------------
def test_owntracks_moves_the_reporter(srv: Server, store: redis.Redis) -> None:
    rep = _new_reporter(srv)
    [msg] = _sample("location.json")
    r = _owntracks(srv, rep["token"], msg)
    assert r.status_code == 200 and r.json() == []
    now = _reporter(srv, rep["reporter_id"])
    assert (now["lat"], now["lon"], now["fix_ts"]) == (27.73412, 112.53187, msg["tst"] * 1000)
    assert (now["accuracy_m"], now["battery"], now["heading"]) == (12, 76, 270)
    assert now["speed_mps"] == pytest.approx(31 / 3.6) and now["source"] == "owntracks"
    assert abs(now["received_at"] - time.time() * 1000) < 60_000
    # The wall's hover text shows how accurate the fix is.
    arrays = maps.map_arrays([now], [], "en")
    assert "±12 m" in arrays[maps.MAP_ON_DUTY]["hovertext"][0]

    # A geofence transition carries a position; lwt, cards, waypoints and empty bodies do not.
    [transition] = _sample("transition.json")
    for body in (
        transition,
        *_sample("lwt.json"),
        {"_type": "card", "name": "张丽"},
        {"_type": "waypoint", "desc": "法院", "lat": 1, "lon": 2, "tst": 3, "rad": 50},
        b"",
    ):
        r = _owntracks(srv, rep["token"], body)
        assert r.status_code == 200 and r.json() == [], r.text
    now = _reporter(srv, rep["reporter_id"])
    assert (now["lat"], now["fix_ts"]) == (27.7351, transition["tst"] * 1000)
    assert store.xlen(KEYS.trail(rep["reporter_id"])) == 2


def test_offline_queue_newest_first_never_moves_back(srv: Server, store: redis.Redis) -> None:
    queue = _sample("queued.jsonl")  # newest first, with a duplicate
    one, other = _new_reporter(srv, "王芳"), _new_reporter(srv, "李强")
    for msg in queue:  # one message per request, as the app sends them
        assert _owntracks(srv, one["token"], msg).json() == []
    # Flushed in one request (an array): applied oldest first, so the whole queue is in the trail.
    assert _owntracks(srv, other["token"], json.dumps(queue).encode()).json() == []
    for rep, trail in ((one, 1), (other, 3)):
        now = _reporter(srv, rep["reporter_id"])
        assert (now["lat"], now["fix_ts"]) == (27.7102, queue[0]["tst"] * 1000)
        assert store.xlen(KEYS.trail(rep["reporter_id"])) == trail
    # The same queue again changes nothing.
    for msg in queue:
        _owntracks(srv, one["token"], msg)
    assert _reporter(srv, one["reporter_id"])["lat"] == 27.7102


def test_future_fixes_are_refused_and_near_future_accepted(srv: Server) -> None:
    rep = _new_reporter(srv, devices=["future-dev"])
    soon = to_owntracks(_now_fix(27.70, seconds_ago=-30))  # a phone clock 30 s fast
    assert _owntracks(srv, rep["token"], soon).status_code == 200
    late = to_owntracks(_now_fix(27.80, seconds_ago=-300))
    r = _owntracks(srv, rep["token"], late)
    assert r.status_code == 422 and "future" in r.json()["detail"]
    query = to_osmand_query("future-dev", _now_fix(27.90, seconds_ago=-3600))
    r = httpx.get(srv.url + "/ingest/osmand", params=query)
    assert r.status_code == 422 and "device clock" in r.json()["detail"]
    assert _reporter(srv, rep["reporter_id"])["lat"] == 27.70


@pytest.mark.parametrize(
    ("auth", "status", "reason"),
    [
        (None, 401, "Basic"),
        ("Bearer abc", 401, "Basic"),
        ("Basic !!!", 401, "base64"),
        ("Basic emhhbmdsaQ==", 401, "password"),  # "zhangli", no colon
        ("Basic emhhbmdsaTpub3BlLXRva2Vu", 401, "unknown or revoked"),  # zhangli:nope-token
    ],
)
def test_owntracks_bad_auth(srv: Server, auth: str | None, status: int, reason: str) -> None:
    headers = {"Authorization": auth} if auth else {}
    body = json.dumps(to_owntracks(_now_fix(27.7))).encode()
    r = httpx.post(srv.url + "/ingest/owntracks", content=body, headers=headers)
    assert r.status_code == status and reason in r.json()["detail"], r.text
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_endpoints_are_documented(srv: Server) -> None:
    paths = httpx.get(srv.url + "/api/openapi.json").json()["paths"]
    assert set(paths["/ingest/osmand"]) == {"get", "post"} and "post" in paths["/ingest/owntracks"]


def test_owntracks_needs_a_reporter_token(srv: Server) -> None:
    r = _owntracks(srv, srv.admin_token, to_owntracks(_now_fix(27.7)))
    assert r.status_code == 403 and "reporter's token" in r.json()["detail"]


# --- OsmAnd ---------------------------------------------------------------------------------
def test_osmand_get_form_and_json_move_the_reporter(srv: Server, store: redis.Redis) -> None:
    rep = _new_reporter(srv, "赵军", devices=["861234050012346", "zhao-car"])
    rid = rep["reporter_id"]
    base = int(time.time()) - 600
    r = httpx.get(
        srv.url + "/ingest/osmand",
        params={
            "id": "861234050012346",
            "lat": "27.73655",
            "lon": "112.53402",
            "timestamp": str(base),
            "hdop": "0.9",
            "altitude": "61.0",
            "speed": "12.4",
            "bearing": "85",
            "batt": "64.0",
        },
    )
    assert r.status_code == 200 and r.json() == {"received": 1, "applied": 1}, r.text
    now = _reporter(srv, rid)
    assert (now["lat"], now["lon"], now["fix_ts"], now["heading"]) == (
        27.73655,
        112.53402,
        base * 1000,
        85,
    )
    assert now["speed_mps"] == pytest.approx(12.4 * 1852 / 3600) and now["source"] == "osmand"

    # A form POST, with location=lat,lon and a 'yyyy-MM-dd HH:mm:ss' UTC time, epoch ms too.
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(base + 60))
    r = httpx.post(
        srv.url + "/ingest/osmand",
        data={"deviceid": "zhao-car", "location": "27.7221,112.5448", "timestamp": stamp},
    )
    assert r.status_code == 200 and _reporter(srv, rid)["lat"] == 27.7221
    r = httpx.post(
        srv.url + "/ingest/osmand",
        params={"id": "zhao-car", "lat": "27.7379", "lon": "112.53805", "accuracy": "4.0"},
        data={"timestamp": str((base + 120) * 1000)},
    )
    assert r.status_code == 200 and _reporter(srv, rid)["accuracy_m"] == 4

    # Traccar Client 9's JSON body: speed in m/s, battery level 0-1.
    body = {
        "device_id": "861234050012346",
        "location": {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(base + 180)),
            "coords": {"latitude": 27.72305, "longitude": 112.5462, "accuracy": 7.2, "speed": 3.4},
            "battery": {"level": 0.58, "is_charging": False},
        },
    }
    r = httpx.post(srv.url + "/ingest/osmand", json=body)
    assert r.status_code == 200, r.text
    now = _reporter(srv, rid)
    assert (now["lat"], now["speed_mps"], now["battery"]) == (27.72305, 3.4, pytest.approx(58))
    assert store.xlen(KEYS.trail(rid)) == 4

    # An offline buffer delivered newest first never moves the reporter back.
    for seconds in (170, 100, 30):
        httpx.get(
            srv.url + "/ingest/osmand",
            params=to_osmand_query("zhao-car", _now_fix(1, 600 - seconds)),
        )
    assert _reporter(srv, rid)["lat"] == 27.72305


def test_devices_are_bound_once_and_unknown_devices_refused(srv: Server) -> None:
    _new_reporter(srv, "孙伟", devices=["sun-phone"])
    r = httpx.post(
        srv.url + "/api/v1/reporters",
        json={"name": "钱七", "devices": ["qian-phone", "sun-phone"]},
        headers=_admin(srv),
    )
    assert r.status_code == 422 and "already bound" in r.json()["detail"]
    # Nothing of the refused reporter was kept: its other device is still free.
    assert _new_reporter(srv, "钱七", devices=["qian-phone"])["devices"] == ["qian-phone"]
    r = httpx.get(srv.url + "/ingest/osmand", params=to_osmand_query("nobody-dev", _now_fix(27.7)))
    assert r.status_code == 404 and "newsroom reporters add" in r.json()["detail"]


def test_off_duty_reporters_are_not_tracked(srv: Server, run: Any) -> None:
    rep = _new_reporter(srv, "周敏", devices=["zhou-phone"])
    url = srv.url.replace("http", "ws", 1) + "/ws/reporter"

    async def off_duty() -> None:
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": rep["token"]}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(json.dumps({"type": "duty", "v": 1, "on_duty": False}))
            while json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] != "duty":
                pass

    run(off_duty())
    assert _owntracks(srv, rep["token"], to_owntracks(_now_fix(27.7))).json() == []
    r = httpx.get(srv.url + "/ingest/osmand", params=to_osmand_query("zhou-phone", _now_fix(27.7)))
    assert r.status_code == 200 and r.json()["applied"] == 0
    assert _reporter(srv, rep["reporter_id"])["lat"] is None


# --- bad input and retention ----------------------------------------------------------------
JUNK_OWNTRACKS: list[bytes] = [
    b"{",
    b"<xml/>",
    b'{"_type":"location","lat":95,"lon":112.5,"tst":1795680000}',
    b'{"_type":"location","lat":"27.7","lon":112.5,"tst":1795680000}',
    b'{"_type":"location","lat":27.7,"lon":112.5}',
    b'{"_type":"encrypted","data":"AAAA"}',
    b'[{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000},{"_type":"location"}]',
    b'{"_type":"location","lat":27.7,"lon":112.5,"tst":1795680000,"pad":"' + b"x" * 70_000 + b'"}',
]
JUNK_OSMAND: list[tuple[str, dict[str, Any]]] = [
    ("GET", {"params": {"id": "junk-dev"}}),
    ("GET", {"params": {"id": "junk-dev", "lat": "abc", "lon": "1", "timestamp": "1"}}),
    ("GET", {"params": {"id": "junk-dev", "lat": "27", "lon": "200", "timestamp": "1"}}),
    ("GET", {"params": {"id": "junk-dev", "lat": "27", "lon": "112", "timestamp": "when"}}),
    ("GET", {"params": {"id": "junk-dev", "location": "27.7", "timestamp": "1"}}),
    ("POST", {"content": b"id=junk-dev&lat=27.7&lon=112&timestamp=1&speed=9999"}),
    ("POST", {"content": b'{"device_id": "junk-dev", "location": {"coords": 1}}'}),
    ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("POST", {"content": b"id=junk-dev&" + b"a" * 70_000}),
]


def test_junk_gets_a_reason_and_stores_nothing(srv: Server, store: redis.Redis) -> None:
    rep = _new_reporter(srv, "吴刚", devices=["junk-dev"])
    for body in JUNK_OWNTRACKS:
        r = _owntracks(srv, rep["token"], body)
        expected = 413 if len(body) > 64 * 1024 else 422  # too large, or unreadable
        assert r.status_code == expected and r.json()["detail"], (body[:80], r.text)
    for method, kwargs in JUNK_OSMAND:
        r = httpx.request(method, srv.url + "/ingest/osmand", **kwargs)
        expected = 413 if len(kwargs.get("content", b"")) > 64 * 1024 else 422
        assert r.status_code == expected and r.json()["detail"], (kwargs, r.text)
    assert _reporter(srv, rep["reporter_id"])["lat"] is None
    assert not store.exists(KEYS.trail(rep["reporter_id"]))


def test_hypothesis_bodies_never_fail_the_server(srv: Server, store: redis.Redis) -> None:
    rep = _new_reporter(srv, "郑洁", devices=["fuzz-dev"])
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
    owntracks = st.fixed_dictionaries(
        {"_type": st.sampled_from(["location", "transition", "lwt", "card"])},
        optional={k: scalars for k in ("lat", "lon", "tst", "acc", "vel", "cog", "batt")},
    ).map(json.dumps)
    osmand = st.dictionaries(
        st.sampled_from(["id", "lat", "lon", "location", "timestamp", "speed", "bearing", "batt"]),
        st.one_of(st.just("fuzz-dev"), st.text(max_size=12), scalars.map(str)),
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(owntracks, st.text(max_size=60)), osmand)
    def check(body: str, params: dict[str, str]) -> None:
        for r in (
            _owntracks(srv, rep["token"], body.encode()),
            httpx.get(srv.url + "/ingest/osmand", params=params),
            httpx.post(srv.url + "/ingest/osmand", data=params),
        ):
            assert r.status_code in (200, 404, 422), r.text
            if r.status_code != 200:
                assert r.json()["detail"]

    check()


def test_trail_expires_after_the_retention(srv: Server, store: redis.Redis) -> None:
    rep = _new_reporter(srv, "冯雪")
    assert _owntracks(srv, rep["token"], to_owntracks(_now_fix(27.7, 5))).status_code == 200
    ttl = store.pttl(KEYS.trail(rep["reporter_id"]))
    assert 0 < ttl <= float(RETENTION_H) * 3600 * 1000
    # Each new fix pushes the expiry out again.
    time.sleep(1.1)
    assert _owntracks(srv, rep["token"], to_owntracks(_now_fix(27.71))).status_code == 200
    assert store.pttl(KEYS.trail(rep["reporter_id"])) > ttl - 200
