"""The task form's "where": a click on the map, typed coordinates, or a place from the
gazetteer (typed, picked from the matches, or saved from the form's point as a new place).

Picking a place or a map point happens in the browser (clientside callbacks write the form's
latitude and longitude, and draw the map's pin there); the server is asked only for what
needs Redis, and every such HTTP callback re-checks the desk session first.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

from dashboards import desk_live, desk_views, i18n, ids, ids_desk
from dashboards.desk_live import ENDED, LangOf, Session
from dispatch import gazetteer
from dispatch.errors import NewsroomError
from dispatch.runtime import Runtime


def coords(lat: Any, lon: Any) -> tuple[float, float] | None:
    """A valid point from the form's two fields, or None."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return lat_f, lon_f


def place_input(lang: str) -> html.Div:
    """The place field: what is typed, the matches, the form's point and the save button."""
    return html.Div(
        [
            dcc.Input(
                id=ids_desk.DESK_PLACE,
                type="text",
                value="",
                maxLength=80,
                debounce=False,
                autoComplete="off",
                placeholder=i18n.t("dk_place_hint", lang),
                className="nr-input",
            ),
            html.Div(id=ids_desk.DESK_PLACE_HITS, className="nr-place-hits"),
            html.Div(
                [
                    html.Div(id=ids_desk.DESK_PLACE_NOTE, className="nr-place-note"),
                    desk_views.small_button(
                        i18n.t("dk_place_save", lang), ids_desk.DESK_PLACE_SAVE
                    ),
                ],
                className="nr-place-foot",
            ),
        ],
        className="nr-place",
    )


# The pin: the map's last trace marks the form's point. Patched in the browser whenever the
# point changes or a stream redraw brought back an empty pin; the same callback makes sure a
# click on the map (not a drag) writes the clicked point into the form.
PIN_JS = """
function (lat, lon, figure) {
    const dc = window.dash_clientside, PIN = %(pin)d, MAP = %(map)s;
    if (!window.nrDeskMapClicks) {
        // Listen on the document: Dash may replace the map's element (it loads the graph
        // lazily), and a listener on the element would go with it.
        window.nrDeskMapClicks = true;
        let down = null;
        document.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; }, true);
        document.addEventListener("click", (e) => {
            const el = e.target && e.target.closest ? e.target.closest("#" + MAP) : null;
            if (!el || !down || Math.abs(e.clientX - down[0]) > 4 ||
                Math.abs(e.clientY - down[1]) > 4) {
                return;  // not on the map, or the end of a drag
            }
            const gd = el.querySelector(".js-plotly-plot");
            const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
            const map = sub && sub.map;
            if (!map) { return; }
            const box = map.getCanvas().getBoundingClientRect();
            if (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top ||
                e.clientY > box.bottom) { return; }
            const at = map.unproject([e.clientX - box.left, e.clientY - box.top]);
            const round = (v) => Math.round(v * 1e5) / 1e5;
            dc.set_props(%(lat)s, {value: round(at.lat)});
            dc.set_props(%(lon)s, {value: round(at.lng)});
        }, true);
    }
    const la = parseFloat(lat), lo = parseFloat(lon);
    if (!isFinite(la) || !isFinite(lo) || !figure || !figure.data || figure.data.length <= PIN) {
        return dc.no_update;
    }
    const pin = figure.data[PIN];
    if (pin.lat && pin.lat.length === 1 && pin.lat[0] === la && pin.lon[0] === lo) {
        return dc.no_update;
    }
    dc.set_props(MAP, {figure: new dc.Patch().assign(["data", PIN, "lat"], [la])
                                           .assign(["data", PIN, "lon"], [lo]).build()});
    return [la, lo];
}
"""

# A place picked from the matches: its point goes into the form, its name into the field.
HIT_JS = """
function (_clicks) {
    const dc = window.dash_clientside, c = dc.callback_context;
    const id = c.triggered_id;
    if (!id || !c.triggered.length || !c.triggered[0].value) {
        return [dc.no_update, dc.no_update, dc.no_update, dc.no_update];
    }
    return [parseFloat(id.lat), parseFloat(id.lon), id.name ? id.name : dc.no_update, []];
}
"""


def register(
    app: Dash, runtime: Runtime, session: Session, lang_of: LangOf, pin_index: int
) -> None:
    """Register the pin, the place matches and the saving of places on `app`; `pin_index` is
    the map's pin trace."""
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it unannotated
        PIN_JS
        % {
            "pin": pin_index,
            "map": json.dumps(ids.DESK_MAP),
            "lat": json.dumps(ids.DESK_LAT),
            "lon": json.dumps(ids.DESK_LON),
        },
        Output(ids_desk.DESK_PIN_SYNC, "data"),
        Input(ids.DESK_LAT, "value"),
        Input(ids.DESK_LON, "value"),
        Input(ids.DESK_MAP, "figure"),
    )

    hit = {"type": ids_desk.DESK_PLACE_HIT, "name": ALL, "lat": ALL, "lon": ALL}
    app.clientside_callback(  # type: ignore[no-untyped-call]
        HIT_JS,
        Output(ids.DESK_LAT, "value", allow_duplicate=True),
        Output(ids.DESK_LON, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE_HITS, "children", allow_duplicate=True),
        Input(hit, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids_desk.DESK_PLACE_HITS, "children"),
        Input(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def place_hits(text: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        query = text.strip() if isinstance(text, str) else ""
        if not query:
            return []
        try:
            await session()
            places = await gazetteer.all_places(runtime.redis, runtime.keys)
        except ENDED:
            return desk_live.error(i18n.t("session_ended", lang))
        if any(p["name"] == query for p in places):
            return []  # a place was picked (or typed in full): its point is in the form
        point = gazetteer.parse_point(query)
        found = gazetteer.suggest(places, query)
        if not found and point is None:
            return html.Div(i18n.t("dk_place_none", lang).format(q=query), className="nr-muted")
        return desk_views.place_hits(found, point, lang)

    @app.callback(
        Output(ids.DESK_LAT, "value", allow_duplicate=True),
        Output(ids.DESK_LON, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE, "value", allow_duplicate=True),
        Output(ids_desk.DESK_PLACE_HITS, "children", allow_duplicate=True),
        Input(ids_desk.DESK_PLACE, "n_submit"),
        State(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def place_enter(_submit: Any, text: Any, ticket: Any) -> tuple[Any, Any, Any, Any]:
        # Enter takes the typed point, else the best match.
        lang = lang_of(ticket)
        query = text.strip() if isinstance(text, str) else ""
        keep = (no_update, no_update, no_update, no_update)
        point = gazetteer.parse_point(query)
        if point is not None:
            return point[0], point[1], no_update, []
        try:
            await session()
            found = gazetteer.suggest(
                await gazetteer.all_places(runtime.redis, runtime.keys), query, 1
            )
        except ENDED:
            return (*keep[:3], desk_live.error(i18n.t("session_ended", lang)))
        if not found:
            return keep
        return found[0]["lat"], found[0]["lon"], found[0]["name"], []

    @app.callback(
        Output(ids_desk.DESK_PLACE_NOTE, "children"),
        Input(ids.DESK_LAT, "value"),
        Input(ids.DESK_LON, "value"),
        State(ids.DESK_TICKET, "data"),
    )
    async def place_note(lat: Any, lon: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        point = coords(lat, lon)
        if point is None:
            return desk_live.error(i18n.t("need_coords", lang))

        async def load() -> Any:
            places = await gazetteer.all_places(runtime.redis, runtime.keys)
            return desk_views.place_note(point, gazetteer.nearest(places, *point), lang)

        return await desk_live.refresh(
            session,
            load,
            ended=desk_live.error(i18n.t("session_ended", lang)),
            down=desk_views.place_note(point, None, lang),
        )

    @app.callback(
        Output(ids_desk.DESK_PLACE_NOTE, "children", allow_duplicate=True),
        Input(ids_desk.DESK_PLACE_SAVE, "n_clicks"),
        State(ids_desk.DESK_PLACE, "value"),
        State(ids.DESK_LAT, "value"),
        State(ids.DESK_LON, "value"),
        State(ids.DESK_TICKET, "data"),
        prevent_initial_call=True,
    )
    async def save_place(_clicks: Any, name: Any, lat: Any, lon: Any, ticket: Any) -> Any:
        lang = lang_of(ticket)
        point = coords(lat, lon)
        if not isinstance(name, str) or not name.strip() or gazetteer.parse_point(name):
            return desk_live.error(i18n.t("dk_place_need_name", lang))
        if point is None:
            return desk_live.error(i18n.t("need_coords", lang))
        try:
            principal = await session()
            place, _created = await gazetteer.put(
                runtime.redis, runtime.keys, principal, name, *point
            )
        except ENDED:
            return desk_live.error(i18n.t("session_ended", lang))
        except NewsroomError as exc:
            return desk_live.error(f"{i18n.t('error', lang)}: {exc.text}")
        return html.Div(
            i18n.t("dk_place_saved", lang).format(name=place["name"]),
            className="nr-ok nr-small-ok",
            **desk_views.attrs({"data-saved": place["name"]}),
        )
