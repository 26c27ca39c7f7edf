"""Where an idle reporter connection's memory goes: `python -m bench.memconn [--n 2000]`.

A `newsroom serve` with allocation tracing (bench.peers.serve_whatif `memdump`), N reporters
connected (hello, welcome, then idle); prints the RSS per connection and the source lines that
hold the memory the connections added. A diagnostic for the idle-connection target
(docs/performance.md), not a benchmark: tracing slows the server and adds its own memory.
"""

from __future__ import annotations

import argparse
import os
import signal
import time

from bench import harness, newsroom
from bench.harness import BenchRedis, log
from bench.wsclient import Clients, ClientSpec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    opts = ap.parse_args()
    with BenchRedis() as rds:
        reps = newsroom.create_reporters(rds.url, opts.n)
        with newsroom.serve(rds.url, whatif="memdump") as server:
            assert server.proc
            time.sleep(1.0)
            rss0 = server.rss()
            os.kill(server.proc.pid, signal.SIGUSR1)  # the baseline
            spec = ClientSpec(
                host="127.0.0.1", port=server.port, path="/ws/reporter", kind="reporter",
                count=opts.n, first=[newsroom.hello(r["token"]) for r in reps], concurrency=50,
            )  # fmt: skip
            with Clients(spec, 1, harness.LOAD_CPUS) as clients:
                opened, failed = clients.wait_connected()
                time.sleep(3.0)
                rss1 = server.rss()
                os.kill(server.proc.pid, signal.SIGUSR1)
                for _ in range(100):  # the dump takes a while with thousands of connections
                    time.sleep(1.0)
                    if server.log_path.read_text(errors="replace").count("top growth") >= 2:
                        break
            kib = (rss1 - rss0) / max(1, opened) / 1024
            log(f"memconn: {opened} connected ({failed} failed), RSS {kib:.1f} KiB/conn "
                "(with tracing)")  # fmt: skip
            text = server.log_path.read_text(errors="replace")
    dumps = text.split("bench-mem: top growth since the last dump")
    print(f"where the memory of {opened} connections is (tracemalloc, by source line):")
    for line in dumps[-1].splitlines():
        if line.startswith("bench-mem:"):
            print(line.removeprefix("bench-mem: "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
