"""py-spy profiles of a server under load: `Profiler(pid, name).start()` before the measured
window, `.stop()` after; the collapsed stacks go to bench/results/profiles/<name>.txt and a
summary (top functions by own and by inclusive samples) into the results."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import log


def _pyspy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Profiler:
    def __init__(self, pid: int, name: str, seconds: float, rate: int = 250) -> None:
        self.pid, self.name, self.seconds, self.rate = pid, name, seconds, rate
        self.path = harness.RESULTS / "profiles" / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.txt"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Profiler:
        exe = _pyspy()
        if exe is None:
            log("profile: py-spy not found (pip install '.[bench]')")
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--duration", str(int(max(1, self.seconds))),
             "--rate", str(self.rate), "--format", "raw", "--nonblocking", "--output",
             str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def stop(self) -> dict[str, Any] | None:
        if self.proc is None:
            return None
        try:
            self.proc.wait(self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        with contextlib.suppress(OSError):
            return summarize(self.path)
        return None


class _NoProfile:
    def stop(self) -> None:
        return None


def maybe(opts: Any, pid: int, name: str, seconds: float) -> Profiler | _NoProfile:
    """A started Profiler when the bench runs with --profile, else a stand-in."""
    if getattr(opts, "profile", False):
        return Profiler(pid, name, seconds).start()
    return _NoProfile()


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"
    m = re.match(r"(.*?) \((.*?):\d+\)$", frame.strip())
    if not m:
        return frame.strip()
    func, path = m.groups()
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{func}"


def summarize(path: Path, top: int = 25) -> dict[str, Any]:
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        total += count
        if frames and any(k in frames[-1] for k in ("select", "epoll", "poll", "_run_once")):
            idle += count
        if frames:
            own[frames[-1]] += count
        for f in set(frames):
            incl[f] += count

    def pct(c: int) -> float:
        return round(100 * c / max(1, total), 1)

    return {
        "file": path.name,
        "samples": total,
        "idle_pct": pct(idle),
        "top_own": [[name, pct(c)] for name, c in own.most_common(top)],
        "top_inclusive": [[name, pct(c)] for name, c in incl.most_common(top * 2)],
    }


def main() -> None:
    """`python -m bench.profile FILE`: print a summary of a collapsed-stack profile."""
    import json

    print(json.dumps(summarize(Path(sys.argv[1])), indent=1))


if __name__ == "__main__":
    main()
