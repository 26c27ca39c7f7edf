"""The gazetteer: matching typed text to places (pure), the seeded and editable list (real
Redis), and its REST routes with their roles (a real server)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from dispatch import auth, db, gazetteer
from dispatch.errors import Forbidden, InvalidInput, NotFound
from dispatch.gazetteer import Place
from dispatch.keys import Keys

KEYS = Keys("t-places")
DESK = auth.Principal(role="supervisor", subject="值班主任", token_hash="0" * 64)
WALL = auth.Principal(role="wall", subject="wall", token_hash="1" * 64)
REPORTER = auth.Principal(role="reporter", subject="r-1", token_hash="2" * 64)
PLACES = [Place(name=name, lat=lat, lon=lon) for name, lat, lon in gazetteer.SEED]


def names(found: list[Place]) -> list[str]:
    return [p["name"] for p in found]


# --- pure ------------------------------------------------------------------------------------
def test_prefix_matches_come_before_contains_matches() -> None:
    found = names(gazetteer.suggest(PLACES, "湘乡市"))
    assert found[0] == "湘乡市政府"  # the shortest name that starts with it
    assert all(name.startswith("湘乡市") for name in found)
    assert names(gazetteer.suggest(PLACES, "医院")) == ["湘乡市中医医院", "湘乡市人民医院"]
    assert names(gazetteer.suggest(PLACES, "东山")) == ["东山学校", "东山街道"]


def test_an_exact_name_comes_first_and_spaces_case_and_width_do_not_matter() -> None:
    places = [
        *PLACES,
        Place(name="东山", lat=27.7, lon=112.5),
        Place(name="Dongshan Bridge", lat=27.7, lon=112.5),
    ]
    assert names(gazetteer.suggest(places, " 东 山 "))[0] == "东山"
    assert names(gazetteer.suggest(places, "ＤＯＮＧＳＨＡＮ")) == ["Dongshan Bridge"]
    assert names(gazetteer.suggest(places, "bridge")) == ["Dongshan Bridge"]


def test_nothing_matches_an_empty_query_or_an_unknown_place_and_the_limit_holds() -> None:
    assert gazetteer.suggest(PLACES, "") == []
    assert gazetteer.suggest(PLACES, "   ") == []
    assert gazetteer.suggest(PLACES, "长沙") == []
    assert len(gazetteer.suggest(PLACES, "镇", limit=3)) == 3


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("27.74, 112.52", (27.74, 112.52)),
        ("27.74，112.52", (27.74, 112.52)),
        ("27.74 112.52", (27.74, 112.52)),
        (" -27.5;  -112 ", (-27.5, -112.0)),
        ("27.74", None),
        ("东山学校", None),
        ("95, 112", None),
        ("27, 200", None),
        ("", None),
    ],
)
def test_typed_coordinates_are_recognised(text: str, point: tuple[float, float] | None) -> None:
    assert gazetteer.parse_point(text) == point


def test_the_nearest_place_and_its_distance() -> None:
    place, km = gazetteer.nearest(PLACES, 27.7392, 112.5580) or (None, 0.0)
    assert place is not None and place["name"] == "东山学校"
    assert km < 0.05
    assert gazetteer.nearest([], 27.7, 112.5) is None


@pytest.mark.parametrize("bad", ["", "   ", "x" * 41, "东山\n学校", "a\x00b"])
def test_a_bad_name_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        gazetteer.check_name(bad)


def test_the_seed_is_in_xiangxiang() -> None:
    assert len(gazetteer.SEED) >= 20
    assert len({name for name, _, _ in gazetteer.SEED}) == len(gazetteer.SEED)
    for name, lat, lon in gazetteer.SEED:
        assert 27.4 < lat < 28.0 and 112.1 < lon < 112.8, name
    assert {"湘乡市政府", "东山学校", "湘乡火车站", "水府庙水库", "湘乡市人民医院"} <= {
        name for name, _, _ in gazetteer.SEED
    }


# --- Redis -----------------------------------------------------------------------------------
@pytest.mark.integration
def test_seeded_once_then_the_newsrooms_own_list(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            first = await gazetteer.all_places(r, KEYS)
            assert names(first) == sorted(name for name, _, _ in gazetteer.SEED)
            assert (await gazetteer.lookup(r, KEYS, " 东山学校 "))["lat"] == pytest.approx(27.7391)

            place, created = await gazetteer.put(r, KEYS, DESK, "湘乡市政务服务中心", 27.73, 112.54)
            assert created and place == {"name": "湘乡市政务服务中心", "lat": 27.73, "lon": 112.54}
            moved, created = await gazetteer.put(r, KEYS, DESK, "东山学校", 27.74, 112.56)
            assert not created and moved["lat"] == 27.74

            for name, _, _ in gazetteer.SEED:  # a newsroom may remove every seeded place ...
                await gazetteer.remove(r, KEYS, DESK, name)
            # ... and they stay removed: the seed is applied to a new gazetteer only
            assert names(await gazetteer.all_places(r, KEYS)) == ["湘乡市政务服务中心"]
            with pytest.raises(NotFound):
                await gazetteer.lookup(r, KEYS, "东山学校")
            with pytest.raises(NotFound):
                await gazetteer.remove(r, KEYS, DESK, "东山学校")
        finally:
            await r.aclose()

    run(go())


@pytest.mark.integration
def test_only_the_desk_edits_the_gazetteer(redis_url: str, run: Any) -> None:
    async def go() -> None:
        r = db.connect(redis_url)
        try:
            for who in (WALL, REPORTER):
                with pytest.raises(Forbidden):
                    await gazetteer.put(r, KEYS, who, "某地", 27.7, 112.5)
                with pytest.raises(Forbidden):
                    await gazetteer.remove(r, KEYS, who, "东山学校")
            with pytest.raises(InvalidInput):
                await gazetteer.put(r, KEYS, DESK, "某地", 91, 112.5)
            assert "某地" not in names(await gazetteer.all_places(r, KEYS))
            assert "东山学校" in names(await gazetteer.all_places(r, KEYS))
        finally:
            await r.aclose()

    run(go())


# --- REST ------------------------------------------------------------------------------------
@pytest.mark.integration
def test_places_over_rest(server: Any, run: Any) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}

    async def tokens() -> tuple[str, str]:
        r = db.connect(server.env["REDIS_URL"])
        try:
            keys = Keys("default")
            wall, _ = await auth.create_token(r, keys, "wall")
            desk, _ = await auth.create_token(r, keys, "supervisor", "值班主任")
            return wall, desk
        finally:
            await r.aclose()

    wall_token, desk_token = run(tokens())
    wall = {"Authorization": f"Bearer {wall_token}"}
    desk = {"Authorization": f"Bearer {desk_token}"}
    url = server.url + "/api/v1/places"
    with httpx.Client(timeout=10) as http:
        listed = http.get(url, headers=wall).json()
        assert len(listed) == len(gazetteer.SEED)
        found = http.get(url, params={"q": "医院"}, headers=desk).json()
        assert [p["name"] for p in found] == ["湘乡市中医医院", "湘乡市人民医院"]

        one = f"{url}/{quote('湘乡市图书馆')}"
        got = http.put(one, json={"lat": 27.736, "lon": 112.531}, headers=desk)
        assert got.status_code == 201
        assert got.json() == {"name": "湘乡市图书馆", "lat": 27.736, "lon": 112.531}
        assert http.put(one, json={"lat": 27.737, "lon": 112.531}, headers=admin).status_code == 200
        assert http.put(one, json={"lat": 27.7, "lon": 112.5}, headers=wall).status_code == 403
        bad = http.put(one, json={"lat": 127.7, "lon": 112.5}, headers=desk)
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"
        assert http.get(url, params={"q": "图书馆"}, headers=desk).json()[0]["lat"] == 27.737

        assert http.delete(one, headers=wall).status_code == 403
        assert http.delete(one, headers=desk).json()["name"] == "湘乡市图书馆"
        gone = http.delete(one, headers=desk)
        assert gone.status_code == 404 and "no place" in gone.json()["detail"]
        assert http.get(url).status_code == 401
