"""Desk login and logout: a token in a form becomes a server-side session (HttpOnly cookie).

The session lives in Redis with a TTL (auth.SESSION_TTL_S); logging out deletes it, and
revoking the token behind it ends it.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from dispatch import auth, ratelimit
from dispatch.errors import NewsroomError
from dispatch.runtime import Runtime
from dispatch.settings import LANGS

router = APIRouter(include_in_schema=False)
LOGIN_LIMIT = (20, 60)  # attempts per address per minute


@router.post("/desk/login")
async def login(
    request: Request,
    token: str = Form(default="", max_length=200),
    lang: str = Form(default="", max_length=8),
) -> RedirectResponse:
    rt: Runtime = request.app.state.runtime
    suffix = f"lang={lang}" if lang in LANGS else ""
    address = request.client.host if request.client else "unknown"
    try:
        await ratelimit.hit(rt.redis, rt.keys, "login", address, LOGIN_LIMIT, "login attempts")
        who = await auth.authenticate(rt.redis, rt.keys, token.strip())
        session_id = await auth.open_session(rt.redis, rt.keys, who)
    except NewsroomError:
        return RedirectResponse("/desk?error=1" + ("&" + suffix if suffix else ""), status_code=303)
    response = RedirectResponse("/desk" + ("?" + suffix if suffix else ""), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        session_id,
        max_age=auth.SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/desk/logout")
async def logout(request: Request) -> RedirectResponse:
    rt: Runtime = request.app.state.runtime
    await auth.close_session(rt.redis, rt.keys, request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse("/desk", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
