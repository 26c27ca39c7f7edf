"""Interface strings in Simplified Chinese and English, using the newsroom glossary.

`t(key, lang)` looks a string up; `label(kind, value, lang)` names a stage, channel, task
state, priority, alert kind, or one of the desk's vocabularies (desks, reporters' kit). The
desk's strings and vocabularies are data in desk_strings.py, merged in here. Every key has
both languages (a test checks it). Formatting placeholders use str.format names, e.g.
t("age_min", lang).format(n=3).
"""

from __future__ import annotations

import time
from typing import TypeVar, get_args

from dashboards import desk_strings
from dispatch import auth, schema

LANGS = ("zh", "en")
_V = TypeVar("_V")

TEXT: dict[str, dict[str, str]] = {
    # shell
    "app_title": {"zh": "融媒体指挥调度中心", "en": "Newsroom Command"},
    "wall_title": {"zh": "指挥大屏", "en": "Command wall"},
    "desk_title": {"zh": "值班台", "en": "Duty desk"},
    "index_intro": {"zh": "请选择页面", "en": "Choose a page"},
    "index_wall": {
        "zh": "指挥大屏 (需要大屏密钥: /wall?key=…)",
        "en": "Command wall (needs a wall key: /wall?key=…)",
    },
    "index_desk": {"zh": "值班台 (值班主任登录)", "en": "Duty desk (supervisors log in)"},
    "not_found": {"zh": "没有这个页面", "en": "No such page"},
    "back_home": {"zh": "返回首页", "en": "Back to the start page"},
    # wall
    "wall_denied": {"zh": "大屏密钥无效或缺失", "en": "Invalid or missing wall key"},
    "wall_denied_hint": {
        "zh": "请使用 newsroom tokens add --role wall 生成的链接: /wall?key=<密钥>",
        "en": "Open the link made by 'newsroom tokens add --role wall': /wall?key=<token>",
    },
    "panel_map": {"zh": "记者位置与任务", "en": "Reporters and tasks"},
    "panel_stages": {"zh": "稿件流程", "en": "Stories by stage"},
    "panel_traffic": {"zh": "各渠道流量 (近1小时)", "en": "Traffic, last hour"},
    "panel_top": {"zh": "热门稿件 (近5分钟)", "en": "Top stories now (last 5 min)"},
    "panel_deadlines": {"zh": "截稿倒计时", "en": "Deadline board"},
    "panel_alerts": {"zh": "告警", "en": "Alerts"},
    "views_axis": {"zh": "阅读量 · 数字渠道", "en": "Views · digital channels"},
    "reach_axis": {
        "zh": "触达人数 · 手机报/广播/电视",
        "en": "People reached · SMS paper, radio, TV",
    },
    "stuck": {"zh": "滞留", "en": "stuck"},
    "stuck_badge": {"zh": "{n} 篇滞留", "en": "{n} stuck"},
    "stuck_hint": {"zh": "超过本环节时限未推进", "en": "in a stage longer than its limit"},
    "no_top": {"zh": "近5分钟暂无阅读数据", "en": "No readers in the last 5 minutes"},
    "no_alerts": {"zh": "暂无告警", "en": "No alerts"},
    "top_views": {"zh": "次", "en": "views"},
    "dl_open": {"zh": "进行中 · 剩余", "en": "Open · closes in"},
    "dl_in": {"zh": "距开始", "en": "Starts in"},
    "dl_window": {"zh": "推送窗口", "en": "push window"},
    "due_of": {"zh": "{used} / {due}", "en": "{used} / {due}"},
    "overdue": {"zh": "已超时", "en": "overdue"},
    "notice_ignored": {"zh": "已忽略的选项: {items}", "en": "Ignored options: {items}"},
    "schedule_error": {
        "zh": "时间表文件有误, 显示默认时间表",
        "en": "Schedule file not used; showing the defaults",
    },
    "panel_tasks": {"zh": "进行中的任务", "en": "Open tasks"},
    "panel_reporters": {"zh": "记者", "en": "Reporters"},
    "kpi_on_duty": {"zh": "在岗记者", "en": "On duty"},
    "kpi_on_map": {"zh": "地图上", "en": "On map"},
    "kpi_open_tasks": {"zh": "进行中任务", "en": "Open tasks"},
    "kpi_rate": {"zh": "事件/分钟", "en": "Events/min"},
    "last_event": {"zh": "最新事件", "en": "Last event"},
    "last_update": {"zh": "更新于", "en": "Updated"},
    "no_events": {"zh": "等待事件…", "en": "Waiting for events…"},
    "link_live": {"zh": "实时", "en": "Live"},
    "link_degraded": {"zh": "数据源中断", "en": "Data source down"},
    "link_connecting": {"zh": "连接中", "en": "Connecting"},
    "stale": {
        "zh": "数据延迟 — 与服务器的连接中断, 正在重连",
        "en": "Data stale — lost the link to the server, reconnecting",
    },
    "legend_on_duty": {"zh": "在岗", "en": "On duty"},
    "legend_off_duty": {"zh": "离岗", "en": "Off duty"},
    "legend_tasks": {"zh": "任务", "en": "Tasks"},
    "legend_on_task": {"zh": "执行任务", "en": "On task"},
    "legend_free": {"zh": "空闲", "en": "Free"},
    "legend_old_fix": {"zh": "旧定位", "en": "Old fix"},
    "no_tasks": {"zh": "暂无进行中的任务", "en": "No open tasks"},
    "no_reporters": {"zh": "暂无记者", "en": "No reporters yet"},
    "col_title": {"zh": "任务", "en": "Task"},
    "col_assignee": {"zh": "记者", "en": "Reporter"},
    "col_state": {"zh": "状态", "en": "State"},
    "col_age": {"zh": "已过", "en": "Age"},
    "col_name": {"zh": "姓名", "en": "Name"},
    "col_duty": {"zh": "在岗", "en": "Duty"},
    "col_fix": {"zh": "最后定位", "en": "Last fix"},
    "col_battery": {"zh": "电量", "en": "Battery"},
    "unassigned": {"zh": "未派单", "en": "Unassigned"},
    "age_s": {"zh": "{n}秒", "en": "{n} s"},
    "age_min": {"zh": "{n}分钟", "en": "{n} min"},
    "age_h": {"zh": "{n}小时", "en": "{n} h"},
    "never": {"zh": "无定位", "en": "no fix"},
    "ago": {"zh": "{age}前", "en": "{age} ago"},
    "views": {"zh": "阅读量", "en": "Views"},
    # source health (the wall's footer) and the traffic panel's stale mark
    "feeds": {"zh": "数据源", "en": "Sources"},
    "feed_ok": {"zh": "正常", "en": "OK"},
    "feed_stale": {"zh": "数据延迟", "en": "Stale"},
    "feed_failing": {"zh": "故障", "en": "Failing"},
    "feed_never": {"zh": "从未成功", "en": "never"},
    # the traffic panel when every traffic source is stale: no data, not zero readers
    "traffic_stale": {"zh": "流量数据延迟", "en": "Traffic data stale"},
    "stories": {"zh": "稿件", "en": "Stories"},
    # events, as the "last event" line names them
    "ev_story": {"zh": "稿件", "en": "Story"},
    "ev_traffic": {"zh": "流量", "en": "Traffic"},
    "ev_location": {"zh": "定位", "en": "Location"},
    "ev_duty": {"zh": "在岗状态", "en": "Duty"},
    "ev_task": {"zh": "任务", "en": "Task"},
    "ev_task_event": {"zh": "任务", "en": "Task"},
    "ev_alert": {"zh": "告警", "en": "Alert"},
    "ev_resync": {"zh": "重新同步", "en": "Resynchronised"},
    # desk
    "login_title": {"zh": "值班主任登录", "en": "Supervisor login"},
    "login_token": {"zh": "令牌", "en": "Token"},
    "login_submit": {"zh": "登录", "en": "Log in"},
    "login_error": {
        "zh": "令牌无效, 或不是值班主任令牌",
        "en": "That token is invalid or is not a supervisor token",
    },
    "login_hint": {
        "zh": "令牌由 newsroom tokens add --role supervisor 生成",
        "en": "Tokens are made with 'newsroom tokens add --role supervisor'",
    },
    "logout": {"zh": "退出", "en": "Log out"},
    "logged_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "new_task": {"zh": "新建任务 (一键派单)", "en": "New task (one-click dispatch)"},
    "f_title": {"zh": "标题", "en": "Title"},
    "f_brief": {"zh": "任务说明", "en": "Brief"},
    "f_priority": {"zh": "优先级", "en": "Priority"},
    "f_lat": {"zh": "纬度", "en": "Latitude"},
    "f_lon": {"zh": "经度", "en": "Longitude"},
    "f_assignee": {"zh": "派给", "en": "Assign to"},
    "suggest": {"zh": "推荐最近空闲记者", "en": "Suggest nearest free reporters"},
    "no_suggestions": {"zh": "附近没有在岗记者", "en": "No on-duty reporter nearby"},
    "assign_later": {"zh": "暂不派单", "en": "Nobody yet"},
    "dispatch": {"zh": "派单", "en": "Dispatch"},
    "dispatched": {
        "zh": "已创建任务 {task_id}, 状态: {state}",
        "en": "Created task {task_id}, state: {state}",
    },
    "error": {"zh": "错误", "en": "Error"},
    "need_title": {"zh": "请填写标题", "en": "Give the task a title"},
    "need_coords": {"zh": "请填写有效的经纬度", "en": "Give a valid latitude and longitude"},
    "session_ended": {"zh": "登录已失效, 请重新登录", "en": "Your session has ended; log in again"},
    "km": {"zh": "{d:.1f} 公里", "en": "{d:.1f} km"},
    "why": {
        "zh": "直线距离 {d:.1f} 公里, 最后定位 {age}前",
        "en": "{d:.1f} km in a straight line, last fix {age} ago",
    },
    # desk: task timeline
    "panel_timeline": {"zh": "任务时间线", "en": "Task timeline"},
    "timeline_hint": {
        "zh": "点击“进行中的任务”里的一项, 查看它的时间线",
        "en": "Click a task under Open tasks to see its timeline",
    },
    "timeline_missing": {"zh": "找不到该任务", "en": "No such task"},
    "timeline_reason": {"zh": "原因", "en": "Reason"},
    "timeline_to": {"zh": "派给 {who}", "en": "to {who}"},
    "actor_system": {"zh": "系统", "en": "system"},
}

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "stage": {
        "lead": {"zh": "线索", "en": "Lead"},
        "pitched": {"zh": "选题", "en": "Pitched"},
        "assigned": {"zh": "已派单", "en": "Assigned"},
        "reporting": {"zh": "采访中", "en": "Reporting"},
        "filed": {"zh": "已交稿", "en": "Filed"},
        "editing": {"zh": "编辑中", "en": "Editing"},
        "review": {"zh": "审核", "en": "Review"},
        "published": {"zh": "已发布", "en": "Published"},
        "spiked": {"zh": "已撤稿", "en": "Spiked"},
        "corrected": {"zh": "已更正", "en": "Corrected"},
    },
    "channel": {
        "app": {"zh": "客户端", "en": "App"},
        "web": {"zh": "网站", "en": "Website"},
        "wechat": {"zh": "微信公众号", "en": "WeChat"},
        "weibo": {"zh": "微博", "en": "Weibo"},
        "douyin": {"zh": "抖音", "en": "Douyin"},
        "sms": {"zh": "手机报", "en": "SMS paper"},
        "radio": {"zh": "广播", "en": "Radio"},
        "tv": {"zh": "电视", "en": "TV"},
    },
    "state": {
        "created": {"zh": "已创建", "en": "Created"},
        "offered": {"zh": "已派发", "en": "Offered"},
        "delivered": {"zh": "已送达", "en": "Delivered"},
        "accepted": {"zh": "已接单", "en": "Accepted"},
        "declined": {"zh": "已拒单", "en": "Declined"},
        "en_route": {"zh": "在途", "en": "En route"},
        "on_scene": {"zh": "已到达现场", "en": "On scene"},
        "filed": {"zh": "已交稿", "en": "Filed"},
        "done": {"zh": "已完成", "en": "Done"},
        "cancelled": {"zh": "已取消", "en": "Cancelled"},
        "expired": {"zh": "超时未接", "en": "Expired"},
    },
    "priority": {
        "normal": {"zh": "普通", "en": "Normal"},
        "high": {"zh": "紧急", "en": "High"},
        "breaking": {"zh": "突发", "en": "Breaking"},
    },
    "role": {
        "wall": {"zh": "指挥大屏", "en": "wall"},
        "supervisor": {"zh": "值班主任", "en": "supervisor"},
        "admin": {"zh": "管理员", "en": "admin"},
        "reporter": {"zh": "记者", "en": "reporter"},
        "feed": {"zh": "数据源", "en": "feed"},
    },
    "duty": {
        "on": {"zh": "在岗", "en": "On duty"},
        "off": {"zh": "离岗", "en": "Off duty"},
    },
    "alert": {  # alert kinds (dispatch.escalation, feeds.derived); others are shown as sent
        "no_candidate": {"zh": "无可派记者", "en": "No one to offer"},
        "task_declined": {"zh": "拒单", "en": "Declined"},
        "task_expired": {"zh": "超时未接", "en": "Offer expired"},
        "traffic_spike": {"zh": "流量突增", "en": "Traffic spike"},
        "story_overdue": {"zh": "稿件滞留", "en": "Story stuck"},
        "location_stale": {"zh": "定位过旧", "en": "Stale location"},
        "location_none": {"zh": "无定位", "en": "No location"},
        "battery_low": {"zh": "电量低", "en": "Low battery"},
    },
    "severity": {
        "info": {"zh": "提示", "en": "Info"},
        "warning": {"zh": "警告", "en": "Warning"},
        "critical": {"zh": "严重", "en": "Critical"},
    },
}


# The desk's strings and label kinds join these tables; one defined in both is an error.
def _merge(ours: dict[str, _V], desks: dict[str, _V], what: str) -> None:
    if clash := ours.keys() & desks.keys():
        raise RuntimeError(f"{what} defined twice: {sorted(clash)}")
    ours.update(desks)


_merge(TEXT, desk_strings.TEXT, "interface strings")
_merge(LABELS, desk_strings.LABELS, "label kinds")

# The label tables must cover the schema's vocabularies (checked by a test too).
LABEL_DOMAINS: dict[str, tuple[str, ...]] = {
    "stage": schema.STAGES,
    "channel": schema.CHANNELS,
    "state": schema.TASK_STATES,
    "priority": schema.PRIORITIES,
    "duty": ("on", "off"),
    "role": auth.ROLES,
    "severity": get_args(schema.Severity),
}


def pick_lang(requested: str | None, default: str) -> str:
    """The page language: `requested` (from ?lang=) if supported, else `default`."""
    if requested in LANGS:
        return requested
    return default if default in LANGS else LANGS[0]


def t(key: str, lang: str) -> str:
    """The string `key` in `lang` (English if `lang` is unknown)."""
    entry = TEXT[key]
    return entry.get(lang) or entry["en"]


def label(kind: str, value: str, lang: str) -> str:
    """A display name for a value of `kind` (the value itself when it has none)."""
    entry = LABELS[kind].get(value)
    if entry is None:
        return value
    return entry.get(lang) or entry["en"]


def age(ms: float, lang: str) -> str:
    """A short, glanceable age ("3分钟", "45 s") for a duration in milliseconds."""
    seconds = max(0, int(ms // 1000))
    if seconds < 60:
        return t("age_s", lang).format(n=seconds)
    if seconds < 3600:
        return t("age_min", lang).format(n=seconds // 60)
    return t("age_h", lang).format(n=seconds // 3600)


def clock(ms: float) -> str:
    """HH:MM:SS in the server's local time zone (the newsroom's own, on a single box)."""
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000))
