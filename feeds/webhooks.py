"""Story and traffic webhook bodies → schema events (pure: no I/O, `now` is an argument).

A story body is our `story` event (see dispatch/schema.py), with a few allowances for what a CMS
sends: `byline` may be a list of names, `stage` may be a CMS word (`STAGE_WORDS`), times may be
ISO 8601 strings instead of epoch milliseconds. A traffic body is `{"items": [window, ...]}` or
one window object; each window becomes a `traffic` event.

Replay window: a delivery's time is its `sent_at` if it has one, else the story's `updated_at`,
else the end of its newest traffic window. A delivery older than `MAX_AGE_MS` or more than
`MAX_SKEW_MS` in the future is refused. Identical deliveries inside the window are caught by
their digest (feeds/ingest_webhooks.py); outside it, by this check.

Every failure raises InvalidInput (TooLarge for an oversized body) with the reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dispatch import schema
from dispatch.errors import InvalidInput, TooLarge
from dispatch.schema import Story, Traffic

MAX_BODY_BYTES = 64 * 1024
MAX_AGE_MS = 5 * 60_000
MAX_SKEW_MS = 60_000
# An accepted delivery can be replayed only while its time is inside the window, so its digest
# has to be remembered that long at most.
SEEN_TTL_MS = MAX_AGE_MS + MAX_SKEW_MS
MAX_WINDOWS = 1000

# CMS words for our stages: WordPress statuses, common workflow names and the Chinese terms a
# convergence newsroom's CMS uses (shared/glossary.md). Our own stage names are accepted as
# they are; anything else is refused.
STAGE_WORDS: dict[str, str] = {
    "idea": "lead",
    "tip": "lead",
    "pitch": "pitched",
    "assignment": "assigned",
    "draft": "reporting",
    "writing": "reporting",
    "in_progress": "reporting",
    "submitted": "filed",
    "pending": "review",
    "in_review": "review",
    "approved": "review",
    "future": "review",
    "scheduled": "review",
    "publish": "published",
    "live": "published",
    "killed": "spiked",
    "trash": "spiked",
    "correction": "corrected",
    "线索": "lead",
    "选题": "pitched",
    "已派单": "assigned",
    "采访中": "reporting",
    "已交稿": "filed",
    "编辑中": "editing",
    "审核": "review",
    "签发": "review",
    "已发布": "published",
    "已撤稿": "spiked",
    "已更正": "corrected",
}
CHANNEL_WORDS: dict[str, str] = {
    "website": "web",
    "site": "web",
    "weixin": "wechat",
    "客户端": "app",
    "网站": "web",
    "微信": "wechat",
    "微信公众号": "wechat",
    "微博": "weibo",
    "抖音": "douyin",
    "手机报": "sms",
    "广播": "radio",
    "电视": "tv",
}


def check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")


def parse_story(body: bytes, now: int) -> Story:
    """A signed story webhook body → one Story; raise InvalidInput with the reason."""
    data = _object(body, "story")
    sent_at = _sent_at(data)
    data.setdefault("source", "webhook")
    if "stage" in data:
        data["stage"] = stage_of(data["stage"])
    if isinstance(data.get("byline"), list):
        data["byline"] = _join_names(data["byline"])
    if isinstance(data.get("channels"), list):
        data["channels"] = _channels(data["channels"])
    for field in ("updated_at", "deadline"):
        if field in data:
            data[field] = _time(data[field], field)
    story = schema.validate(Story, data)
    _check_window(sent_at if sent_at is not None else story.updated_at, now)
    return story


def parse_traffic(body: bytes, now: int) -> list[Traffic]:
    """A signed traffic webhook body → its windows as Traffic; raise InvalidInput."""
    data = _object(body, "traffic")
    sent_at = _sent_at(data)
    if "items" in data:
        if data.pop("v", 1) != 1:
            raise InvalidInput("v must be 1 (this server speaks version 1 of the events)")
        data.pop("type", None)
        items, rest = data.pop("items"), sorted(data)
        if rest:
            raise InvalidInput(f"unknown field(s) beside items: {', '.join(rest)}")
        if not isinstance(items, list) or not items:
            raise InvalidInput("items must be a non-empty list of traffic windows")
    else:
        items = [data]
    if len(items) > MAX_WINDOWS:
        raise InvalidInput(f"{len(items)} windows in one delivery; the limit is {MAX_WINDOWS}")
    windows = [_window(item, i) for i, item in enumerate(items)]
    newest = max(t.window_start + t.window_s * 1000 for t in windows)
    _check_window(sent_at if sent_at is not None else newest, now)
    return windows


def stage_of(word: Any) -> str:
    """Our stage for a stage name or CMS word; InvalidInput for anything else."""
    if isinstance(word, str):
        key = word.strip().lower().replace("-", "_").replace(" ", "_")
        if key in schema.STAGES:
            return key
        if key in STAGE_WORDS:
            return STAGE_WORDS[key]
    raise InvalidInput(
        f"stage {str(word)[:40]!r} is unknown: use one of {', '.join(schema.STAGES)} "
        f"(or a CMS word: {', '.join(sorted(STAGE_WORDS))})"
    )


# --- helpers ----------------------------------------------------------------------------------
def _object(body: bytes, kind: str) -> dict[str, Any]:
    check_size(body)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"the body must be a JSON object (a {kind} event)")
    if data.get("type", kind) != kind:
        raise InvalidInput(f"type is {str(data['type'])[:40]!r}; this endpoint takes {kind!r}")
    return data


def _window(item: Any, index: int) -> Traffic:
    if not isinstance(item, dict):
        raise InvalidInput(f"items.{index}: a traffic window must be a JSON object")
    data = dict(item)
    data.setdefault("type", "traffic")
    if "engaged_seconds" in data and "engaged_s" not in data:
        data["engaged_s"] = data.pop("engaged_seconds")
    if isinstance(data.get("channel"), str):
        data["channel"] = _channel(data["channel"])
    if "window_start" in data:
        data["window_start"] = _time(data["window_start"], f"items.{index}.window_start")
    try:
        return schema.validate(Traffic, data)
    except InvalidInput as exc:
        raise InvalidInput(f"items.{index}: {exc.text}") from None


def _channel(word: str) -> str:
    key = word.strip().lower()
    return CHANNEL_WORDS.get(key, key)


def _channels(words: list[Any]) -> list[Any]:
    out: list[Any] = []
    for word in words:
        channel = _channel(word) if isinstance(word, str) else word
        if channel not in out:
            out.append(channel)
    return out


def _join_names(names: list[Any]) -> Any:
    if not all(isinstance(n, str) for n in names):
        return names  # the schema refuses it with its own reason
    parts = [n.strip() for n in names if n.strip()]
    # Chinese bylines are enumerated with 、; Latin names with a comma.
    sep = ", " if all(p.isascii() for p in parts) else "、"
    return sep.join(parts)


def _sent_at(data: dict[str, Any]) -> int | None:
    value = _time(data.pop("sent_at", None), "sent_at")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput("sent_at must be epoch milliseconds (an integer) or an ISO 8601 time")
    return value


def _time(value: Any, field: str) -> Any:
    """Epoch milliseconds, from an int or an ISO 8601 string with a time zone."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise InvalidInput(f"{field}: {value[:40]!r} has no time zone; add Z or +08:00")
            return int(parsed.astimezone(UTC).timestamp() * 1000)
        except (ValueError, OverflowError):
            raise InvalidInput(f"{field}: {value[:40]!r} is not an ISO 8601 time") from None
    if isinstance(value, int) and not 0 <= value <= 10**14:
        raise InvalidInput(f"{field}: {value} is not a time in epoch milliseconds")
    return value


def _check_window(at: int, now: int) -> None:
    if at < now - MAX_AGE_MS:
        hint = " (it looks like seconds; send milliseconds)" if at < 10**11 else _zone_hint(at, now)
        raise InvalidInput(
            f"the delivery is {(now - at) // 1000} s old{hint}; deliveries older than "
            f"{MAX_AGE_MS // 1000} s are refused as possible replays: send current events, "
            "or add sent_at (epoch ms) when you send older windows"
        )
    if at > now + MAX_SKEW_MS:
        raise InvalidInput(
            f"the delivery is {(at - now) // 1000} s in the future{_zone_hint(at, now)}; more "
            f"than {MAX_SKEW_MS // 1000} s is refused: check the sender's clock (NTP)"
        )


def _zone_hint(at: int, now: int) -> str:
    """A skew of whole time-zone steps is local time sent as if it were UTC (e.g. +08:00)."""
    skew_min = (at - now) / 60_000
    steps = round(skew_min / 30)
    if steps and abs(skew_min - steps * 30) <= 2 and abs(steps) <= 28:
        return f" (about {steps / 2:+g} h: local time sent as UTC? epoch times are UTC)"
    return ""
