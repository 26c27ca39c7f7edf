"""HMAC-SHA256 signatures of webhook bodies, as GitHub signs its deliveries.

A sender computes HMAC-SHA256 of the exact bytes it sends, keyed with the webhook secret, and
puts `sha256=<64 lowercase hex digits>` in the `X-Signature-256` header. `sign` is that
computation, for clients, tests and the simulator; `verify` is the receiving side.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from dispatch.errors import Unauthorized

HEADER = "X-Signature-256"
_FORMAT = re.compile(r"sha256=[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes) -> str:
    """The `X-Signature-256` header value for `body`: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> None:
    """Raise Unauthorized, saying why, unless `header` is the signature of `body`."""
    if not header:
        raise Unauthorized(
            f"missing {HEADER} header: send 'sha256=' + the hex HMAC-SHA256 of the raw body, "
            "keyed with the webhook secret"
        )
    given = header.strip()
    # The format check looks only at the header, never at the secret, so it leaks nothing.
    if not _FORMAT.fullmatch(given):
        raise Unauthorized(f"{HEADER} must be 'sha256=' followed by 64 hex digits")
    expected = sign(secret, body)
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise Unauthorized(
            f"{HEADER} does not match the body: sign the exact bytes you send "
            "with the webhook secret (NEWSROOM_WEBHOOK_SECRET)"
        )


def digest(body: bytes) -> str:
    """The delivery's identity for replay protection: SHA-256 of the raw body, hex."""
    return hashlib.sha256(body).hexdigest()
