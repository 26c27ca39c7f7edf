from __future__ import annotations

from pathlib import Path

import pytest

from dispatch import settings
from dispatch.errors import ConfigError


def test_defaults_run_a_single_box(tmp_path: Path) -> None:
    s = settings.load({}, dotenv=None)
    assert (s.host, s.port, s.tenant, s.lang, s.redis_url) == (
        "127.0.0.1",
        8050,
        "default",
        "zh",
        None,
    )


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nNEWSROOM_PORT=9000\nexport NEWSROOM_LANG='en'\n")
    s = settings.load({"NEWSROOM_PORT": "9100"}, dotenv=env_file)
    assert s.port == 9100 and s.lang == "en"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"NEWSROOM_PORT": "eighty"}, "NEWSROOM_PORT"),
        ({"NEWSROOM_LANG": "fr"}, "NEWSROOM_LANG"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"NEWSROOM_TENANT": "a b"}, "NEWSROOM_TENANT"),
    ],
)
def test_bad_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings.load(env, dotenv=None)


def test_secrets_stay_out_of_repr() -> None:
    s = settings.load(
        {"NEWSROOM_ADMIN_TOKEN": "sekrit-123", "NEWSROOM_WEBHOOK_SECRET": "hush"}, dotenv=None
    )
    assert "sekrit-123" not in repr(s) and "hush" not in repr(s)


def test_map_tiles_are_optional_and_checked() -> None:
    assert settings.load({}, dotenv=None).map_tiles is None
    url = "http://tiles.internal/{z}/{x}/{y}.png"
    assert settings.load({"NEWSROOM_MAP_TILES": url}, dotenv=None).map_tiles == url
    with pytest.raises(ConfigError, match="NEWSROOM_MAP_TILES"):
        settings.load({"NEWSROOM_MAP_TILES": "tiles.internal"}, dotenv=None)
