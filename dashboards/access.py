"""Who may see the wall and the desk, checked on the server for every action and stream.

Wall: the display link carries a token (`/wall?key=…`) whose role must be wall, supervisor or
admin. The router checks it before rendering anything; the page's stream receives the same
key (it is already in the page's URL) and checks it again, at start and every 15 s, so a
revoked key stops the stream.

Desk: the session is an HttpOnly cookie (`nr_session`, set by POST /desk/login) that only
HTTP callbacks see; every desk action reads it again and calls `auth.session_principal`.
Dash's websocket callbacks get no cookies, so the desk's stream is admitted by a *view
ticket*: when the router renders the desk for a valid session it draws a 256-bit random
ticket, stores {session id} in Redis under the ticket's SHA-256 with a short TTL, and gives the
page only the ticket. The stream redeems it by re-running `auth.session_principal` on the
stored session id (so logout, expiry and token revocation all end it) and keeps it alive by
refreshing the TTL at every re-check; a ticket left behind expires on its own. The page never
sees the session id, and the ticket grants nothing but watching this one desk view.
Keeping the session id in Redis for the life of a view adds no power to someone who can read
Redis: they could already mint tokens there.
"""

from __future__ import annotations

import secrets

from dispatch import auth
from dispatch.auth import Principal
from dispatch.errors import Forbidden, Unauthorized
from dispatch.keys import Keys
from dispatch.runtime import Runtime

WALL_ROLES = ("wall", "supervisor", "admin")
DESK_ROLE = "supervisor"  # admin passes too (Principal.require)
TICKET_TTL_S = 90


async def wall_principal(runtime: Runtime, key: str | None) -> Principal | None:
    """The principal behind a wall key, or None if the key is missing, unknown or not allowed."""
    if not key or len(key) > 200:
        return None
    try:
        principal = await auth.authenticate(runtime.redis, runtime.keys, key)
    except Unauthorized:
        return None
    return principal if principal.role in WALL_ROLES else None


async def desk_principal(runtime: Runtime, session_id: str | None) -> Principal:
    """The supervisor behind a desk session; raises Unauthorized or Forbidden."""
    principal = await auth.session_principal(runtime.redis, runtime.keys, session_id)
    principal.require(DESK_ROLE)
    return principal


def _ticket_key(keys: Keys, ticket: str) -> str:
    return keys.view_ticket(auth.hash_token(ticket))


async def issue_ticket(runtime: Runtime, session_id: str) -> str:
    """A fresh view ticket for a session the caller has just checked."""
    ticket = secrets.token_urlsafe(32)
    await runtime.redis.set(_ticket_key(runtime.keys, ticket), session_id, ex=TICKET_TTL_S)
    return ticket


async def redeem_ticket(runtime: Runtime, ticket: str | None) -> Principal:
    """The supervisor behind a view ticket, re-checked now; refreshes the ticket's TTL.

    Raises Unauthorized (unknown or expired ticket, ended session) or Forbidden.
    """
    if not ticket or not isinstance(ticket, str) or len(ticket) > 100:
        raise Unauthorized("no view ticket; reload the desk")
    key = _ticket_key(runtime.keys, ticket)
    session_id = await runtime.redis.get(key)
    if not isinstance(session_id, str) or not session_id:
        raise Unauthorized("the view ticket has expired; reload the desk")
    try:
        principal = await desk_principal(runtime, session_id)
    except (Unauthorized, Forbidden):
        await runtime.redis.delete(key)
        raise
    await runtime.redis.expire(key, TICKET_TTL_S)
    return principal


async def drop_ticket(runtime: Runtime, ticket: str | None) -> None:
    """Forget a view ticket (its stream has ended)."""
    if ticket and isinstance(ticket, str) and len(ticket) <= 100:
        await runtime.redis.delete(_ticket_key(runtime.keys, ticket))
