"""What grows in the server's memory: `python -m bench.memtrace [--rate 10] [--minutes 12]`.

`newsroom up` with the demo newsroom (at `--rate` times its speed) against the bench Redis,
through bench.peers.serve_whatif `memsnap`, and one /wall in headless Chromium, as the wall
soak runs it (bench/scenarios/soak.py). The server:
- traces allocations (tracemalloc, `--frames` frames each; `--frames 0`: no tracing, so the
  server runs as in the soak and only the allocator figures below are recorded);
- every `--stats` seconds appends to stats.jsonl its RSS (and its anonymous and file-backed
  parts), the memory tracemalloc traces, the C heap (glibc mallinfo2: in use, free), pymalloc's
  arenas (now, high-water mark, ever) and bytes in its blocks (in use, free), the collections
  so far (per generation) and the collector's objects by type (the frozen ones only as a count);
- on SIGUSR2 (after `--warmup` minutes, then every `--every` minutes until `--minutes` later)
  forks, and goes on untouched; the copy writes a tracemalloc snapshot (garbage awaiting
  collection included, as the RSS holds it), then finds that garbage (what a full collection
  would free: `newsroom up` runs few of them) and writes a census of every other object
  reachable from the modules and the stack (the frozen start-up ones too), by type, with the
  length of each dict, list, set and deque and where it hangs.
Prints:
- the RSS, traced memory, C heap and object count over time, with their slopes per hour over
  the second half (as the soak reports the RSS): which of them the RSS growth follows; and the
  anonymous RSS beside what the two allocators hold (pymalloc's arenas whole, the C heap's
  chunks in use and free): whether the RSS follows their holdings or something outside them;
- the `--top` allocation tracebacks whose live memory grew most from the first snapshot to the
  last (with our own frames), and their growth in each interval: a leak keeps growing, a cache
  that fills up stops;
- at each snapshot, the garbage awaiting collection; the object types whose count grew most;
- the containers (by address) that grew most in each interval, and where they hang (a new
  container at a freed one's address counts as grown too: a list replaced by a longer one).
`python -m bench.memtrace report DIR` prints it again from a `--keep DIR` run. A diagnostic for
the soak (docs/performance.md, "Wall soak"), not a benchmark: tracing slows the server and
adds memory of its own (so with tracing, the RSS is only a hint).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter, deque
from pathlib import Path
from types import FrameType, FunctionType, ModuleType
from typing import Any

OURS = ("/dispatch/", "/dashboards/", "/feeds/")  # the frames of a traceback worth showing
CONTAINERS = (dict, list, set, deque)
ATOMIC = (str, bytes, int, float, bool, type(None))
MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
             "fordblks", "keepcost")  # fmt: skip
_children: list[int] = []  # the census processes (in the server)


# --- in the server (bench.peers.serve_whatif memsnap) -------------------------------------------
def sample_every(out: Path, every_s: float) -> None:
    """A thread appending a line to `out`/stats.jsonl every `every_s` seconds."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2]

    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
    began = time.monotonic()

    def loop() -> None:
        while True:
            info = mallinfo2()
            types = Counter(type(o).__qualname__ for o in gc.get_objects())
            line = {
                "t_s": round(time.monotonic() - began, 1), "rss": _rss(), **_rss_kinds(),
                "traced": tracemalloc.get_traced_memory()[0],
                "c_heap_used": info.uordblks + info.hblkhd, "c_heap_free": info.fordblks,
                "gc_objects": sum(types.values()), "frozen": gc.get_freeze_count(),
                "collections": [g["collections"] for g in gc.get_stats()], "types": dict(types),
                "pymalloc": _pymalloc(),
            }  # fmt: skip
            with open(out / "stats.jsonl", "a") as f:
                f.write(json.dumps(line) + "\n")
            time.sleep(every_s)

    threading.Thread(target=loop, name="bench-memstats", daemon=True).start()


PYMALLOC = {"arenas allocated current": "arenas", "arenas highwater mark": "arenas_highwater",
            "arenas allocated total": "arenas_total", "bytes in allocated blocks": "allocated",
            "bytes in available blocks": "available"}  # fmt: skip


def _pymalloc() -> dict[str, int]:
    """Python's small-object allocator: its 1 MiB arenas now, at most, and ever, and the bytes
    in blocks in use and free (sys._debugmallocstats writes them to the C stderr, fd 2, which
    is borrowed for the call: a line another thread writes then goes to the file instead)."""
    with tempfile.TemporaryFile("w+") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        found = {}
        for line in tmp:
            name, _, value = line.lstrip("# ").partition("=")
            digits = value.strip().replace(",", "")
            if name.strip() in PYMALLOC and digits.isdigit():
                found[PYMALLOC[name.strip()]] = int(digits)
        return found


def dump(out: Path, n: int) -> None:
    """Snapshot n into `out`. The server forks (and goes on at once, its garbage untouched, as
    in the soak); the copy writes `snap-n.pickle` (if tracing: everything allocated, garbage
    awaiting collection included), then finds that garbage (a collection that keeps what it
    finds in gc.garbage: no finalizer runs in the copy) and writes `census-n.json` and
    `lengths-n.json` (for the next census)."""
    for pid in _children:  # reap the earlier ones
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    rss = _rss()
    pid = os.fork()
    if pid != 0:
        _children.append(pid)
        return
    try:  # the copy: the server's heap as it was at the fork
        gc.disable()  # no collection before the one below (the snapshot allocates a lot)
        t0 = time.perf_counter()
        traced = tracemalloc.get_traced_memory()[0]
        if tracemalloc.is_tracing():
            mine = [tracemalloc.Filter(False, f) for f in (tracemalloc.__file__, __file__)]
            snap = tracemalloc.take_snapshot().filter_traces(mine)
            tracemalloc.stop()  # the census itself need not be traced
            snap.dump(str(out / f"snap-{n}.pickle"))
            del snap  # not part of the census
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = Counter(type(o).__qualname__ for o in gc.garbage)
        size = sum(sys.getsizeof(o) for o in gc.garbage)
        named = Counter(  # which classes and functions are garbage
            f"{type(o).__name__} {getattr(o, '__module__', '?')}.{o.__qualname__}"
            for o in gc.garbage
            if isinstance(o, type | FunctionType)
        )
        before = out / f"lengths-{n - 1}.json"
        previous = {int(k): v for k, v in json.loads(before.read_text()).items()} if n > 1 else {}
        census, lengths = _census(previous, skip=gc.garbage)
        (out / f"lengths-{n}.json").write_text(json.dumps(lengths))
        census.update(n=n, rss=rss, traced=traced, seconds=round(time.perf_counter() - t0, 1),
                      garbage=dict(garbage), garbage_bytes=size,
                      garbage_named=dict(named.most_common(20)))  # fmt: skip
        (out / f"census-{n}.json.part").write_text(json.dumps(census))
        (out / f"census-{n}.json.part").rename(out / f"census-{n}.json")
    finally:
        os._exit(0)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _rss_kinds() -> dict[str, int]:
    """The resident set by kind (/proc/self/status, bytes): anonymous (the C heap, pymalloc's
    arenas, thread stacks) and file-backed (the code of Python and of the shared libraries)."""
    kinds = {"RssAnon:": "rss_anon", "RssFile:": "rss_file"}
    found = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, *value = line.split()  # "RssAnon:\t   54868 kB"
            if name in kinds:
                found[kinds[name]] = int(value[0]) * 1024
    return found


def _census(previous: dict[int, int], skip: list[Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """Every object reachable from the modules and the stack (then what else the collector
    knows), but not those in `skip` (the garbage), by type; the length of each container; for
    the containers that grew most since `previous`, where they hang."""
    frame: FrameType | None = sys._getframe()
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back  # from the server's own frames (the signal handler's, and up)
    parent: dict[int, int] = {}
    seen: dict[int, Any] = {}
    types: Counter[str] = Counter()
    lengths: dict[int, int] = {}
    todo: deque[Any] = deque()
    for mine in (parent, seen, types, lengths, todo, previous, skip, *skip):
        seen[id(mine)] = None

    def visit(roots: list[Any]) -> None:
        for root in roots:
            if id(root) not in seen:
                seen[id(root)] = root
                todo.append(root)
        while todo:
            obj = todo.popleft()
            types[type(obj).__qualname__] += 1
            if isinstance(obj, CONTAINERS):
                lengths[id(obj)] = len(obj)
            for child in gc.get_referents(obj):
                if id(child) in seen:
                    continue
                if isinstance(child, ATOMIC):
                    types[type(child).__qualname__] += 1
                    seen[id(child)] = None  # counted once; nothing below it
                    continue
                seen[id(child)] = child
                parent[id(child)] = id(obj)
                todo.append(child)

    visit([sys.modules, frame])
    visit(gc.get_objects())  # held only by C structures (the loop's handles, ...)
    deltas = [(lengths[i] - previous[i], i) for i in lengths if i in previous]
    census = {
        "types": dict(types),
        "grown": [
            {"type": type(seen[i]).__qualname__, "len": lengths[i], "gained": d,
             "path": _path(i, seen, parent)}
            for d, i in sorted(deltas, reverse=True)[:30] if d > 0
        ],
    }  # fmt: skip
    return census, lengths


def _path(i: int, seen: dict[int, Any], parent: dict[int, int], depth: int = 12) -> str:
    """Where object i hangs: up to `depth` steps towards a module (or a root)."""
    steps: list[str] = []
    while i in parent and len(steps) < depth:
        up = seen[parent[i]]
        if isinstance(up, ModuleType):
            steps.append(f"module {up.__name__}")
            break
        steps.append(_step(up, seen[i]))
        if isinstance(up, dict) and "__name__" in up and "__loader__" in up:
            steps.append(f"module {up['__name__']}")
            break
        i = parent[i]
    else:
        steps.append(f"({type(seen[i]).__qualname__})")
    return " <- ".join(steps)


def _step(up: Any, child: Any) -> str:
    """How `up` holds `child`: a key, an index, an attribute or a local variable."""
    if isinstance(up, FrameType):
        names = [k for k, v in up.f_locals.items() if v is child]
        return f"{up.f_code.co_name}() {names[0] if names else '(frame)'}"
    if isinstance(up, dict) and len(up) < 100_000:
        for k, v in up.items():
            if v is child:
                return f"[{k!r:.40}]"
            if k is child:
                return "(a key)"
    if isinstance(up, list | tuple | deque) and len(up) < 100_000:
        for j, v in enumerate(up):
            if v is child:
                return f"{type(up).__name__}[{j}]"
    attrs = getattr(up, "__dict__", None)
    if isinstance(attrs, dict):
        for k, v in attrs.items():
            if v is child:
                return f".{k} of {type(up).__qualname__}"
    for k in getattr(type(up), "__slots__", ()):
        if getattr(up, k, None) is child:
            return f".{k} of {type(up).__qualname__}"
    return f"in {type(up).__qualname__}"


# --- in the bench -------------------------------------------------------------------------------
def _frames(tb: tracemalloc.Traceback, limit: int = 4) -> str:
    frames = list(reversed(tb))  # innermost first
    ours = [f for f in frames[1:] if any(p in f.filename for p in OURS)][:limit]
    return " <- ".join(f"{_short(f.filename)}:{f.lineno}" for f in [frames[0], *ours])


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


ARENA_BYTES = 1 << 20  # pymalloc's arena on 64-bit CPython 3.10 and later


def _held(s: dict[str, Any]) -> int:
    """What the two allocators hold at sample `s`: pymalloc's arenas, whole, and the C heap's
    chunks in use and free. The anonymous RSS differs from it by the arenas' pages not yet
    touched and the C heap's free pages given back (less), and by what neither allocator holds
    (more: the threads' stacks, libraries' own mappings); a rise in one and not the other says
    where the memory went."""
    return int(s["pymalloc"]["arenas"] * ARENA_BYTES + s["c_heap_used"] + s["c_heap_free"])


def report_stats(out: Path, top: int) -> None:
    from bench.scenarios.soak import slope

    path = out / "stats.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    if len(lines) < 4:
        return
    keys = ("rss", "traced", "c_heap_used", "c_heap_free")
    print("minute   RSS MiB  traced MiB  C heap used  C heap free  gc objects  pymalloc arenas "
          "(high-water), MiB in use  |  anon RSS  held")  # fmt: skip
    shown = lines[:: max(1, len(lines) // 16)]
    for s in shown if shown[-1] is lines[-1] else [*shown, lines[-1]]:
        mib = "".join(f"{s[k] / 2**20:>12.2f}" for k in keys)
        pm = s.get("pymalloc") or {}  # runs before session 10 did not record it
        arenas = (f"{pm['arenas']:>8} ({pm['arenas_highwater']}), {pm['allocated'] / 2**20:.2f}"
                  if pm else "")  # fmt: skip
        anon = (
            f"  | {s['rss_anon'] / 2**20:>8.2f} {_held(s) / 2**20:>8.2f}"
            if "rss_anon" in s and pm
            else ""
        )  # before session 11: not recorded
        print(f"{s['t_s'] / 60:>6.1f}{mib}{s['gc_objects']:>12}{arenas}{anon}")
    half = lines[len(lines) // 2 :]
    hours = [s["t_s"] / 3600 for s in half]
    slopes = "  ".join(f"{k} {slope(hours, [s[k] / 2**20 for s in half]):+.2f}" for k in keys)
    if all("rss_anon" in s and s.get("pymalloc") for s in half):
        for name, value in (("anon RSS", lambda s: s["rss_anon"]), ("held", _held)):
            slopes += f"  {name} {slope(hours, [value(s) / 2**20 for s in half]):+.2f}"
    objects = slope(hours, [s["gc_objects"] for s in half])
    print(f"slopes over the second half, MiB/h: {slopes}; gc objects {objects:+.0f}/h")
    first, last = half[0]["types"], lines[-1]["types"]
    grown = sorted(set(first) | set(last), key=lambda t: last.get(t, 0) - first.get(t, 0))
    print("collector's objects whose count grew most over the second half (first -> last):")
    for t in reversed(grown[-top // 2 :]):
        print(f"  {t:40} {first.get(t, 0):>8} -> {last.get(t, 0):<8}")


def report(out: Path, top: int) -> None:
    report_stats(out, top)
    count = len(list(out.glob("census-*.json")))
    census = [json.loads((out / f"census-{n}.json").read_text()) for n in range(1, count + 1)]
    if not census:
        return
    print("\nsnapshot  traced MiB  RSS MiB  census s  garbage (objects, MiB, most)")
    for c in census:
        most = ", ".join(f"{t} {k}" for t, k in Counter(c["garbage"]).most_common(4))
        print(f"{c['n']:>8} {c['traced'] / 2**20:>11.2f} {c['rss'] / 2**20:>8.1f} "
              f"{c['seconds']:>9}  {sum(c['garbage'].values())}, "
              f"{c['garbage_bytes'] / 2**20:.2f}: {most}")  # fmt: skip
    named = ", ".join(f"{k} x{v}" for k, v in census[-1].get("garbage_named", {}).items())
    print(f"garbage classes and functions at the last snapshot: {named or 'none'}")
    names = [out / f"snap-{n}.pickle" for n in range(1, count + 1)]
    if count > 1 and all(p.exists() for p in names):
        snaps = [tracemalloc.Snapshot.load(str(p)) for p in names]
        stats = snaps[-1].compare_to(snaps[0], "traceback")
        steps = [
            {s.traceback: s.size_diff for s in b.compare_to(a, "traceback")}
            for a, b in zip(snaps, snaps[1:], strict=False)
        ]
        print(f"\ntop {top} allocation tracebacks by growth, snapshot 1 -> {count} "
              "(KiB; [KiB in each interval]; innermost frame <- ours):")  # fmt: skip
        for s in stats[:top]:
            per = " ".join(f"{d.get(s.traceback, 0) / 1024:+.1f}" for d in steps)
            print(f"{s.size_diff / 1024:+8.1f} KiB {s.count_diff:+6d} blocks (now {s.count:>6}) "
                  f"[{per}] {_frames(s.traceback)}")  # fmt: skip
    first, last = census[0]["types"], census[-1]["types"]
    grown = sorted(set(first) | set(last), key=lambda t: last.get(t, 0) - first.get(t, 0))
    print("\nobject types whose count grew most (count at each snapshot):")
    for t in reversed(grown[-top:]):
        counts = " ".join(f"{c['types'].get(t, 0):>8}" for c in census)
        print(f"  {t:40} {counts}")
    for c in census[1:]:
        print(f"\ncontainers that grew most before snapshot {c['n']}:")
        for g in c["grown"][:top]:
            print(f"  +{g['gained']:<6} len {g['len']:<7} {g['type']:6} {g['path'][:160]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10.0, help="demo speed (default 10x)")
    ap.add_argument("--warmup", type=float, default=3.0, help="minutes before the first snapshot")
    ap.add_argument("--minutes", type=float, default=12.0, help="minutes from first to last")
    ap.add_argument("--every", type=float, default=4.0, help="minutes between snapshots")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--frames", type=int, default=25, help="traceback depth traced (0: none)")
    ap.add_argument("--stats", type=float, default=30.0, help="seconds between stats lines")
    ap.add_argument("--keep", help="write the snapshots here (default: a temporary directory)")
    if sys.argv[1:2] == ["report"]:
        report(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 25)
        return 0
    opts = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from bench import harness, newsroom
    from bench.harness import BenchRedis, log
    from bench.scenarios import wall as wall_scenario

    out = Path(opts.keep or tempfile.mkdtemp(prefix="nr-memtrace-")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {"BENCH_MEMSNAP_DIR": str(out), "BENCH_TRACE_FRAMES": str(opts.frames),
           "BENCH_MEMSTATS_S": str(opts.stats)}  # fmt: skip
    command = ("up", "--rate", f"{opts.rate:g}")
    count = 1 + max(1, round(opts.minutes / opts.every))
    with BenchRedis() as rds, sync_playwright() as pw:
        server = newsroom.serve(rds.url, name="newsroom up (memtrace)", extra_env=env,
                                command=command, whatif="memsnap")  # fmt: skip
        server.start(timeout=600)  # tracing slows the start a lot
        try:
            assert server.proc
            key = harness.arun(wall_scenario._wall_token(rds.url))
            browser, page, _ = wall_scenario.open_wall(pw, server.port, key)
            log(f"memtrace: warming up {opts.warmup:g} min at {opts.rate:g}x; {count} "
                f"snapshots, {opts.minutes / (count - 1):g} min apart, into {out}")  # fmt: skip
            start = time.monotonic()
            for n in range(1, count + 1):
                due = opts.warmup * 60 + (n - 1) * opts.minutes * 60 / (count - 1)
                time.sleep(max(0.0, start + due - time.monotonic()))
                os.kill(server.proc.pid, signal.SIGUSR2)
                while not (out / f"census-{n}.json").exists():
                    time.sleep(1.0)
                link = page.evaluate(
                    "() => (document.getElementById('wall-link') || {}).textContent || ''"
                )
                log(f"memtrace: snapshot {n} at {(time.monotonic() - start) / 60:.1f} min, "
                    f"RSS {server.rss() / 2**20:.1f} MiB, wall {link.strip()!r}")  # fmt: skip
            browser.close()
        finally:
            server.stop()
    report(out, opts.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
