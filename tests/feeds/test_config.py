"""The feeds config: the documented example parses and builds; mistakes are named with the
file, the line, the source and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import ConfigError
from feeds import config
from feeds.config import SourceConfig
from feeds.derived import AlertSettings
from feeds.run import SimulatorCollector

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "feeds.example.toml"
F = Path("/etc/newsroom/feeds.toml")


def parse(text: str) -> config.FeedsConfig:
    return config.parse(text, F)


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value.text


def test_the_documented_example_parses_and_builds() -> None:
    cfg = config.load(EXAMPLE)
    assert [(s.name, s.kind, s.interval_s) for s in cfg.sources] == [
        ("app-rss", "rss", 60.0),
        ("wp", "wordpress", 60.0),
        ("nginx-web", "accesslog", 1.0),
    ], "sources with enabled = false are left out"
    assert cfg.alerts == AlertSettings(), "the example shows the defaults"
    built = [config.build(s, env={"WP_APP_PASSWORD": "abcd efgh"}) for s in cfg.sources]
    assert [(c.name, c.kind, c.interval_s) for c in built] == [
        ("app-rss", "rss", 60.0),
        ("wp", "wordpress", 60.0),
        ("nginx-web", "accesslog", 1.0),
    ]
    assert "abcd" not in repr(built[1]), "the password never shows"


def test_every_kind_in_the_example_is_documented_and_buildable() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("enabled = false", "enabled = true")
    cfg = parse(text)
    assert {s.kind for s in cfg.sources} == set(config.KINDS)
    for source in cfg.sources:
        built = config.build(source, env={"WP_APP_PASSWORD": "x"})
        assert built.name == source.name and built.kind == source.kind


def test_a_minimal_config_and_the_defaults() -> None:
    cfg = parse('[[source]]\nname = "sim"\nkind = "simulator"\nseed = 3\n')
    [source] = cfg.sources
    assert source == SourceConfig("sim", "simulator", 1.0, {"seed": 3}, f"{F}:1 [[source]] 'sim'")
    sim = config.build(source)
    assert isinstance(sim, SimulatorCollector) and sim.interval_s == 1.0
    assert parse("").sources == () and parse("").alerts.enabled


def test_alert_settings_and_stage_limits() -> None:
    cfg = parse(
        "[alerts]\nspike_factor = 4\nbattery_low = 20\n"
        "[alerts.stage_limits_min]\nediting = 90\nreview = 0\nlead = 600\n"
    )
    assert cfg.alerts.spike_factor == 4 and cfg.alerts.battery_low == 20
    assert cfg.alerts.stage_limits_min == {"reporting": 240, "editing": 90, "lead": 600}, (
        "0 turns a stage off; stages not named keep their default"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[source]]\nname = "a"\nkind = \n', f"{F}: not valid TOML: Invalid value (at line 3"),
        (
            '[[source]]\nname = "a"\nkind = "rss"\n\n[[source]]\nname = "b"\nkind = "rsss"\n',
            f"{F}:7 [[source]] 'b': unknown kind 'rsss'; kind must be one of accesslog, atom, "
            "rss, simulator, wordpress",
        ),
        ('[[source]]\nkind = "rss"\n', f"{F}:1 [[source]] #1: needs name = "),
        ('[[source]]\nname = "a b"\nkind = "rss"\n', f"{F}:2 [[source]] #1: needs name"),
        (
            '[[source]]\nname = "a"\nkind = "simulator"\n[[source]]\nname = "a"\nkind = "rss"\n',
            f"{F}:4 [[source]] 'a': the name 'a' is already used by {F}:1 [[source]] 'a'",
        ),
        (
            '[[source]]\nname = "derived-alerts"\nkind = "rss"\n',
            "'derived-alerts': the name 'derived-alerts' is reserved",
        ),
        (
            '[[source]]\nname = "a"\nkind = "rss"\ninterval_s = 0\n',
            f"{F}:4 [[source]] 'a': interval_s must be a number of seconds from 0.1 to 86400, "
            "got 0",
        ),
        (
            '[[source]]\nname = "a"\nkind = "rss"\ninterval_s = "60"\n',
            "interval_s must be a number of seconds",
        ),
        (
            '[[source]]\nname = "wp"\nkind = "wordpress"\nurl = "https://x"\n'
            'password = "hunter2"\n',
            f"{F}:5 [[source]] 'wp': secrets do not belong in this file; "
            'set password_env = "NAME"',
        ),
        (
            '[[source]]\nname = "wp"\nkind = "wordpress"\npassword_env = "not a name"\n',
            f"{F}:4 [[source]] 'wp': password_env must name an environment variable",
        ),
        ('[[source]]\nname = "a"\nkind = "rss"\nenabled = "no"\n', "enabled must be true or"),
        ("[[sources]]\nname = 1\n", f"{F}:1: unknown section or key 'sources'"),
        ('source = "x"\n', f"{F}:1: write each source as a [[source]] table"),
        ("[alerts]\nspike = 2\n", f"{F}:2 [alerts]: unknown option 'spike' in [alerts]; options:"),
        (
            "[alerts]\nenabled = true\n\nspike_factor = 0.5\n",
            f"{F}:4 [alerts]: spike_factor must be a number from 1.1 to 1000, got 0.5",
        ),
        ("[alerts]\nbattery_low = true\n", "battery_low must be a number from 0 to 100, got True"),
        (
            "[alerts]\nstage_limits_min = { editng = 60 }\n",
            f"{F}:2 [alerts]: stage_limits_min names an unknown stage 'editng'",
        ),
        (
            "[alerts.stage_limits_min]\nediting = -1\n",
            f"{F}:1 [alerts]: stage_limits_min.editing must be minutes (0 turns it off), got -1",
        ),
        ("alerts = 3\n", f"{F}:1: [alerts] must be a table"),
    ],
)
def test_mistakes_name_the_line_and_what_is_wrong(text: str, expected: str) -> None:
    assert expected in error(text)


def test_disabled_sources_are_checked_but_not_run() -> None:
    assert parse('[[source]]\nname = "a"\nkind = "rss"\nenabled = false\n').sources == ()
    assert "unknown kind" in error('[[source]]\nname = "a"\nkind = "x"\nenabled = false\n')


def source(text: str) -> SourceConfig:
    [found] = parse(text).sources
    return found


def build_error(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        config.build(source(text), env=env or {})
    return info.value.text


def test_building_checks_the_options_of_the_kind() -> None:
    head = '[[source]]\nname = "app"\nkind = "rss"\n'
    assert build_error(head + 'channel = "app"\n') == (
        f"{F}:1 [[source]] 'app': kind 'rss' needs the option 'url'"
    )
    got = build_error(head + 'channel = "app"\nurl = "https://x/a.xml"\nfeed_url = "y"\n')
    assert got.startswith(f"{F}:1 [[source]] 'app': kind 'rss' has no option 'feed_url'; ")
    assert "its options: channel, id_pattern, id_template, timeout_s, url" in got
    assert "client" not in got, "constructor parameters for tests are not options"
    got = build_error(head + 'channel = "tv2"\nurl = "https://x/a.xml"\n')
    assert got.startswith(f"{F}:1 [[source]] 'app': channel 'tv2' is not one of"), got
    got = build_error(head + 'channel = "app"\nurl = "https://x/a.xml"\nclient = "no"\n')
    assert "has no option 'client'" in got


def test_secrets_come_from_the_environment() -> None:
    text = (
        '[[source]]\nname = "wp"\nkind = "wordpress"\nurl = "https://x"\n'
        'username = "bot"\npassword_env = "WP_PW"\n'
    )
    assert build_error(text) == (
        f"{F}:1 [[source]] 'wp': password_env names the environment variable WP_PW, "
        "which is not set (or empty)"
    )
    built = config.build(source(text), env={"WP_PW": "s3cret"})
    assert built.name == "wp" and "s3cret" not in repr(built)
    no_password = '[[source]]\nname = "wp"\nkind = "wordpress"\nurl = "https://x"\nusername = "b"\n'
    assert "give both username and password" in build_error(no_password)


def test_a_kind_whose_module_is_missing_is_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config.KINDS, "rss", config.Kind("feeds.not_written_yet", "X", 60.0))
    text = '[[source]]\nname = "app"\nkind = "rss"\n'
    assert build_error(text) == (
        f"{F}:1 [[source]] 'app': kind 'rss' is not available in this installation "
        "(feeds.not_written_yet is missing)"
    )
    monkeypatch.setitem(config.KINDS, "rss", config.Kind("feeds.collector", "Nope", 60.0))
    assert "(feeds.collector has no Nope)" in build_error(text)


def test_the_config_file_is_found(tmp_path: Path) -> None:
    assert config.default_path(None, tmp_path) is None
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    assert config.default_path(None, tmp_path) == tmp_path / "feeds.toml"
    chosen = tmp_path / "other.toml"
    assert config.default_path(chosen, tmp_path) == chosen, "NEWSROOM_FEEDS_CONFIG/--config win"
    with pytest.raises(ConfigError, match="cannot read the feeds config"):
        config.load(chosen)


TOML_BITS = st.sampled_from(
    [
        "[[source]]\n", "[alerts]\n", "[alerts.stage_limits_min]\n", 'name = "a"\n',
        'name = "b"\n', 'kind = "rss"\n', 'kind = "simulator"\n', "kind = 3\n",
        "interval_s = 5\n", "interval_s = -1\n", "enabled = false\n", 'password = "x"\n',
        'token_env = "T"\n', "spike_factor = 2\n", "editing = 5\n", "review = -3\n",
        "battery_low = 200\n", "x = [1, 2]\n", "= broken\n", "[x]\n", "\n",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(TOML_BITS, max_size=14))
def test_any_file_either_parses_or_says_what_is_wrong(bits: list[str]) -> None:
    try:
        cfg = parse("".join(bits))
    except ConfigError as exc:
        assert exc.text.startswith(str(F)) and len(exc.text) < 400
    else:
        assert all(s.kind in config.KINDS for s in cfg.sources)
        assert len({s.name for s in cfg.sources}) == len(cfg.sources)
