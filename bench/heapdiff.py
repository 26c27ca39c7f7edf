"""What grows in the wall's browser heap: `python -m bench.heapdiff [--rate 10] [--minutes 3]`.

`newsroom up` with the demo newsroom (at `--rate` times its speed, so minutes stand for
longer), one /wall in headless Chromium; after `--warmup` minutes a V8 heap snapshot (after a
forced GC), `--minutes` later another; prints the object groups (V8 node type and constructor
or string) that grew most, by count and by retained self size. A diagnostic for the soak
(docs/performance.md, "Wall soak"), not a benchmark: nothing is written to bench/results.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from typing import Any

from bench import harness, newsroom
from bench.harness import BenchRedis, log
from bench.scenarios import wall as wall_scenario


def take(cdp: Any) -> dict[str, Any]:
    """A heap snapshot (parsed) taken after a forced GC."""
    chunks: list[str] = []
    handler = chunks.append

    def on_chunk(p: dict[str, str]) -> None:
        handler(p["chunk"])

    cdp.on("HeapProfiler.addHeapSnapshotChunk", on_chunk)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    cdp.remove_listener("HeapProfiler.addHeapSnapshotChunk", on_chunk)
    return json.loads("".join(chunks))  # type: ignore[no-any-return]


def _label(kind: str, name: str) -> str:
    return f"{kind}:{name[:60]}" if kind in ("object", "closure", "native") else kind


# What a snapshot's self sizes are, by the V8 node type (see `by_kind`).
KINDS = {
    "code": "compiled code",
    "native": "DOM and native",
    "hidden": "V8 internals",
    "synthetic": "V8 internals",
    "object shape": "V8 internals",
}


def by_kind(data: dict[str, Any]) -> dict[str, float]:
    """MiB of a snapshot per kind: JS objects (objects, arrays, closures, strings, numbers),
    compiled code (bytecode and optimised code: grows as more of the page's scripts get hot,
    and shrinks when V8 flushes what went cold), DOM and native, V8 internals."""
    meta = data["snapshot"]["meta"]
    fields: list[str] = meta["node_fields"]
    types: list[str] = meta["node_types"][0]
    width, nodes = len(fields), data["nodes"]
    i_type, i_size = fields.index("type"), fields.index("self_size")
    out: dict[str, float] = {}
    for base in range(0, len(nodes), width):
        kind = KINDS.get(types[nodes[base + i_type]], "JS objects")
        out[kind] = out.get(kind, 0.0) + nodes[base + i_size]
    return {kind: round(size / 2**20, 2) for kind, size in sorted(out.items())}


def groups(data: dict[str, Any]) -> tuple[Counter[str], Counter[str]]:
    """(count, self size) per "type:name" of a snapshot."""
    meta = data["snapshot"]["meta"]
    fields: list[str] = meta["node_fields"]
    types: list[str] = meta["node_types"][0]
    width, strings, nodes = len(fields), data["strings"], data["nodes"]
    i_type, i_name, i_size = fields.index("type"), fields.index("name"), fields.index("self_size")
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for base in range(0, len(nodes), width):
        label = _label(types[nodes[base + i_type]], strings[nodes[base + i_name]])
        count[label] += 1
        size[label] += nodes[base + i_size]
    return count, size


def growing(old: dict[str, Any], new: dict[str, Any], top: int = 3) -> list[str]:
    """The old objects that gained the most new children, each with what holds it (a few
    levels of retainers): where a leak's array or map lives."""
    fields = old["snapshot"]["meta"]["node_fields"]
    before = set(old["nodes"][fields.index("id") :: len(fields)])
    meta = new["snapshot"]["meta"]
    nf, ef = meta["node_fields"], meta["edge_fields"]
    nw, ew = len(nf), len(ef)
    ntypes, etypes = meta["node_types"][0], meta["edge_types"][0]
    nodes, edges, strings = new["nodes"], new["edges"], new["strings"]
    i_type, i_name, i_id, i_edges = (nf.index(k) for k in ("type", "name", "id", "edge_count"))
    e_type, e_name, e_to = (ef.index(k) for k in ("type", "name_or_index", "to_node"))
    gained: Counter[int] = Counter()
    parents: dict[int, list[tuple[int, str]]] = {}
    e = 0
    for base in range(0, len(nodes), nw):
        count = nodes[base + i_edges]
        for k in range(e, e + count * ew, ew):
            kind = etypes[edges[k + e_type]]
            if kind == "weak":
                continue
            to = edges[k + e_to]
            name = edges[k + e_name]
            label = strings[name] if kind in ("property", "internal", "context") else f"[{name}]"
            parents.setdefault(to, []).append((base, f"{kind}:{str(label)[:24]}"))
            if nodes[base + i_id] in before and nodes[to + i_id] not in before:
                gained[base] += 1
        e += count * ew

    def name(base: int) -> str:
        return _label(ntypes[nodes[base + i_type]], strings[nodes[base + i_name]])[:50]

    out = []
    for base, n in gained.most_common(top):
        chain, at, seen = [], base, {base}
        for _ in range(8):
            up = [(p, how) for p, how in parents.get(at, []) if p not in seen]
            if not up:
                break
            at, how = up[0]
            seen.add(at)
            chain.append(f"{how} of {name(at)}")
        out.append(f"{name(base)} gained {n}: held as " + " <- ".join(chain))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10.0, help="demo speed (default 10x)")
    ap.add_argument("--warmup", type=float, default=2.0, help="minutes before the first snapshot")
    ap.add_argument("--minutes", type=float, default=3.0, help="minutes between the snapshots")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--panels", default="", help="only these wall panels (the kiosk option)")
    opts = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with BenchRedis() as rds, sync_playwright() as pw:
        command = ("up", "--rate", str(opts.rate))
        with newsroom.serve(rds.url, name="newsroom up (demo)", command=command) as server:
            key = harness.arun(wall_scenario._wall_token(rds.url))
            browser, _, cdp = wall_scenario.open_wall(pw, server.port, key, opts.panels)
            log(f"heapdiff: warming up {opts.warmup:g} min at {opts.rate:g}x")
            time.sleep(opts.warmup * 60)
            first = take(cdp)
            c1, s1 = groups(first)
            log(f"heapdiff: first snapshot {sum(s1.values()) / 2**20:.2f} MiB; "
                f"next in {opts.minutes:g} min")  # fmt: skip
            time.sleep(opts.minutes * 60)
            second = take(cdp)
            c2, s2 = groups(second)
            log(f"heapdiff: second snapshot {sum(s2.values()) / 2**20:.2f} MiB")
            browser.close()
    grown = sorted(
        (label for label in set(c1) | set(c2)),
        key=lambda label: s2[label] - s1[label],
        reverse=True,
    )
    print(f"{'group':64} {'count +':>9} {'KiB +':>9} {'count':>8}")
    for label in grown[: opts.top]:
        print(f"{label:64} {c2[label] - c1[label]:>+9} "
              f"{(s2[label] - s1[label]) / 1024:>+9.1f} {c2[label]:>8}")  # fmt: skip
    print("\nthe old objects that gained the most new ones:")
    for line in growing(first, second, top=opts.top):
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
