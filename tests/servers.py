"""Real server processes for integration tests: `newsroom serve` or `newsroom up` on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real `newsroom serve` (uvicorn) process on loopback against the test Redis."""

    def __init__(
        self,
        redis_url: str | None,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("serve",),
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = "test-admin-" + os.urandom(8).hex()
        env = {
            **os.environ,
            "NEWSROOM_PORT": str(self.port),
            "NEWSROOM_HOST": "127.0.0.1",
            "NEWSROOM_DATA_DIR": str(data_dir),
            "NEWSROOM_ADMIN_TOKEN": self.admin_token,
            "NEWSROOM_LANG": "en",
            "NEWSROOM_WEBHOOK_SECRET": "test-webhook-secret",
            **(extra_env or {}),
        }
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.command = command
        self.log_path = data_dir / f"serve-{self.port}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        # The child gets its own copy of the log's descriptor and keeps it for its lifetime;
        # ours is needed only until the child has started.
        with open(self.log_path, "ab") as log:  # a restart on the same port appends
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dispatch.cli", *self.command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in 60 s: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
