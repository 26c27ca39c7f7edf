"""The composition root: one ASGI app with the Dash command centre (FastAPI backend of Dash 4)
at the root, the REST API, the reporter websocket and the health checks. The only module
that imports dispatch, dashboards and feeds together.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import uvicorn
from dash import Dash
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import dashboards
from dispatch import api, bootstrap, db, deps, escalation, redis_server, web, ws
from dispatch.errors import NewsroomError
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from feeds import ingest_locations, ingest_webhooks
from feeds import process as feeds_process
from feeds import run as feeds_run
from feeds.collector import Collector

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("newsroom")


def create_app(settings: Settings, redis_url: str) -> Edge:
    runtime = Runtime(settings, redis_url=redis_url)
    secrets = bootstrap.load(settings)
    runtime.webhook_secret = secrets.webhook_secret

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        await bootstrap.register(runtime.redis, runtime.keys, secrets)
        timers = asyncio.create_task(
            escalation.run_timers(
                runtime.redis, runtime.keys, settings.ack_timeouts, settings.auto_reoffer
            ),
            name="timers",
        )
        try:
            yield
        finally:
            timers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timers
            await runtime.stop()

    server = FastAPI(
        title="Newsroom Command",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    server.state.runtime = runtime
    server.state.secrets = secrets
    server.state.gauges = {"reporter_sockets": 0}

    _answer_errors(server)

    server.include_router(api.health)
    server.include_router(api.router)
    server.include_router(web.router)
    # Listed in the API docs here; served by the edge's lane (see Edge).
    server.include_router(ingest_locations.router)
    server.include_router(ingest_webhooks.router)

    @server.get("/r", include_in_schema=False)
    async def reporter_page() -> FileResponse:
        """The reporter's phone page (static; it speaks the websocket protocol itself)."""
        return FileResponse(
            ROOT / "assets" / "phone" / "index.html", headers={"Cache-Control": "no-cache"}
        )

    # Dash documents a FastAPI `server` and `update_title=None`; its annotations allow neither.
    dash_app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        update_title=None,  # type: ignore[arg-type]
        assets_folder=str(ROOT / "assets"),
        title="Newsroom Command",
        websocket_inactivity_timeout=0,
        suppress_callback_exceptions=True,
        websocket_allowed_origins=list(settings.allowed_origins),
        # The phone page's files are served under /assets/phone/ but are not
        # injected into the Dash pages.
        assets_path_ignore=["phone"],
    )
    dashboards.register(dash_app, runtime)

    lane = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    lane.state = server.state
    _answer_errors(lane)
    lane.include_router(ingest_locations.router)
    lane.include_router(ingest_webhooks.router)
    return Edge(server, lane)


def _answer_errors(app: FastAPI) -> None:
    """Our errors as JSON {error, detail} with their status; Redis down as 503."""

    @app.exception_handler(NewsroomError)
    async def newsroom_error(_: Request, exc: NewsroomError) -> JSONResponse:
        return deps.error_response(exc)

    @app.exception_handler(RedisError)
    async def redis_down(_: Request, exc: RedisError) -> JSONResponse:
        log.warning("Redis error: %s", exc)
        return JSONResponse(
            {
                "error": "unavailable",
                "detail": "the data store is unavailable; "
                "retry shortly (with the same Idempotency-Key)",
            },
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        return JSONResponse({"error": "invalid_input", "detail": "; ".join(parts)}, status_code=422)


class Edge:
    """The outermost ASGI layer.

    The hot paths skip the command centre's stack (Dash's middleware, FastAPI's exception and
    exit-stack layers): the reporter socket goes straight to its handler, whose whole life
    would otherwise hold a dozen middleware frames (about a third of an idle connection's
    memory), and the ingest endpoints go to a lean app of their own (`lane`) sharing the
    state. Everything else goes to the FastAPI app with the Dash command centre.

    When uvicorn's graceful shutdown runs out of time it cancels the requests still running,
    and would answer them 500. Such a request may or may not have been applied, so the honest
    answer is 503 with Retry-After: a client retries with the same Idempotency-Key on another
    process (or this one, restarted) and gets the one result.
    """

    def __init__(self, app: FastAPI, lane: FastAPI) -> None:
        self.app, self.lane = app, lane
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws/reporter":
            scope["app"] = self.app
            await ws.reporter_app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = self.lane if scope["path"].startswith("/ingest/") else self.app
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await target(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if started:
                raise
            body = b'{"error":"unavailable","detail":"the server is stopping; retry"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"1"),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    # 64 KiB frames at most (larger: close 1009); no websocket compression (65-70 % more CPU).
    # Phones ping every 20 s (the protocol's heartbeat), so the server's own ping only has to
    # find half-open connections: once a minute, not uvicorn's 20 s (500 pings/s for 10,000).
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",  # dispatch.frames writes frames directly beneath this one
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        ws_ping_interval=60.0,
        ws_ping_timeout=20.0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
    )


async def serve(
    settings: Settings,
    demo: bool = False,
    seed: int = 7,
    rate: float = 1.0,
    banner: bool = True,
    feeds: bool = False,
) -> None:
    """Run the web process; with `demo`, the simulator in the same process; with `feeds` (one
    box: `newsroom up`), the feeds config's collectors and the derived alerts too."""
    collectors = feeds_process.in_web_process(settings) if feeds else []  # a bad config: stop now
    url, embedded = db.resolve(settings, long_lived=True)
    try:
        app = create_app(settings, url)
        server = uvicorn.Server(uvicorn_config(app, settings))
        jobs = [asyncio.create_task(_serve(server), name="web")]
        if demo:
            jobs.append(asyncio.create_task(_demo(app, seed, rate), name="simulator"))
        if collectors:
            jobs.append(asyncio.create_task(_feeds(app, collectors), name="feeds"))
        jobs.append(asyncio.create_task(_settle_gc(server), name="gc"))
        if banner:
            jobs.append(asyncio.create_task(_banner(server, app, settings, url, demo)))
        await asyncio.wait(jobs[:1])
        for job in jobs[1:]:
            job.cancel()
        for job in jobs:
            with contextlib.suppress(asyncio.CancelledError):
                await job
    finally:
        redis_server.release(embedded)


async def _serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except KeyboardInterrupt:
        pass  # the Ctrl-C or SIGTERM uvicorn re-raises after its graceful shutdown: we are done


# Collections of the youngest generation every 50,000 allocations rather than 700, and far fewer
# full ones: with 10,000 reporters connected a full collection stopped the process for 1.5-1.9 s
# (docs/performance.md, task push).
GC_THRESHOLDS = (50_000, 50, 100)


# How often the C heap's free pages go back to the system (`_malloc_trim`).
TRIM_EVERY_S = 60.0


async def _settle_gc(server: uvicorn.Server) -> None:
    """Once started, move everything built so far (modules, the Dash app, the layouts) out of
    the collector's sight: full collections then only walk what the connections create. Then,
    every TRIM_EVERY_S, give the C heap's free pages back to the system (`_malloc_trim`)."""
    gc.set_threshold(*GC_THRESHOLDS)
    while not server.started:
        await asyncio.sleep(0.05)
    gc.collect()
    gc.freeze()
    trim = _malloc_trim()
    while trim is not None:
        await asyncio.sleep(TRIM_EVERY_S)
        await asyncio.to_thread(trim, 0)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (another C library). The C heap keeps the pages that freed
    memory leaves behind (the process's resident size rose ~2 MiB/h at the demo's pace while
    Python's own objects stayed level: docs/performance.md, "Wall soak"); malloc_trim(0) gives
    every whole free page back. It runs in a thread: ctypes lets go of the GIL, and it takes
    a few milliseconds."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


async def _demo(app: Edge, seed: int, rate: float) -> None:
    runtime: Runtime = app.state.runtime
    await runtime.started.wait()  # the lifespan connects
    await feeds_run.run_simulator(runtime.redis, runtime.keys, seed=seed, rate=rate)


async def _feeds(app: Edge, collectors: list[Collector]) -> None:
    runtime: Runtime = app.state.runtime
    await runtime.started.wait()
    await feeds_process.run_in_web_process(runtime.redis, runtime.keys, collectors)


async def _banner(
    server: uvicorn.Server, app: Edge, settings: Settings, url: str, demo: bool
) -> None:
    while not server.started:
        await asyncio.sleep(0.05)
    s: bootstrap.Secrets = app.state.secrets
    base = settings.public_url
    where = (
        "embedded Redis at " + url if not settings.redis_url else "Redis at " + url.split("@")[-1]
    )
    lines = [
        "",
        f"Newsroom Command is running ({where}{', demo data on' if demo else ''})",
        f"  wall  (read-only, for the command hall): {base}/wall?key={s.wall_key}",
        f"  desk  (log in with the admin token):     {base}/desk",
        f"  API   docs:                              {base}/api/docs",
        f"  reporters connect to:                    {base.replace('http', 'ws', 1)}/ws/reporter",
        f"  admin token: {s.admin_token}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


async def feeds(settings: Settings, seed: int, rate: float, duration_s: float | None) -> None:
    """The feeds process: runs the collectors. Today that is the simulator."""
    url, embedded = db.resolve(settings, long_lived=True)
    try:
        await feeds_process.main(settings, url, seed=seed, rate=rate, duration_s=duration_s)
    finally:
        redis_server.release(embedded)
