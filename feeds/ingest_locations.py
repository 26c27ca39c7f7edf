"""HTTP ingest for trackers on reporters' phones (design.md §4.4).

- `POST /ingest/owntracks`: the OwnTracks app in HTTP mode. HTTP Basic auth whose password is
  the reporter's token (any user name); the answer is always a JSON array (`[]`).
- `GET|POST /ingest/osmand`: Traccar Client's OsmAnd protocol (query string, form body, or the
  JSON body of Traccar Client 9+). The device id must be bound to a reporter (`devices`).

Parsing is pure (`feeds.locations`); this module authenticates, reads bounded bodies and
applies the fixes through `dispatch.reporters`, which never moves a reporter backwards. A
request with any bad fix stores none of them. Trackers report around the clock, so their fixes
are dropped (answered as accepted) while the reporter is off duty.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from dispatch import auth, ratelimit, reporters, schema
from dispatch.clock import now_ms
from dispatch.deps import RT, error_response, limit_ip, read_body
from dispatch.errors import Forbidden, InvalidInput, Unauthorized
from dispatch.runtime import Runtime
from feeds import locations
from feeds.locations import Fix

router = APIRouter(prefix="/ingest", tags=["ingest"], dependencies=[Depends(limit_ip)])

BASIC_CHALLENGE = 'Basic realm="newsroom", charset="UTF-8"'


def basic_password(authorization: str | None) -> str:
    """The password of an HTTP Basic `Authorization` header; Unauthorized if there is none."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized(
            "OwnTracks needs HTTP Basic authentication: in its connection settings set a"
            " Username (anything) and the reporter's token as the Password"
        )
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Unauthorized(
            "the Basic credentials are not valid base64 of 'user:password'"
        ) from None
    _, sep, password = decoded.partition(":")
    if not sep or not password:
        raise Unauthorized("the Basic credentials have no password; it is the reporter's token")
    return password


async def _owntracks_reporter(rt: Runtime, authorization: str | None) -> str:
    who = await auth.authenticate(rt.redis, rt.keys, basic_password(authorization))
    if who.role != "reporter":
        raise Forbidden(
            f"OwnTracks must log in with a reporter's token as the password; this is a"
            f" {who.role} token"
        )
    await ratelimit.hit(rt.redis, rt.keys, "token", who.token_id, rt.settings.rate_token)
    return who.subject


def _event(reporter_id: str, fix: Fix, received_at: int) -> schema.Location:
    try:
        return schema.Location(reporter_id=reporter_id, received_at=received_at, **fix)
    except ValidationError as exc:  # the parsers check every bound; this is a safety net
        raise InvalidInput(f"the fix is not valid: {exc.errors()[0]['msg']}") from None


async def apply_fixes(rt: Runtime, fixes: Iterable[tuple[str, Fix]]) -> int:
    """Apply (reporter_id, fix) pairs in one round trip, oldest first so a queue flushed in one
    request lands whole in the trail; return how many moved a reporter. A fix too far in the
    future is refused before any is applied."""
    now = now_ms()
    events = sorted((_event(rid, fix, now) for rid, fix in fixes), key=lambda e: e.ts)
    applied = await reporters.apply_fixes(
        rt.redis,
        rt.keys,
        events,
        retention_ms=rt.settings.trail_retention_s * 1000,
        on_duty_only=True,
    )
    return sum(applied)


@router.post("/owntracks", response_model=None)
async def owntracks(
    request: Request,
    rt: RT,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """OwnTracks HTTP mode: `location` and `transition` messages move the reporter whose token
    is the Basic auth password; `lwt`, `card`, `waypoint` and other types are accepted and
    ignored. The answer is a JSON array, as the app expects."""
    try:
        reporter_id = await _owntracks_reporter(rt, authorization)
    except Unauthorized as exc:
        response = error_response(exc)
        response.headers["WWW-Authenticate"] = BASIC_CHALLENGE
        return response
    fixes = locations.parse_owntracks(await read_body(request, locations.MAX_BODY))
    await apply_fixes(rt, [(reporter_id, fix) for fix in fixes])
    return JSONResponse([])


@router.get("/osmand")
async def osmand_get(request: Request, rt: RT) -> dict[str, int]:
    """Traccar Client (OsmAnd protocol) as a GET query: `id` or `deviceid` (bound to a
    reporter), `lat` and `lon` or `location=lat,lon`, `timestamp` (epoch s or ms, ISO-8601 or
    `yyyy-MM-dd HH:mm:ss` UTC), `speed` (knots), `bearing`, `accuracy` (m), `batt` (%)."""
    return await _osmand(rt, dict(request.query_params), b"", "")


@router.post("/osmand")
async def osmand_post(request: Request, rt: RT) -> dict[str, int]:
    """Traccar Client (OsmAnd protocol) as a POST: the same fields as a form body (or in the
    query), or Traccar Client 9's JSON body (`device_id`, `location.coords` in m/s)."""
    body = await read_body(request, locations.MAX_BODY)
    kind = request.headers.get("content-type", "")
    return await _osmand(rt, dict(request.query_params), body, kind)


async def _osmand(rt: Runtime, params: dict[str, str], body: bytes, kind: str) -> dict[str, int]:
    pairs: list[tuple[str, Fix]]
    if "json" in kind or body.lstrip()[:1] in (b"{", b"["):
        pairs = locations.parse_osmand_json(body, params)
    else:
        pairs = [locations.parse_osmand_query({**params, **locations.parse_form(body)})]
    owners = await reporters.reporters_for_devices(rt.redis, rt.keys, [d for d, _ in pairs])
    applied = await apply_fixes(rt, [(owners[device], fix) for device, fix in pairs])
    return {"received": len(pairs), "applied": applied}
