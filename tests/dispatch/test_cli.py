"""The `newsroom` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def newsroom(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_tokens_and_reporters_on_the_embedded_redis(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSROOM_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    out = newsroom("tokens", "add", "--role", "supervisor", "--label", "night desk", env=env)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert len(token) >= 43 and " " not in token  # 256-bit, alone on the last line
    out = newsroom("reporters", "add", "李娜", "--skills", "camera,drone", env=env)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()[-1]) >= 43
    listing = newsroom("reporters", "list", env=env)
    assert "李娜" in listing.stdout and "1 reporter(s)" in listing.stdout
    tokens = newsroom("tokens", "list", env=env).stdout
    assert "night desk" in tokens and token not in tokens
    token_id = next(line.split()[0] for line in tokens.splitlines() if "night desk" in line)
    assert newsroom("tokens", "revoke", token_id, env=env).returncode == 0
    assert "night desk" not in newsroom("tokens", "list", env=env).stdout
    assert not (tmp_path / "redis.sock").exists() or not (tmp_path / "redis.owner").exists()


def test_bad_input_gets_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSROOM_DATA_DIR": str(tmp_path), "NEWSROOM_PORT": "http"}
    out = newsroom("tokens", "list", env=env)
    assert out.returncode == 2 and "NEWSROOM_PORT" in out.stderr
    env["NEWSROOM_PORT"] = "8050"
    out = newsroom("tokens", "revoke", "abcdef", env=env)
    assert out.returncode == 2 and "no token with id abcdef" in out.stderr


def test_reporter_cli_prints_pushed_tasks(server: Any) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    rep = httpx.post(server.url + "/api/v1/reporters", json={"name": "张伟"}, headers=admin).json()
    ws_url = server.url.replace("http", "ws", 1) + "/ws/reporter"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dispatch.cli",
            "reporter",
            "--token",
            rep["token"],
            "--url",
            ws_url,
        ],
        env=server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        first = proc.stdout.readline()
        if "connected as 张伟" not in first:
            proc.kill()
            raise AssertionError(f"no welcome: {first!r}; stderr: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        task = httpx.post(
            server.url + "/api/v1/tasks",
            headers=admin,
            json={
                "title": "镇政府新闻发布会",
                "lat": 27.73,
                "lon": 112.53,
                "assignee": rep["reporter_id"],
            },
        ).json()
        line = proc.stdout.readline()
        assert task["task_id"] in line and "镇政府新闻发布会" in line
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # acknowledged after printing: becomes delivered
            got = httpx.get(f"{server.url}/api/v1/tasks/{task['task_id']}", headers=admin)
            state = got.json()["state"]
            if state == "delivered":
                break
            time.sleep(0.1)
        assert state == "delivered"
        # Typed commands answer the task: accept it, then say we are on the way.
        proc.stdin.write(f"accept {task['task_id']}\nen_route {task['task_id']}\n")
        proc.stdin.flush()
        assert "accepted" in proc.stdout.readline() and "en_route" in proc.stdout.readline()
        got = httpx.get(f"{server.url}/api/v1/tasks/{task['task_id']}", headers=admin).json()
        assert [e["state"] for e in got["timeline"]][-2:] == ["accepted", "en_route"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_reporter_commands_parse_or_say_how() -> None:
    from dispatch.client import parse_command

    msg = parse_command("decline t-1 stuck in traffic")
    assert (msg["status"], msg["task_id"], msg["reason"]) == ("declined", "t-1", "stuck in traffic")
    assert parse_command("done t-1")["status"] == "done"
    for bad in ("decline t-1", "fly t-1", "accept"):
        with pytest.raises(ValueError, match="decline|usage"):
            parse_command(bad)
