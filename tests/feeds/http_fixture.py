"""A real HTTP server on 127.0.0.1 (a free port) in a thread, for the pollers' tests.

Tests register handlers per path; every request is recorded (method, path, query, headers).
`Feed` serves a document with ETag / Last-Modified and answers conditional GETs with 304, as a
CMS or a CDN does. `WordPressSite` answers `/wp-json/wp/v2/posts` the way WordPress does:
Basic auth with an application password, `context=edit` only when authenticated, `status`,
`modified_after` (strictly after), `orderby=modified&order=asc`, `per_page`/`page`, and the
`X-WP-Total` / `X-WP-TotalPages` headers.
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Request], Response]


class HttpFixture:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        fixture = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                req = Request(
                    "GET",
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                fixture.requests.append(req)
                handler = fixture.routes.get(parts.path)
                resp = handler(req) if handler else Response(404, body=b"no such page")
                self.send_response(resp.status)
                for name, value in resp.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if resp.status != 304:
                    self.wfile.write(resp.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HttpFixture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@contextmanager
def serving(**routes: Handler) -> Iterator[HttpFixture]:
    """`with serving() as http: http.routes["/feed.xml"] = Feed(...)`"""
    with HttpFixture() as http:
        http.routes.update(routes)
        yield http


class Feed:
    """A feed document with validators; `update` replaces it and its validators."""

    def __init__(self, body: bytes, etag: str | None = '"v1"', last_modified: str | None = None):
        self.body, self.etag = body, etag
        self.last_modified = last_modified or "Thu, 26 Nov 2026 00:10:00 GMT"

    def update(self, body: bytes, etag: str, last_modified: str) -> None:
        self.body, self.etag, self.last_modified = body, etag, last_modified

    def __call__(self, req: Request) -> Response:
        validators = {"Last-Modified": self.last_modified}
        if self.etag:
            validators["ETag"] = self.etag
        if self.etag and req.headers.get("if-none-match") == self.etag:
            return Response(304, validators)
        if not self.etag and req.headers.get("if-modified-since") == self.last_modified:
            return Response(304, validators)
        return Response(200, {"Content-Type": "application/xml", **validators}, self.body)


def _gmt(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class WordPressSite:
    """`/wp-json/wp/v2/posts` over a list of post dicts (tests edit `posts` freely)."""

    PATH = "/wp-json/wp/v2/posts"

    def __init__(self, posts: list[dict[str, Any]], user: str, app_password: str) -> None:
        self.posts = posts
        token = base64.b64encode(f"{user}:{app_password}".encode()).decode()
        self._expected = f"Basic {token}"

    def __call__(self, req: Request) -> Response:
        authorization = req.headers.get("authorization")
        if authorization is not None and authorization != self._expected:
            return _wp_error(401, "incorrect_password", "The provided password is incorrect.")
        context = req.query.get("context", "view")
        if context == "edit" and authorization is None:
            return _wp_error(401, "rest_forbidden_context", "Sorry, you are not allowed to edit.")
        statuses = req.query.get("status", "publish").split(",")
        if authorization is None and statuses != ["publish"]:
            return _wp_error(401, "rest_invalid_param", "Status is forbidden.")
        posts = [p for p in self.posts if p["status"] in statuses]
        if "modified_after" in req.query:
            after = _gmt(req.query["modified_after"])
            posts = [p for p in posts if _gmt(p["modified_gmt"]) > after]
        if req.query.get("orderby") == "modified":
            posts.sort(
                key=lambda p: _gmt(p["modified_gmt"]), reverse=req.query.get("order") != "asc"
            )
        per_page, page = int(req.query.get("per_page", "10")), int(req.query.get("page", "1"))
        pages = math.ceil(len(posts) / per_page)
        if page > max(pages, 1):
            return _wp_error(400, "rest_post_invalid_page_number", "The page number is too large.")
        chunk = posts[(page - 1) * per_page : page * per_page]
        if context != "edit":
            chunk = [{**p, "title": {"rendered": p["title"]["rendered"]}} for p in chunk]
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-WP-Total": str(len(posts)),
            "X-WP-TotalPages": str(pages),
        }
        return Response(200, headers, json.dumps(chunk, ensure_ascii=False).encode())


def _wp_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(status, {"Content-Type": "application/json"}, body.encode())
