"""Shared bits of the peer servers."""

from __future__ import annotations

import argparse
import contextlib


def args(description: str, loop: bool = False) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    if loop:
        p.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--redis", required=True, help="redis URL (unix:// or redis://)")
    p.add_argument("--channel", required=True)
    return p.parse_args()


def use_uvloop() -> None:
    """Every server in the bench runs on uvloop (uvicorn picks it when installed)."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
