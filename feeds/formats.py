"""The simulator speaks the sources' real formats.

Each simulated event is rendered the way the real source sends it — an OwnTracks or Traccar
Client (OsmAnd) request for a fix, a signed CMS webhook for a story, nginx access-log lines for
the website's views and a signed analytics push for other traffic — and read back through the
parsers the ingest endpoints and the log tailer use. The demo therefore runs
the same parsing, unit conversion and signature code as a newsroom's real sources do (pure: no
I/O; the writes stay with the services).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from dispatch import schema
from feeds import accesslog, locations, signing, webhooks

# Signs and verifies inside one process: nothing outside ever sees it.
SIM_SECRET = "simulator-in-process"


def location(fix: schema.Location, device: str | None) -> schema.Location:
    """A fix as a tracker app sends it: Traccar Client (OsmAnd query) for reporters with a
    bound device, OwnTracks (HTTP mode JSON) otherwise."""
    if device:
        _, parsed = locations.parse_osmand_query(locations.to_osmand_query(device, fix))
    else:
        body = json.dumps(locations.to_owntracks(fix)).encode()
        (parsed,) = locations.parse_owntracks(body)
    return schema.Location(reporter_id=fix.reporter_id, received_at=fix.received_at, **parsed)


def story(event: schema.Story, now: int) -> schema.Story:
    """A story update as a CMS webhook delivers it: a signed JSON body."""
    body = json.dumps({**event.model_dump(), "sent_at": now}, ensure_ascii=False).encode()
    signing.verify(SIM_SECRET, body, signing.sign(SIM_SECRET, body))
    return webhooks.parse_story(body, now)


def traffic(windows: list[schema.Traffic], now: int) -> list[schema.Traffic]:
    """Traffic as the newsroom sees it: the website's story views as nginx access-log lines
    (read back by the log tailer's parser, split by where the readers came from), everything
    else as signed analytics pushes (one, unless the windows are more than one delivery may
    carry)."""
    logged: list[schema.Traffic] = []
    pushed: list[schema.Traffic] = []
    for w in windows:
        (logged if w.channel == "web" and w.story_id and w.views else pushed).append(w)
    out: list[schema.Traffic] = []
    if logged:
        _, counted = accesslog.count_views(_log_lines(logged), _RULES)
        out.extend(counted)
    for body in _pushes(pushed, now):
        signing.verify(SIM_SECRET, body, signing.sign(SIM_SECRET, body))
        out.extend(webhooks.parse_traffic(body, now))
    return out


def _pushes(windows: list[schema.Traffic], now: int) -> Iterator[bytes]:
    """The windows as analytics deliveries, each within what /ingest/traffic takes (at most
    MAX_WINDOWS windows and MAX_BODY_BYTES bytes), as a sender batching its pushes would."""
    head, tail = b'{"type": "traffic", "v": 1, "items": [', b'], "sent_at": %d}' % now
    items: list[bytes] = []
    size = empty = len(head) + len(tail)
    for w in windows:
        item = json.dumps(w.model_dump(exclude={"type", "v"}, exclude_none=True)).encode()
        if items and (
            len(items) == webhooks.MAX_WINDOWS or size + len(item) > webhooks.MAX_BODY_BYTES
        ):
            yield head + b", ".join(items) + tail
            items, size = [], empty
        items.append(item)
        size += len(item) + 2  # and its separator
    if items:
        yield head + b", ".join(items) + tail


_RULES = accesslog.Rules()
_WEB_VIAS: tuple[schema.Via, ...] = ("search", "direct", "search", "other", "direct")


def _log_lines(windows: list[schema.Traffic]) -> Iterator[str]:
    """One combined-format line per view, spread over the window's minute."""
    for w in windows:
        for i in range(w.views):
            at = w.window_start + i * 60_000 // w.views
            yield accesslog.to_combined_line(str(w.story_id), _WEB_VIAS[i % len(_WEB_VIAS)], at)
