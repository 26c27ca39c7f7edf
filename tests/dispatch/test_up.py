"""`newsroom up` as `make up` runs it: embedded Redis, demo data, links printed, data kept."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from servers import Server

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_up_serves_everything_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    # One box: `up` also runs the feeds config found in the data dir, and the derived alerts.
    log = tmp_path / "access.log"
    log.write_bytes((SAMPLES / "logs" / "access.log").read_bytes())
    (tmp_path / "feeds.toml").write_text(
        f'[[source]]\nname = "nginx-web"\nkind = "accesslog"\npath = "{log}"\n'
        "start_at_end = false\n"
    )
    srv = Server(None, tmp_path, command=("up", "--seed", "3", "--rate", "5")).start()
    admin = {"Authorization": f"Bearer {srv.admin_token}"}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            feeds = {
                f["name"]: f for f in httpx.get(srv.url + "/api/v1/feeds", headers=admin).json()
            }
            if {"nginx-web", "derived-alerts"} <= set(feeds):
                break
            time.sleep(0.5)
        assert feeds["nginx-web"]["status"] == "ok" and feeds["nginx-web"]["items_total"] > 0
        assert feeds["derived-alerts"]["status"] == "ok"
        for path in ("/healthz", "/readyz", "/wall", "/desk", "/api/docs"):
            assert httpx.get(srv.url + path, timeout=10).status_code == 200, path
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reps = httpx.get(srv.url + "/api/v1/reporters", headers=admin).json()
            if len([r for r in reps if r["lat"] is not None]) >= 20:
                break
            time.sleep(0.5)
        positioned = [r for r in reps if r["lat"] is not None]
        assert len(positioned) >= 20, "simulated reporters have positions"
        rep = httpx.post(srv.url + "/api/v1/reporters", json={"name": "赵敏"}, headers=admin).json()
        task = httpx.post(
            srv.url + "/api/v1/tasks",
            headers=admin,
            json={"title": "kept", "lat": 27.7, "lon": 112.5, "assignee": rep["reporter_id"]},
        ).json()
    finally:
        srv.stop()
    banner = srv.log_path.read_text()
    assert "/wall?key=" in banner and "/desk" in banner
    assert "admin token: " + srv.admin_token in banner
    assert (tmp_path / "appendonly.aof").exists() or (tmp_path / "appendonlydir").exists()

    again = Server(None, tmp_path, command=("up", "--no-demo")).start()
    try:
        got = httpx.get(f"{again.url}/api/v1/tasks/{task['task_id']}", headers=admin)
        assert got.status_code == 200 and got.json()["title"] == "kept"
        kept = httpx.get(f"{again.url}/api/v1/reporters/{rep['reporter_id']}", headers=admin)
        assert kept.json()["name"] == "赵敏"
    finally:
        again.stop()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_free_c_heap_pages_go_back_to_the_system() -> None:
    # The web process calls glibc's malloc_trim every minute (dispatch.app._settle_gc): memory
    # Python freed but the C heap kept is given back, so the resident size follows what is used.
    import ctypes

    from dispatch.app import _malloc_trim

    def resident_kib() -> int:
        status = Path("/proc/self/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("RssAnon:")).split()[1]
        )

    trim = _malloc_trim()
    assert trim is not None  # glibc, as on every supported system
    # Blocks above pymalloc's 512 bytes come from the C heap; a few kept stop it shrinking
    # from the top, so only malloc_trim can give the pages between them back.
    blocks = [ctypes.create_string_buffer(4096) for _ in range(20_000)]
    keep = blocks[::500]
    del blocks
    before = resident_kib()
    assert trim(0) == 1  # something was released
    assert resident_kib() < before - 20_000  # most of the ~80 MiB freed is no longer resident
    del keep
