"""The desk's interface strings (zh and en), kept apart from the wall's; merged into
`dashboards.i18n.TEXT` (a key defined in both is an error)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {}
