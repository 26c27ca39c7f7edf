"""The one schema for every message on Redis and on every socket (version 1).

Every message is a JSON object with `type` and `v`. Unknown fields are rejected, strings and
lists are bounded, times are UTC epoch milliseconds. `decode_*` functions are pure and raise
`InvalidInput` with a readable reason; callers turn that into a 4xx or a close code.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from dispatch.errors import InvalidInput

V = 1
MAX_MESSAGE_BYTES = 64 * 1024

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Short = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
EpochMs = Annotated[int, Field(ge=0, le=10**14)]
AccuracyM = Annotated[float, Field(ge=0, le=100000)]
SpeedMps = Annotated[float, Field(ge=0, le=500)]
Heading = Annotated[float, Field(ge=0, le=360)]
Battery = Annotated[float, Field(ge=0, le=100)]

Stage = Literal[
    "lead", "pitched", "assigned", "reporting", "filed", "editing", "review", "published",
    "spiked", "corrected",
]  # fmt: skip
Channel = Literal["app", "web", "wechat", "weibo", "douyin", "sms", "radio", "tv"]
Priority = Literal["normal", "high", "breaking"]
Via = Literal["wechat", "weibo", "douyin", "search", "direct", "app", "other"]
Severity = Literal["info", "warning", "critical"]
TaskState = Literal[
    "created", "offered", "delivered", "accepted", "declined", "en_route", "on_scene", "filed",
    "done", "cancelled", "expired",
]  # fmt: skip
ReporterStatus = Literal["accepted", "declined", "en_route", "on_scene", "filed", "done"]

# The same values as tuples, for loops and UI ordering (one source: the Literals above).
STAGES: tuple[str, ...] = get_args(Stage)
CHANNELS: tuple[str, ...] = get_args(Channel)
PRIORITIES: tuple[str, ...] = get_args(Priority)
TASK_STATES: tuple[str, ...] = get_args(TaskState)
REPORTER_STATUSES: tuple[str, ...] = get_args(ReporterStatus)
# A story in one of these stages has left the pipeline (out, killed or out and mended).
FINISHED_STAGES: frozenset[str] = frozenset({"published", "spiked", "corrected"})


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


# --- events (Redis) ----------------------------------------------------------------------
class Story(Message):
    type: Literal["story"] = "story"
    story_id: Id
    title: Short
    stage: Stage
    desk: Short = "news"
    channels: Annotated[list[Channel], Field(max_length=8)] = []
    byline: Short = ""
    deadline: EpochMs | None = None
    priority: Priority = "normal"
    updated_at: EpochMs
    source: Short = "sim"


class Traffic(Message):
    type: Literal["traffic"] = "traffic"
    story_id: Id | None = None
    path: Annotated[str, StringConstraints(max_length=500)] | None = None
    channel: Channel
    window_start: EpochMs
    window_s: Annotated[int, Field(ge=1, le=86400)] = 60
    views: Annotated[int, Field(ge=0, le=10**9)] = 0
    visitors: Annotated[int, Field(ge=0, le=10**9)] = 0
    shares: Annotated[int, Field(ge=0, le=10**9)] = 0
    engaged_s: Annotated[int, Field(ge=0, le=10**12)] = 0
    reach: Annotated[int, Field(ge=0, le=10**9)] | None = None
    # Where the readers came from (web access logs): a referrer or app class.
    via: Via | None = None


class Location(Message):
    type: Literal["location"] = "location"
    reporter_id: Id
    lat: Lat
    lon: Lon
    accuracy_m: AccuracyM | None = None
    speed_mps: SpeedMps | None = None
    heading: Heading | None = None
    battery: Battery | None = None
    ts: EpochMs
    received_at: EpochMs
    source: Literal["app", "owntracks", "osmand", "sim"] = "app"


class Task(Message):
    """A task document, as stored and as pushed to reporters."""

    type: Literal["task"] = "task"
    task_id: Id
    title: Short
    brief: Text = ""
    lat: Lat
    lon: Lon
    priority: Priority = "normal"
    assignee: Id | None = None
    deadline: EpochMs | None = None
    state: TaskState = "created"
    version: int = 1
    story_id: Id | None = None
    tried: Annotated[list[Id], Field(max_length=50)] = []  # everyone it was offered to, in order
    offer_deadline: EpochMs | None = None  # the current offer expires unanswered at this time
    created_by: Short = ""
    created_at: EpochMs
    updated_at: EpochMs


class TaskEvent(Message):
    type: Literal["task_event"] = "task_event"
    task_id: Id
    state: TaskState
    actor: Short
    at: EpochMs
    version: int
    reason: Short = ""
    assignee: Id | None = None


class Alert(Message):
    type: Literal["alert"] = "alert"
    kind: Short
    severity: Severity = "warning"
    subject: Short
    text: Text
    raised_at: EpochMs


class Duty(Message):
    """A reporter going on or off duty."""

    type: Literal["duty"] = "duty"
    reporter_id: Id
    on_duty: bool
    at: EpochMs


Event = Annotated[
    Story | Traffic | Location | Task | TaskEvent | Alert | Duty, Field(discriminator="type")
]


# --- reporter protocol, client -> server ----------------------------------------------------
class Hello(Message):
    type: Literal["hello"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    resume: Annotated[str, StringConstraints(max_length=40)] | None = None


class Ack(Message):
    type: Literal["ack"]
    cursor: Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^\d+-\d+$")]


class TaskStatus(Message):
    type: Literal["task_status"]
    id: Id
    task_id: Id
    status: ReporterStatus
    reason: Short = ""


class ClientLocation(Message):
    type: Literal["location"]
    lat: Lat
    lon: Lon
    accuracy_m: AccuracyM | None = None
    speed_mps: SpeedMps | None = None
    heading: Heading | None = None
    battery: Battery | None = None
    ts: EpochMs


class ClientDuty(Message):
    """Going on or off duty from the phone (off duty: not tracked, not offered tasks)."""

    type: Literal["duty"]
    on_duty: bool


class Ping(Message):
    type: Literal["ping"]
    t: EpochMs | None = None


ClientMessage = Annotated[
    Ack | TaskStatus | ClientLocation | ClientDuty | Ping | Hello, Field(discriminator="type")
]

_event_adapter: TypeAdapter[Any] = TypeAdapter(Event)
_client_adapter: TypeAdapter[Any] = TypeAdapter(ClientMessage)

M = TypeVar("M", bound=BaseModel)


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _load(raw: str | bytes) -> Any:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"message is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"not valid JSON: {exc}") from None


def decode_event(raw: str | bytes) -> Story | Traffic | Location | Task | TaskEvent | Alert | Duty:
    """Decode one event from JSON; raise InvalidInput with the reason."""
    try:
        return _event_adapter.validate_python(_load(raw))  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise InvalidInput(f"invalid event: {_reason(exc)}") from None


def decode_client(raw: str | bytes) -> Ack | TaskStatus | ClientLocation | Ping | Hello:
    """Decode one reporter-protocol message from a client."""
    try:
        return _client_adapter.validate_python(_load(raw))  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise InvalidInput(f"invalid message: {_reason(exc)}") from None


def validate(model: type[M], data: Any) -> M:
    """Validate plain data against one model; raise InvalidInput with the reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_reason(exc)) from None


def encode(message: BaseModel) -> str:
    """Compact JSON for the wire."""
    return message.model_dump_json(exclude_none=False)
