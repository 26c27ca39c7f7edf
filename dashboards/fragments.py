"""The wall's busy lists as HTML fragments: built from the same Dash components, sent as one
attribute, put in place by assets/fragments.js.

Why: when a component's children are replaced, Dash's renderer mounts a new wrapper for every
child, and each one dispatches a store action that re-runs the selector of every component on
the page: a list of n rows on a page of m components costs n × m selector runs. On the wall
(about 190 components) a new open task took ~45 ms from the message to the screen, nearly all
of it there (docs/performance.md, §4). As a fragment, the list is one attribute change: one
store update, one DOM write.

`to_html` renders plain html components (Div, Span, ...) only, escaping every text and
attribute value; the element that shows a fragment carries it as `data-html`. A list built
only to become HTML can be built of `node`s instead of Dash components (the same keyword
arguments, the same HTML): a Dash component takes ~10 µs to construct, which made the wall's
20-row task list cost ~7 ms of the hub's time on every new task, now ~1.3 (docs/performance.md,
§4).
"""

from __future__ import annotations

import functools
import html as _html
import re
from collections.abc import Callable
from typing import Any

from dash.development.base_component import Component

ATTRIBUTE = "data-html"
NAMESPACE = "dash_html_components"
# Props rendered as attributes (besides data-* and aria-*), in this order (Dash's prop order),
# under their own names but className; the rest (n_clicks, ...) mean nothing in static HTML.
ORDER = ("id", "className", "hidden", "lang", "role", "style", "title")
RENAMED = {"className": "class"}
VOID = frozenset({"br", "hr", "img", "wbr"})
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@functools.cache
def _css(key: str) -> str:
    """A style key as CSS: backgroundColor -> background-color."""
    return _CAMEL.sub("-", key).lower()


def _style(style: dict[str, Any]) -> str:
    return "; ".join(f"{_css(key)}: {value}" for key, value in style.items())


class Node:
    """A plain html element for a fragment: its props as attributes, as a component's are
    (`.children`, `.className`, ...), and its tag."""

    def __init__(self, tag: str, props: dict[str, Any]) -> None:
        self.__dict__.update(props)
        self.node_tag = tag


def node(kind: type[Component], children: Any = None, **props: Any) -> Any:
    """A `Node` standing for `kind(children, **props)` (an html component class) in to_html.
    Typed Any, as a component's children are."""
    props["children"] = children
    return Node(kind.__name__.lower(), props)


def component(kind: Callable[..., Any], children: Any = None, **props: Any) -> Any:
    """`kind(children, **props)`: the Dash component itself (node's counterpart for a page that
    mounts it)."""
    return kind(children, **props)


def _attributes(props: dict[str, Any]) -> str:
    out = ""
    for name in ORDER:
        value = props.get(name)
        if value is None:
            continue
        if name == "style":
            if isinstance(value, dict):
                out += f' style="{_html.escape(_style(value))}"'
        elif name == "hidden":
            if value:
                out += " hidden"
        else:
            out += f' {RENAMED.get(name, name)}="{_html.escape(str(value))}"'
    for name in sorted(k for k in props if k.startswith(("data-", "aria-"))):  # as Dash does
        if (value := props[name]) is not None:
            out += f' {name}="{_html.escape(str(value))}"'
    return out


def to_html(node: Any) -> str:
    """HTML for `node`: a string or number (escaped), a list, or an html component tree."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return _html.escape(str(node), quote=False)
    if isinstance(node, list | tuple):
        return "".join(to_html(item) for item in node)
    if isinstance(node, Node):
        return _element(node.node_tag, vars(node))
    if isinstance(node, Component) and node._namespace == NAMESPACE:
        tag = node._type.lower()
        props = {name: getattr(node, name, None) for name in ("children", *ORDER)}
        props.update({k: v for k, v in vars(node).items() if k.startswith(("data-", "aria-"))})
        return _element(tag, props)
    raise TypeError(f"not an html component, text or list: {type(node).__name__}")


def _element(tag: str, props: dict[str, Any]) -> str:
    opening = f"<{tag}{_attributes(props)}>"
    if tag in VOID:
        return opening
    return f"{opening}{to_html(props.get('children'))}</{tag}>"


def fragment(node: Any) -> dict[str, Any]:
    """The props that show `node` in a fragment element: {"data-html": its HTML} (typed Any:
    it is spread into a component's keyword arguments)."""
    return {ATTRIBUTE: to_html(node)}
