"""Dependencies point one way (design.md §3): feeds and dashboards import only dispatch's core,
never each other and never dispatch.app; only dispatch.app imports all three."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELL = {
    "dispatch.app",
    "dispatch.cli",
    "dispatch.api",
    "dispatch.ws",
    "dispatch.web",
    "dispatch.client",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _package_imports(package: str) -> dict[Path, set[str]]:
    return {p: _imports(p) for p in (ROOT / package).rglob("*.py")}


def test_feeds_and_dashboards_import_only_the_core() -> None:
    for package, forbidden in (("feeds", "dashboards"), ("dashboards", "feeds")):
        for path, names in _package_imports(package).items():
            bad = {n for n in names if n.split(".")[0] == forbidden or n in SHELL}
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_core_imports_neither_ui_nor_feeds() -> None:
    for path, names in _package_imports("dispatch").items():
        if path.stem in ("app", "cli"):
            continue
        bad = {n for n in names if n.split(".")[0] in ("feeds", "dashboards")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_key_literals_outside_keys_module() -> None:
    for package in ("dispatch", "dashboards", "feeds"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "keys.py":
                continue
            assert '"nr:' not in path.read_text() and "'nr:" not in path.read_text(), path
