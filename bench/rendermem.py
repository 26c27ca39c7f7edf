"""Which of the wall's panels grows the page's renderer, and in which allocator:
`python -m bench.rendermem [--rate 1] [--warmup 4] [--minutes 30] [--every 6]
[--walls all,map,charts,lists,clock] [--out FILE]`.

`newsroom up` with the demo newsroom (at `--rate` times its speed); one headless Chromium per
wall variant (so each page has a renderer process of its own), each showing /wall at 1920x1080
with some panels (`VARIANTS`: the whole wall, only the map, only the two charts, only the three
lists, only the deadline board; the header with its clock, link and feed chips is always
there). After `--warmup` minutes, and every `--every` minutes after that, each renderer is
measured after a forced garbage collection:

- its private footprint as the kernel counts it (/proc: RssAnon + VmSwap), as the soak does;
- Chromium's own memory dump (tracing category `disabled-by-default-memory-infra`,
  `Tracing.requestMemoryDump` at `levelOfDetail: detailed`): the private footprint by
  Chromium's count and the size of each allocator (malloc, Oilpan's `blink_gc`, V8, cc, Skia,
  shared memory, ...), at two levels of the allocator tree, and Oilpan's (Blink's garbage
  collected heap) live objects by class (count and bytes). The first dump allocates the
  renderer's tracing buffer (a 4 MiB shared-memory segment it then keeps), so one dump is
  taken and dropped before the warm-up.

At the end, per variant, the growth of each from the first dump to the last, largest first.
A diagnostic for the soak (docs/performance.md, "Wall soak"), not a benchmark: it prints, and
with `--out` writes every dump's figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import psutil

from bench import harness, newsroom
from bench.harness import BenchRedis, log
from bench.scenarios import soak
from bench.scenarios import wall as wall_scenario

VARIANTS = {
    "all": "",
    "map": "map",
    "charts": "stages,traffic",
    "lists": "top,tasks,alerts",
    "clock": "deadlines",
}
CATEGORY = "disabled-by-default-memory-infra"
CLASSES = "blink_objects/blink_gc/main/"


def _size(attrs: dict[str, Any]) -> int:
    value = attrs.get("size", {}).get("value")
    return int(value, 16) if isinstance(value, str) else 0


def parse_dump(trace: dict[str, Any], pid: int) -> dict[str, Any]:
    """From a memory-infra trace, one process's private footprint (Chromium's count) and the
    size of its allocators by the first two parts of their names, in bytes; and the owners
    of its shared-memory segments (the dumps an ownership edge leads from)."""
    found: dict[str, Any] = {"private_footprint": 0, "level1": {}, "level2": {}, "shared": {},
                             "classes": {}, "oilpan": {}}  # fmt: skip
    for event in trace.get("traceEvents", []):
        if event.get("ph") != "v" or event.get("pid") != pid:
            continue
        dumps = event.get("args", {}).get("dumps", {})
        totals = dumps.get("process_totals", {})
        if "private_footprint_bytes" in totals:
            found["private_footprint"] = int(totals["private_footprint_bytes"], 16)
        allocators: dict[str, Any] = dumps.get("allocators", {})
        children = {name.rsplit("/", 1)[0] for name in allocators if "/" in name}
        guids = {d.get("guid"): name for name, d in allocators.items() if d.get("guid")}
        for name, dump in allocators.items():
            size = _size(dump.get("attrs", {}))
            parts = name.split("/")
            if len(parts) == 1:
                found["level1"][name] = size
            elif len(parts) == 2 and not name.startswith("shared_memory/"):
                found["level2"][name] = size
            if name.startswith(CLASSES):
                # "blink_objects/blink_gc/main/HTMLDivElement (0x242)": Oilpan's live objects
                # of one class (count, bytes), named in release builds too.
                attrs = dump.get("attrs", {})
                count = attrs.get("object_count", {}).get("value", "0")
                found["classes"][name[len(CLASSES) :].split(" (0x")[0]] = [
                    int(count, 16) if isinstance(count, str) else 0,
                    _size(attrs),
                ]
            elif name == "blink_gc/main/heap":
                found["oilpan"] = {key: int(v["value"], 16)
                                   for key, v in dump.get("attrs", {}).items()
                                   if isinstance(v.get("value"), str)}  # fmt: skip
            if name.startswith("shared_memory/") and name not in children:
                found["shared"][name] = {"size": size, "owners": []}
        for edge in dumps.get("allocators_graph", []):
            target = guids.get(edge.get("target"))
            source = guids.get(edge.get("source"))
            if target in found["shared"] and source:
                found["shared"][target]["owners"].append(source)
    return found


def renderer_pid(browser_pid: int) -> int:
    """The page's renderer: the renderer process under this browser with the most memory."""
    best, most = 0, -1
    for p in psutil.Process(browser_pid).children(recursive=True):
        try:
            if soak._kind(p.cmdline()) == "renderer" and "--extension-process" not in p.cmdline():
                rss = p.memory_info().rss
                if rss > most:
                    best, most = p.pid, rss
        except psutil.Error:
            pass
    return best


def measure(wall: dict[str, Any], purge: bool = False) -> dict[str, Any]:
    """One measurement of one wall's renderer (see the module docstring); with `purge`, after
    a critical memory-pressure notification (`purge_memory`)."""
    browser, cdp = wall["browser"], wall["cdp"]
    if purge:
        purge_memory(cdp)
    cdp.send("HeapProfiler.collectGarbage")
    pid = renderer_pid(wall["browser_pid"])
    browser.start_tracing(categories=[CATEGORY])
    session = browser.new_browser_cdp_session()
    reply = session.send(
        "Tracing.requestMemoryDump", {"deterministic": True, "levelOfDetail": "detailed"}
    )
    session.detach()
    trace = json.loads(browser.stop_tracing())
    found = parse_dump(trace, pid)
    found["ok"] = bool(reply.get("success"))
    found["proc_private_mib"] = round(soak._private_mib(pid), 2) if pid else 0.0
    found["dom_nodes"] = wall["page"].evaluate("() => document.getElementsByTagName('*').length")
    return found


def purge_memory(cdp: Any) -> None:
    """A critical memory-pressure notification, as Chromium's own monitor sends when the system
    runs short of memory. Measured with `--purge` (session 9, docs/performance.md "Wall soak"):
    in headless Chromium it gave back nothing of Oilpan's or malloc's memory."""
    cdp.send("Memory.simulatePressureNotification", {"level": "critical"})
    time.sleep(2.0)


def growth(first: dict[str, Any], last: dict[str, Any], top: int = 12) -> list[tuple[str, float]]:
    """The allocators (both levels) that changed most from `first` to `last`, in MiB."""
    rows: dict[str, float] = {}
    for level in ("level1", "level2"):
        for name in set(first[level]) | set(last[level]):
            rows[name] = (last[level].get(name, 0) - first[level].get(name, 0)) / 2**20
    shared_first = sum(s["size"] for s in first["shared"].values())
    shared_last = sum(s["size"] for s in last["shared"].values())
    rows["(shared memory segments)"] = (shared_last - shared_first) / 2**20
    return sorted(rows.items(), key=lambda kv: -abs(kv[1]))[:top]


def class_growth(first: dict[str, Any], last: dict[str, Any], top: int = 12) -> list[str]:
    """Oilpan's classes whose live objects grew most in bytes from `first` to `last`."""
    a, b = first.get("classes", {}), last.get("classes", {})
    rows = []
    for name in set(a) | set(b):
        (n0, s0), (n1, s1) = a.get(name, (0, 0)), b.get(name, (0, 0))
        rows.append((s1 - s0, f"{name[:100]}: {n0} → {n1} objects ({(s1 - s0) / 1024:+.1f} KiB)"))
    return [text for _, text in sorted(rows, key=lambda r: -abs(r[0]))[:top]]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.rendermem", description=__doc__)
    p.add_argument("--rate", type=float, default=1.0, help="the demo's speed (default 1)")
    p.add_argument("--warmup", type=float, default=4.0, help="minutes before the first dump")
    p.add_argument("--minutes", type=float, default=30.0, help="minutes from the first dump")
    p.add_argument("--every", type=float, default=6.0, help="minutes between dumps")
    p.add_argument("--walls", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    p.add_argument(
        "--purge",
        action="store_true",
        help="measure each renderer again after a memory-pressure purge",
    )
    p.add_argument("--out", type=Path, help="write every dump's figures here (JSON)")
    opts = p.parse_args(argv)
    names = [n for n in opts.walls.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not names:
        p.error(f"unknown wall variant(s) {', '.join(unknown) or '(none)'}; "
                f"choose from {', '.join(VARIANTS)}")  # fmt: skip
    from playwright.sync_api import sync_playwright

    record: dict[str, Any] = {"rate": opts.rate, "walls": {}}
    with BenchRedis() as rds, sync_playwright() as pw:
        command = ("up",) if opts.rate == 1.0 else ("up", "--rate", f"{opts.rate:g}")
        server = newsroom.serve(rds.url, name=f"newsroom up (demo x{opts.rate:g})",
                                command=command)  # fmt: skip
        with server:
            key = harness.arun(wall_scenario._wall_token(rds.url))
            walls: dict[str, dict[str, Any]] = {}
            for name in names:
                browser, page, cdp = wall_scenario.open_wall(pw, server.port, key, VARIANTS[name])
                walls[name] = {"browser": browser, "page": page, "cdp": cdp,
                               "browser_pid": soak.browser_pid(), "dumps": [],
                               "purged": []}  # fmt: skip
                # The record shares the wall's lists: each dump is appended once.
                record["walls"][name] = {"panels": VARIANTS[name] or "(all)",
                                         "dumps": walls[name]["dumps"],
                                         "purged": walls[name]["purged"]}  # fmt: skip
            for wall in walls.values():
                # The first dump allocates the renderer's 4 MiB tracing buffer (a shared
                # memory segment it keeps): done once before the warm-up, not measured.
                measure(wall)
            log(f"rendermem: {len(walls)} walls ({', '.join(walls)}); "
                f"warming up {opts.warmup:g} min")  # fmt: skip
            time.sleep(opts.warmup * 60)
            start = time.monotonic()
            while True:
                t_min = (time.monotonic() - start) / 60
                for name, wall in walls.items():
                    found = measure(wall)
                    found["t_min"] = round(t_min, 1)
                    wall["dumps"].append(found)
                    purged = ""
                    if opts.purge:
                        after = measure(wall, purge=True)
                        after["t_min"] = round(t_min, 1)
                        wall["purged"].append(after)
                        purged = (f"; after a memory-pressure purge "
                                  f"{after['private_footprint'] / 2**20:.1f}")  # fmt: skip
                    log(f"rendermem: t={t_min:.1f} min {name}: private footprint "
                        f"{found['private_footprint'] / 2**20:.1f} MiB (Chromium), "
                        f"{found['proc_private_mib']:.1f} (/proc), "
                        f"{found['dom_nodes']} elements{purged}")  # fmt: skip
                if opts.out:
                    opts.out.write_text(json.dumps(record, indent=1))
                if t_min + opts.every > opts.minutes + 0.01:
                    break
                time.sleep(max(0.0, start + (t_min + opts.every) * 60 - time.monotonic()))
            for wall in walls.values():
                wall["browser"].close()
    print(f"\nrendermem: demo x{opts.rate:g}, {opts.warmup:g} min warm-up, dumps every "
          f"{opts.every:g} min")  # fmt: skip
    for name, wall in walls.items():
        dumps = wall["dumps"]
        first, last = dumps[0], dumps[-1]
        series = " → ".join(f"{d['private_footprint'] / 2**20:.1f}" for d in dumps)
        print(f"\n{name} ({VARIANTS[name] or 'all panels'}): private footprint (MiB) {series}")
        if wall["purged"]:
            series = " → ".join(f"{d['private_footprint'] / 2**20:.1f}" for d in wall["purged"])
            print(f"  after a memory-pressure purge: {series}")
        print(f"  /proc: {first['proc_private_mib']:.1f} → {last['proc_private_mib']:.1f}; "
              f"elements {first['dom_nodes']} → {last['dom_nodes']}")  # fmt: skip
        for what, mib in growth(first, last):
            print(f"  {what:<48} {mib:+.2f} MiB")
        heap = [d.get("oilpan", {}) for d in (first, last)]
        if all(heap):
            print(
                "  Oilpan heap (MiB, first → last): "
                + ", ".join(
                    f"{key} {heap[0].get(key, 0) / 2**20:.2f} → {heap[1].get(key, 0) / 2**20:.2f}"
                    for key in ("allocated_objects_size", "size", "committed_size", "pooled_size")
                )
            )
        for line in class_growth(first, last):
            print(f"  Oilpan class {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
