"""RSS 2.0 and Atom feeds: one poller per channel; a new item means its story is published there.

Each step is one conditional GET (If-None-Match / If-Modified-Since from the previous answer's
ETag / Last-Modified, kept in `keys.feed_state(name)` with the story ids already seen); a 304
costs nothing. Every item not seen before publishes its story on the poller's channel: the
stored story (if any) is merged, its stage becomes `published` (a `corrected` story stays
corrected) and the channel joins its channels. A story already published on that channel is
left alone, so a repeated poll (or a lost state) changes nothing.

Story ids (`story_id_for`): an optional `id_pattern` regular expression is searched in the
item's id and `id_template` expands its groups (e.g. pattern `:(\\d+)$`, template `xx-\\1` turns
`tag:example-xx.cn,2026:10231` into `xx-10231`, the CMS's own id). Otherwise an id that already
fits our Id pattern (`[A-Za-z0-9_.:-]{1,64}`) is used as it is, and any other is replaced by
`rss-` + the first 12 hex digits of its SHA-1: stable across polls and across RSS and Atom. The
item's id is its `<guid>` (RSS) or `<id>` (Atom), else its link.

Parsing uses the standard library's expat with a tree builder that refuses any DOCTYPE, so no
entity can be declared, expanded or fetched (billion laughs, external entities).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import httpx
import redis.asyncio as aioredis
from pydantic import TypeAdapter, ValidationError

from dispatch import db, schema, stories
from dispatch.clock import now_ms
from dispatch.errors import (
    ConfigError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unavailable,
)
from dispatch.keys import Keys
from dispatch.schema import Story

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 1000
MAX_SEEN = 2000  # story ids remembered per feed
USER_AGENT = "newsroom-command/1 (feeds)"
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
_ID = TypeAdapter(schema.Id)


@dataclass(frozen=True)
class FeedItem:
    guid: str  # the item's own id: <guid> or <id>, else its link
    title: str
    link: str
    published: int | None  # epoch ms, when the feed says
    author: str
    category: str


# --- parsing (pure) ---------------------------------------------------------------------------
class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise InvalidInput("the feed declares a DOCTYPE; entity declarations are refused")


def parse_feed(body: bytes) -> list[FeedItem]:
    """An RSS 2.0 or Atom document → its items (in document order); raise InvalidInput."""
    if len(body) > MAX_FEED_BYTES:
        raise InvalidInput(f"the feed is {len(body)} bytes; the limit is {MAX_FEED_BYTES}")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(body)
        root = parser.close()
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise InvalidInput(f"the feed is not well-formed XML: {str(exc)[:200]}") from None
    if root.tag == "rss":
        channel = root.find("channel")
        items = [_rss_item(e) for e in (channel.iter("item") if channel is not None else ())]
    elif root.tag == ATOM + "feed":
        items = [_atom_entry(e) for e in root.iter(ATOM + "entry")]
    else:
        raise InvalidInput(f"not an RSS 2.0 or Atom feed: the root element is <{root.tag[:60]}>")
    return [i for i in items if i is not None][:MAX_ITEMS]


def _text(e: ET.Element | None, limit: int = 200) -> str:
    return " ".join("".join(e.itertext()).split())[:limit] if e is not None else ""


def _rss_item(e: ET.Element) -> FeedItem | None:
    link = _text(e.find("link"), 2000)
    guid = _text(e.find("guid"), 2000) or link
    if not guid:
        return None
    return FeedItem(
        guid=guid,
        title=_text(e.find("title")),
        link=link,
        published=_rfc822(_text(e.find("pubDate"))),
        author=_text(e.find(DC + "creator")) or _text(e.find("author")),
        category=_text(e.find("category")),
    )


def _atom_entry(e: ET.Element) -> FeedItem | None:
    links = e.findall(ATOM + "link")
    alternate = [x for x in links if x.get("rel", "alternate") == "alternate"] or links
    link = (alternate[0].get("href") or "").strip() if alternate else ""
    guid = _text(e.find(ATOM + "id"), 2000) or link
    if not guid:
        return None
    category = e.find(ATOM + "category")
    return FeedItem(
        guid=guid,
        title=_text(e.find(ATOM + "title")),
        link=link,
        published=_iso(_text(e.find(ATOM + "published")) or _text(e.find(ATOM + "updated"))),
        author=_text(e.find(f"{ATOM}author/{ATOM}name")),
        category=(category.get("term") or "").strip()[:200] if category is not None else "",
    )


def _rfc822(text: str) -> int | None:
    try:
        return _ms(parsedate_to_datetime(text)) if text else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _iso(text: str) -> int | None:
    try:
        return _ms(datetime.fromisoformat(text.replace("Z", "+00:00"))) if text else None
    except (ValueError, OverflowError):
        return None


def _ms(when: datetime) -> int | None:
    ms = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    return ms if 0 <= ms <= 10**14 else None


def story_id_for(guid: str, pattern: re.Pattern[str] | None = None, template: str = r"\1") -> str:
    """The story id for a feed item's id (the rule is in the module's docstring)."""
    if pattern is not None and (match := pattern.search(guid)):
        try:
            return str(_ID.validate_python(match.expand(template)))
        except (ValidationError, re.error, IndexError):
            pass
    try:
        return str(_ID.validate_python(guid))
    except ValidationError:
        return "rss-" + hashlib.sha1(guid.encode("utf-8", "replace")).hexdigest()[:12]


def published_on(
    current: Story | None, item: FeedItem, story_id: str, channel: str, source: str, now: int
) -> Story | None:
    """The story after `item` appeared on `channel`; None if it already shows that."""
    seen_at = min(item.published or now, now)
    if current is None:
        return schema.validate(
            Story,
            {
                "story_id": story_id,
                "title": item.title or item.link[:200] or story_id,
                "stage": "published",
                "desk": item.category or "news",
                "channels": [channel],
                "byline": item.author,
                "updated_at": seen_at,
                "source": source,
            },
        )
    if current.stage in ("published", "corrected") and channel in current.channels:
        return None
    channels = current.channels if channel in current.channels else [*current.channels, channel]
    return current.model_copy(
        update={
            "stage": "corrected" if current.stage == "corrected" else "published",
            "channels": channels,
            "updated_at": max(current.updated_at + 1, seen_at),
        }
    )


# --- I/O shared by the pollers ----------------------------------------------------------------
async def read_story(r: aioredis.Redis, keys: Keys, story_id: str) -> Story | None:
    raw = cast("str | None", await r.hget(keys.stories, story_id))
    if raw is None:
        return None
    try:
        event = schema.decode_event(raw)
    except InvalidInput:
        return None
    return event if isinstance(event, Story) else None


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes


async def fetch(
    client: httpx.AsyncClient, url: str, *, limit: int = MAX_FEED_BYTES, **kwargs: Any
) -> Fetched:
    """GET `url`; 200 and 304 come back, anything else raises our error saying what to check."""
    try:
        async with client.stream("GET", url, **kwargs) as resp:
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise InvalidInput(f"{url} sent more than {limit} bytes; that is the limit")
    except httpx.HTTPError as exc:
        raise Unavailable(f"could not fetch {url}: {type(exc).__name__} {exc}".strip()) from exc
    if resp.status_code not in (200, 304):
        _refuse(url, resp.status_code, bytes(body))
    return Fetched(resp.status_code, resp.headers, bytes(body))


def _refuse(url: str, status: int, body: bytes) -> None:
    said = body[:300].decode("utf-8", "replace")
    try:
        said = str(json.loads(body).get("message", said))[:300]  # WordPress's error text
    except (ValueError, AttributeError, RecursionError):
        pass
    text = f"{url} answered {status}: {' '.join(said.split())}"
    if status == 401:
        raise Unauthorized(text + " (check the username and password)")
    if status == 403:
        raise Forbidden(text + " (the account may not read this)")
    if status in (404, 410):
        raise NotFound(text + " (check the URL)")
    if status == 429 or status >= 500:
        raise Unavailable(text)
    raise InvalidInput(text)


def _seen(raw: str | None) -> list[str]:
    """The stored ids; a damaged record is forgotten (re-applying items changes nothing)."""
    try:
        ids = json.loads(raw or "[]")
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def http_client(timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )


# --- the collector ----------------------------------------------------------------------------
class RssCollector:
    """Polls one RSS 2.0 or Atom feed (either is detected) for one channel."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        channel: str,
        interval_s: float = 60.0,
        kind: str = "rss",
        id_pattern: str | None = None,
        id_template: str = r"\1",
        timeout_s: float = 15.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if channel not in schema.CHANNELS:
            raise ConfigError(f"{name}: channel {channel!r} is not one of {schema.CHANNELS}")
        if kind not in ("rss", "atom"):
            raise ConfigError(f"{name}: kind must be rss or atom, not {kind!r}")
        try:
            self.id_pattern = re.compile(id_pattern) if id_pattern else None
        except re.error as exc:
            raise ConfigError(f"{name}: id_pattern is not a regular expression: {exc}") from None
        self.name, self.url, self.channel, self.kind = name, url, channel, kind
        self.interval_s, self.id_template, self.timeout_s = interval_s, id_template, timeout_s
        self._client = client

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        state = await db.hgetall(r, keys.feed_state(self.name))
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        if self._client is not None:
            got = await fetch(self._client, self.url, headers=headers)
        else:
            async with http_client(self.timeout_s) as client:
                got = await fetch(client, self.url, headers=headers)
        if got.status == 304:
            return 0
        items = parse_feed(got.body)
        seen = _seen(state.get("seen"))
        known = set(seen)
        applied = 0
        # Oldest first, so the wall's newest story is the feed's newest.
        for item in sorted(items, key=lambda i: i.published or 0):
            story_id = story_id_for(item.guid, self.id_pattern, self.id_template)
            if story_id in known:
                continue
            applied += await self._publish(r, keys, item, story_id)
            known.add(story_id)
            seen.append(story_id)
        await self._save(r, keys, got.headers, seen[-MAX_SEEN:])
        return applied

    async def _publish(self, r: aioredis.Redis, keys: Keys, item: FeedItem, story_id: str) -> int:
        for _ in range(3):  # another source may write the story between our read and write
            current = await read_story(r, keys, story_id)
            story = published_on(current, item, story_id, self.channel, self.name, now_ms())
            if story is None:
                return 0
            if await stories.upsert_story(r, keys, story):
                return 1
        return 0

    async def _save(
        self, r: aioredis.Redis, keys: Keys, headers: httpx.Headers, seen: list[str]
    ) -> None:
        await r.hset(
            keys.feed_state(self.name),
            mapping={
                "etag": headers.get("etag", ""),
                "last_modified": headers.get("last-modified", ""),
                "seen": json.dumps(seen),
            },
        )
