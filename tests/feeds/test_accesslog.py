"""Reading nginx/Apache combined access logs: which lines are story views, and from where."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.errors import ConfigError
from dispatch.schema import Via
from feeds.accesslog import (
    VIA_CHANNEL,
    VIAS,
    Rules,
    View,
    classify,
    is_bot,
    is_static,
    parse_line,
    to_combined_line,
)

# A verbatim copy of ../shared/samples/logs/access.log, so the tests run from any checkout
# (test_the_sample_is_the_shared_one compares them where the shared folder is present).
SAMPLE = """\
111.22.33.44 - - [26/Nov/2026:08:00:01 +0800] "GET /news/2026/11/26/10231.html HTTP/1.1" 200 48213 "https://www.baidu.com/s?wd=%E6%B9%98%E4%B9%A1" "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
111.22.33.45 - - [26/Nov/2026:08:00:01 +0800] "GET /news/2026/11/26/10231.html?from=wechat HTTP/1.1" 200 48213 "-" "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.54"
183.14.9.201 - - [26/Nov/2026:08:00:02 +0800] "GET /api/app/v2/articles/10231 HTTP/1.1" 200 5321 "-" "XinXiangxiang/5.2.0 (Android 13)"
183.14.9.201 - - [26/Nov/2026:08:00:02 +0800] "GET /static/css/site.css HTTP/1.1" 304 0 "https://www.example-xx.cn/news/2026/11/26/10231.html" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
66.249.66.1 - - [26/Nov/2026:08:00:03 +0800] "GET /news/2026/11/25/10198.html HTTP/1.1" 200 39120 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
220.181.108.75 - - [26/Nov/2026:08:00:03 +0800] "GET /news/2026/11/26/10230.html HTTP/1.1" 200 40211 "-" "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
2408:8456:3c10:1d2::1 - - [26/Nov/2026:08:00:04 +0800] "GET /news/2026/11/26/10230.html HTTP/2.0" 200 40211 "https://m.weibo.cn/" "Mozilla/5.0 (Linux; Android 13) Weibo (HUAWEI-NOH-AN00__weibo__14.9.0__android__android13)"
111.22.33.46 - - [26/Nov/2026:08:00:05 +0800] "GET /news/2026/11/26/10231.html HTTP/1.1" 200 48213 "https://www.douyin.com/" "Mozilla/5.0 (Linux; Android 12; aweme_300100)"
111.22.33.47 - - [26/Nov/2026:08:00:05 +0800] "HEAD /news/2026/11/26/10231.html HTTP/1.1" 200 0 "-" "curl/8.5.0"
111.22.33.48 - - [26/Nov/2026:08:00:06 +0800] "GET /news/2026/11/26/99999.html HTTP/1.1" 404 162 "-" "Mozilla/5.0 (X11; Linux x86_64)"
111.22.33.49 - - [26/Nov/2026:08:00:07 +0800] "POST /api/app/v2/comments HTTP/1.1" 201 88 "-" "XinXiangxiang/5.2.0 (iOS 18.1)"
111.22.33.50 - - [26/Nov/2026:08:00:59 +0800] "GET /live/2026/11/26/flood-briefing HTTP/1.1" 200 20111 "-" "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.54"
"""  # noqa: E501
SHARED = Path(__file__).resolve().parents[3] / "shared/samples/logs/access.log"
T0 = 1795651200000  # 2026-11-26 08:00:00 +0800
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def line(
    request: str = "GET /news/2026/11/26/10231.html HTTP/1.1",
    status: int = 200,
    referrer: str = "-",
    agent: str = CHROME,
    addr: str = "111.22.33.44",
    when: str = "26/Nov/2026:08:00:01 +0800",
) -> str:
    return f'{addr} - - [{when}] "{request}" {status} 512 "{referrer}" "{agent}"'


def view(text: str, rules: Rules | None = None) -> View | None:
    parsed = parse_line(text)
    assert parsed is not None, text
    return (rules or Rules()).view(parsed)


def test_the_sample_is_the_shared_one() -> None:
    if SHARED.exists():  # a fresh clone has no ../shared; the copy above is then the sample
        assert SHARED.read_text(encoding="utf-8") == SAMPLE


def test_the_shared_sample_reads_as_the_newsroom_would_count_it() -> None:
    lines = SAMPLE.splitlines()
    assert len(lines) == 12 and all(parse_line(x) is not None for x in lines)
    views = [view(x) for x in lines]
    got = [(v.story_id, v.channel, v.via, v.ts_ms - T0) if v else None for v in views]
    assert got == [
        ("10231", "web", "search", 1000),  # from Baidu
        ("10231", "wechat", "wechat", 1000),  # inside WeChat, no referrer
        ("10231", "app", "app", 2000),  # our app's API
        None,  # a stylesheet, 304
        None,  # Googlebot
        None,  # Baiduspider
        ("10230", "weibo", "weibo", 4000),  # IPv6, inside Weibo
        ("10231", "douyin", "douyin", 5000),
        None,  # HEAD by curl
        None,  # 404
        None,  # POST of a comment
        ("flood-briefing", "wechat", "wechat", 59000),
    ]


def test_fields_of_a_line() -> None:
    parsed = parse_line(SAMPLE.splitlines()[6] + "\n")
    assert parsed is not None
    assert parsed.addr == "2408:8456:3c10:1d2::1"
    assert parsed.ts_ms == T0 + 4000
    assert (parsed.method, parsed.path, parsed.status, parsed.bytes_sent) == (
        "GET",
        "/news/2026/11/26/10230.html",
        200,
        40211,
    )
    assert parsed.referrer == "https://m.weibo.cn/"
    assert parsed.user_agent.startswith("Mozilla/5.0 (Linux; Android 13) Weibo")


def test_dash_bytes_missing_user_agent_and_common_format() -> None:
    dash = parse_line('1.2.3.4 - - [26/Nov/2026:08:00:01 +0800] "GET / HTTP/1.1" 200 - "-" "-"')
    assert dash is not None and dash.bytes_sent is None and dash.referrer == dash.user_agent == ""
    no_ua = '1.2.3.4 - - [26/Nov/2026:08:00:01 +0800] "GET /news/a1 HTTP/1.1" 200 9 "-"'
    assert view(no_ua) is None, "a request without a user agent is not a reader"
    common = parse_line('1.2.3.4 - bob [26/Nov/2026:08:00:01 +0800] "GET /a/x HTTP/1.0" 200 9')
    assert common is not None and common.user_agent == "" and common.path == "/a/x"


def test_time_zones_and_bad_dates() -> None:
    east = parse_line(line(when="26/Nov/2026:08:00:01 +0800"))
    west = parse_line(line(when="25/Nov/2026:19:00:01 -0500"))
    utc = parse_line(line(when="26/nov/2026:00:00:01 +0000"))
    assert east and west and utc and east.ts_ms == west.ts_ms == utc.ts_ms == T0 + 1000
    for bad in ("31/Feb/2026:08:00:01 +0800", "26/Foo/2026:08:00:01 +0800",
                "26/Nov/2026:25:00:01 +0800", "26/Nov/2026:08:00:01 +2400",
                "01/Jan/1900:00:00:00 +0000", "26/Nov/2026:08:00:01"):  # fmt: skip
        assert parse_line(line(when=bad)) is None, bad


def test_escaped_quotes_and_extra_fields_after_the_user_agent() -> None:
    apache = line(agent='Mozilla/5.0 \\"quoted\\" MicroMessenger/8.0 \\\\ end')
    parsed = parse_line(apache)
    assert (
        parsed is not None and parsed.user_agent == 'Mozilla/5.0 "quoted" MicroMessenger/8.0 \\ end'
    )
    assert view(apache) == View("10231", "wechat", "wechat", T0 + 1000)
    nginx = line(agent="Mozilla/5.0 \\x22quoted\\x22 Weibo (x__weibo__1)")
    assert view(nginx) == View("10231", "weibo", "weibo", T0 + 1000)
    extra = line() + ' "203.0.113.9" rt=0.012 uct="0.000" urt=0.011 - 0.012'
    assert view(extra) == View("10231", "web", "direct", T0 + 1000)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "\x00\xff garbage \\",
        '1.2.3.4 - - [26/Nov/2026:08:00:01 +0800] "GET / HTTP/1.1" 2000 9 "-" "x"',
        '1.2.3.4 - - [26/Nov/2026:08:00:01 +0800] "GET / HTTP/1.1" 200 9 "-" "x" \n trailing',
        '1.2.3.4 - - 26/Nov/2026:08:00:01 +0800 "GET / HTTP/1.1" 200 9 "-" "x"',
        '1.2.3.4 - - [26/Nov/2026:08:00:01 +0800] "GET / HTTP/1.1 200 9 "-" "x"',
    ],
)
def test_garbage_is_not_a_line(text: str) -> None:
    assert parse_line(text) is None


def test_junk_requests_parse_but_are_not_views() -> None:
    tls = line(request="\\x16\\x03\\x01\\x00\\xA5\\x01", status=400, agent="-")
    assert parse_line(tls) is not None and view(tls) is None
    assert view(line(request="-", status=400)) is None
    assert view(line(request="GET /news/2026/11/26/10231.html HTTP/1.1", status=304)) is None
    assert view(line(request="GET /news/2026/11/26/10231.html HTTP/1.1", status=206)) is not None
    assert view(line(request="HEAD /news/2026/11/26/10231.html HTTP/1.1")) is None
    assert view(line(request="GET /news/2026/11/26/ HTTP/1.1")) is None
    assert view(line(request="GET / HTTP/1.1")) is None, "the home page is not a story"


def test_paths_query_strings_and_absolute_urls() -> None:
    assert view(line(request="GET /news/2026/11/26/10231.html?from=timeline#c HTTP/1.1"))
    absolute = line(request="GET http://www.example-xx.cn/a/x9?utm=1 HTTP/1.1")
    assert view(absolute) == View("x9", "web", "direct", T0 + 1000)
    assert view(line(request="GET /news/10231.shtml HTTP/2.0")) == View(
        "10231", "web", "direct", T0 + 1000
    )
    assert view(line(request="GET /news/2026/11/26/10231/comments HTTP/1.1")) is None
    assert view(line(request="GET http://[::1/news/1 HTTP/1.1")) is None


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (compatible; YisouSpider/5.0; Windows NT 6.1)",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Wget/1.21.4",
        "Go-http-client/1.1",
        "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0",
        "",
        "-",
    ],
)
def test_bots_are_not_readers(agent: str) -> None:
    assert is_bot("" if agent == "-" else agent)
    assert view(line(agent=agent)) is None


@pytest.mark.parametrize(
    "agent",
    [
        CHROME,
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Chrome/120 Mobile",
        "Mozilla/5.0 (Linux; Android 12) SogouMobileBrowser/5.36",
        "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.54",
    ],
)
def test_people_are_readers(agent: str) -> None:
    assert not is_bot(agent)


def test_static_files() -> None:
    for path in ("/static/site.css", "/a.JS", "/i/x.png", "/f/a.woff2", "/m.js.map", "/p.webp",
                 "/favicon.ico", "/x.svg", "/y.jpeg"):  # fmt: skip
        assert is_static(path), path
    for path in ("/news/2026/11/26/10231.html", "/a/x9", "/news/css"):
        assert not is_static(path), path


@pytest.mark.parametrize(
    ("referrer", "agent", "via"),
    [
        ("-", "Mozilla/5.0 XinXiangxiang/5.2.0 (iOS 18.1)", "app"),
        ("https://www.baidu.com/s", "Mozilla/5.0 MicroMessenger/8.0", "wechat"),  # the app wins
        ("https://mp.weixin.qq.com/s/abc", CHROME, "wechat"),
        ("android-app://com.tencent.mm/", CHROME, "wechat"),
        ("https://weibo.com/123", CHROME, "weibo"),
        ("https://m.weibo.cn/status/1", CHROME, "weibo"),
        ("-", "Mozilla/5.0 (iPhone) Weibo (iPhone14,2__weibo__13.10.1__iphone__os16.0)", "weibo"),
        ("https://www.douyin.com/video/1", CHROME, "douyin"),
        ("-", "Mozilla/5.0 (Linux; Android 12; aweme_300100)", "douyin"),
        ("-", "Mozilla/5.0 (Linux) BytedanceWebview/d8a21c6", "douyin"),
        ("https://m.baidu.com/s?word=x", CHROME, "search"),
        ("https://www.sogou.com/web?query=x", CHROME, "search"),
        ("https://www.so.com/s?q=x", CHROME, "search"),
        ("https://cn.bing.com/search?q=x", CHROME, "search"),
        ("https://www.google.com.hk/", CHROME, "search"),
        ("https://m.sm.cn/s?q=x", CHROME, "search"),
        ("https://so.toutiao.com/search?keyword=x", CHROME, "search"),
        ("", CHROME, "direct"),
        ("https://www.example-xx.cn/", CHROME, "other"),
        ("https://notweibo.com/", CHROME, "other"),
        ("not a url", CHROME, "other"),
        ("http://[::1", CHROME, "other"),
    ],
)
def test_where_readers_come_from(referrer: str, agent: str, via: str) -> None:
    assert classify("" if referrer == "-" else referrer, agent) == via


def test_channels_follow_from_via() -> None:
    assert VIA_CHANNEL == {
        "wechat": "wechat", "weibo": "weibo", "douyin": "douyin", "app": "app",
        "search": "web", "direct": "web", "other": "web",
    }  # fmt: skip


def test_a_newsroom_sets_its_own_story_paths_and_app() -> None:
    rules = Rules(r"^/content/(?P<story>\d+)\.html$", app_ua="LianyunApp")
    assert view(line(request="GET /content/42.html HTTP/1.1", agent="LianyunApp/3.1"), rules) == (
        View("42", "app", "app", T0 + 1000)
    )
    assert view(line(), rules) is None, "the default paths no longer count"
    assert view(line(agent="Mozilla/5.0 XinXiangxiang/5.2.0"), Rules(app_ua="")) == View(
        "10231", "web", "direct", T0 + 1000
    )
    loose = Rules(r"^/s/(?P<story>.+)$")
    assert loose.story_of("/s/ok-1") == "ok-1"
    assert loose.story_of("/s/a/b") is None, "a story id must be a valid id"
    assert loose.story_of("/s/" + "x" * 65) is None


@pytest.mark.parametrize("pattern", ["^/news/(?P<story>[0-9+$", r"^/news/(\d+)"])
def test_a_bad_story_pattern_is_a_config_error(pattern: str) -> None:
    with pytest.raises(ConfigError, match="story_pattern"):
        Rules(pattern)


# --- properties ------------------------------------------------------------------------------
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_line(text)
    if parsed is not None:
        Rules().view(parsed)


_field = st.text(alphabet=st.sampled_from('ab "\\/-:?#.[]x9%\t'), max_size=40)


@given(
    request=_field,
    referrer=_field,
    agent=_field,
    status=st.integers(100, 599),
    when=st.sampled_from(["26/Nov/2026:08:00:01 +0800", "31/Feb/2026:08:00:01 +0800", "x"]),
)
def test_lines_with_arbitrary_fields_never_raise(
    request: str, referrer: str, agent: str, status: int, when: str
) -> None:
    text = line(request=request, status=status, referrer=referrer, agent=agent, when=when)
    parsed = parse_line(text)
    if parsed is not None:
        Rules().view(parsed)


_ipv4 = st.ip_addresses(v=4).map(str)
_ipv6 = st.ip_addresses(v=6).map(str)


@given(
    story=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    via=st.sampled_from(VIAS),
    ts_ms=st.integers(946_684_800_000, 4_102_444_800_000),
    addr=st.one_of(_ipv4, _ipv6),
    offset=st.integers(-12 * 60, 14 * 60),
)
def test_a_rendered_line_reads_back(
    story: str, via: Via, ts_ms: int, addr: str, offset: int
) -> None:
    text = to_combined_line(story, via, ts_ms, addr=addr, utc_offset_min=offset)
    parsed = parse_line(text)
    assert parsed is not None and parsed.addr == addr
    assert Rules().view(parsed) == View(story, VIA_CHANNEL[via], via, ts_ms // 1000 * 1000)
