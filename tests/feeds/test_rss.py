"""RSS 2.0 and Atom: the parser on the shared samples and hostile documents, then the poller
against a real local HTTP server and a real Redis."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from http_fixture import Feed, Response, serving
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import db, schema, stories
from dispatch.errors import ConfigError, InvalidInput, NotFound, Unavailable
from dispatch.keys import Keys
from dispatch.schema import Story
from feeds.rss import FeedItem, RssCollector, parse_feed, published_on, story_id_for

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "feeds"  # ../shared/samples, copied
APP_RSS = (SAMPLES / "app-rss.xml").read_bytes()
WEB_ATOM = (SAMPLES / "web-atom.xml").read_bytes()
KEYS = Keys("t-rss")
NOW = 1795690000000  # 2026-11-26 10:46 UTC, after every sample item


# --- parsing ----------------------------------------------------------------------------------
def test_the_rss_sample() -> None:
    items = parse_feed(APP_RSS)
    assert [i.guid for i in items] == ["xx-10231", "xx-10230"]
    first = items[0]
    assert first.title == "湘乡市召开冬季防汛调度会"
    assert first.link == "https://www.example-xx.cn/news/2026/11/26/10231.html"
    assert first.published == 1795651080000  # Thu, 26 Nov 2026 07:58:00 +0800
    assert (first.author, first.category) == ("张丽", "时政")


def test_the_atom_sample() -> None:
    items = parse_feed(WEB_ATOM)
    assert [i.guid for i in items] == [
        "tag:example-xx.cn,2026:10231",
        "tag:example-xx.cn,2026:10229",
    ]
    assert items[0].published == 1795651080000  # <published>, not <updated>
    assert items[0].author == "张丽" and items[1].title == "湘乡高铁站新增两趟始发列车"
    assert items[0].link == "https://www.example-xx.cn/news/2026/11/26/10231.html"


def test_story_ids_are_stable_and_fit_our_id_pattern() -> None:
    assert story_id_for("xx-10231") == "xx-10231"  # fits: used as it is
    url = "https://www.example-xx.cn/news/2026/11/26/10231.html"
    assert story_id_for(url) == story_id_for(url) == "rss-" + story_id_for(url)[4:]
    assert re.fullmatch(r"rss-[0-9a-f]{12}", story_id_for(url))
    assert story_id_for("tag:example-xx.cn,2026:10231") != story_id_for(
        "tag:example-xx.cn,2026:10229"
    )
    assert story_id_for("x" * 65).startswith("rss-")  # too long for an Id
    tag = re.compile(r":(\d+)$")
    assert story_id_for("tag:example-xx.cn,2026:10231", tag, r"xx-\1") == "xx-10231"
    # A pattern that does not match, or expands to a bad id, falls back to the plain rule.
    assert story_id_for("xx-10231", tag, r"xx-\1") == "xx-10231"
    assert story_id_for("a:1", tag, r"bad id \1") == "a:1"
    assert story_id_for("tag:x,2026:1", tag, r"bad id \1").startswith("rss-")
    assert story_id_for("tag:x,2026:1", tag, r"\2").startswith("rss-")


def test_minimal_items_and_odd_values() -> None:
    doc = b"""<rss version="2.0"><channel>
      <item><title>  no   id  </title></item>
      <item><link>https://example.cn/a b</link><pubDate>not a date</pubDate></item>
      <item><guid>g-1</guid><title><![CDATA[<b>bold</b> &amp; more]]></title>
            <author>ann@example.cn (Ann)</author>
            <pubDate>Thu, 26 Nov 2026 00:00:00 GMT</pubDate></item>
    </channel></rss>"""
    items = parse_feed(doc)
    assert [i.guid for i in items] == ["https://example.cn/a b", "g-1"]  # no id, no link: skipped
    assert items[0].published is None and items[0].title == ""
    assert items[1].title == "<b>bold</b> &amp; more" and items[1].author == "ann@example.cn (Ann)"
    assert items[1].published == 1795651200000


def test_an_atom_entry_without_id_uses_its_alternate_link() -> None:
    doc = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="html">T</title>
      <link rel="enclosure" href="https://example.cn/a.mp3"/>
      <link rel="alternate" href="https://example.cn/a.html"/>
      <category term="sport"/><updated>2026-11-26T00:00:00+08:00</updated></entry></feed>"""
    [item] = parse_feed(doc)
    assert item.guid == item.link == "https://example.cn/a.html"
    assert item.category == "sport" and item.published == 1795622400000


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
            "DOCTYPE",
        ),
        (
            b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<rss><channel><item><guid>&xxe;</guid></item></channel></rss>",
            "DOCTYPE",
        ),
        (
            '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>'.encode(
                "utf-16"
            ),
            "DOCTYPE",
        ),
        (b"<html><body>Not found</body></html>", "root element is <html>"),
        (b"<rss><channel><item>", "not well-formed"),
        (b"", "not well-formed"),
        (b"<rss>&undefined;</rss>", "not well-formed"),
        (b"<?xml version='1.0' encoding='klingon'?><rss/>", "not well-formed"),
    ],
)
def test_hostile_and_broken_documents_are_refused(doc: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_feed(doc)


def test_a_feed_over_the_size_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="limit"):
        parse_feed(b"<rss>" + b" " * (5 * 1024 * 1024) + b"</rss>")


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_invalid_input(doc: bytes) -> None:
    try:
        parse_feed(doc)
    except InvalidInput:
        pass


_xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).map(
    lambda s: s.replace("]]>", "")
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.tuples(_xml_text, _xml_text, _xml_text), max_size=4), st.booleans())
def test_any_item_text_parses_or_is_refused(items: list[tuple[str, ...]], atom: bool) -> None:
    if atom:
        body = "".join(
            f"<entry><id><![CDATA[{g}]]></id><title><![CDATA[{t}]]></title>"
            f"<published><![CDATA[{d}]]></published></entry>"
            for g, t, d in items
        )
        doc = f'<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'
    else:
        body = "".join(
            f"<item><guid><![CDATA[{g}]]></guid><title><![CDATA[{t}]]></title>"
            f"<pubDate><![CDATA[{d}]]></pubDate></item>"
            for g, t, d in items
        )
        doc = f"<rss><channel>{body}</channel></rss>"
    try:
        parsed = parse_feed(doc.encode())
    except InvalidInput:
        return  # e.g. a control character XML does not allow
    for item in parsed:
        story_id = story_id_for(item.guid)
        assert schema.validate(
            Story, {"story_id": story_id, "title": item.title, "stage": "lead", "updated_at": 0}
        )
        assert published_on(None, item, story_id, "app", "rss-app", NOW) is not None


# --- merging into the stored story (pure) -----------------------------------------------------
ITEM = FeedItem(
    "xx-10231", "湘乡市召开冬季防汛调度会", "https://x/1", 1795651080000, "张丽", "时政"
)


def test_a_new_item_is_a_new_published_story() -> None:
    story = published_on(None, ITEM, "xx-10231", "app", "rss-app", NOW)
    assert story is not None
    assert (story.stage, story.channels, story.updated_at) == ("published", ["app"], 1795651080000)
    assert (story.byline, story.desk, story.source) == ("张丽", "时政", "rss-app")
    future = FeedItem("g", "t", "", NOW + 3600_000, "", "")
    assert published_on(None, future, "g", "app", "rss-app", NOW).updated_at == NOW  # type: ignore[union-attr]


def test_an_item_merges_into_the_stored_story() -> None:
    known = Story(
        story_id="xx-10231",
        title="CMS title",
        stage="review",
        channels=["wechat"],
        byline="张丽、王芳",
        priority="high",
        updated_at=NOW - 5,
        source="cms",
    )
    story = published_on(known, ITEM, "xx-10231", "app", "rss-app", NOW)
    assert story is not None
    assert (story.stage, story.channels) == ("published", ["wechat", "app"])
    assert (story.title, story.byline, story.priority) == ("CMS title", "张丽、王芳", "high")
    assert story.updated_at == NOW - 4  # newer than what is stored, so it applies
    # Already published there: nothing to do. A correction stays a correction.
    assert published_on(story, ITEM, "xx-10231", "app", "rss-app", NOW) is None
    corrected = story.model_copy(update={"stage": "corrected"})
    assert published_on(corrected, ITEM, "xx-10231", "app", "rss-app", NOW) is None
    on_web = published_on(corrected, ITEM, "xx-10231", "web", "rss-web", NOW)
    assert on_web is not None and on_web.stage == "corrected"
    assert on_web.channels == ["wechat", "app", "web"]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="channel 'fax'"):
        RssCollector(name="x", url="http://x", channel="fax")
    with pytest.raises(ConfigError, match="kind"):
        RssCollector(name="x", url="http://x", channel="app", kind="json")
    with pytest.raises(ConfigError, match="id_pattern"):
        RssCollector(name="x", url="http://x", channel="app", id_pattern="(")


# --- the poller against a real HTTP server and Redis ------------------------------------------
async def _story_map(r: Any) -> dict[str, dict[str, Any]]:
    return {s["story_id"]: s for s in await stories.all_stories(r, KEYS)}


def _step(run: Run[Any], redis_url: str, collector: RssCollector, times: int = 1) -> list[int]:
    async def go() -> list[int]:
        r = db.connect(redis_url)
        try:
            return [await collector.step(r, KEYS) for _ in range(times)]
        finally:
            await r.aclose()

    return run(go())


def _read(run: Run[Any], redis_url: str, fn: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    async def go() -> T:
        r = db.connect(redis_url)
        try:
            return await fn(r)
        finally:
            await r.aclose()

    return run(go())


@pytest.mark.integration
def test_conditional_get_304_and_a_new_item(run: Run[Any], redis_url: str) -> None:
    feed = Feed(APP_RSS, etag='"app-1"', last_modified="Thu, 26 Nov 2026 00:10:00 GMT")
    with serving(**{"/app.xml": feed}) as http:
        app = RssCollector(name="rss-app", url=http.url + "/app.xml", channel="app", interval_s=30)
        assert _step(run, redis_url, app, times=2) == [2, 0]
        first, second = http.requests
        assert "if-none-match" not in first.headers and "if-modified-since" not in first.headers
        assert second.headers["if-none-match"] == '"app-1"'
        assert second.headers["if-modified-since"] == "Thu, 26 Nov 2026 00:10:00 GMT"
        before = board = _read(run, redis_url, _story_map)
        assert set(board) == {"xx-10231", "xx-10230"}
        assert board["xx-10231"]["stage"] == "published" and board["xx-10231"]["channels"] == [
            "app"
        ]
        assert board["xx-10230"]["byline"] == "王芳" and board["xx-10230"]["source"] == "rss-app"

        # The CMS adds a story: one new item, the two known ones are left alone.
        new_item = (
            b"<item><title>\xe6\x96\xb0</title><guid>xx-10240</guid>"
            b"<pubDate>Thu, 26 Nov 2026 09:00:00 +0800</pubDate></item>"
        )
        feed.update(
            APP_RSS.replace(b"<item>", new_item + b"<item>", 1),
            '"app-2"',
            "Thu, 26 Nov 2026 01:00:00 GMT",
        )
        assert _step(run, redis_url, app) == [1]
        assert http.requests[-1].headers["if-none-match"] == '"app-1"'
        assert _step(run, redis_url, app) == [0]
        assert http.requests[-1].headers["if-none-match"] == '"app-2"'
    board = _read(run, redis_url, _story_map)
    assert board["xx-10240"]["stage"] == "published" and board["xx-10240"]["title"] == "新"
    assert board["xx-10231"] == before["xx-10231"] and board["xx-10230"] == before["xx-10230"]


@pytest.mark.integration
def test_last_modified_alone_and_lost_state_change_nothing(run: Run[Any], redis_url: str) -> None:
    feed = Feed(APP_RSS, etag=None)
    with serving(**{"/app.xml": feed}) as http:
        app = RssCollector(name="rss-app", url=http.url + "/app.xml", channel="app")
        assert _step(run, redis_url, app, times=2) == [2, 0]
        assert "if-none-match" not in http.requests[1].headers
        assert http.requests[1].headers["if-modified-since"] == feed.last_modified
        before = _read(run, redis_url, _story_map)
        # The state is damaged or lost (a new Redis, a renamed source): the same items apply
        # nothing.
        _read(run, redis_url, lambda r: r.hset(KEYS.feed_state("rss-app"), "seen", "{oops"))
        assert _step(run, redis_url, app) == [0]
        _read(run, redis_url, lambda r: r.delete(KEYS.feed_state("rss-app")))
        assert _step(run, redis_url, app) == [0]
        assert _read(run, redis_url, _story_map) == before


@pytest.mark.integration
def test_atom_publishes_a_known_story_on_its_channel(run: Run[Any], redis_url: str) -> None:
    known = Story(
        story_id="xx-10231",
        title="防汛调度会",
        stage="review",
        channels=["app"],
        byline="张丽",
        priority="high",
        updated_at=1795651000000,
        source="cms",
    )
    _read(run, redis_url, lambda r: stories.upsert_story(r, KEYS, known))
    with serving(**{"/atom.xml": Feed(WEB_ATOM)}) as http:
        web = RssCollector(
            name="atom-web",
            url=http.url + "/atom.xml",
            channel="web",
            kind="atom",
            id_pattern=r":(\d+)$",
            id_template=r"xx-\1",
        )
        assert _step(run, redis_url, web) == [2]
    board = _read(run, redis_url, _story_map)
    merged = board["xx-10231"]
    assert merged["stage"] == "published" and merged["channels"] == ["app", "web"]
    assert (merged["title"], merged["priority"]) == ("防汛调度会", "high")
    assert board["xx-10229"]["channels"] == ["web"]
    state = _read(run, redis_url, lambda r: db.hgetall(r, KEYS.feed_state("atom-web")))
    assert sorted(json.loads(state["seen"])) == ["xx-10229", "xx-10231"]


@pytest.mark.integration
def test_failures_raise_readable_errors_and_store_nothing(run: Run[Any], redis_url: str) -> None:
    doctype = (
        b'<!DOCTYPE rss [<!ENTITY a "b">]>'
        b"<rss><channel><item><guid>&a;</guid></item></channel></rss>"
    )
    with serving(
        **{
            "/gone.xml": lambda _: Response(404, body=b"Not Found"),
            "/busy.xml": lambda _: Response(503, body=b"try later"),
            "/evil.xml": lambda _: Response(200, {"ETag": '"e"'}, doctype),
        }
    ) as http:
        for path, error, text in [
            ("/gone.xml", NotFound, "answered 404: Not Found (check the URL)"),
            ("/busy.xml", Unavailable, "answered 503: try later"),
            ("/evil.xml", InvalidInput, "DOCTYPE"),
        ]:
            collector = RssCollector(name="rss-x", url=http.url + path, channel="app")
            with pytest.raises(error, match=re.escape(text)):
                _step(run, redis_url, collector)
        port = http.url.rsplit(":", 1)[1]
    closed = RssCollector(name="rss-x", url=f"http://127.0.0.1:{port}/app.xml", channel="app")
    with pytest.raises(Unavailable, match="could not fetch"):
        _step(run, redis_url, closed)
    assert _read(run, redis_url, _story_map) == {}
    assert _read(run, redis_url, lambda r: db.hgetall(r, KEYS.feed_state("rss-x"))) == {}
