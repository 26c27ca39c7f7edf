"""Signed JSON webhooks: `POST /ingest/story` (a CMS) and `POST /ingest/traffic` (analytics,
radio/TV/SMS reach).

Order of checks: size (413), signature (401, before the body is even parsed), body and replay
window (422), then the delivery's digest: an identical body inside the replay window is answered
200 `{"applied": false, "duplicate": true}` and applies nothing. Nothing is stored for a
refused delivery.
"""

from __future__ import annotations

from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Header, Request

from dispatch import stories
from dispatch.clock import now_ms
from dispatch.deps import RT, limit_ip, read_body
from dispatch.runtime import Runtime
from dispatch.schema import Story, Traffic
from feeds import signing, webhooks
from feeds.webhooks import MAX_BODY_BYTES, SEEN_TTL_MS

router = APIRouter(prefix="/ingest", tags=["ingest"], dependencies=[Depends(limit_ip)])

Signature = Annotated[
    str | None,
    Header(alias=signing.HEADER, description="sha256=<hex HMAC-SHA256 of the raw body>"),
]


def _json_body(schema_: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI text for a body the route reads raw (it must, to check the signature)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema_}}}}


_TRAFFIC_BODY = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": Traffic.model_json_schema(), "maxItems": 1000},
        "sent_at": {"type": "integer", "description": "epoch ms when sent (optional)"},
    },
    "required": ["items"],
}


@router.post("/story", openapi_extra=_json_body(Story.model_json_schema()))
async def ingest_story(request: Request, rt: RT, signature: Signature = None) -> dict[str, Any]:
    """A story update from a CMS: our `story` event (a CMS stage word, a list byline and ISO
    times are accepted). Applied once per (story_id, updated_at); an older update is ignored."""
    body = await _signed_body(request, rt, signature)
    story = webhooks.parse_story(body, now_ms())
    claim = await _claim(rt, "story", body)
    if claim is None:
        return {"applied": False, "duplicate": True}
    try:
        applied = await stories.upsert_story(rt.redis, rt.keys, story)
    except BaseException:
        await _release(rt.redis, claim)  # nothing applied: a retry must not look like a replay
        raise
    answer: dict[str, Any] = {
        "applied": applied,
        "duplicate": False,
        "story_id": story.story_id,
        "stage": story.stage,
    }
    if not applied:
        answer["detail"] = "an equal or newer update of this story is already recorded"
    return answer


@router.post("/traffic", openapi_extra=_json_body(_TRAFFIC_BODY))
async def ingest_traffic(request: Request, rt: RT, signature: Signature = None) -> dict[str, Any]:
    """Audience numbers: `{"items": [window, ...]}` or one window, each our `traffic` event
    (views, visitors, shares, engaged_s; `reach` for radio, TV and SMS)."""
    body = await _signed_body(request, rt, signature)
    windows = webhooks.parse_traffic(body, now_ms())
    claim = await _claim(rt, "traffic", body)
    if claim is None:
        return {"applied": False, "duplicate": True}
    try:
        # One MULTI: the whole delivery counts, or none of it does (then a retry may apply it).
        await stories.record_traffic_batch(rt.redis, rt.keys, windows)
    except BaseException:
        await _release(rt.redis, claim)
        raise
    done = len(windows)
    return {"applied": True, "duplicate": False, "windows": done}


async def _signed_body(request: Request, rt: Runtime, signature: str | None) -> bytes:
    body = await read_body(request, MAX_BODY_BYTES)
    signing.verify(rt.webhook_secret, body, signature)
    return body


async def _claim(rt: Runtime, kind: str, body: bytes) -> str | None:
    """Mark the delivery as applied; None if it already was (a replay or a sender's retry)."""
    key = rt.keys.webhook_seen(kind, signing.digest(body))
    fresh = await rt.redis.set(key, now_ms(), nx=True, px=SEEN_TTL_MS)
    return key if fresh else None


async def _release(r: aioredis.Redis, key: str) -> None:
    try:
        await r.delete(key)
    except Exception:  # Redis is away: the claim expires with the replay window
        pass
