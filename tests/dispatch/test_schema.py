"""The v1 schema: strict, bounded, with readable reasons."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import schema
from dispatch.errors import InvalidInput


def test_story_roundtrip() -> None:
    story = schema.Story(story_id="s-1", title="防汛一线", stage="reporting", updated_at=1)
    assert schema.decode_event(schema.encode(story)) == story


@pytest.mark.parametrize(
    "raw, reason",
    [
        (
            '{"type":"story","story_id":"s","title":"t","stage":"lead","updated_at":1,"extra":1}',
            "Extra inputs",
        ),
        ('{"type":"story","story_id":"s","title":"t","stage":"nope","updated_at":1}', "stage"),
        ('{"type":"location","reporter_id":"r","lat":91,"lon":0,"ts":1,"received_at":1}', "lat"),
        ('{"type":"martian"}', "type"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_events_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        schema.decode_event(raw)


def test_oversized_message_is_refused() -> None:
    raw = json.dumps({"type": "ping", "v": 1, "pad": "x" * schema.MAX_MESSAGE_BYTES})
    with pytest.raises(InvalidInput, match="limit"):
        schema.decode_client(raw)


def test_declined_status_message_parses() -> None:
    msg = schema.decode_client(
        '{"type":"task_status","v":1,"id":"c1","task_id":"t-1",'
        '"status":"declined","reason":"on another job"}'
    )
    assert isinstance(msg, schema.TaskStatus) and msg.reason == "on another job"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_decoders_never_crash_on_junk(raw: str | bytes) -> None:
    for decode in (schema.decode_event, schema.decode_client):
        try:
            decode(raw)
        except InvalidInput:
            pass
