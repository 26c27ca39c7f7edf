"""The simulator speaks the sources' real formats.

Each simulated event is rendered the way the real source sends it — an OwnTracks or Traccar
Client (OsmAnd) request for a fix, a signed CMS webhook for a story, a signed analytics push for
traffic — and read back through the parsers the ingest endpoints use. The demo therefore runs
the same parsing, unit conversion and signature code as a newsroom's real sources do (pure: no
I/O; the writes stay with the services).
"""

from __future__ import annotations

import json

from dispatch import schema
from feeds import locations, signing, webhooks

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
    """Traffic windows as an analytics system pushes them: one signed `items` delivery."""
    items = [w.model_dump(exclude={"type", "v"}, exclude_none=True) for w in windows]
    body = json.dumps({"type": "traffic", "v": 1, "items": items, "sent_at": now}).encode()
    signing.verify(SIM_SECRET, body, signing.sign(SIM_SECRET, body))
    return webhooks.parse_traffic(body, now)
