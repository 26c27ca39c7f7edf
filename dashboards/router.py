"""The shell every page shares, and the router that fills it (no Dash Pages: see __init__).

`/wall?key=…[&lang=en][&panels=…][&rotate=…&views=…]` (see wall_options),
`/desk[?lang=en][&error=1]` and a small index at `/`. Pages are rendered by an HTTP callback,
which is where the desk's session cookie can be read.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from dash import Dash, Input, Output, ctx, dcc, html
from redis.exceptions import RedisError

from dashboards import access, desk, i18n, ids, live, wall, wall_options, wall_schedule
from dispatch import auth
from dispatch.clock import now_ms
from dispatch.errors import Forbidden, Unauthorized
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)


def shell() -> html.Div:
    """The app layout: a location and the page the router renders into it."""
    return html.Div(
        [dcc.Location(id=ids.URL, refresh=False), html.Div(id=ids.PAGE, className="nr-page")]
    )


def index(lang: str) -> html.Div:
    """The start page: where the wall and the desk are."""
    return html.Div(
        html.Div(
            [
                html.H1(i18n.t("app_title", lang)),
                html.P(i18n.t("index_intro", lang), className="nr-muted"),
                html.Ul(
                    [
                        html.Li(html.A(i18n.t("index_wall", lang), href="/wall")),
                        html.Li(html.A(i18n.t("index_desk", lang), href="/desk")),
                    ],
                    className="nr-index-links",
                ),
            ],
            className="nr-message",
        ),
        id=ids.INDEX,
        className="nr-desk",
    )


def not_found(lang: str) -> html.Div:
    """Any other path."""
    return html.Div(
        html.Div(
            [html.H1(i18n.t("not_found", lang)), html.A(i18n.t("back_home", lang), href="/")],
            className="nr-message",
        ),
        id=ids.NOT_FOUND,
        className="nr-desk",
    )


def unavailable(lang: str) -> html.Div:
    """Redis is unreachable: say so; assets/watchdog.js reloads the page when it can."""
    return html.Div(
        html.Div(
            [html.H1(i18n.t("link_degraded", lang)), html.P(i18n.t("stale", lang))],
            className="nr-message",
        ),
        className="nr-desk nr-retry",
    )


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


async def render(runtime: Runtime, pathname: str | None, search: str | None) -> html.Div:
    """The page for a location."""
    params = parse_qs((search or "").lstrip("?"))
    lang = i18n.pick_lang(_first(params, "lang"), runtime.settings.lang)
    path = (pathname or "/").rstrip("/") or "/"
    try:
        if path == "/wall":
            key = _first(params, "key")
            if await access.wall_principal(runtime, key) is None:
                return wall.denied(lang)
            options = wall_options.parse(params, i18n.LANGS)
            return wall.layout(
                key or "",
                lang,
                await live.load_state(runtime, extras=True),
                now_ms(),
                options,
                wall_schedule.load(runtime.settings.data_dir),
                wall.map_tiles(runtime),
            )
        if path == "/desk":
            session_id = ctx.cookies.get(auth.SESSION_COOKIE)
            try:
                principal = await access.desk_principal(runtime, session_id)
            except (Unauthorized, Forbidden):
                return desk.login(lang, error=_first(params, "error") is not None)
            ticket = await access.issue_ticket(runtime, session_id or "")
            state = await live.load_state(runtime)
            return desk.layout(
                principal, ticket, lang, state, now_ms(), tiles=runtime.settings.map_tiles
            )
    except (RedisError, OSError) as exc:
        log.warning("dashboards: cannot render %s: %s", path, exc)
        return unavailable(lang)
    if path == "/":
        return index(lang)
    return not_found(lang)


def register(app: Dash, runtime: Runtime) -> None:
    """Set the shell as the layout and register the router on `app`."""
    app.layout = shell()

    @app.callback(
        Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), Input(ids.URL, "search")
    )
    async def route(pathname: str | None, search: str | None) -> html.Div:
        return await render(runtime, pathname, search)
