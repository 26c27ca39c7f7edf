"""Following a web server's access log: story views into Redis, exactly once.

`Follower` reads the complete lines a growing file gained since a `Position` (inode, offset,
and a fingerprint of the file's first bytes), across rotation, truncation and partial lines:

- a line without its newline yet is left for the next read (the offset stops before it);
- rotation (the path names a new inode): the old file, still open or found again beside the
  path by its inode (`access.log.1`, `access.log-20261126`), is read to its end; once a read
  finds nothing more in it (the server has reopened its log), the new file is read from its
  start;
- truncation (`copytruncate`): the file is smaller than the offset, or its first bytes are no
  longer the ones it began with (it was truncated and has grown again): read from the start.

`AccessLogCollector.step` reads the position from `feed_state:<name>` under WATCH, reads and
parses the new lines in a worker thread, then writes the story views and the new position in
one MULTI. Both apply or neither does, so a restart, a lost reply or a second process tailing
the same source never counts a line twice (the loser of a WATCH race counts nothing and reads
the winner's position next step). Lines written between a `copytruncate` copy and its
truncation are lost to every tailer; prefer `create` rotation with a reopen signal.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from dispatch import db, schema, stories
from dispatch.clock import now_ms
from dispatch.keys import Keys
from feeds.accesslog import DEFAULT_APP_UA, DEFAULT_STORY_PATTERN, Rules, count_views

log = logging.getLogger(__name__)

# Per step, so a large backlog is caught up in slices: parsing costs ~20-30 us a line here, so
# a full slice is well under a second of a worker thread (GIL included).
MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
HEAD_BYTES = 128
MAX_SIBLINGS = 100


@dataclass(frozen=True)
class Position:
    """Where a follower is: the file (inode; 0 while there is none) and the byte after the last
    complete line read. `head` fingerprints the file's first HEAD_BYTES bytes ("" until it has
    that many)."""

    inode: int
    offset: int
    head: str = ""

    @classmethod
    def load(cls, fields: dict[str, str]) -> Position | None:
        """From a feed_state hash; None when nothing (valid) is stored."""
        try:
            return cls(int(fields["inode"]), int(fields["offset"]), fields.get("head", ""))
        except (KeyError, ValueError):
            return None


def _head(f: BinaryIO) -> str:
    f.seek(0)
    first = f.read(HEAD_BYTES)
    return hashlib.sha1(first).hexdigest()[:16] if len(first) == HEAD_BYTES else ""


def _end_of_last_line(f: BinaryIO) -> int:
    """The offset after the file's last newline: where "start at the end" starts, so a line
    being written right now is still counted once complete."""
    size = os.fstat(f.fileno()).st_size
    back = min(size, 64 * 1024)
    f.seek(size - back)
    return size - back + f.read(back).rfind(b"\n") + 1


class Follower:
    """Reads one log file's new complete lines (blocking file I/O: run it in a thread)."""

    def __init__(
        self,
        path: Path,
        *,
        start_at_end: bool = True,
        max_bytes: int = MAX_BYTES,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.path = path
        self.start_at_end = start_at_end
        self.max_bytes, self.max_lines = max_bytes, max_lines
        self._file: BinaryIO | None = None  # kept open: a rotated file is still readable
        self._inode = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._inode = None, 0

    def read(self, pos: Position | None) -> tuple[list[bytes], Position]:
        """The complete lines after `pos` (at most the budget) and the position after them.
        `pos` None is the first start: at the end of the file, or its start."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = 0
        if pos is None:
            f = self._open(inode) if inode else None
            if f is None:
                return [], Position(0, 0)  # whatever appears there later is read from its start
            pos = Position(inode, _end_of_last_line(f) if self.start_at_end else 0, _head(f))
        if inode and inode == pos.inode:
            return self._read_same(pos)
        return self._read_rotated(pos, inode)

    def _read_same(self, pos: Position) -> tuple[list[bytes], Position]:
        f = self._open(pos.inode)
        if f is None:  # replaced between the stat and the open: next time
            return [], pos
        head = _head(f)
        if os.fstat(f.fileno()).st_size < pos.offset or (pos.head and head != pos.head):
            log.info("%s was truncated or replaced; reading it from the start", self.path)
            pos = Position(pos.inode, 0)
        lines, offset = self._lines(f, pos.offset)
        return lines, Position(pos.inode, offset, pos.head or head)

    def _read_rotated(self, pos: Position, inode: int) -> tuple[list[bytes], Position]:
        old = self._open(pos.inode) if pos.inode else None
        tail: list[bytes] = []
        if old is not None:
            lines, offset = self._lines(old, pos.offset)
            if offset != pos.offset:
                return lines, replace(pos, offset=offset)
            # Nothing more since the last read: the server writes to the new file now.
            tail, offset = self._lines(old, pos.offset, final=True)
            pos = replace(pos, offset=offset)
        elif pos.inode:
            log.warning(
                "%s was rotated and the old file (inode %d) is not beside it any more; "
                "lines it gained after offset %d are not counted",
                self.path,
                pos.inode,
                pos.offset,
            )
        if not inode:
            return tail, pos  # no new file yet
        self.close()
        return tail, Position(inode, 0)

    def _open(self, inode: int) -> BinaryIO | None:
        """The file with this inode: the one held open, the path, or a rotated sibling."""
        if self._file is not None and self._inode == inode:
            return self._file
        self.close()
        for candidate in [self.path, *self._siblings()]:
            try:
                f = candidate.open("rb")
            except OSError:
                continue
            if os.fstat(f.fileno()).st_ino == inode:
                self._file, self._inode = f, inode
                return f
            f.close()
        return None

    def _siblings(self) -> list[Path]:
        """Rotated copies beside the path: access.log.1, access.log-20261126, ..."""
        try:
            base = self.path.name
            names = sorted(p.name for p in self.path.parent.iterdir() if p.name.startswith(base))
        except OSError:
            return []
        return [self.path.parent / n for n in names if n != base][:MAX_SIBLINGS]

    def _lines(self, f: BinaryIO, offset: int, final: bool = False) -> tuple[list[bytes], int]:
        """Complete lines from `offset` (with `final`, an unterminated last line counts too)."""
        f.seek(offset)
        data = f.read(self.max_bytes)
        end = data.rfind(b"\n") + 1
        if final or (end == 0 and len(data) >= self.max_bytes):
            end = len(data)  # the last line of a finished file, or a "line" too long to be one
        lines = data[:end].split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # what follows the last newline: nothing, or a line not finished yet
        if len(lines) > self.max_lines:
            lines = lines[: self.max_lines]
            end = sum(len(line) + 1 for line in lines)
        return lines, offset + end


class AccessLogCollector:
    """Story views from an nginx or Apache `combined` access log (see the module docstring)."""

    kind = "accesslog"

    def __init__(
        self,
        *,
        name: str,
        path: str | Path,
        story_pattern: str = DEFAULT_STORY_PATTERN,
        app_ua: str = DEFAULT_APP_UA,
        interval_s: float = 1.0,
        start_at_end: bool = True,
        max_bytes: int = MAX_BYTES,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.interval_s = interval_s
        self.rules = Rules(story_pattern, app_ua)  # ConfigError on a bad pattern
        self._follower = Follower(
            self.path, start_at_end=start_at_end, max_bytes=max_bytes, max_lines=max_lines
        )

    def close(self) -> None:
        """Close the file held open (the next step opens it again)."""
        self._follower.close()

    def _read(self, pos: Position | None) -> tuple[int, list[schema.Traffic], Position]:
        """New lines -> (lines read, story views summed per story, channel, via and minute)."""
        lines, new_pos = self._follower.read(pos)
        read, items = count_views((raw.decode("utf-8", "replace") for raw in lines), self.rules)
        return read, items, new_pos

    async def step(self, r: aioredis.Redis, keys: Keys) -> int:
        """Read what the log gained, count its story views and save the position, atomically.
        Returns the lines read (views and skipped lines alike)."""
        key = keys.feed_state(self.name)
        async with r.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            pos = Position.load(await db.hgetall(pipe, key))
            count, items, new_pos = await asyncio.to_thread(self._read, pos)
            if new_pos == pos:
                return 0
            pipe.multi()
            stories.queue_traffic_batch(pipe, keys, items)
            pipe.hset(
                key,
                mapping={
                    "inode": new_pos.inode,
                    "offset": new_pos.offset,
                    "head": new_pos.head,
                    "path": str(self.path),
                    "updated_at": now_ms(),
                },
            )
            try:
                await pipe.execute()
            except WatchError:
                log.info("%s: another process moved this source's position; not counted", self.name)
                return 0
        return count
