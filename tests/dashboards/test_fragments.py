"""The wall's list fragments (dashboards/fragments.py) and the map's overlay markers."""

from __future__ import annotations

import json

import pytest
from dash import dcc, html
from hypothesis import given
from hypothesis import strategies as st

from dashboards import figures, fragments, maps, panels


def test_text_and_attributes_are_escaped() -> None:
    evil = '<img src=x onerror="alert(1)"> & co'
    out = fragments.to_html(html.Div(evil, title=evil, className="a", **{"data-x": evil}))
    assert "<img" not in out  # as text, never as a tag
    assert out == (
        '<div class="a" title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co"'
        ' data-x="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co">'
        '&lt;img src=x onerror="alert(1)"&gt; &amp; co</div>'
    )


def test_nesting_styles_and_what_is_left_out() -> None:
    node = html.Div(
        [html.Span("1", style={"height": "40%", "backgroundColor": "#fff"}), 2, None, html.Br()],
        n_clicks=3,  # means nothing in static HTML
        hidden=True,
    )
    assert fragments.to_html(node) == (
        '<div hidden><span style="height: 40%; background-color: #fff">1</span>2<br></div>'
    )
    assert fragments.fragment([]) == {"data-html": ""}


def test_only_html_components() -> None:
    with pytest.raises(TypeError, match="not an html component"):
        fragments.to_html(dcc.Store(id="x"))


def test_a_task_list_renders_as_the_page_would_mount_it() -> None:
    rows = [
        {"task_id": "t-1", "priority": "breaking", "title": "桥 <塌>", "assignee": None,
         "assignee_name": None, "state": "created", "age_ms": 5_000, "due_ms": 60_000},
    ]  # fmt: skip
    out = fragments.to_html(panels.task_list(rows, "zh"))
    assert out.startswith('<div class="nr-task-row" data-task-id="t-1">')
    assert 'title="桥 &lt;塌&gt;">桥 &lt;塌&gt;</span>' in out
    assert 'class="nr-due-fill" style="width: 8%"' in out


TEXT = st.text(alphabet="ab <&>\"'é中", max_size=5)
PROPS = st.fixed_dictionaries(
    {},
    optional={
        "className": TEXT,
        "title": TEXT,
        "id": TEXT,
        "hidden": st.booleans(),
        "style": st.dictionaries(st.sampled_from(["height", "backgroundColor"]), TEXT, max_size=2),
        "data-id": TEXT,
        "aria-label": TEXT,
    },
)
# A tree as (html component class, children, props) specs, built below with either maker.
SPEC = st.recursive(
    st.tuples(st.sampled_from([html.Div, html.Span, html.Br]), st.none() | TEXT, PROPS),
    lambda inner: st.tuples(
        st.sampled_from([html.Div, html.Span, html.Small]),
        st.lists(inner | TEXT, max_size=3),
        PROPS,
    ),
    max_leaves=10,
)


def _build(spec: object, make: panels.Make) -> object:
    if not isinstance(spec, tuple):
        return spec
    kind, children, props = spec
    if isinstance(children, list):
        children = [_build(child, make) for child in children]
    return make(kind, children, **props)


@given(st.lists(SPEC, max_size=3))
def test_a_node_renders_as_its_component_would(specs: list[object]) -> None:
    as_components = [_build(spec, fragments.component) for spec in specs]
    as_nodes = [_build(spec, fragments.node) for spec in specs]
    assert fragments.to_html(as_nodes) == fragments.to_html(as_components)


def test_the_wall_task_list_of_nodes_is_the_desk_list_in_html() -> None:
    rows = [
        {"task_id": f"t-{i}", "priority": p, "title": f"桥 <{i}>", "assignee": a,
         "assignee_name": a and "李", "state": "accepted", "age_ms": 50_000 * i, "due_ms": d}
        for i, (p, a, d) in enumerate([("breaking", None, 60_000), ("normal", "r1", None),
                                        ("high", "r2", 600_000)])
    ]  # fmt: skip
    for lang in ("zh", "en"):
        nodes = panels.task_list(rows, lang, make=fragments.node)
        assert fragments.to_html(nodes) == fragments.to_html(panels.task_list(rows, lang))
        assert isinstance(panels.task_list(rows, lang)[0], html.Div)


def test_overlay_markers_are_the_map_traces_without_hover() -> None:
    reps = [
        {"reporter_id": "r1", "lat": 27.7123456, "lon": 112.5, "on_duty": True, "fix_ts": 1},
        {"reporter_id": "r2", "lat": 27.8, "lon": 112.6, "on_duty": False, "fix_ts": 1},
    ]
    task = {"task_id": "t1", "title": "x", "state": "offered", "lat": 27.7, "lon": 112.4,
            "priority": "high"}  # fmt: skip
    traces = maps.overlay_markers(reps, [task], now=1, scale=2.0)["traces"]
    assert len(traces) == maps.MAP_TRACES
    free = traces[maps.MAP_FREE]
    assert free == {"lat": [27.71235], "lon": [112.5], "size": figures.px(17, 2.0),
                    "color": figures.ON_DUTY, "opacity": [1.0]}  # fmt: skip
    assert traces[maps.MAP_OFF_DUTY]["lat"] == [27.8]
    pins = traces[maps.MAP_TASK]
    assert pins["color"] == [maps.PRIORITY_COLOURS["high"]] and pins["opacity"] == 1.0
    assert traces[maps.MAP_TASK_HALO]["opacity"] == maps.HALO_OPACITY
    assert json.loads(maps.overlay_attribute(reps, [task], 1, 2.0)) == {"traces": traces}
    # the wall's base map carries no markers: one empty trace, so that the map exists
    base = maps.map_figure(reps, [task], "en", overlay=True)
    assert len(base.data) == 1 and list(base.data[0].lat) == []
