"""REST API `/api/v1` (design.md §4.4), health checks and metrics.

Bearer tokens; every route checks the role on the server. Errors are JSON
`{"error": code, "detail": reason}` with the status of the NewsroomError raised.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from dispatch import (
    escalation,
    gazetteer,
    reporters,
    schema,
    sources,
    stories,
    task_edits,
    tasks,
)
from dispatch.deps import RT, Who, limit_ip

router = APIRouter(prefix="/api/v1", dependencies=[Depends(limit_ip)])
health = APIRouter()


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    skills: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=20)
    devices: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=10)


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    brief: str = Field(default="", max_length=4000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    priority: schema.Priority = "normal"
    assignee: str | None = Field(default=None, max_length=64)
    deadline: int | None = Field(default=None, ge=0)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: schema.TaskState
    assignee: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=200)
    expected_version: int | None = None


@router.post("/reporters", status_code=201, tags=["reporters"])
async def create_reporter(body: ReporterIn, who: Who, rt: RT) -> dict[str, Any]:
    """Register a reporter (admin). The response holds their token: it is shown only here."""
    who.require("admin")
    return await reporters.create(rt.redis, rt.keys, body.name, body.skills, body.devices)


@router.get("/reporters", tags=["reporters"])
async def list_reporters(who: Who, rt: RT) -> list[dict[str, Any]]:
    who.require("supervisor", "wall")
    return await reporters.all_reporters(rt.redis, rt.keys)


@router.get("/reporters/nearest", tags=["reporters"])
async def nearest(
    who: Who,
    rt: RT,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    skills: Annotated[
        str | None,
        Query(
            max_length=400,
            description=(
                "required skills, comma-separated (at most 10), e.g. camera,drone: "
                "reporters missing one rank after everyone who has them all"
            ),
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """On-duty reporters ranked for a place (travel time, fix age, battery, open tasks,
    skills), best first, each with `rank`, `distance_km`, `why` and `factors`."""
    who.require("supervisor")
    return await reporters.nearest(
        rt.redis, rt.keys, lat, lon, limit, skills=skills.split(",") if skills else None
    )


@router.get("/reporters/{reporter_id}", tags=["reporters"])
async def get_reporter(reporter_id: str, who: Who, rt: RT) -> dict[str, Any]:
    if not (who.role == "reporter" and who.subject == reporter_id):
        who.require("supervisor", "wall")
    return await reporters.get(rt.redis, rt.keys, reporter_id)


@router.post("/tasks", status_code=201, tags=["tasks"])
async def create_task(
    body: TaskIn,
    who: Who,
    rt: RT,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Create a task and offer it to `assignee`. A repeated Idempotency-Key returns the
    first result (status 200) instead of creating a second task."""
    task, created = await tasks.create(
        rt.redis,
        rt.keys,
        who,
        idempotency_key=idempotency_key,
        ack_timeouts=rt.settings.ack_timeouts,
        **body.model_dump(),
    )
    if not created:
        response.status_code = 200
    return task


@router.get("/tasks", tags=["tasks"])
async def list_open_tasks(who: Who, rt: RT) -> list[dict[str, Any]]:
    who.require("supervisor", "wall")
    return await tasks.open_tasks(rt.redis, rt.keys)


@router.get("/tasks/{task_id}", tags=["tasks"])
async def get_task(task_id: str, who: Who, rt: RT) -> dict[str, Any]:
    """The task with its `state` and its timeline."""
    task = await tasks.get(rt.redis, rt.keys, task_id)
    if not (who.role == "reporter" and task["assignee"] == who.subject):
        who.require("supervisor", "wall")
    return task


@router.post("/tasks/{task_id}/transitions", tags=["tasks"])
async def transition(
    task_id: str,
    body: TransitionIn,
    who: Who,
    rt: RT,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Move a task: offered (assign or reassign, with assignee), cancelled, or a reporter's
    own status. Illegal moves get 409 with code illegal_transition."""
    task = await tasks.change(
        rt.redis,
        rt.keys,
        who,
        task_id,
        body.state,
        reason=body.reason,
        assignee=body.assignee,
        client_id=idempotency_key,
        expected_version=body.expected_version,
        ack_timeouts=rt.settings.ack_timeouts,
    )
    await escalation.after_change(
        rt.redis, rt.keys, task, body.reason, rt.settings.ack_timeouts, rt.settings.auto_reoffer
    )
    return task


class TaskEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    brief: str | None = Field(default=None, max_length=4000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    priority: schema.Priority | None = None
    deadline: int | None = Field(default=None, ge=0)
    story_id: str | None = Field(default=None, min_length=1, max_length=64)
    expected_version: int | None = None


@router.patch("/tasks/{task_id}", tags=["tasks"])
async def edit_task(task_id: str, body: TaskEdit, who: Who, rt: RT) -> dict[str, Any]:
    """Edit an open task's details; the assignee gets a task_update with change `edited`."""
    fields = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    return await task_edits.edit(rt.redis, rt.keys, who, task_id, fields, body.expected_version)


@router.get("/alerts", tags=["alerts"])
async def list_alerts(
    who: Who, rt: RT, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """Recent alerts, newest first: expired offers, declines, no candidate left, derived
    alerts; each with its `alert_id` and `ack` (who acknowledged it and when, or null)."""
    who.require("supervisor", "wall")
    return await escalation.alerts_with_acks(rt.redis, rt.keys, limit)


@router.post("/alerts/{alert_id}/ack", tags=["alerts"])
async def acknowledge_alert(alert_id: str, who: Who, rt: RT) -> dict[str, Any]:
    """Acknowledge an alert (supervisor): recorded with who and when, shown on every open desk.
    Repeating it changes nothing and returns the first acknowledgement (`new` is false)."""
    return await escalation.acknowledge(rt.redis, rt.keys, who, alert_id)


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@router.get("/places", tags=["places"])
async def list_places(
    who: Who,
    rt: RT,
    q: Annotated[str | None, Query(max_length=gazetteer.MAX_NAME)] = None,
    limit: Annotated[int, Query(ge=1, le=gazetteer.MAX_PLACES)] = gazetteer.MAX_PLACES,
) -> list[dict[str, Any]]:
    """The gazetteer: place names with their points, by name; with `q`, the places whose name
    starts with it, then those that contain it."""
    who.require("supervisor", "wall")
    places = await gazetteer.all_places(rt.redis, rt.keys)
    return [dict(p) for p in (gazetteer.suggest(places, q, limit) if q else places[:limit])]


@router.put("/places/{name}", tags=["places"])
async def put_place(
    name: str, body: PlaceIn, who: Who, rt: RT, response: Response
) -> dict[str, Any]:
    """Add a place (201) or move an existing one (200); supervisors and admins."""
    place, created = await gazetteer.put(rt.redis, rt.keys, who, name, body.lat, body.lon)
    response.status_code = 201 if created else 200
    return dict(place)


@router.delete("/places/{name}", tags=["places"])
async def delete_place(name: str, who: Who, rt: RT) -> dict[str, Any]:
    """Remove a place; supervisors and admins. Returns the place removed."""
    return dict(await gazetteer.remove(rt.redis, rt.keys, who, name))


@router.get("/stories", tags=["stories"])
async def list_stories(who: Who, rt: RT) -> list[dict[str, Any]]:
    who.require("supervisor", "wall")
    return await stories.all_stories(rt.redis, rt.keys)


@router.get("/feeds", tags=["feeds"])
async def list_feeds(who: Who, rt: RT) -> list[dict[str, Any]]:
    """Each feed source's last heartbeat with its `status`: ok (a recent success), failing
    (running, but its recent steps failed) or stale (nothing recent: a dead feed), and
    `age_ms` since its last success."""
    who.require("supervisor", "wall")
    return await sources.health(rt.redis, rt.keys)


@health.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@health.get("/readyz", tags=["health"])
async def readyz(rt: RT) -> JSONResponse:
    """Redis answers and the bus is subscribed."""
    try:
        await rt.redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "unavailable", "detail": f"Redis: {exc}"}, status_code=503)
    if not rt.bus.connected:
        return JSONResponse(
            {"status": "unavailable", "detail": "bus not subscribed"}, status_code=503
        )
    return JSONResponse({"status": "ready"})


@health.get("/metrics", tags=["health"], response_class=PlainTextResponse)
async def metrics(request: Request) -> str:
    """Prometheus text format."""
    gauges: dict[str, int] = getattr(request.app.state, "gauges", {})
    lines = []
    for name, value in sorted(gauges.items()):
        lines += [f"# TYPE newsroom_{name} gauge", f"newsroom_{name} {value}"]
    return "\n".join(lines) + "\n"
