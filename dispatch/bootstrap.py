"""First-start secrets: the admin token, a wall key and the webhook secret.

Values from the environment win. Otherwise they are generated once and kept in
NEWSROOM_DATA_DIR/secrets.json (mode 600), so `newsroom up` can print the same links on
every start. In Redis only the tokens' hashes are stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from dispatch import auth
from dispatch.keys import Keys
from dispatch.settings import Settings


@dataclass(frozen=True)
class Secrets:
    admin_token: str = field(repr=False)
    wall_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    generated: tuple[str, ...] = ()


def load(settings: Settings) -> Secrets:
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    generated = []
    values = {}
    for name, env_value in (
        ("admin_token", settings.admin_token),
        ("wall_key", None),
        ("webhook_secret", settings.webhook_secret),
    ):
        if env_value:
            values[name] = env_value
        elif stored.get(name):
            values[name] = stored[name]
        else:
            values[name] = stored[name] = auth.new_token()
            generated.append(name)
    if generated:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
    return Secrets(generated=tuple(generated), **values)


async def register(r: aioredis.Redis, keys: Keys, s: Secrets) -> None:
    """Make sure the admin token and the wall key are valid tokens (idempotent)."""
    for token, role, label in (
        (s.admin_token, "admin", "bootstrap admin"),
        (s.wall_key, "wall", "command hall wall"),
    ):
        if not await r.exists(keys.token(auth.hash_token(token))):
            await auth.create_token(r, keys, role, label=label, token=token)
