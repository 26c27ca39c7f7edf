"""How bus messages become pushed props: batches, decoding, and set_props with memory.

`next_batch` gathers bus messages into ~100 ms batches that an urgent one cuts short;
`decode` turns them into events; a `Frame` is one rendered message, its props encoded to JSON
once, however many connections receive it; each connection's `Pusher` sends a frame from that
connection's own callback task, minus what it sent already, queueing the encoded values as
Dash's set_props would (or through set_props itself where that is not possible).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import plotly.utils  # type: ignore[import-untyped]
from dash import Patch, set_props
from dash.backends.ws import FLUSH_SIGNAL

from dispatch import schema
from dispatch.bus import RESYNC, Subscription
from dispatch.errors import InvalidInput

log = logging.getLogger(__name__)

Updates = dict[str, dict[str, Any]]  # component id -> prop -> value
BATCH_S = 0.1  # how long a stream of fixes and traffic counts may wait to be sent together

# The high-rate events (fixes, traffic counts) that may wait for a batch; anything else (a
# task, its events, an alert, a story's stage) is what the hall watches for: it cuts the wait.
AMBIENT_TYPES = ('"type":"location"', '"type":"traffic"')


def urgent(raw: str) -> bool:
    """Whether a bus message (schema.encode's JSON: "v" then "type" first) ends a batch."""
    head = raw[:40]
    return raw == RESYNC or not any(kind in head for kind in AMBIENT_TYPES)


async def next_batch(sub: Subscription, timeout: float, hold: float) -> list[str]:
    """Wait up to `timeout` for a message; then up to `hold` seconds for more to join it,
    unless an urgent one arrives (it goes out at once, with what came before it)."""
    try:
        first = await asyncio.wait_for(sub.get(), timeout=max(0.0, timeout))
    except TimeoutError:
        return []
    batch = [first, *sub.drain()]
    if hold <= 0 or any(urgent(raw) for raw in batch):
        return batch
    loop = asyncio.get_running_loop()
    until = loop.time() + hold
    while (left := until - loop.time()) > 0:
        try:
            async with asyncio.timeout(left):
                raw = await sub.get()
        except TimeoutError:
            break
        batch.append(raw)
        if urgent(raw):
            break
    batch.extend(sub.drain())
    return batch


def decode(raws: Iterable[str]) -> tuple[list[schema.Message], bool]:
    """Events from raw bus messages, and whether a RESYNC was among them."""
    events: list[schema.Message] = []
    resync = False
    for raw in raws:
        if raw == RESYNC:
            resync = True
            continue
        try:
            events.append(schema.decode_event(raw))
        except InvalidInput as exc:
            log.debug("live: skipped a message the schema refuses: %s", exc)
    return events, resync


def encode(value: Any) -> str:
    """A prop's value as JSON, to compare it with the last one sent."""
    return json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


@dataclass(frozen=True)
class Frame:
    """One message of updates, rendered once for every connection that draws the same look,
    with each prop's JSON encoded once too."""

    updates: Updates
    encoded: dict[tuple[str, str], str]  # (component id, prop) -> its value's JSON
    deltas: frozenset[tuple[str, str]]  # the Patches among them: always sent, not remembered


def frame(updates: Updates) -> Frame:
    """A frame of `updates`, every prop encoded."""
    encoded = {
        (component_id, name): encode(value)
        for component_id, props in updates.items()
        for name, value in props.items()
    }
    deltas = frozenset(
        (component_id, name)
        for component_id, props in updates.items()
        for name, value in props.items()
        if isinstance(value, Patch)
    )
    return Frame(updates, encoded, deltas)


@dataclass(frozen=True)
class Sender:
    """Sends pre-encoded props on one connection's outbound queue (see `encoded_sender`)."""

    message: Callable[[str, str, str], str]  # (component id, prop, its JSON) -> a set_props
    send: Callable[[list[str]], None]  # these set_props messages, as one websocket message


def encoded_sender(ws: Any) -> Sender | None:
    """Messages for props whose values are JSON already, as Dash's `set_props` queues them
    (DashWebsocketCallback.set_prop_sync, Dash 4.4), so a frame is encoded once for every
    connection instead of once each; sent as one JSON array, the form Dash's sender gives the
    messages it batches (its SharedWorker takes an array, nested or not, as one batch), then
    flushed as Dash does when a callback returns: Dash's sender would otherwise wait until its
    queue has been quiet for 5 ms, and every queued message costs a hop through its
    thread-safe queue. None when this Dash has no such queue (then `set_props`, which encodes
    the value again). Private to Dash: the contract is pinned by
    tests/dashboards/test_live_batching.py."""
    renderer_id = getattr(ws, "_renderer_id", None)
    get_queue = getattr(ws, "_get_outbound_queue", None)
    queue = get_queue() if callable(get_queue) else None
    put = getattr(getattr(queue, "sync_q", None), "put_nowait", None)
    if not isinstance(renderer_id, str) or not callable(put):
        return None
    head = '{"type":"set_props","rendererId":' + json.dumps(renderer_id)

    def message(component_id: str, name: str, encoded: str) -> str:
        return (
            f'{head},"payload":{{"componentId":{json.dumps(component_id)},'
            f'"props":{{{json.dumps(name)}:{encoded}}}}}}}'
        )

    def send(messages: list[str]) -> None:
        if ws.is_shutdown or not messages:
            return  # as Dash does: the connection is gone
        put(messages[0] if len(messages) == 1 else "[" + ",".join(messages) + "]")
        put(FLUSH_SIGNAL)

    return Sender(message, send)


class Pusher:
    """set_props with memory: a value equal to the last one sent is not sent again. Given the
    connection's websocket (Dash's ctx.websocket), it sends each push as one message, the
    values as the frame encoded them, without encoding them again."""

    def __init__(self, ws: Any = None) -> None:
        self._sent: dict[tuple[str, str], str] = {}
        self._sender = encoded_sender(ws) if ws is not None else None

    @property
    def pre_encoded(self) -> bool:
        """Whether values go out as the frame encoded them (else through set_props)."""
        return self._sender is not None

    def push(self, updates: Updates | Frame) -> None:
        """Send what differs from what was sent before (Patches always go), comparing each
        value's JSON, encoded once per frame."""
        shared = updates if isinstance(updates, Frame) else frame(updates)
        sender = self._sender
        messages: list[str] = []
        for component_id, props in shared.updates.items():
            fresh: dict[str, Any] = {}
            for name, value in props.items():
                key = (component_id, name)
                encoded = shared.encoded[key]
                if key in shared.deltas:
                    self._sent.pop(key, None)
                elif self._sent.get(key) == encoded:
                    continue
                else:
                    self._sent[key] = encoded
                if sender is not None:
                    messages.append(sender.message(component_id, name, encoded))
                else:
                    fresh[name] = value
            if fresh:
                set_props(component_id, fresh)
        if sender is not None:
            sender.send(messages)


def set_props_all(updates: Updates) -> None:
    """Send every update as is (no memory), e.g. the "access ended" message."""
    for component_id, props in updates.items():
        set_props(component_id, props)
