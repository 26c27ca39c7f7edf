"""The reporter websocket `/ws/reporter`, protocol v1 (design.md §4.2, docs/protocol.md).

hello (within 5 s, token in the message, never the URL) → welcome → every outbox entry not
acknowledged (in cursor order) → live pushes. The outbox stream in Redis is the record; the
bus only nudges the sender to read it again, so nothing is lost while a phone is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette import status
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from dispatch import auth, escalation, ratelimit, reporters, schema, tasks
from dispatch.auth import Principal
from dispatch.clock import now_ms
from dispatch.errors import InvalidInput, NewsroomError, RateLimited, Unauthorized
from dispatch.frames import TextFrames
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 5.0
HEARTBEAT_S = 20
SEND_TIMEOUT_S = 10.0
# At most this many pushes in flight without an ack: a client that stops acknowledging gets
# nothing more (and costs no memory) until it acks or reconnects and resumes.
WINDOW = 500
ACKED = "\x00acked"


def _cursor(cursor: str) -> tuple[int, int]:
    ms, _, seq = cursor.partition("-")
    return int(ms), int(seq)


def origin_allowed(ws: WebSocket, allowed: tuple[str, ...]) -> bool:
    """Browsers send Origin; it must be this server or an allowed one. Native clients send none."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    host = ws.headers.get("host", "")
    return origin in allowed or origin.split("://", 1)[-1] == host


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.client_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=code, reason=reason[:120])


async def _hello(ws: WebSocket, rt: Runtime) -> tuple[Principal, schema.Hello]:
    try:
        raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S)
    except TimeoutError:
        raise Unauthorized(
            'no hello within 5 s: send {"type":"hello","v":1,"token":...} first'
        ) from None
    try:
        hello = schema.decode_client(raw)
    except InvalidInput as exc:
        raise Unauthorized(f"the first message must be hello: {exc.text}") from None
    if not isinstance(hello, schema.Hello):
        raise Unauthorized("the first message must be hello")
    who = await auth.authenticate(rt.redis, rt.keys, hello.token)
    if who.role != "reporter":
        raise Unauthorized(f"this socket is for reporter tokens; yours is a {who.role} token")
    return who, hello


async def reporter_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app of /ws/reporter (dispatch.app.Edge routes the path here directly)."""
    await reporter_socket(WebSocket(scope, receive, send), send)


async def reporter_socket(ws: WebSocket, send: Send) -> None:
    rt: Runtime = ws.app.state.runtime
    if not origin_allowed(ws, rt.settings.allowed_origins):
        await ws.close(code=status.WS_1008_POLICY_VIOLATION, reason="origin not allowed")
        return
    await ws.accept()
    try:
        address = ws.client.host if ws.client else "unknown"
        await ratelimit.hit(
            rt.redis, rt.keys, "address", address, rt.settings.rate_ip, "connections"
        )
        who, hello = await _hello(ws, rt)
    except Unauthorized as exc:
        await _close(ws, status.WS_1008_POLICY_VIOLATION, exc.text)
        return
    except RateLimited as exc:  # not fatal: the client backs off and comes back
        await _close(ws, status.WS_1013_TRY_AGAIN_LATER, exc.text)
        return
    except WebSocketDisconnect:
        return
    gauges: dict[str, int] = ws.app.state.gauges
    gauges["reporter_sockets"] = gauges.get("reporter_sockets", 0) + 1
    try:
        await Session(ws, send, rt, who).run(hello.resume)
    except WebSocketDisconnect:
        pass
    finally:
        gauges["reporter_sockets"] -= 1


class Session:
    """One connected reporter: the socket's own task receives; one more task sends what the
    outbox holds when the bus nudges it. When either ends, both end."""

    def __init__(self, ws: WebSocket, send: Send, rt: Runtime, who: Principal) -> None:
        self.ws, self.frames, self.rt, self.who = ws, TextFrames(send), rt, who
        self.rid = who.subject
        self.last_sent: str | None = None
        self.inflight: list[str] = []  # cursors sent and not yet acknowledged, oldest first
        self.sub: Any = None
        self.ending = False

    async def send(self, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        if self.frames.write_now(text):
            return
        async with asyncio.timeout(SEND_TIMEOUT_S):  # wait_for would wrap each send in a Task
            await self.frames.send_text(text)

    async def run(self, resume: str | None) -> None:
        rt = self.rt
        if resume:
            with contextlib.suppress(InvalidInput):
                await tasks.ack(rt.redis, rt.keys, self.rid, resume)
        async with rt.bus.subscribe(rt.keys.reporter_channel(self.rid), maxsize=64) as sub:
            self.sub = sub
            await self._welcome()
            receiving = asyncio.current_task()
            assert receiving is not None
            sender = asyncio.create_task(self._sender(sub), name=f"push:{self.rid}")

            def sender_ended(_: asyncio.Task[None]) -> None:
                if not self.ending:
                    receiving.cancel()  # the sender failed: stop receiving too

            sender.add_done_callback(sender_ended)
            failed: BaseException | None = None
            try:
                await self._receiver()
            except asyncio.CancelledError:
                if not sender.done() or sender.cancelled():
                    raise  # the server is stopping
                receiving.uncancel()
                failed = sender.exception()
            except Exception as exc:  # the socket went away, or a bug: see _ended
                failed = exc
            finally:
                self.ending = True
                if not sender.done():
                    sender.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await sender
            await self._ended(failed)

    async def _welcome(self) -> None:
        rt = self.rt
        profile, held = await asyncio.gather(
            reporters.get(rt.redis, rt.keys, self.rid), tasks.held(rt.redis, rt.keys, self.rid)
        )
        await self.send(
            {
                "type": "welcome",
                "v": schema.V,
                "reporter": profile,
                "tasks": held,
                "server_time": now_ms(),
                "heartbeat_s": HEARTBEAT_S,
            }
        )

    async def _ended(self, exc: BaseException | None) -> None:
        """Close the socket with the reason the session ended for."""
        if isinstance(exc, TimeoutError):
            await _close(self.ws, status.WS_1013_TRY_AGAIN_LATER, "too slow; reconnect and resume")
        elif isinstance(exc, _Revoked):
            await _close(self.ws, status.WS_1008_POLICY_VIOLATION, "token revoked")
        elif exc is not None and not isinstance(exc, WebSocketDisconnect):
            log.exception("reporter socket %s failed", self.rid, exc_info=exc)
            await _close(self.ws, status.WS_1011_INTERNAL_ERROR, "server error; reconnect")

    async def _flush(self) -> None:
        while (room := min(200, WINDOW - len(self.inflight))) > 0:
            batch = await tasks.pending(
                self.rt.redis, self.rt.keys, self.rid, self.last_sent, count=room
            )
            for cursor, msg in batch:
                await self.send(tasks.frame(cursor, msg))
                self.last_sent = cursor
                self.inflight.append(cursor)
            if len(batch) < room:
                return

    async def _sender(self, sub: Any) -> None:
        await self._flush()
        while True:
            message = await sub.get()
            for m in [message, *sub.drain()]:
                if m.startswith(auth.REVOKED) and m.endswith(self.who.token_id):
                    raise _Revoked()
            await self._flush()

    async def _receiver(self) -> None:
        rt = self.rt
        while True:
            raw = await self.ws.receive_text()
            try:
                await ratelimit.hit(
                    rt.redis,
                    rt.keys,
                    "token",
                    self.who.token_id,
                    rt.settings.rate_token,
                    "messages",
                )
                msg = schema.decode_client(raw)
                await self._handle(msg)
            except NewsroomError as exc:
                ref = _ref(raw)
                await self.send(
                    {"type": "error", "v": schema.V, "code": exc.code, "text": exc.text, **ref}
                )

    async def _handle(self, msg: Any) -> None:
        rt = self.rt
        if isinstance(msg, schema.Ack):
            await tasks.ack(rt.redis, rt.keys, self.rid, msg.cursor)
            acked = _cursor(msg.cursor)
            done = 0
            while done < len(self.inflight) and _cursor(self.inflight[done]) <= acked:
                done += 1
            del self.inflight[:done]
            self.sub.offer(ACKED)  # the window has room again: let the sender go on
        elif isinstance(msg, schema.TaskStatus):
            task = await tasks.change(
                rt.redis,
                rt.keys,
                self.who,
                msg.task_id,
                msg.status,
                reason=msg.reason,
                client_id=f"{self.rid}:{msg.id}",
            )
            await escalation.after_change(
                rt.redis,
                rt.keys,
                task,
                msg.reason,
                rt.settings.ack_timeouts,
                rt.settings.auto_reoffer,
            )
        elif isinstance(msg, schema.ClientLocation):
            fix = schema.Location(
                reporter_id=self.rid,
                lat=msg.lat,
                lon=msg.lon,
                accuracy_m=msg.accuracy_m,
                speed_mps=msg.speed_mps,
                heading=msg.heading,
                battery=msg.battery,
                ts=msg.ts,
                received_at=now_ms(),
                source="app",
            )
            await reporters.apply_fix(
                rt.redis, rt.keys, fix, retention_ms=rt.settings.trail_retention_s * 1000
            )
        elif isinstance(msg, schema.ClientDuty):
            await reporters.set_duty(rt.redis, rt.keys, self.rid, msg.on_duty)
            await self.send({"type": "duty", "v": schema.V, "on_duty": msg.on_duty})
        elif isinstance(msg, schema.Ping):
            await self.send({"type": "pong", "v": schema.V, "t": msg.t, "server_time": now_ms()})
        else:
            raise InvalidInput("hello was already received on this connection")


class _Revoked(Exception):
    pass


def _ref(raw: str) -> dict[str, Any]:
    """Echo the client's message id in an error, so it can tell which message failed."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        data = json.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            return {"id": data["id"][:64]}
    return {}
