"""WordPress: the posts parser and the status → stage mapping, then the poller against a real
local HTTP server answering like `/wp-json/wp/v2/posts`, and a real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from http_fixture import WordPressSite, serving
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import db, stories
from dispatch.clock import now_ms
from dispatch.errors import ConfigError, InvalidInput, Unauthorized
from dispatch.keys import Keys
from dispatch.schema import Story
from feeds.wordpress import STAGES, WordPressCollector, parse_post, parse_posts, story_of

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "wordpress" / "posts.json"
POSTS: list[dict[str, Any]] = json.loads(SAMPLE.read_text())
KEYS = Keys("t-wp")
USER, APP_PASSWORD = "desk", "abcd EFGH 1234 ijkl MNOP 5678"


# --- parsing and mapping (pure) ---------------------------------------------------------------
def test_the_sample_posts() -> None:
    posts = {p.id: p for p in parse_posts(SAMPLE.read_bytes())}
    assert sorted(posts) == [10231, 10232, 10233, 10234]
    live = posts[10232]
    assert (live.status, live.title, live.desk) == ("pending", "直播：防汛调度会现场", "时政")
    assert live.modified == 1795653670000  # 2026-11-26T00:41:10 GMT
    assert live.deadline == 1795658400000  # meta.deadline_gmt 02:00
    assert posts[10234].date == 1795665600000  # scheduled for 04:00 GMT


@pytest.mark.parametrize(
    ("post_id", "stage", "channels", "deadline"),
    [
        (10233, "reporting", [], None),  # draft
        (10232, "review", [], 1795658400000),  # pending, meta.deadline_gmt
        (10234, "review", [], 1795665600000),  # future: the scheduled time is the deadline
        (10231, "published", ["web"], None),  # publish
    ],
)
def test_statuses_map_to_stages(
    post_id: int, stage: str, channels: list[str], deadline: int | None
) -> None:
    [post] = [p for p in parse_posts(SAMPLE.read_bytes()) if p.id == post_id]
    story = story_of(post, None, story_id=f"xx-{post_id}", channel="web", source="wp")
    assert story is not None
    assert (story.stage, story.channels, story.deadline) == (stage, channels, deadline)
    assert story.updated_at == post.modified and story.source == "wp"


def test_the_mapping_is_documented_and_complete() -> None:
    assert STAGES == {
        "draft": "reporting",
        "pending": "review",
        "future": "review",
        "publish": "published",
    }
    private = parse_post({**POSTS[0], "status": "private"})
    assert story_of(private, None, story_id="wp-1", channel="web", source="wp") is None


def test_a_post_merges_into_the_stored_story() -> None:
    known = Story(
        story_id="xx-10231",
        title="old title",
        stage="review",
        desk="news",
        channels=["app", "wechat"],
        byline="张丽",
        priority="high",
        updated_at=1,
        source="cms",
    )
    published = parse_post(POSTS[1])
    story = story_of(published, known, story_id="xx-10231", channel="web", source="wp")
    assert story is not None
    assert story.channels == ["app", "wechat", "web"] and story.stage == "published"
    assert (story.title, story.desk, story.byline, story.priority) == (
        "湘乡市召开冬季防汛调度会",
        "时政",
        "张丽",
        "high",
    )
    # Unpublished in WordPress: it leaves the website, not the other channels.
    draft = parse_post({**POSTS[1], "status": "draft"})
    back = story_of(draft, story, story_id="xx-10231", channel="web", source="wp")
    assert back is not None and back.channels == ["app", "wechat"] and back.stage == "reporting"


def test_view_context_titles_are_unescaped() -> None:
    post = parse_post({**POSTS[0], "title": {"rendered": "A &amp; B &#8211; C"}})
    assert post.title == "A & B – C"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "not JSON"),
        (b'{"code": "rest_no_route"}', "must be a JSON list"),
        (b"[1]", "post 0: not a JSON object"),
        (b'[{"id": "7"}]', "id must be a positive integer"),
        (b'[{"id": true}]', "id must be a positive integer"),
        (b'[{"id": 7, "modified_gmt": "soon"}]', "post 7: modified_gmt"),
        (b'[{"id": 7}]', "post 7: modified_gmt"),
    ],
)
def test_bad_pages_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_posts(body)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_post_like = st.fixed_dictionaries(
    {"id": st.integers(min_value=-1, max_value=10**16)},
    optional={
        "modified_gmt": _json | st.datetimes().map(lambda d: d.isoformat()),
        "date_gmt": _json | st.datetimes().map(lambda d: d.isoformat()),
        "status": _json | st.sampled_from([*STAGES, "private", "trash"]),
        "title": _json | st.fixed_dictionaries({}, optional={"raw": _json, "rendered": _json}),
        "meta": _json
        | st.fixed_dictionaries(
            {}, optional={"desk": _json, "deadline_gmt": _json, "priority": _json}
        ),
    },
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=1000) | st.lists(_post_like, max_size=3).map(json.dumps).map(str.encode))
def test_arbitrary_pages_raise_only_invalid_input(body: bytes) -> None:
    try:
        posts = parse_posts(body)
    except InvalidInput:
        return
    for post in posts:
        try:
            story_of(post, None, story_id=f"wp-{post.id}", channel="web", source="wp")
        except InvalidInput:
            pass


@settings(max_examples=200, deadline=None, database=None)
@given(_json)
def test_arbitrary_json_raises_only_invalid_input(data: Any) -> None:
    try:
        parse_posts(json.dumps(data).encode())
    except InvalidInput:
        pass


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="channel"):
        WordPressCollector(name="wp", url="http://x", channel="fax")
    with pytest.raises(ConfigError, match="both username and password"):
        WordPressCollector(name="wp", url="http://x", username="desk")
    with pytest.raises(ConfigError, match="id_prefix"):
        WordPressCollector(name="wp", url="http://x", id_prefix="wp/")
    with pytest.raises(ConfigError, match="per_page"):
        WordPressCollector(name="wp", url="http://x", per_page=500)
    assert APP_PASSWORD not in repr(
        WordPressCollector(name="wp", url="http://x", username=USER, password=APP_PASSWORD)
    )


# --- the poller against a real HTTP server and Redis ------------------------------------------
def _collector(url: str, **kwargs: Any) -> WordPressCollector:
    options: dict[str, Any] = {
        "name": "wp",
        "url": url,
        "username": USER,
        "password": APP_PASSWORD,
        "id_prefix": "xx-",
        "backfill_s": None,
        **kwargs,
    }
    return WordPressCollector(**options)


def _steps(run: Run[Any], redis_url: str, collector: WordPressCollector) -> tuple[int, list[str]]:
    """One step; returns what it applied and the story ids published on the live channel, in
    the order they were written."""

    async def go() -> tuple[int, list[str]]:
        r = db.connect(redis_url)
        pubsub = r.pubsub()
        await pubsub.subscribe(KEYS.live_channel)
        try:
            await pubsub.get_message(timeout=1)  # the subscription's confirmation
            applied = await collector.step(r, KEYS)
            order: list[str] = []
            while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2):
                order.append(json.loads(message["data"])["story_id"])
            return applied, order
        finally:
            await pubsub.aclose()
            await r.aclose()

    return run(go())


def _board(run: Run[Any], redis_url: str) -> dict[str, dict[str, Any]]:
    async def go() -> dict[str, dict[str, Any]]:
        r = db.connect(redis_url)
        try:
            return {s["story_id"]: s for s in await stories.all_stories(r, KEYS)}
        finally:
            await r.aclose()

    return run(go())


@pytest.mark.integration
def test_posts_apply_in_modified_order_then_only_changes(run: Run[Any], redis_url: str) -> None:
    site = WordPressSite([dict(p) for p in POSTS], USER, APP_PASSWORD)
    with serving(**{WordPressSite.PATH: site}) as http:
        wp = _collector(http.url)
        applied, order = _steps(run, redis_url, wp)
        assert applied == 4
        assert order == ["xx-10231", "xx-10233", "xx-10232", "xx-10234"]  # by modified_gmt
        first = http.requests[0]
        token = base64.b64encode(f"{USER}:{APP_PASSWORD}".encode()).decode()
        assert first.headers["authorization"] == f"Basic {token}"
        assert first.query["context"] == "edit" and first.query["orderby"] == "modified"
        assert first.query["order"] == "asc" and first.query["per_page"] == "100"
        assert first.query["status"] == "draft,pending,future,publish"
        assert "modified_after" not in first.query  # backfill_s=None: from the beginning
        board = _board(run, redis_url)
        assert {sid: s["stage"] for sid, s in board.items()} == {
            "xx-10231": "published",
            "xx-10232": "review",
            "xx-10233": "reporting",
            "xx-10234": "review",
        }
        assert board["xx-10231"]["channels"] == ["web"] and board["xx-10232"]["desk"] == "时政"

        # Nothing changed: the cursor (one second back) finds only what it already applied.
        assert _steps(run, redis_url, wp) == (0, [])
        assert http.requests[-1].query["modified_after"] == "2026-11-26T00:49:59Z"

        # The editor publishes the live story: one change, published on the web.
        site.posts[0].update(status="publish", modified_gmt="2026-11-26T00:55:00")
        assert _steps(run, redis_url, wp) == (1, ["xx-10232"])
        story = _board(run, redis_url)["xx-10232"]
        assert story["stage"] == "published" and story["channels"] == ["web"]


@pytest.mark.integration
def test_pages_and_posts_modified_in_the_same_second(run: Run[Any], redis_url: str) -> None:
    same = "2026-11-26T01:00:00"
    posts = [dict(p) for p in POSTS] + [
        {**POSTS[2], "id": 10300 + i, "modified_gmt": same, "title": {"raw": f"t{i}"}}
        for i in range(5)
    ]
    site = WordPressSite(posts, USER, APP_PASSWORD)
    with serving(**{WordPressSite.PATH: site}) as http:
        wp = _collector(http.url, per_page=2)
        applied, order = _steps(run, redis_url, wp)
        assert applied == 9
        assert order[:4] == ["xx-10231", "xx-10233", "xx-10232", "xx-10234"]
        assert sorted(order[4:]) == [f"xx-{10300 + i}" for i in range(5)]
        # Every request asked for pages of two and none past X-WP-TotalPages (the site
        # answers that with 400, which would have failed the step).
        assert {r.query["per_page"] for r in http.requests} == {"2"}
        # Five posts share the cursor's second; the next step pages past them and stops.
        assert _steps(run, redis_url, wp) == (0, [])
    state = run(_state(redis_url))
    assert state["cursor"] == "1795654800000"
    assert json.loads(state["cursor_ids"]) == [10300 + i for i in range(5)]


async def _state(redis_url: str) -> dict[str, str]:
    r = db.connect(redis_url)
    try:
        return await db.hgetall(r, KEYS.feed_state("wp"))
    finally:
        await r.aclose()


@pytest.mark.integration
def test_backfill_starts_from_a_recent_cursor(run: Run[Any], redis_url: str) -> None:
    now = now_ms()
    posts = [
        {**POSTS[1], "id": 1, "modified_gmt": _gmt_text(now - 3 * 86400_000)},
        {**POSTS[1], "id": 2, "modified_gmt": _gmt_text(now - 3600_000)},
    ]
    site = WordPressSite(posts, USER, APP_PASSWORD)
    with serving(**{WordPressSite.PATH: site}) as http:
        wp = _collector(http.url, backfill_s=2 * 86400, id_prefix="wp-")
        assert _steps(run, redis_url, wp) == (1, ["wp-2"])
        assert "modified_after" in http.requests[0].query


def _gmt_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.integration
def test_public_reading_and_a_wrong_password(run: Run[Any], redis_url: str) -> None:
    site = WordPressSite([dict(p) for p in POSTS], USER, APP_PASSWORD)
    with serving(**{WordPressSite.PATH: site}) as http:
        public = _collector(http.url + "/", username=None, password=None)
        assert _steps(run, redis_url, public) == (1, ["xx-10231"])  # only what is published
        request = http.requests[-1]
        assert request.query["context"] == "view" and "status" not in request.query
        assert "authorization" not in request.headers

        wrong = _collector(http.url, name="wp-wrong", password="nope")
        with pytest.raises(Unauthorized, match="The provided password is incorrect"):
            run(_one_step(redis_url, wrong))
    assert run(_state(redis_url)) != {}  # the public poller's cursor
    assert set(_board(run, redis_url)) == {"xx-10231"}


async def _one_step(redis_url: str, collector: WordPressCollector) -> int:
    r = db.connect(redis_url)
    try:
        return await asyncio.wait_for(collector.step(r, KEYS), 30)
    finally:
        await r.aclose()
