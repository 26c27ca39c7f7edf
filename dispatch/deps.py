"""FastAPI dependencies shared by every HTTP route (the REST API and the feeds' ingest
endpoints): the process's Runtime, the caller's address and token, and rate limits. Core: the
feeds package may import it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from dispatch import auth, ratelimit
from dispatch.auth import Principal
from dispatch.errors import NewsroomError, RateLimited, TooLarge
from dispatch.runtime import Runtime


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def _runtime(request: Request) -> Runtime:
    """The RT dependency: `async`, because FastAPI runs a plain `def` dependency in its thread
    pool (two thread hand-offs on every request)."""
    return runtime(request)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_ip(request: Request) -> None:
    """Every API request counts against its client address."""
    rt = runtime(request)
    await ratelimit.hit(rt.redis, rt.keys, "address", client_ip(request), rt.settings.rate_ip)


async def principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    rt = runtime(request)
    who = await auth.authenticate(rt.redis, rt.keys, token)
    await ratelimit.hit(rt.redis, rt.keys, "token", who.token_id, rt.settings.rate_token)
    return who


Who = Annotated[Principal, Depends(principal)]
RT = Annotated[Runtime, Depends(_runtime)]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 (TooLarge) past `limit` bytes, before it is all read
    when the client declares its length."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body is over {limit} bytes; the limit is {limit}")
    return bytes(body)


def error_response(exc: NewsroomError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse(
        {"error": exc.code, "detail": exc.text}, status_code=exc.status, headers=headers
    )
