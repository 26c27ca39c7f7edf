"""`python -m bench.report`: the results in bench/results/*.json as Markdown tables (what
docs/performance.md and the README quote)."""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.harness import RESULTS

TABLES: dict[str, list[tuple[str, str]]] = {
    "fanout": [
        ("server", "server"), ("n", "N"), ("deliveries_per_s", "measured deliveries/s"),
        ("cpu_us_per_delivery", "server CPU µs/delivery"),
        ("capacity_per_s", "one-core capacity/s"), ("lat_p50_ms", "p50 ms"),
        ("lat_p99_ms", "p99 ms"), ("kib_per_conn", "KiB/conn"),
    ],
    "taskpush": [
        ("server", "server"), ("n", "reporters"), ("receipt_p50_ms", "receipt p50 ms"),
        ("receipt_p99_ms", "receipt p99 ms"), ("post_p50_ms", "POST p50 ms"),
        ("post_p99_ms", "POST p99 ms"), ("cpu_ms_per_task", "CPU ms/task"),
        ("kib_per_conn", "KiB/conn"), ("idle_cpu_pct", "idle CPU %"), ("gc_max_ms", "max GC ms"),
    ],
    "ingest": [
        ("path", "path"), ("fixes_per_s", "fixes/s"), ("cpu_us_per_fix", "CPU µs/fix"),
        ("redis_cpu_us_per_fix", "Redis µs/fix"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
    ],
    "wall": [
        ("wall", "wall"), ("events_per_s", "load events/s"), ("seen", "seen"),
        ("probes", "of"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
        ("server_cpu_pct", "server CPU %"), ("browser_cpu_pct", "Chromium CPU %"),
    ],
    "cost": [],
    "wall_soak": [
        ("what", "what"), ("first_mib", "first"), ("last_mib", "last"), ("max_mib", "max"),
        ("slope_mib_per_h", "slope /h (2nd half)"), ("growth_pct", "growth % Q1→Q4"),
    ],
}  # fmt: skip
COST_REPORTERS = [
    ("n", "reporters"), ("rss_mib", "RSS MiB"), ("kib_per_conn", "KiB/conn"),
    ("idle_cpu_pct", "idle CPU %"), ("load_fixes_per_s", "fixes/s"),
    ("load_cpu_pct", "CPU % under load"), ("task_p50_ms", "task p50 ms"),
    ("task_p99_ms", "task p99 ms"),
]  # fmt: skip
COST_WALLS = [
    ("walls", "walls"), ("rss_mib", "RSS MiB"), ("mib_per_wall", "MiB/wall"),
    ("cpu_pct", "CPU %"), ("cpu_ms_per_event_per_wall", "CPU ms/event/wall"),
    ("p50_ms", "frame p50 ms"), ("p99_ms", "frame p99 ms"),
]  # fmt: skip


def cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def md(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> str:
    out = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        if "error" in r:
            out.append(f"| {r.get(cols[0][0], '?')} | failed: {r['error'][:80]} |")
            continue
        out.append("| " + " | ".join(cell(r.get(k)) for k, _ in cols) + " |")
    return "\n".join(out)


def main() -> int:
    for name, cols in TABLES.items():
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        doc = json.loads(path.read_text())
        m = doc["machine"]
        load = m["loadavg_1m_5m_at_start"]
        print(f"### {name}\n\n`{doc['command']}` — {doc['when']}, {m['cpu']}, "
              f"{m['cores']} cores, load average at start {load}\n")  # fmt: skip
        rows = doc["results"]
        if name == "cost":
            print(md([r for r in rows if r.get("curve") == "reporters"], COST_REPORTERS) + "\n")
            print(md([r for r in rows if r.get("curve") == "walls"], COST_WALLS))
        else:
            print(md([r for r in rows if cols[0][0] in r], cols))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
