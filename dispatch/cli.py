"""`newsroom`: run and administer Newsroom Command (design.md §4.7).

    newsroom up                 the whole thing on one box: embedded Redis, web, demo data
    newsroom serve              the web process (REST, websockets, wall, desk)
    newsroom feeds [--config F] the feed collectors a feeds config names (none: the simulator)
    newsroom simulate           the newsroom simulator alone (--seed, --rate, --duration)
    newsroom reporter --token   a terminal reporter client: prints pushed tasks
    newsroom reporters add|list|revoke
    newsroom tokens add|list|revoke --role wall|supervisor|admin|feed

A command that creates a token prints it alone on its last line. While `newsroom up` runs,
the other commands with the same NEWSROOM_DATA_DIR use its Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from dispatch import auth, db, redis_server, reporters
from dispatch import settings as settings_mod
from dispatch.errors import NewsroomError
from dispatch.keys import Keys
from dispatch.settings import Settings


def _with_redis(settings: Settings, fn: Callable[[Any, Keys], Awaitable[int]]) -> int:
    """Run `fn(redis, keys)` against the configured Redis (using `up`'s if it runs)."""
    url, embedded = db.resolve(settings, long_lived=False)

    async def go() -> int:
        client = db.connect(url)
        try:
            return await fn(client, Keys(settings.tenant))
        finally:
            await client.aclose()

    try:
        return asyncio.run(go())
    finally:
        redis_server.release(embedded)


def _terminate_gracefully() -> None:
    """SIGTERM (systemd, honcho, `kill`) ends a long-running command like Ctrl-C does, so its
    embedded Redis is stopped cleanly. uvicorn re-raises the signal after its own shutdown."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _run_server(main: Coroutine[Any, Any, None]) -> None:
    """Run a server's event loop on uvloop where it is installed (uvicorn's `loop="auto"` only
    applies when uvicorn makes the loop itself; here we do)."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch import app

    _terminate_gracefully()
    _run_server(
        app.serve(settings, demo=not args.no_demo, seed=args.seed, rate=args.rate, feeds=True)
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch import app

    _terminate_gracefully()
    _run_server(app.serve(settings, demo=False))
    return 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """The collectors of `--config` (else NEWSROOM_FEEDS_CONFIG, else NEWSROOM_DATA_DIR/
    feeds.toml if it exists) plus the derived alerts; with no config, the simulator."""
    from dispatch import app
    from feeds import config

    if args.config:
        given = Path(args.config).expanduser().resolve()
        settings = dataclasses.replace(settings, feeds_config=given)
    path = config.default_path(settings.feeds_config, settings.data_dir)
    if path is not None:
        config.load(path)  # a mistake in the file is reported before anything starts
    _terminate_gracefully()
    _run_server(app.feeds(settings, seed=args.seed, rate=args.rate, duration_s=args.duration))
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """The simulator alone, whatever feeds config there is."""
    from feeds import process as feeds_process

    _terminate_gracefully()
    url, embedded = db.resolve(settings, long_lived=True)
    try:
        asyncio.run(
            feeds_process.simulate(
                settings, url, seed=args.seed, rate=args.rate, duration_s=args.duration
            )
        )
    finally:
        redis_server.release(embedded)
    return 0


def cmd_reporter(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.client import ReporterClient

    url = args.url or settings.public_url.replace("http", "ws", 1) + "/ws/reporter"
    state = Path(args.state_file) if args.state_file else None
    client = ReporterClient(url, args.token, state_file=state)
    print(
        f"connecting to {url}; type 'accept TASK_ID', 'decline TASK_ID REASON', "
        "'en_route|on_scene|filed|done TASK_ID' to answer",
        file=sys.stderr,
        flush=True,
    )

    async def go() -> int:
        client.read_commands()
        return await client.run()

    return asyncio.run(go())


def cmd_reporters(args: argparse.Namespace, settings: Settings) -> int:
    async def add(r: Any, keys: Keys) -> int:
        rep = await reporters.create(r, keys, args.name, _split(args.skills), _split(args.devices))
        print(f"reporter {rep['reporter_id']} ({rep['name']}) created; token id {rep['token_id']}.")
        print("Their token, shown only now (for `newsroom reporter --token` or the /r page):")
        print(rep["token"])
        return 0

    async def list_(r: Any, keys: Keys) -> int:
        rows = await reporters.all_reporters(r, keys)
        for rep in rows:
            where = f"{rep['lat']:.5f},{rep['lon']:.5f}" if rep["lat"] is not None else "no fix"
            duty = "on duty" if rep["on_duty"] else "off duty"
            print(f"{rep['reporter_id']:<14} {rep['name']:<16} {duty:<9} {where}")
        print(f"{len(rows)} reporter(s)")
        return 0

    async def revoke(r: Any, keys: Keys) -> int:
        await reporters.get(r, keys, args.reporter_id)
        revoked = 0
        for row in await auth.list_tokens(r, keys):
            if row.get("role") == "reporter" and row.get("subject") == args.reporter_id:
                await auth.revoke(r, keys, row["token_id"])
                revoked += 1
        print(
            f"revoked {revoked} token(s) of {args.reporter_id}; their open connections are closed"
        )
        return 0

    return _with_redis(settings, {"add": add, "list": list_, "revoke": revoke}[args.action])


def cmd_tokens(args: argparse.Namespace, settings: Settings) -> int:
    async def add(r: Any, keys: Keys) -> int:
        token, token_id = await auth.create_token(r, keys, args.role, label=args.label or "")
        print(f"{args.role} token created; token id {token_id}. It is shown only now:")
        if args.role == "wall":
            print(f"wall link: {settings.public_url}/wall?key={token}")
        print(token)
        return 0

    async def list_(r: Any, keys: Keys) -> int:
        rows = await auth.list_tokens(r, keys)
        for row in rows:
            if args.role and row["role"] != args.role:
                continue
            print(
                f"{row['token_id']}  {row['role']:<10} {row['subject']:<14} {row.get('label', '')}"
            )
        return 0

    async def revoke(r: Any, keys: Keys) -> int:
        row = await auth.revoke(r, keys, args.token_id)
        print(
            f"revoked {row['role']} token {row['token_id']} ({row.get('label') or row['subject']})"
        )
        return 0

    return _with_redis(settings, {"add": add, "list": list_, "revoke": revoke}[args.action])


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newsroom",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run everything on one box with demo data")
    up.add_argument("--no-demo", action="store_true", help="do not run the simulator")
    for sp in (up,):
        sp.add_argument("--seed", type=int, default=7)
        sp.add_argument("--rate", type=float, default=1.0)
    up.set_defaults(func=cmd_up)
    sub.add_parser("serve", help="run the web process").set_defaults(func=cmd_serve)
    for name, hlp, func in (
        ("feeds", "run the feed collectors of a feeds config (none: the simulator)", cmd_feeds),
        ("simulate", "run the newsroom simulator", cmd_simulate),
    ):
        sp = sub.add_parser(name, help=hlp)
        if name == "feeds":
            sp.add_argument(
                "--config",
                metavar="PATH",
                help="the feeds config (TOML; see feeds.example.toml). Default: "
                "NEWSROOM_FEEDS_CONFIG, else NEWSROOM_DATA_DIR/feeds.toml if it exists, "
                "else the simulator runs (--seed and --rate apply only to that simulator)",
            )
        sp.add_argument("--seed", type=int, default=7, help="same seed, same newsroom (default 7)")
        sp.add_argument(
            "--rate", type=float, default=1.0, help="speed-up factor for load tests (default 1)"
        )
        sp.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        sp.set_defaults(func=func)

    rep = sub.add_parser("reporter", help="a terminal reporter client: prints pushed tasks")
    rep.add_argument("--token", required=True)
    rep.add_argument("--url", help="websocket URL (default: this box's /ws/reporter)")
    rep.add_argument(
        "--state-file", help="file to keep the last cursor in, to resume after a restart"
    )
    rep.set_defaults(func=cmd_reporter)

    reps = sub.add_parser("reporters", help="add, list or revoke reporters")
    rsub = reps.add_subparsers(dest="action", required=True)
    radd = rsub.add_parser("add")
    radd.add_argument("name")
    radd.add_argument("--skills", help="comma-separated, e.g. camera,live,drone")
    radd.add_argument("--devices", help="comma-separated OsmAnd device ids")
    rsub.add_parser("list")
    rrev = rsub.add_parser("revoke", help="revoke every token of a reporter")
    rrev.add_argument("reporter_id")
    reps.set_defaults(func=cmd_reporters)

    toks = sub.add_parser("tokens", help="add, list or revoke tokens")
    tsub = toks.add_subparsers(dest="action", required=True)
    tadd = tsub.add_parser("add")
    tadd.add_argument("--role", required=True, choices=[r for r in auth.ROLES if r != "reporter"])
    tadd.add_argument("--label")
    tlist = tsub.add_parser("list")
    tlist.add_argument("--role", choices=auth.ROLES)
    trev = tsub.add_parser("revoke")
    trev.add_argument("token_id")
    toks.set_defaults(func=cmd_tokens)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_mod.load()
        with contextlib.suppress(KeyboardInterrupt):
            return int(args.func(args, settings))
        return 130
    except NewsroomError as exc:
        print(f"newsroom: {exc.text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
