"""Wall soak (not in the default set): `python -m bench wall_soak --minutes 30 [--warmup 20]`;
`--quick` runs 2 minutes for development.

`newsroom up` with the demo newsroom (the simulator: about 30 reporters moving, 40 stories,
traffic on eight channels) against the bench Redis, one /wall page in headless Chromium at
1920x1080. Every 30 s (5 s in short runs): the server's RSS and CPU; in the browser, after a
forced garbage collection (CDP HeapProfiler.collectGarbage), the JS heap in use, the DOM node
count, and the PSS and the private footprint (anonymous resident memory plus swap, what
Chromium's own memory metrics report) of every Chromium process, in all and by kind of process
(browser, renderer, GPU, Chromium's own utilities); and whether the page still shows "live".
Flat memory = the least-squares slope over the second half of the run (after warm-up) in MiB
per hour, and the growth from the first to the last quarter of the samples. A run of an hour or
more is also summed up per 30-minute window (`window_rows`): the server, the JS heap and the
page's renderer, where a long run's growth happens and whether it stops.

The JS heap figure includes V8's compiled code, which grows for a long time as more of the
page's scripts (Plotly, MapLibre, React) get hot, and shrinks when V8 flushes what went cold.
With `--snapshots`, two heap snapshots, one after the first sixth of the run (warm-up) and one
at the end, split the heap into JS objects, compiled code, DOM/native and V8 internals: a leak
is JS objects (or DOM) growing. Taking a snapshot costs the renderer about 26 MiB of native
memory that it keeps (seen in its private footprint), so after a `--warmup` the first snapshot
is taken before the first sample. It also changes what is measured (the renderer grew about
twice as fast after one, in session 8's pair of runs: docs/performance.md, "Wall soak"), so
without `--snapshots` none is taken.

At demo speed the wall's lists (top stories, open tasks, alerts) take about 20 minutes to fill,
and memory grows with them; `--warmup M` runs the demo and the wall M minutes before the first
sample (the first heap snapshot is then taken just before the first sample), so the measured
run starts with the page full. The page's renderer and the server's allocators take longer to
settle (about an hour and 90 minutes at demo speed: docs/performance.md, "Wall soak", session
11), so `--warmup 90 --minutes 30` measures the wall once it has settled. `--server-env
NAME=VALUE` sets a variable in the server's environment only (to try another allocator).
"""

from __future__ import annotations

import time
from typing import Any

import psutil

from bench import harness, heapdiff, newsroom
from bench.harness import BenchRedis, log
from bench.scenarios import wall as wall_scenario

# Where the DOM nodes are: descendants of each element whose id starts with "wall-" (the
# largest six), to tell a growing list from a leak.
PANEL_NODES = """
() => Object.fromEntries([...document.querySelectorAll('[id^="wall-"]')]
  .map(e => [e.id, e.getElementsByTagName('*').length])
  .sort((a, b) => b[1] - a[1]).slice(0, 6))
"""
TARGETS = {"server_and_browser_memory": "flat over the run (no steady growth)"}
COLUMNS = [
    ("what", "what"),
    ("first_mib", "first"),
    ("last_mib", "last"),
    ("max_mib", "max"),
    ("mean_mib", "mean"),
    ("slope_mib_per_h", "slope per hour (2nd half, or the window)"),
    ("growth_pct", "growth % (Q1→Q4)"),
]


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 for fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def _kind(cmdline: list[str]) -> str:
    """A Chromium process's part: browser, renderer (the page's, and Chromium's spare one for
    the next navigation), webui (the renderer of Chromium's own top-chrome pages, ~39 MiB),
    gpu, zygote or utility."""
    kind = next((a.split("=", 1)[1] for a in cmdline if a.startswith("--type=")), "browser")
    if kind == "renderer" and "--top-chrome-webui" in cmdline:
        return "webui"
    return "gpu" if kind == "gpu-process" else kind


def _private_mib(pid: int) -> float:
    """A process's private memory footprint as Chromium itself counts it on Linux (anonymous
    resident pages plus swap, /proc/<pid>/status RssAnon + VmSwap), in MiB: unlike PSS, no
    share of the browser's code and fonts (file pages, paged in as more of it runs) or of the
    buffers shared with the GPU process."""
    total = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("RssAnon:", "VmSwap:")):
                total += int(line.split()[1])
    return total / 1024


def _chromium_memory_by_kind(browser: int) -> tuple[dict[str, float], dict[str, float]]:
    """Proportional set size (shared pages counted once) and private footprint (`_private_mib`)
    in MiB per kind of Chromium process (`_kind`) of the Chromium whose browser process is
    `browser`: the page's renderer apart from the browser, the GPU process and Chromium's own
    utilities (network, storage, and an on-device model service it starts a few minutes in)."""
    pss: dict[str, float] = {}
    private: dict[str, float] = {}
    for p in [psutil.Process(browser), *psutil.Process(browser).children(recursive=True)]:
        try:
            if "chrom" in p.name().lower():
                kind = _kind(p.cmdline())
                pss[kind] = pss.get(kind, 0.0) + p.memory_full_info().pss / 2**20
                private[kind] = private.get(kind, 0.0) + _private_mib(p.pid)
        except (psutil.Error, AttributeError, OSError, ValueError):
            pass
    return dict(sorted(pss.items())), dict(sorted(private.items()))


def browser_pid() -> int:
    """The browser process of the Chromium launched last under this process."""
    newest, pid = 0.0, 0
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower() and _kind(p.cmdline()) == "browser":
                if p.create_time() >= newest:
                    newest, pid = p.create_time(), p.pid
        except psutil.Error:
            pass
    return pid


def run(opts: Any) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    minutes = 2.0 if opts.quick else float(opts.minutes)
    every = 5.0 if minutes <= 5 else 30.0
    samples: list[dict[str, Any]] = []
    with BenchRedis() as rds, sync_playwright() as pw:
        rate = float(getattr(opts, "rate", 1.0))
        command = ("up",) if rate == 1.0 else ("up", "--rate", f"{rate:g}")
        env = dict(getattr(opts, "server_env", []))  # (NAME, VALUE) pairs: bench.__main__
        server = newsroom.serve(rds.url, name=f"newsroom up (demo x{rate:g})", command=command,
                                extra_env=env)  # fmt: skip
        with server:
            key = harness.arun(wall_scenario._wall_token(rds.url))
            browser, page, cdp = wall_scenario.open_wall(pw, server.port, key)
            chromium_pid = browser_pid()
            cdp.send("Performance.enable")
            warmup = 0.0 if opts.quick else float(getattr(opts, "warmup", 0.0) or 0.0)
            if warmup > 0:
                log(f"wall_soak: warming up {warmup:g} min (not measured)")
                time.sleep(warmup * 60)
            log(f"wall_soak: {minutes:g} min, a sample every {every:g} s")
            snapshots: list[dict[str, Any]] = []
            split = bool(getattr(opts, "snapshots", False))
            if split and warmup > 0:
                # Before the first sample: taking a snapshot costs the renderer ~26 MiB of
                # native memory it keeps, a step that would read as growth between samples.
                snapshots.append(_snapshot(cdp, 0.0))
            start = time.monotonic()
            warm = minutes * 60 / 6
            cpu0 = server.cpu()
            last_cpu, last_t = cpu0, start
            while (elapsed := time.monotonic() - start) < minutes * 60:
                time.sleep(max(0.0, every - (time.monotonic() - start - elapsed)))
                cdp.send("HeapProfiler.collectGarbage")
                metrics = {m["name"]: m["value"]
                           for m in cdp.send("Performance.getMetrics")["metrics"]}  # fmt: skip
                now = time.monotonic()
                cpu = server.cpu()
                link = page.evaluate(
                    "() => (document.getElementById('wall-link') || {}).textContent || ''"
                )
                panels = page.evaluate(PANEL_NODES)
                pss, private = _chromium_memory_by_kind(chromium_pid)  # totals and parts
                samples.append({
                    "t_s": round(now - start, 1),
                    "server_rss_mib": round(server.rss() / 2**20, 2),
                    "server_cpu_pct": round(100 * (cpu - last_cpu) / (now - last_t), 1),
                    "js_heap_mib": round(metrics.get("JSHeapUsedSize", 0) / 2**20, 2),
                    "dom_nodes": int(metrics.get("Nodes", 0)),
                    "chromium_pss_mib": round(sum(pss.values()), 1),
                    **{f"pss_{kind}_mib": round(mib, 1) for kind, mib in pss.items()},
                    "chromium_private_mib": round(sum(private.values()), 1),
                    **{f"private_{kind}_mib": round(mib, 1) for kind, mib in private.items()},
                    "link": link.strip()[:40],
                    "nodes_by_panel": panels,
                })  # fmt: skip
                last_cpu, last_t = cpu, now
                if split and not snapshots and now - start >= warm:
                    snapshots.append(_snapshot(cdp, now - start))
                s = samples[-1]
                log(f"wall_soak: t={s['t_s']:.0f}s server {s['server_rss_mib']} MiB "
                    f"{s['server_cpu_pct']}% | heap {s['js_heap_mib']} MiB, {s['dom_nodes']} "
                    f"nodes, chromium {s['chromium_pss_mib']} MiB, renderer "
                    f"{s.get('private_renderer_mib')} MiB | {s['link']}")  # fmt: skip
            if split:
                snapshots.append(_snapshot(cdp, time.monotonic() - start))
            browser.close()
        version = rds.version
    rows = summarize(samples) + window_rows(samples) + snapshot_rows(snapshots)
    print(f"\nwall_soak: {minutes:g} minutes of the demo newsroom (x{rate:g}) on one wall"
          + (f", after {warmup:g} minutes of warm-up" if warmup else "")
          + (f"; the server's environment adds {env}" if env else ""))  # fmt: skip
    print(harness.table(rows, COLUMNS))
    path = harness.write_results("wall_soak", rows, TARGETS, redis_version=version,
                                 method=__doc__ or "", extra={"samples": samples,
                                 "minutes": minutes, "rate": rate, "warmup_minutes": warmup,
                                 "server_env": env,
                                 "heap_snapshots": snapshots,
                                 "split_by_snapshots": split})  # fmt: skip
    log(f"wrote {path}")
    return rows


def _snapshot(cdp: Any, at_s: float) -> dict[str, Any]:
    kinds = heapdiff.by_kind(heapdiff.take(cdp))
    log(f"wall_soak: heap snapshot at {at_s:.0f}s: {kinds}")
    return {"t_s": round(at_s, 1), "mib": kinds}


def snapshot_rows(snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First (after warm-up) against last snapshot, per kind; the slope between the two."""
    if len(snapshots) < 2:
        return []
    a, b = snapshots[0], snapshots[-1]
    hours = (b["t_s"] - a["t_s"]) / 3600
    rows = []
    for kind in sorted(set(a["mib"]) | set(b["mib"])):
        first, last = a["mib"].get(kind, 0.0), b["mib"].get(kind, 0.0)
        rows.append({
            "what": f"heap snapshot: {kind} (MiB, from t={a['t_s']:.0f}s)",
            "first_mib": first, "last_mib": last, "max_mib": max(first, last),
            "slope_mib_per_h": round((last - first) / hours, 2) if hours else None,
            "growth_pct": round(100 * (last - first) / first, 1) if first else None,
        })  # fmt: skip
    return rows


WINDOW_S = 1800.0  # a run of two of these or more is also summed up per window of this length
WINDOWED = [("server RSS", "server_rss_mib"), ("browser JS heap", "js_heap_mib"),
            ("Chromium private footprint: renderer", "private_renderer_mib")]  # fmt: skip


def window_rows(samples: list[dict[str, Any]], window_s: float = WINDOW_S) -> list[dict[str, Any]]:
    """For a run of two windows or more: per window of `window_s` (minutes 0-30, 30-60, ...),
    the server's RSS, the JS heap and the page's renderer (first, last, max, mean, slope over
    the window): where the growth of a long run happens, and whether it stops."""
    if not samples or samples[-1]["t_s"] < 2 * window_s:
        return []
    rows = []
    for start in range(int(samples[-1]["t_s"] // window_s)):
        lo, hi = start * window_s, (start + 1) * window_s
        part = [s for s in samples if lo < s["t_s"] <= hi]
        for what, key in WINDOWED:
            ys = [float(s.get(key, 0.0)) for s in part]
            if len(ys) < 2:
                continue
            per_h = slope([s["t_s"] for s in part], ys) * 3600
            rows.append({
                "what": f"{what}, minutes {lo / 60:g}-{hi / 60:g}", "first_mib": round(ys[0], 1),
                "last_mib": round(ys[-1], 1), "max_mib": round(max(ys), 1),
                "mean_mib": round(sum(ys) / len(ys), 1), "slope_mib_per_h": round(per_h, 2),
            })  # fmt: skip
    return rows


def summarize(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    half = samples[len(samples) // 2 :]
    q = max(1, len(samples) // 4)
    kinds = sorted({k for s in samples for k in s if k.startswith("pss_")})
    privates = sorted({k for s in samples for k in s if k.startswith("private_")})
    for what, key in [("server RSS", "server_rss_mib"), ("browser JS heap", "js_heap_mib"),
                      ("Chromium PSS (all processes)", "chromium_pss_mib"),
                      *[(f"Chromium PSS: {k[4:-4]}", k) for k in kinds],
                      ("Chromium private footprint (all)", "chromium_private_mib"),
                      *[(f"Chromium private footprint: {k[8:-4]}", k) for k in privates],
                      ("DOM nodes", "dom_nodes")]:  # fmt: skip
        ys = [float(s.get(key, 0.0)) for s in samples]
        if not ys:
            continue
        first, last = sum(ys[:q]) / q, sum(ys[-q:]) / q
        per_h = slope([s["t_s"] for s in half], [float(s.get(key, 0.0)) for s in half]) * 3600
        rows.append({
            "what": what, "first_mib": round(ys[0], 1), "last_mib": round(ys[-1], 1),
            "max_mib": round(max(ys), 1), "slope_mib_per_h": round(per_h, 2),
            "growth_pct": round(100 * (last - first) / first, 1) if first else None,
        })  # fmt: skip
    return rows
