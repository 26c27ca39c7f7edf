"""Web access logs (nginx and Apache "combined") as story views per channel: pure, no I/O.

`parse_line` reads one line (None when it is not a combined line: never raises), `Rules.view`
decides whether it is a reader's view of a story and where the reader came from, and
`to_combined_line` renders a view as a line, so the simulator exercises this parser.

A view is a GET of a story page answered 2xx, by something that is not a crawler, of a path the
story pattern matches. Where the reader came from (`via`) is read from the user agent first
(which app the reader is in), then from the referrer; the wall's channel follows from it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import get_args
from urllib.parse import urlsplit

from dispatch.errors import ConfigError
from dispatch.schema import Channel, Traffic, Via

# nginx's `combined`: $remote_addr - $remote_user [$time_local] "$request" $status
# $body_bytes_sent "$http_referer" "$http_user_agent"; Apache's is the same with \" escapes.
# Anything after the user agent (fields nginx configs often add) is ignored.
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'  # "...", with \" inside; unrolled: fast
_COMBINED = re.compile(
    r"^(\S+) \S+ (?:\S+|\"[^\"]*\") \[([^\]]{1,40})\] "
    + _QUOTED
    + r" (\d{3}) (\d+|-)(?: "
    + _QUOTED
    + r"(?: "
    + _QUOTED
    + r")?)?(?:\s.*)?$"
)
_ESCAPE = re.compile(r'\\(["\\])')  # Apache's \" and \\ inside a quoted field
_TIME = re.compile(
    r"^(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$"
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
MAX_TS_MS = 10**14  # schema.EpochMs
_STORY_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # schema.Id

DEFAULT_STORY_PATTERN = (
    r"^(?:/api/app/v\d+)?/(?:news|a|article|articles|story|stories|live)/"
    r"(?:\d{4}/\d{1,2}/\d{1,2}/)?(?P<story>[A-Za-z0-9_-]{1,64})(?:\.s?html?)?/?$"
)
DEFAULT_APP_UA = "XinXiangxiang"  # the demo newsroom's app (新湘乡); set yours in the config

# Crawlers, monitors and scripts (lower case; substring tests are much faster than a regex
# here). A bare "sogou" would also drop the Sogou browser's readers: Sogou's crawlers all say
# "spider". "bot" is checked apart: "Cubot" is a phone brand.
_BOT_TOKENS = (
    "spider", "crawl", "slurp", "yisou", "bingpreview", "headlesschrome", "phantomjs",
    "lighthouse", "python-", "curl/", "wget/", "go-http-client", "okhttp", "java/", "libwww",
    "httpclient", "scrapy", "axios/", "node-fetch", "facebookexternalhit", "monitor", "uptime",
    "pingdom",
)  # fmt: skip
_STATIC = re.compile(
    r"\.(?:css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot"
    r"|mp3|mp4|m3u8|ts|webm|json|xml|txt|pdf|zip|apk)$",
    re.IGNORECASE,
)
# The app a reader reads in, from its user agent (lower case).
_APPS: tuple[tuple[Via, tuple[str, ...]], ...] = (
    ("wechat", ("micromessenger",)),
    ("weibo", ("weibo",)),
    ("douyin", ("aweme", "douyin", "bytedancewebview")),
)

# Referrer hosts (and the Android app ids browsers send as android-app://<id>/).
_REFERRERS: tuple[tuple[Via, tuple[str, ...]], ...] = (
    ("wechat", ("weixin.qq.com", "qq.com", "weixin.com", "wechat.com", "com.tencent.mm")),
    ("weibo", ("weibo.com", "weibo.cn", "t.cn", "com.sina.weibo")),
    ("douyin", ("douyin.com", "iesdouyin.com", "com.ss.android.ugc.aweme")),
    ("search", ("baidu.com", "sogou.com", "so.com", "360.cn", "bing.com", "sm.cn",
                "so.toutiao.com", "yandex.com", "duckduckgo.com")),
)  # fmt: skip
# The wall's channel for each via: the apps are channels of their own, the rest is the website.
VIA_CHANNEL: dict[Via, Channel] = {
    "wechat": "wechat", "weibo": "weibo", "douyin": "douyin", "app": "app",
    "search": "web", "direct": "web", "other": "web",
}  # fmt: skip
VIAS: tuple[Via, ...] = get_args(Via)


@dataclass(frozen=True)
class LogLine:
    """One parsed access-log line."""

    addr: str
    ts_ms: int
    method: str
    target: str  # as requested: path and query (or an absolute URL)
    status: int
    bytes_sent: int | None
    referrer: str  # "" when absent or "-"
    user_agent: str  # "" when absent or "-"

    @property
    def path(self) -> str:
        """The path without query or fragment ("" when the target has none)."""
        target = self.target
        if "://" in target:
            try:
                target = urlsplit(target).path
            except ValueError:  # e.g. an invalid IPv6 literal
                return ""
        return target.split("?", 1)[0].split("#", 1)[0]


@dataclass(frozen=True)
class View:
    """One reader's view of one story."""

    story_id: str
    channel: Channel
    via: Via
    ts_ms: int


def _unquote(field: str | None) -> str:
    text = field or ""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return "" if text == "-" else text


@functools.lru_cache(maxsize=1024)  # a busy log repeats each second's time many times
def parse_time(text: str) -> int | None:
    """`26/Nov/2026:08:00:01 +0800` -> epoch ms (None if it is not such a time)."""
    m = _TIME.match(text)
    month = _MONTHS.get(m.group(2).title()) if m else None
    if m is None or month is None:
        return None
    day, year, hh, mi, ss = (int(m.group(i)) for i in (1, 3, 4, 5, 6))
    offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
    try:
        tz = timezone(-offset if m.group(7) == "-" else offset)
        ts_ms = int(datetime(year, month, day, hh, mi, ss, tzinfo=tz).timestamp()) * 1000
    except (ValueError, OverflowError):  # 31 February, hour 25, offset of a day or more
        return None
    return ts_ms if 0 <= ts_ms <= MAX_TS_MS else None


def parse_line(line: str) -> LogLine | None:
    """One combined-format line (with or without its newline); None if it is not one."""
    m = _COMBINED.match(line.rstrip("\r\n"))
    if m is None:
        return None
    ts_ms = parse_time(m.group(2))
    if ts_ms is None:
        return None
    method, _, rest = _unquote(m.group(3)).partition(" ")
    target = rest.rsplit(" ", 1)[0] if " " in rest else rest  # without " HTTP/1.1"
    return LogLine(
        addr=m.group(1),
        ts_ms=ts_ms,
        method=method,
        target=target,
        status=int(m.group(4)),
        bytes_sent=None if m.group(5) == "-" else int(m.group(5)),
        referrer=_unquote(m.group(6)),
        user_agent=_unquote(m.group(7)),
    )


def is_bot(user_agent: str) -> bool:
    """Crawlers, monitors, scripts, and requests without a user agent."""
    ua = user_agent.strip().lower()
    if ua in ("", "mozilla/5.0") or any(token in ua for token in _BOT_TOKENS):
        return True
    return "bot" in ua and "bot" in ua.replace("cubot", "")


def is_static(path: str) -> bool:
    return _STATIC.search(path) is not None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. an invalid IPv6 literal
        return ""


def classify(referrer: str, user_agent: str, app_ua: str = DEFAULT_APP_UA) -> Via:
    """Where a reader came from: the app they read in, else the referrer's kind."""
    ua = user_agent.lower()
    if app_ua and app_ua.lower() in ua:
        return "app"
    for via, tokens in _APPS:
        if any(token in ua for token in tokens):
            return via
    if not referrer:
        return "direct"
    host = _host(referrer)
    for via, domains in _REFERRERS:
        if any(host == d or host.endswith("." + d) for d in domains):
            return via
    if "google" in host.split("."):  # google.com, google.com.hk, ...
        return "search"
    return "other"


class Rules:
    """A newsroom's settings for reading its logs: which paths are stories, which UA is its app.

    Raises ConfigError when the story pattern is not a regex with a `story` group.
    """

    def __init__(self, story_pattern: str = DEFAULT_STORY_PATTERN, app_ua: str = DEFAULT_APP_UA):
        try:
            self.story_pattern = re.compile(story_pattern)
        except re.error as exc:
            raise ConfigError(f"story_pattern {story_pattern!r} is not a regex: {exc}") from None
        if "story" not in self.story_pattern.groupindex:
            raise ConfigError(
                f"story_pattern {story_pattern!r} has no (?P<story>...) group naming the story id"
            )
        self.app_ua = app_ua

    def story_of(self, path: str) -> str | None:
        """The story id a path shows (valid as a schema id), or None."""
        m = self.story_pattern.search(path)
        story = m.group("story") if m else None
        return story if story and _STORY_ID.match(story) else None

    def view(self, line: LogLine) -> View | None:
        """The story view this request is, or None (not GET, not 2xx, a bot, static, no story)."""
        if line.method != "GET" or not 200 <= line.status < 300 or is_bot(line.user_agent):
            return None
        path = line.path
        if is_static(path):
            return None
        story = self.story_of(path)
        if story is None:
            return None
        via = classify(line.referrer, line.user_agent, self.app_ua)
        return View(story, VIA_CHANNEL[via], via, line.ts_ms)


# --- rendering, for the simulator ----------------------------------------------------------
_ANDROID = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko)"
_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
_WEB_UA = f"{_ANDROID} Chrome/126.0 Mobile Safari/537.36"
_RENDER: dict[str, tuple[str, str]] = {  # via -> (referrer, user agent)
    "wechat": ("-", f"{_IPHONE} (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.54"),
    "weibo": ("https://m.weibo.cn/", f"{_ANDROID} Weibo (NOH-AN00__weibo__14.9.0__android)"),
    "douyin": ("https://www.douyin.com/", f"{_ANDROID} aweme_300100 BytedanceWebview/d8a21c6"),
    "search": ("https://www.baidu.com/s?wd=%E6%B9%98%E4%B9%A1", _WEB_UA),
    "direct": ("-", _WEB_UA),
    "other": ("https://www.hunantoday.example/", _WEB_UA),
}


def count_views(lines: Iterable[str], rules: Rules) -> tuple[int, list[Traffic]]:
    """Lines -> (lines read, story views summed per story, channel, via and minute)."""
    views: Counter[tuple[str, Channel, Via, int]] = Counter()
    read = 0
    for text in lines:
        read += 1
        parsed = parse_line(text)
        view = rules.view(parsed) if parsed else None
        if view is not None:
            views[(view.story_id, view.channel, view.via, view.ts_ms - view.ts_ms % 60_000)] += 1
    items = [
        Traffic(story_id=s, channel=ch, via=via, window_start=minute, views=n)
        for (s, ch, via, minute), n in views.items()
    ]
    return read, items


def to_combined_line(
    story_id: str,
    via: Via,
    ts_ms: int,
    *,
    addr: str = "203.0.113.7",
    bytes_sent: int = 48213,
    app_ua: str = DEFAULT_APP_UA,
    utc_offset_min: int = 480,
) -> str:
    """A realistic nginx `combined` line (no newline) for one reader's view of a story, which
    `Rules()` (the defaults) reads back as the same story, via and minute."""
    when = datetime.fromtimestamp(ts_ms // 1000, timezone(timedelta(minutes=utc_offset_min)))
    stamp = when.strftime("%d/") + list(_MONTHS)[when.month - 1] + when.strftime("/%Y:%H:%M:%S %z")
    if via == "app":
        path = f"/api/app/v2/articles/{story_id}"
        referrer, agent = "-", f"{app_ua}/5.2.0 (Android 13)"
    else:
        path = f"/news/{when:%Y/%m/%d}/{story_id}.html"
        referrer, agent = _RENDER[via]
    return f'{addr} - - [{stamp}] "GET {path} HTTP/1.1" 200 {bytes_sent} "{referrer}" "{agent}"'
