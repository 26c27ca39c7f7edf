"""The wall's busy lists as HTML fragments: built from the same Dash components, sent as one
attribute, put in place by assets/fragments.js.

Why: when a component's children are replaced, Dash's renderer mounts a new wrapper for every
child, and each one dispatches a store action that re-runs the selector of every component on
the page: a list of n rows on a page of m components costs n × m selector runs. On the wall
(about 190 components) a new open task took ~45 ms from the message to the screen, nearly all
of it there (docs/performance.md, §4). As a fragment, the list is one attribute change: one
store update, one DOM write.

`to_html` renders plain html components (Div, Span, ...) only, escaping every text and
attribute value; the element that shows a fragment carries it as `data-html`.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

from dash.development.base_component import Component

ATTRIBUTE = "data-html"
NAMESPACE = "dash_html_components"
# Props rendered as attributes (besides data-* and aria-*); the rest (n_clicks, ...) mean
# nothing in static HTML.
PLAIN = {"id": "id", "className": "class", "title": "title", "role": "role", "lang": "lang"}
VOID = frozenset({"br", "hr", "img", "wbr"})
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _style(style: dict[str, Any]) -> str:
    return "; ".join(f"{_CAMEL.sub('-', key).lower()}: {value}" for key, value in style.items())


def _attributes(props: dict[str, Any]) -> str:
    out = []
    for name, value in props.items():
        if value is None or name == "children":
            continue
        if name in PLAIN:
            out.append(f'{PLAIN[name]}="{_html.escape(str(value))}"')
        elif name == "style" and isinstance(value, dict):
            out.append(f'style="{_html.escape(_style(value))}"')
        elif name.startswith(("data-", "aria-")):
            out.append(f'{name}="{_html.escape(str(value))}"')
        elif name == "hidden" and value:
            out.append("hidden")
    return "".join(" " + item for item in out)


def to_html(node: Any) -> str:
    """HTML for `node`: a string or number (escaped), a list, or an html component tree."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return _html.escape(str(node), quote=False)
    if isinstance(node, list | tuple):
        return "".join(to_html(item) for item in node)
    if isinstance(node, Component) and node._namespace == NAMESPACE:
        tag = node._type.lower()
        props = {name: getattr(node, name, None) for name in node._prop_names}
        props.update({k: v for k, v in vars(node).items() if k.startswith(("data-", "aria-"))})
        opening = f"<{tag}{_attributes(props)}>"
        if tag in VOID:
            return opening
        return f"{opening}{to_html(props.get('children'))}</{tag}>"
    raise TypeError(f"not an html component, text or list: {type(node).__name__}")


def fragment(node: Any) -> dict[str, Any]:
    """The props that show `node` in a fragment element: {"data-html": its HTML} (typed Any:
    it is spread into a component's keyword arguments)."""
    return {ATTRIBUTE: to_html(node)}
