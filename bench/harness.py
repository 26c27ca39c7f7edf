"""The bench harness: the machine and versions, a private Redis, server processes pinned to one
core with their CPU and memory read by psutil, percentiles, tables and the results files.

Layout on a 2-core machine: the server under test runs alone on core 0 ("per process on one
core"); Redis, the publisher and the client processes share core 1, so the clients never eat
into the server's CPU accounting. On a machine with one core everything shares it (said so in
the results).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

_CPUS = sorted(os.sched_getaffinity(0))
SERVER_CPUS: set[int] = {_CPUS[0]}
LOAD_CPUS: set[int] = set(_CPUS[1:]) or {_CPUS[0]}

PACKAGES = (
    "redis",
    "hiredis",
    "uvicorn",
    "uvloop",
    "starlette",
    "fastapi",
    "websockets",
    "python-socketio",
    "python-engineio",
    "dash",
    "plotly",
    "psutil",
    "playwright",
)


def pin(pid: int, cpus: set[int]) -> bool:
    """Pin a process to `cpus` (Linux); False where that is not allowed."""
    try:
        os.sched_setaffinity(pid, cpus)
        return True
    except (AttributeError, OSError):
        return False


def raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit (N = 10,000 sockets need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- machine and versions ----------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load1, load5, _ = os.getloadavg()
    busy = []
    for p in psutil.process_iter(["pid", "name", "cpu_percent"]):
        with contextlib.suppress(psutil.Error):
            if p.pid != os.getpid() and (p.info["cpu_percent"] or 0) > 0:
                busy.append(p.info["name"])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(_CPUS),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "loadavg_1m_5m_at_start": [round(load1, 2), round(load5, 2)],
        "server_cpus": sorted(SERVER_CPUS),
        "load_cpus": sorted(LOAD_CPUS),
        "note": "shared development machine: other engineers' processes may run at the same time",
    }


def versions(redis_version: str | None = None) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    if redis_version:
        out["redis-server"] = redis_version
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(ROOT)]

        def run(*args: str) -> str:
            done = subprocess.run([*git, *args], capture_output=True, text=True, timeout=10)
            return done.stdout.strip()

        head = run("rev-parse", "--short", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
        if head:
            out["newsroom-command"] = head + ("+changes" if dirty else "")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            text = subprocess.run(
                [chromium, "--version"], capture_output=True, text=True, timeout=10
            ).stdout
            out["chromium"] = text.strip().split("\n")[-1]
    return out


# --- statistics ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(samples_ns: Sequence[int]) -> dict[str, float | int | None]:
    ms = [s / 1e6 for s in samples_ns]
    return {
        "p50_ms": _r(percentile(ms, 50)),
        "p99_ms": _r(percentile(ms, 99)),
        "max_ms": _r(max(ms) if ms else None),
        "samples": len(ms),
    }


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


T = TypeVar("T")


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a worker thread, so it also works under Playwright's
    sync API, which owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- Redis --------------------------------------------------------------------------------------
class BenchRedis:
    """A private redis-server on a unix socket in a temporary directory (never port 6379).

    Append-only with fsync every second, as in production; pinned with the load (core 1)."""

    def __init__(self, prefer_system: bool = True, appendonly: bool = True) -> None:
        from dispatch.redis_server import server_binary

        self.binary = server_binary(prefer_system=prefer_system)
        self.dir = Path(tempfile.mkdtemp(prefix="nr-bench-redis-"))
        self.sock = self.dir / "redis.sock"
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None
        self.version = ""

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> BenchRedis:
        args = [
            self.binary,
            "--port", "0",
            "--unixsocket", str(self.sock),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--maxclients", "20000",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_server_child,
        )  # fmt: skip
        pin(self.proc.pid, LOAD_CPUS)
        import redis

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, redis.RedisError):
                r = redis.Redis(unix_socket_path=str(self.sock), decode_responses=True)
                info = r.info("server")
                self.version = str(info["redis_version"])
                r.close()
                return self
            time.sleep(0.05)
        raise RuntimeError(f"bench Redis did not start; see {self.dir / 'redis.log'}")

    def flush(self) -> None:
        import redis

        r = redis.Redis(unix_socket_path=str(self.sock))
        r.flushall()
        r.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> BenchRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- server processes ---------------------------------------------------------------------------
@dataclass
class ServerProc:
    """A server under test: its own process, pinned to SERVER_CPUS, ready when `ready_url`
    answers (HTTP) or its port accepts."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = None
    log_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    proc: subprocess.Popen[bytes] | None = None
    ps: psutil.Process | None = None
    pinned: bool = False
    cleanup: list[Path] = field(default_factory=list)  # removed after stop()

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"bench-{self.name.replace(' ', '_')}-{self.port}.log"

    def start(self, timeout: float = 90) -> ServerProc:
        env = {**os.environ, **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=_server_child,
            )  # fmt: skip
        self.pinned = pin(self.proc.pid, SERVER_CPUS)
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            if self._ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f} s: {self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                if self.ready_path is None:
                    return True
                s.sendall(
                    f"GET {self.ready_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def log_tail(self, n: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def cpu(self) -> float:
        """User + system CPU seconds of the server process (and its threads) so far."""
        assert self.ps is not None
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def rss(self) -> int:
        assert self.ps is not None
        return int(self.ps.memory_info().rss)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)

    def __enter__(self) -> ServerProc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _server_child() -> None:
    """In a server child before exec: the hard open-file limit, and die with the bench."""
    raise_nofile()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


# --- measuring windows --------------------------------------------------------------------------
@dataclass
class Window:
    """Server CPU seconds and wall time between start() and stop()."""

    server: ServerProc
    cpu0: float = 0.0
    t0: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    cores0: list[Any] = field(default_factory=list)
    core_busy: dict[int, float] = field(default_factory=dict)  # per core, 0-1, whole machine

    def start(self) -> Window:
        self.cores0 = psutil.cpu_times(percpu=True)
        self.cpu0, self.t0 = self.server.cpu(), time.monotonic()
        return self

    def stop(self) -> Window:
        self.cpu_s = self.server.cpu() - self.cpu0
        self.wall_s = time.monotonic() - self.t0
        for i, (a, b) in enumerate(zip(self.cores0, psutil.cpu_times(percpu=True), strict=True)):
            total = sum(b) - sum(a)
            idle = (b.idle + getattr(b, "iowait", 0)) - (a.idle + getattr(a, "iowait", 0))
            self.core_busy[i] = round(1 - idle / total, 2) if total > 0 else 0.0
        return self


@contextlib.contextmanager
def measured(server: ServerProc) -> Iterator[Window]:
    w = Window(server).start()
    try:
        yield w
    finally:
        w.stop()


# --- results ------------------------------------------------------------------------------------
def command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["python", "-m", "bench", *sys.argv[1:]])


def write_results(
    scenario: str,
    results: list[dict[str, Any]],
    targets: dict[str, Any],
    *,
    redis_version: str | None,
    notes: list[str] | None = None,
    method: str = "",
    extra: dict[str, Any] | None = None,
) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "scenario": scenario,
        "command": command_line(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(redis_version),
        "method": method,
        "results": results,
        "targets": targets,
        "notes": notes or [],
        **(extra or {}),
    }
    path = RESULTS / f"{scenario}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """A plain text table of `rows` with (key, heading) columns; None prints as '-'."""

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            return f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    head = [h for _, h in columns]
    body = [[cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(b, widths, strict=True))
            )
        )
    return "\n".join(lines)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
