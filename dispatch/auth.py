"""Tokens, roles and desk sessions.

Tokens are 256-bit random strings, shown once and stored only as SHA-256 hashes. A token's
id (the first 12 hex digits of its hash) names it in listings and revocations. Revoking a
reporter's token nudges their channel so open sockets close.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from dispatch import db
from dispatch.clock import now_ms
from dispatch.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from dispatch.keys import Keys

ROLES = ("wall", "supervisor", "admin", "reporter", "feed")
SESSION_TTL_S = 12 * 3600
REVOKED = "revoked"
SESSION_COOKIE = "nr_session"  # the desk session cookie (HttpOnly)


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str
    token_hash: str

    @property
    def token_id(self) -> str:
        return self.token_hash[:12]

    def require(self, *roles: str) -> None:
        """Raise Forbidden unless this principal has one of `roles` (admin may do anything)."""
        if self.role not in roles and self.role != "admin":
            raise Forbidden(
                f"this needs the {' or '.join(roles)} role; your token is a {self.role} token"
            )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A random token (32 random bytes) that never starts with "-": tokens follow options on command
    lines (`newsroom reporter --token ...`), where a leading dash reads as another option."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


async def create_token(
    r: aioredis.Redis,
    keys: Keys,
    role: str,
    subject: str = "",
    label: str = "",
    token: str | None = None,
) -> tuple[str, str]:
    """Create a token; return (token, token_id). The token itself is never stored."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    token = token or new_token()
    digest = hash_token(token)
    async with r.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.token(digest),
            mapping={
                "role": role,
                "subject": subject or role,
                "label": label,
                "created_at": now_ms(),
            },
        )
        pipe.sadd(keys.tokens, digest)
        await pipe.execute()
    return token, digest[:12]


async def authenticate(r: aioredis.Redis, keys: Keys, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("a token is required: send 'Authorization: Bearer <token>'")
    digest = hash_token(token)
    data = await db.hgetall(r, keys.token(digest))
    if not data:
        raise Unauthorized("unknown or revoked token")
    return Principal(role=data["role"], subject=data["subject"], token_hash=digest)


async def list_tokens(r: aioredis.Redis, keys: Keys) -> list[dict[str, str]]:
    rows = []
    for digest in sorted(await db.smembers(r, keys.tokens)):
        data = await db.hgetall(r, keys.token(digest))
        if data:
            rows.append({"token_id": digest[:12], **data})
    return rows


async def revoke(r: aioredis.Redis, keys: Keys, token_id: str) -> dict[str, str]:
    """Revoke the token whose id starts with `token_id`; close its holder's sockets."""
    if len(token_id) < 6:
        raise InvalidInput("give at least 6 characters of the token id (see 'tokens list')")
    matches = [d for d in await db.smembers(r, keys.tokens) if d.startswith(token_id)]
    if not matches:
        raise NotFound(f"no token with id {token_id}")
    if len(matches) > 1:
        raise InvalidInput(f"{token_id} matches {len(matches)} tokens; give more characters")
    digest = matches[0]
    data = await db.hgetall(r, keys.token(digest))
    async with r.pipeline(transaction=True) as pipe:
        pipe.delete(keys.token(digest))
        pipe.srem(keys.tokens, digest)
        if data.get("role") == "reporter":
            pipe.publish(keys.reporter_channel(data["subject"]), f"{REVOKED}:{digest[:12]}")
        await pipe.execute()
    return {"token_id": digest[:12], **data}


# --- desk sessions ---------------------------------------------------------------------------
async def open_session(r: aioredis.Redis, keys: Keys, principal: Principal) -> str:
    principal.require("supervisor")
    session_id = secrets.token_urlsafe(32)
    key = keys.session(hash_token(session_id))
    await r.hset(
        key,
        mapping={
            "role": principal.role,
            "subject": principal.subject,
            "token_hash": principal.token_hash,
        },
    )
    await r.expire(key, SESSION_TTL_S)
    return session_id


async def session_principal(r: aioredis.Redis, keys: Keys, session_id: str | None) -> Principal:
    if not session_id:
        raise Unauthorized("not logged in")
    data = await db.hgetall(r, keys.session(hash_token(session_id)))
    if not data:
        raise Unauthorized("the session has expired; log in again")
    # A revoked token ends the sessions opened with it.
    if not await r.exists(keys.token(data["token_hash"])):
        raise Unauthorized("the token behind this session was revoked; log in again")
    return Principal(role=data["role"], subject=data["subject"], token_hash=data["token_hash"])


async def close_session(r: aioredis.Redis, keys: Keys, session_id: str | None) -> None:
    if session_id:
        await r.delete(keys.session(hash_token(session_id)))
