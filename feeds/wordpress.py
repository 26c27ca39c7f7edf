"""WordPress newsroom: posts from the REST API (`/wp-json/wp/v2/posts`), in modified order.

Authenticated with an application password (HTTP Basic `user:app-password`), the poller asks for
`context=edit` and the statuses draft, pending, future and publish; without credentials it reads
what the public sees (published posts). Stages (`STAGES`):

| WordPress status | stage | why |
|---|---|---|
| draft | reporting | the reporter is still writing |
| pending | review | "Pending Review": submitted, waiting for an editor's sign-off |
| future | review | signed off and scheduled; its scheduled time becomes the story's deadline |
| publish | published | live on the site: the poller's channel (default `web`) joins the channels |

Other statuses (private, custom ones) are skipped. A post that leaves `publish` loses the
poller's channel. The story id is `id_prefix` + the post id (`wp-10232`; set `id_prefix="xx-"`
when the CMS's webhooks say `xx-10232`). Fields already known from other sources (byline, other
channels) are kept; the desk comes from `meta.desk`, the deadline from `meta.deadline_gmt`.

Cursor: the newest `modified_gmt` applied (epoch ms) and the ids modified in that second, in
`keys.feed_state(name)`. Each request asks for posts modified after the cursor minus a second
(WordPress compares whole seconds, strictly) and skips what the cursor already covers. Pages
are read keyset-style: after a page that moved the cursor the next request starts again from
the new cursor (so posts edited meanwhile cannot shift past us); a page of nothing but known
posts moves on by `page`; `X-WP-TotalPages` says when there is no more.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import redis.asyncio as aioredis
from pydantic import TypeAdapter, ValidationError

from dispatch import db, schema, stories
from dispatch.clock import now_ms
from dispatch.errors import ConfigError, InvalidInput
from dispatch.keys import Keys
from dispatch.schema import Story
from feeds.rss import fetch, http_client, read_story

STAGES = {"draft": "reporting", "pending": "review", "future": "review", "publish": "published"}
MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_REQUESTS = 50  # per step; the next step goes on from the cursor
FIELDS = "id,date_gmt,modified_gmt,status,title,meta,link"


@dataclass(frozen=True)
class Post:
    id: int
    modified: int  # epoch ms of modified_gmt
    status: str
    title: str
    date: int | None  # epoch ms of date_gmt (the scheduled time of a future post)
    desk: str
    deadline: int | None
    priority: str | None


# --- parsing and mapping (pure) -------------------------------------------------------------
def parse_posts(body: bytes) -> list[Post]:
    """A `/wp/v2/posts` response body → posts; raise InvalidInput for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the posts page is not JSON: {str(exc)[:200]}") from None
    if not isinstance(data, list):
        raise InvalidInput("the posts page must be a JSON list (is the URL a WordPress site?)")
    return [parse_post(p, i) for i, p in enumerate(data)]


def parse_post(post: Any, index: int = 0) -> Post:
    if not isinstance(post, dict):
        raise InvalidInput(f"post {index}: not a JSON object")
    pid = post.get("id")
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 10**15:
        raise InvalidInput(f"post {index}: id must be a positive integer")
    modified = _gmt(post.get("modified_gmt"))
    if modified is None:
        raise InvalidInput(f"post {pid}: modified_gmt is missing or not a time")
    status = post.get("status")
    meta = post["meta"] if isinstance(post.get("meta"), dict) else {}
    desk, priority = meta.get("desk"), meta.get("priority")
    return Post(
        id=pid,
        modified=modified,
        status=status if isinstance(status, str) else "",
        title=_title(post.get("title")),
        date=_gmt(post.get("date_gmt")),
        desk=" ".join(desk.split())[:200] if isinstance(desk, str) else "",
        deadline=_gmt(meta.get("deadline_gmt")),
        priority=priority if priority in schema.PRIORITIES else None,
    )


def _title(value: Any) -> str:
    """`title.raw` (context=edit), else `title.rendered` (HTML entities decoded)."""
    if isinstance(value, dict):
        raw, rendered = value.get("raw"), value.get("rendered")
        if isinstance(raw, str):
            value = raw
        else:
            value = html.unescape(rendered) if isinstance(rendered, str) else ""
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def _gmt(value: Any) -> int | None:
    """WordPress's `*_gmt` times ("2026-11-26T00:41:10", UTC without a zone) → epoch ms."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        ms = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    except (ValueError, OverflowError):
        return None
    return ms if 0 <= ms <= 10**14 else None


def story_of(
    post: Post, current: Story | None, *, story_id: str, channel: str, source: str
) -> Story | None:
    """The story a post says; None for a status we do not map."""
    stage = STAGES.get(post.status)
    if stage is None:
        return None
    channels: list[str] = list(current.channels) if current else []
    if stage == "published" and channel not in channels:
        channels.append(channel)
    elif stage != "published" and channel in channels:
        channels.remove(channel)
    deadline = post.deadline or (post.date if post.status == "future" else None)
    return schema.validate(
        Story,
        {
            "story_id": story_id,
            "title": post.title or (current.title if current else "") or story_id,
            "stage": stage,
            "desk": post.desk or (current.desk if current else "news"),
            "channels": channels,
            "byline": current.byline if current else "",
            "deadline": deadline or (current.deadline if current else None),
            "priority": post.priority or (current.priority if current else "normal"),
            "updated_at": post.modified,
            "source": source,
        },
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the collector ----------------------------------------------------------------------------
class WordPressCollector:
    """Polls one WordPress site's posts for story stages."""

    kind = "wordpress"

    def __init__(
        self,
        *,
        name: str,
        url: str,
        username: str | None = None,
        password: str | None = None,
        channel: str = "web",
        interval_s: float = 60.0,
        id_prefix: str = "wp-",
        backfill_s: float | None = 2 * 86400.0,
        per_page: int = 100,
        timeout_s: float = 20.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if channel not in schema.CHANNELS:
            raise ConfigError(f"{name}: channel {channel!r} is not one of {schema.CHANNELS}")
        if bool(username) != bool(password):
            raise ConfigError(f"{name}: give both username and password (an application password)")
        if not 1 <= per_page <= 100:
            raise ConfigError(f"{name}: per_page must be 1..100 (WordPress's limit)")
        try:
            TypeAdapter(schema.Id).validate_python(id_prefix + "1")
        except ValidationError:
            raise ConfigError(f"{name}: id_prefix {id_prefix!r} does not make valid ids") from None
        base = url.rstrip("/")
        self.endpoint = base if "/wp-json/" in base else base + "/wp-json/wp/v2/posts"
        self.name, self.channel, self.interval_s = name, channel, interval_s
        self.id_prefix, self.backfill_s, self.per_page = id_prefix, backfill_s, per_page
        self.timeout_s = timeout_s
        self._auth = httpx.BasicAuth(username, password) if username and password else None
        self._client = client

    def __repr__(self) -> str:  # never the password
        return f"WordPressCollector(name={self.name!r}, endpoint={self.endpoint!r})"

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        if self._client is not None:
            return await self._step(self._client, r, keys)
        async with http_client(self.timeout_s) as client:
            return await self._step(client, r, keys)

    async def _step(self, client: httpx.AsyncClient, r: aioredis.Redis, keys: Keys) -> int:
        cursor, at_cursor = _cursor(await db.hgetall(r, keys.feed_state(self.name)))
        if cursor is None and self.backfill_s:
            cursor = now_ms() - int(self.backfill_s * 1000)
        applied, page = 0, 1
        for _ in range(MAX_REQUESTS):
            params = self._params(cursor, page)
            got = await fetch(
                client, self.endpoint, params=params, auth=self._auth, limit=MAX_PAGE_BYTES
            )
            posts = sorted(parse_posts(got.body), key=lambda p: (p.modified, p.id))
            moved = False
            for post in posts:
                if cursor is not None and (
                    post.modified < cursor or (post.modified == cursor and post.id in at_cursor)
                ):
                    continue
                applied += await self._apply(r, keys, post)
                if cursor is None or post.modified > cursor:
                    cursor, at_cursor = post.modified, set()
                at_cursor.add(post.id)
                moved = True
            if moved and cursor is not None:
                await self._save(r, keys, cursor, at_cursor)
            if not posts or page >= _total_pages(got.headers):
                break
            page = 1 if moved else page + 1
        return applied

    def _params(self, cursor: int | None, page: int) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "context": "edit" if self._auth else "view",
            "orderby": "modified",
            "order": "asc",
            "per_page": self.per_page,
            "page": page,
            "_fields": FIELDS,
        }
        if self._auth:
            params["status"] = ",".join(STAGES)
        if cursor is not None:
            params["modified_after"] = _iso(cursor - 1000)
        return params

    async def _apply(self, r: aioredis.Redis, keys: Keys, post: Post) -> int:
        story_id = f"{self.id_prefix}{post.id}"
        current = await read_story(r, keys, story_id)
        story = story_of(post, current, story_id=story_id, channel=self.channel, source=self.name)
        if story is None:
            return 0
        return int(await stories.upsert_story(r, keys, story))

    async def _save(self, r: aioredis.Redis, keys: Keys, cursor: int, ids: set[int]) -> None:
        await r.hset(
            keys.feed_state(self.name),
            mapping={"cursor": str(cursor), "cursor_ids": json.dumps(sorted(ids))},
        )


def _cursor(state: dict[str, str]) -> tuple[int | None, set[int]]:
    """The stored cursor; a damaged one counts as none (re-applying posts changes nothing)."""
    try:
        ids = json.loads(state.get("cursor_ids") or "[]")
        return int(state["cursor"]), {i for i in ids if isinstance(i, int)}
    except (KeyError, ValueError, TypeError):
        return None, set()


def _total_pages(headers: httpx.Headers) -> int:
    value = headers.get("x-wp-totalpages", "1").strip()
    return int(value) if value.isdigit() else 1
