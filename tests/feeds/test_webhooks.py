"""Signed story and traffic webhooks: the pure parts on the shared samples and edge cases, then
end to end against a real `newsroom serve` (secret `test-webhook-secret`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.clock import now_ms
from dispatch.errors import InvalidInput, TooLarge, Unauthorized
from dispatch.keys import Keys
from dispatch.schema import STAGES
from feeds import signing, webhooks
from feeds.webhooks import MAX_AGE_MS, MAX_SKEW_MS, parse_story, parse_traffic

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "webhooks"  # ../shared/samples, copied
STORY_SAMPLE = SAMPLES / "story.sample-webhook-secret.json"
TRAFFIC_SAMPLE = SAMPLES / "traffic.sample-webhook-secret.json"
SAMPLE_STORY_AT = 1795682470000  # the sample's updated_at
SAMPLE_WINDOW_END = 1795680000000 + 60_000  # the sample's windows end here


def _story(**fields: Any) -> dict[str, Any]:
    return {
        "type": "story",
        "v": 1,
        "story_id": "xx-20001",
        "title": "县城防汛检查",
        "stage": "reporting",
        "updated_at": now_ms(),
        "source": "cms",
        **fields,
    }


def _body(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


# --- signatures -------------------------------------------------------------------------------
@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_sign_reproduces_every_sample_signature(sample: Path) -> None:
    secret = sample.name.split(".")[1]  # story.<secret>.json
    body = sample.read_bytes()
    expected = sample.with_suffix(".sig").read_text().strip()
    assert signing.sign(secret, body) == expected
    signing.verify(secret, body, expected)
    signing.verify(secret, body, expected.upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing X-Signature-256"),
        ("", "missing X-Signature-256"),
        ("fcf28e79", "64 hex digits"),
        ("sha1=" + "0" * 40, "64 hex digits"),
        ("sha256=" + "g" * 64, "64 hex digits"),
        ("sha256=" + "0" * 64, "does not match"),
        ("sha256=" + "é" * 64, "64 hex digits"),
    ],
)
def test_verify_refuses_with_a_reason(header: str | None, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        signing.verify("sample-webhook-secret", STORY_SAMPLE.read_bytes(), header)


def test_a_changed_body_or_another_secret_fails() -> None:
    body = STORY_SAMPLE.read_bytes()
    good = signing.sign("sample-webhook-secret", body)
    with pytest.raises(Unauthorized, match="does not match"):
        signing.verify("sample-webhook-secret", body + b" ", good)
    with pytest.raises(Unauthorized, match="does not match"):
        signing.verify("another-secret", body, good)


# --- story bodies -----------------------------------------------------------------------------
def test_the_story_sample_becomes_our_story_event() -> None:
    story = parse_story(STORY_SAMPLE.read_bytes(), SAMPLE_STORY_AT + 2000)
    assert story.story_id == "xx-10232"
    assert story.title == "直播：防汛调度会现场"
    assert story.stage == "review" and story.desk == "时政" and story.priority == "high"
    assert story.channels == ["app", "web", "wechat"]
    assert story.byline == "张丽"  # the sample's list of one name
    assert story.updated_at == SAMPLE_STORY_AT and story.source == "cms"


@pytest.mark.parametrize(
    ("word", "stage"),
    [
        ("draft", "reporting"),
        ("pending", "review"),
        ("Pending", "review"),
        ("future", "review"),
        ("publish", "published"),
        ("in review", "review"),
        ("killed", "spiked"),
        ("filed", "filed"),
        ("published", "published"),
        ("选题", "pitched"),
        ("已发布", "published"),
    ],
)
def test_cms_stage_words_map_to_our_stages(word: str, stage: str) -> None:
    assert parse_story(_body(_story(stage=word)), now_ms()).stage == stage


def test_unknown_stage_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="stage 'printed' is unknown: use one of lead"):
        parse_story(_body(_story(stage="printed")), now_ms())


def test_story_allowances_bylines_channels_iso_times_and_default_source() -> None:
    now = now_ms()
    body = _story(
        byline=["张丽", "王芳"],
        channels=["App", "website", "weixin", "web", "手机报"],
        updated_at="2026-11-26T08:41:10+08:00",
        deadline="2026-11-26T02:00:00Z",
    )
    del body["source"]
    story = parse_story(_body(body), 1795653670000)
    assert story.byline == "张丽、王芳"
    assert story.channels == ["app", "web", "wechat", "sms"]
    assert story.updated_at == 1795653670000 and story.deadline == 1795658400000
    assert story.source == "webhook"
    assert (
        parse_story(_body(_story(byline=["Ann Lee", "Bo Chen"])), now).byline == "Ann Lee, Bo Chen"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"[" * 50_000, "not valid JSON"),
        (_body(_story(type="traffic")), "this endpoint takes 'story'"),
        (_body(_story(v=2)), "v"),
        (_body(_story(colour="red")), "colour"),
        (_body(_story(story_id="has space")), "story_id"),
        (_body(_story(channels=["fax"])), "channels"),
        (_body(_story(updated_at="yesterday")), "not an ISO 8601 time"),
        (_body(_story(updated_at="2026-11-26T08:41:10")), "no time zone"),
        (_body(_story(updated_at=-5)), "epoch milliseconds"),
        (_body(_story(sent_at=[1])), "sent_at must be epoch milliseconds"),
        (_body({k: v for k, v in _story().items() if k != "title"}), "title"),
    ],
)
def test_bad_story_bodies_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_story(body, now_ms())


def test_a_body_over_64_kib_is_too_large() -> None:
    body = _body(_story(title="x" * (64 * 1024)))
    with pytest.raises(TooLarge) as caught:
        parse_story(body, now_ms())
    assert caught.value.status == 413 and "limit is 65536" in caught.value.text


# --- the replay window ------------------------------------------------------------------------
def test_replay_window_edges() -> None:
    now = now_ms()
    assert parse_story(_body(_story(updated_at=now - MAX_AGE_MS)), now)
    assert parse_story(_body(_story(updated_at=now + MAX_SKEW_MS)), now)
    with pytest.raises(InvalidInput, match="301 s old; deliveries older than 300 s"):
        parse_story(_body(_story(updated_at=now - MAX_AGE_MS - 1000)), now)
    with pytest.raises(InvalidInput, match="61 s in the future"):
        parse_story(_body(_story(updated_at=now + MAX_SKEW_MS + 1000)), now)


def test_replay_hints_seconds_and_local_time_sent_as_utc() -> None:
    now = now_ms()
    with pytest.raises(InvalidInput, match="looks like seconds"):
        parse_story(_body(_story(updated_at=now // 1000)), now)
    with pytest.raises(InvalidInput, match=r"\+8 h: local time sent as UTC"):
        parse_story(_body(_story(updated_at=now + 8 * 3600_000)), now)


def test_sent_at_is_the_delivery_time_when_given() -> None:
    now = now_ms()
    old_update = _story(updated_at=now - 3600_000, sent_at=now - 1000)
    assert parse_story(_body(old_update), now).updated_at == now - 3600_000
    with pytest.raises(InvalidInput, match="old"):
        parse_story(_body(_story(updated_at=now, sent_at=now - MAX_AGE_MS - 5000)), now)


def test_the_sample_is_refused_long_after_it_was_sent() -> None:
    with pytest.raises(InvalidInput, match="possible replays"):
        parse_story(STORY_SAMPLE.read_bytes(), SAMPLE_STORY_AT + 3600_000)


# --- traffic bodies ---------------------------------------------------------------------------
def test_the_traffic_sample_is_three_windows() -> None:
    windows = parse_traffic(TRAFFIC_SAMPLE.read_bytes(), SAMPLE_WINDOW_END + 1000)
    assert [(w.story_id, w.channel, w.views, w.visitors, w.shares) for w in windows] == [
        ("xx-10231", "app", 412, 377, 18),
        ("xx-10231", "wechat", 1290, 1104, 96),
        (None, "radio", 0, 0, 0),
    ]
    assert windows[2].reach == 5200 and windows[0].reach is None
    assert {(w.window_start, w.window_s) for w in windows} == {(1795680000000, 60)}


def test_one_window_without_items_and_the_engaged_seconds_alias() -> None:
    now = now_ms()
    body = {
        "channel": "Web",
        "path": "/news/1.html",
        "window_start": now - 60_000,
        "views": 7,
        "engaged_seconds": 300,
    }
    [window] = parse_traffic(_body(body), now)
    assert (window.channel, window.path, window.views, window.engaged_s) == (
        "web",
        "/news/1.html",
        7,
        300,
    )


def test_traffic_time_is_the_newest_window_end_or_sent_at() -> None:
    now = now_ms()
    hour = {"channel": "tv", "window_start": now - 3600_000, "window_s": 3600, "reach": 90_000}
    assert parse_traffic(_body({"items": [hour]}), now)[0].reach == 90_000
    stale = {"channel": "app", "window_start": now - 3600_000, "views": 1}
    with pytest.raises(InvalidInput, match="old"):
        parse_traffic(_body({"items": [stale]}), now)
    assert parse_traffic(_body({"items": [stale], "sent_at": now}), now)[0].views == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"items": []}, "non-empty list"),
        ({"items": {"channel": "app"}}, "non-empty list"),
        ({"items": [1]}, "items.0: a traffic window must be a JSON object"),
        ({"items": [{"channel": "fax", "window_start": 1}]}, "items.0: channel"),
        ({"items": [{"channel": "app", "views": -1, "window_start": 1}]}, "views"),
        ({"items": [], "colour": "red"}, "unknown field"),
        ({"type": "traffic", "v": 2, "items": []}, "v must be 1"),
        ({"type": "story"}, "takes 'traffic'"),
        ({"channel": "app"}, "window_start"),
    ],
)
def test_bad_traffic_bodies_are_refused_with_a_reason(body: Any, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_traffic(_body(body), now_ms())


def test_at_most_1000_windows() -> None:
    now = now_ms()
    item = {"channel": "app", "window_start": now - 60_000, "views": 1}
    assert len(parse_traffic(_body({"items": [item] * 1000}), now)) == 1000
    with pytest.raises(InvalidInput, match="the limit is 1000"):
        parse_traffic(_body({"items": [item] * 1001}), now)


# --- properties: nothing but InvalidInput escapes ---------------------------------------------
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_story_like = st.fixed_dictionaries(
    {},
    optional={
        k: _json | st.integers(min_value=now_ms() - 60_000, max_value=now_ms())
        for k in (
            "type",
            "v",
            "story_id",
            "title",
            "stage",
            "desk",
            "channels",
            "byline",
            "deadline",
            "priority",
            "updated_at",
            "source",
            "sent_at",
        )
    },
)
_window_like = st.fixed_dictionaries(
    {},
    optional={
        k: _json | st.integers(min_value=0, max_value=now_ms())
        for k in (
            "story_id",
            "path",
            "channel",
            "window_start",
            "window_s",
            "views",
            "reach",
            "engaged_seconds",
            "via",
            "type",
        )
    },
)


def _only_invalid_input(parse: Any, body: bytes) -> None:
    try:
        parse(body, now_ms())
    except InvalidInput:
        pass


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_invalid_input(body: bytes) -> None:
    _only_invalid_input(parse_story, body)
    _only_invalid_input(parse_traffic, body)


@settings(max_examples=150, deadline=None, database=None)
@given(_json | _story_like)
def test_arbitrary_json_stories_raise_only_invalid_input(data: Any) -> None:
    _only_invalid_input(parse_story, json.dumps(data).encode())


@settings(max_examples=150, deadline=None, database=None)
@given(_json | _window_like | st.fixed_dictionaries({"items": st.lists(_window_like, max_size=3)}))
def test_arbitrary_json_traffic_raises_only_invalid_input(data: Any) -> None:
    _only_invalid_input(parse_traffic, json.dumps(data).encode())


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.lists(st.sampled_from([*webhooks.STAGE_WORDS, *STAGES, "x", " ", "-", "_"]), max_size=3).map(
        "".join
    )
    | st.text(max_size=10)
    | _json
)
def test_stage_of_answers_a_stage_or_refuses(word: Any) -> None:
    try:
        assert webhooks.stage_of(word) in STAGES
    except InvalidInput as exc:
        assert "is unknown" in exc.text


# --- end to end against the real server -------------------------------------------------------
SECRET = "test-webhook-secret"  # tests/servers.py sets NEWSROOM_WEBHOOK_SECRET to this
KEYS = Keys("default")


def _post(server: Any, path: str, body: bytes, secret: str | None = SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Signature-256"] = signing.sign(secret, body)
    return httpx.post(server.url + path, content=body, headers=headers)


def _stories(server: Any) -> dict[str, dict[str, Any]]:
    r = httpx.get(
        server.url + "/api/v1/stories", headers={"Authorization": f"Bearer {server.admin_token}"}
    )
    assert r.status_code == 200, r.text
    return {s["story_id"]: s for s in r.json()}


@pytest.mark.integration
def test_story_webhook_end_to_end(server: Any, sync_redis: redis.Redis) -> None:
    t0 = now_ms()
    pitched = _body(_story(stage="pitch", updated_at=t0 - 2000, byline=["张丽"]))
    r = _post(server, "/ingest/story", pitched)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "applied": True,
        "duplicate": False,
        "story_id": "xx-20001",
        "stage": "pitched",
    }
    assert _stories(server)["xx-20001"]["stage"] == "pitched"

    # A newer update moves the stage on; a replay of the first is answered but not applied.
    pending = _body(_story(stage="pending", updated_at=t0 - 1000))
    assert _post(server, "/ingest/story", pending).json()["applied"] is True
    assert _post(server, "/ingest/story", pitched).json() == {"applied": False, "duplicate": True}
    assert _stories(server)["xx-20001"]["stage"] == "review"

    # An older update (another body, so not a replay) never moves it back.
    older = _post(server, "/ingest/story", _body(_story(stage="lead", updated_at=t0 - 1500)))
    assert older.status_code == 200 and older.json()["applied"] is False
    assert "newer" in older.json()["detail"]
    assert _stories(server)["xx-20001"]["stage"] == "review"

    # Refused deliveries store nothing: bad or missing signature, old, unknown stage, too big.
    before = (
        sync_redis.hgetall(KEYS.stories),
        sorted(sync_redis.scan_iter(KEYS.webhook_seen("*", "*"))),
    )
    fresh = _body(_story(story_id="xx-20002", updated_at=now_ms()))
    bad = _post(server, "/ingest/story", fresh, secret="not-the-secret")
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    assert "does not match" in bad.json()["detail"]
    missing = _post(server, "/ingest/story", fresh, secret=None)
    assert missing.status_code == 401 and "missing X-Signature-256" in missing.json()["detail"]
    old = _post(
        server, "/ingest/story", _body(_story(story_id="xx-20002", updated_at=t0 - 600_000))
    )
    assert old.status_code == 422 and "possible replays" in old.json()["detail"]
    unknown = _post(server, "/ingest/story", _body(_story(story_id="xx-20002", stage="printed")))
    assert unknown.status_code == 422 and "stage 'printed' is unknown" in unknown.json()["detail"]
    huge = _post(server, "/ingest/story", b" " * (64 * 1024 + 1))
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    after = (
        sync_redis.hgetall(KEYS.stories),
        sorted(sync_redis.scan_iter(KEYS.webhook_seen("*", "*"))),
    )
    assert after == before

    # Three deliveries were applied; each is remembered as long as the window, no longer.
    assert len(after[1]) == 3
    assert all(0 < sync_redis.pttl(k) <= MAX_AGE_MS + MAX_SKEW_MS for k in after[1])


@pytest.mark.integration
def test_traffic_webhook_end_to_end(server: Any, sync_redis: redis.Redis) -> None:
    minute = now_ms() // 60_000 * 60_000 - 60_000
    sample = json.loads(TRAFFIC_SAMPLE.read_text())
    for item in sample["items"]:
        item["window_start"] = minute
    body = _body(sample)
    r = _post(server, "/ingest/traffic", body)
    assert r.status_code == 200, r.text
    assert r.json() == {"applied": True, "duplicate": False, "windows": 3}
    counts = {
        ch: sync_redis.hget(KEYS.traffic_minute(ch), str(minute))
        for ch in ("app", "wechat", "radio")
    }
    assert counts == {"app": "412", "wechat": "1290", "radio": "5200"}

    # The same delivery again is not counted twice.
    assert _post(server, "/ingest/traffic", body).json() == {"applied": False, "duplicate": True}
    assert sync_redis.hget(KEYS.traffic_minute("app"), str(minute)) == "412"

    # A tampered body (numbers changed, old signature kept) is refused and counts nothing.
    tampered = body.replace(b"412", b"999")
    r = httpx.post(
        server.url + "/ingest/traffic",
        content=tampered,
        headers={"X-Signature-256": signing.sign(SECRET, body)},
    )
    assert r.status_code == 401
    assert sync_redis.hget(KEYS.traffic_minute("app"), str(minute)) == "412"
