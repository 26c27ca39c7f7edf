"""Peer for scenario 4: the same open-tasks panel as the wall, built the classic way: a Dash
4.4 page (FastAPI backend, uvicorn) whose 1 s dcc.Interval asks the server for the open tasks
(read from the same Redis with dispatch.tasks.open_tasks) and re-renders the list."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from dash import Dash, Input, Output, dcc, html
from fastapi import FastAPI

from dispatch import db, tasks
from dispatch.keys import Keys


def build(redis_url: str, tenant: str) -> FastAPI:
    server = FastAPI()
    app = Dash(__name__, server=server, update_title=None)  # type: ignore[arg-type]
    r = db.connect(redis_url)
    keys = Keys(tenant)
    app.layout = html.Div([
        html.H1("Open tasks (dcc.Interval 1 s)"),
        html.Div(id="wall-tasks"),
        dcc.Interval(id="tick", interval=1000),
    ])  # fmt: skip

    @app.callback(Output("wall-tasks", "children"), Input("tick", "n_intervals"))
    async def refresh(_: int | None) -> list[Any]:
        rows = await tasks.open_tasks(r, keys, limit=50)
        return [html.Div([html.Span(t["priority"]), " ", html.Span(t["title"])],
                         className="nr-task-row") for t in rows]  # fmt: skip

    return server


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--redis", required=True)
    p.add_argument("--tenant", default="default")
    a = p.parse_args()
    uvicorn.run(build(a.redis, a.tenant), host="127.0.0.1", port=a.port, log_level="warning",
                ws_per_message_deflate=False)  # fmt: skip


if __name__ == "__main__":
    main()
