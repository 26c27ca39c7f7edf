"""The project's exceptions, under one base class.

    NewsroomError
    ├── InvalidInput      bad data from outside: HTTP 400/422, websocket error or close 1007
    ├── Unauthorized      missing or wrong token: HTTP 401, websocket close 1008
    ├── Forbidden         the token's role may not do this: HTTP 403
    ├── NotFound          no such task, reporter, ...: HTTP 404
    ├── Conflict          the state does not allow it (illegal transition, busy id): HTTP 409
    ├── RateLimited       too many requests from one token or address: HTTP 429, websocket error
    ├── Unavailable       starting or stopping, or the data store is down: HTTP 503, retry
    └── ConfigError       a setting is wrong: the CLI prints it and exits 2

Each message says what was wrong and, where it helps, what to do next.
"""


class NewsroomError(Exception):
    status = 500
    code = "internal"

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class InvalidInput(NewsroomError):
    status = 422
    code = "invalid_input"


class Unauthorized(NewsroomError):
    status = 401
    code = "unauthorized"


class Forbidden(NewsroomError):
    status = 403
    code = "forbidden"


class NotFound(NewsroomError):
    status = 404
    code = "not_found"


class Conflict(NewsroomError):
    status = 409
    code = "conflict"

    def __init__(self, text: str, code: str = "conflict") -> None:
        super().__init__(text)
        self.code = code


class TooLarge(InvalidInput):
    status = 413
    code = "too_large"


class Unavailable(NewsroomError):
    status = 503
    code = "unavailable"


class ConfigError(NewsroomError):
    code = "config"


class RateLimited(NewsroomError):
    status = 429
    code = "rate_limited"

    def __init__(self, text: str, retry_after_s: int) -> None:
        super().__init__(text)
        self.retry_after_s = retry_after_s
