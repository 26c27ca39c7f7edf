"""The desk's interface strings (zh and en) and its own vocabularies: data only, looked up
through `dashboards.i18n` (`t` and `label`), which merges them into its tables. A key or a
label kind defined in both is an error, so the desk's keys start with "dk_". `LABELS` names
the desk's vocabularies (newsroom desks, reporters' kit).
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    # the task form: where
    "dk_place": {"zh": "地点 / 地址", "en": "Place or address"},
    "dk_place_hint": {
        "zh": "输入地名 (如 东山学校) 或坐标 27.74, 112.52; 也可点击地图",
        "en": "Type a place (e.g. 东山学校) or 27.74, 112.52; or click the map",
    },
    "dk_place_point": {"zh": "坐标 {lat:.5f}, {lon:.5f}", "en": "Point {lat:.5f}, {lon:.5f}"},
    "dk_place_none": {
        "zh": "地名库中没有“{q}”: 点击地图选定位置, 再保存为地点",
        "en": "No place called “{q}”: click the map, then save the point as it",
    },
    "dk_place_near": {"zh": "距 {name} {km:.1f} 公里", "en": "{km:.1f} km from {name}"},
    "dk_place_at": {"zh": "在 {name} ({km:.1f} 公里内)", "en": "At {name} (within {km:.1f} km)"},
    "dk_place_save": {"zh": "保存为地点", "en": "Save as a place"},
    "dk_place_saved": {"zh": "已保存地点“{name}”", "en": "Saved the place “{name}”"},
    "dk_place_need_name": {
        "zh": "请先在“地点”里输入要保存的地名",
        "en": "Type the place's name under Place first",
    },
    # suggested reporters: the factors behind the rank
    "dk_ranked_by": {
        "zh": "按路程时间、定位新旧、电量和手头任务排序",
        "en": "Ranked by travel time, fix age, battery and open tasks",
    },
    "dk_eta_car": {"zh": "驾车约{n}分钟", "en": "~{n} min by car"},
    "dk_eta_foot": {"zh": "步行约{n}分钟", "en": "~{n} min on foot"},
    "dk_eta_short": {"zh": "约{n}分钟", "en": "~{n} min"},
    "dk_fix": {"zh": "定位{age}前", "en": "fix {age} old"},
    "dk_fix_none": {"zh": "无定位时间", "en": "no fix time"},
    "dk_stale": {"zh": "已过期", "en": "stale"},
    "dk_battery": {"zh": "电量{n}%", "en": "battery {n}%"},
    "dk_battery_unknown": {"zh": "电量未知", "en": "battery unknown"},
    "dk_low": {"zh": "偏低", "en": "low"},
    "dk_critical": {"zh": "告急", "en": "critical"},
    "dk_tasks": {"zh": "手头{n}个任务", "en": "{n} open task(s)"},
    "dk_free": {"zh": "空闲", "en": "free"},
    "dk_has": {"zh": "具备{skills}", "en": "has {skills}"},
    "dk_missing": {"zh": "缺少{skills}", "en": "no {skills}"},
    # a follow-up task for a story
    "dk_for_story": {"zh": "跟进稿件", "en": "Follow-up of"},
    "dk_clear": {"zh": "清除", "en": "Clear"},
    "dk_follow_title": {"zh": "跟进：{title}", "en": "Follow-up: {title}"},
    "dk_follow_brief": {"zh": "由告警发起: {text}", "en": "From the alert: {text}"},
    "dk_follow_ready": {
        "zh": "跟进任务已填好, 已推荐最近空闲记者; 核对后点击派单",
        "en": "Follow-up ready with the nearest free reporters; check it, then press Dispatch",
    },
    "dk_dispatched_story": {"zh": "已关联稿件“{title}”", "en": "linked to “{title}”"},
    # the selected task: actions
    "dk_reassign": {"zh": "改派…", "en": "Reassign…"},
    "dk_cancel": {"zh": "取消任务…", "en": "Cancel…"},
    "dk_link": {"zh": "关联稿件…", "en": "Link story…"},
    "dk_review": {"zh": "复盘", "en": "Review"},
    "dk_confirm_reassign": {
        "zh": "改派“{title}” (第{v}版) 给:",
        "en": "Reassign “{title}” (version {v}) to:",
    },
    "dk_confirm_cancel": {
        "zh": "取消“{title}” (第{v}版)?",
        "en": "Cancel “{title}” (version {v})?",
    },
    "dk_confirm_link": {
        "zh": "“{title}” (第{v}版) 产出的稿件:",
        "en": "The story “{title}” (version {v}) produced:",
    },
    "dk_do_reassign": {"zh": "确认改派", "en": "Reassign"},
    "dk_do_cancel": {"zh": "确认取消", "en": "Cancel the task"},
    "dk_do_link": {"zh": "确认关联", "en": "Link"},
    "dk_back": {"zh": "返回", "en": "Back"},
    "dk_reason": {"zh": "原因 (选填)", "en": "Reason (optional)"},
    "dk_pick_reporter": {"zh": "请选择记者", "en": "Pick a reporter"},
    "dk_pick_story": {"zh": "请选择稿件", "en": "Pick a story"},
    "dk_no_candidates": {"zh": "附近没有其他在岗记者", "en": "No other on-duty reporter nearby"},
    "dk_no_stories_to_link": {"zh": "稿件库中还没有稿件", "en": "No stories yet"},
    "dk_reassigned": {"zh": "已改派给{who} (第{v}版)", "en": "Reassigned to {who} (version {v})"},
    "dk_cancelled": {"zh": "任务已取消 (第{v}版)", "en": "Task cancelled (version {v})"},
    "dk_linked": {"zh": "已关联稿件“{title}” (第{v}版)", "en": "Linked to “{title}” (version {v})"},
    "dk_conflict": {
        "zh": "未执行: 任务已被他人修改, 请核对后重试",
        "en": "Not done: the task changed meanwhile; check it and try again",
    },
    "dk_refused": {"zh": "未执行", "en": "Not done"},
    "dk_closed": {
        "zh": "任务已结束, 只能关联稿件或复盘",
        "en": "The task is closed: it can only be linked to a story or reviewed",
    },
    # the selected task: its story and audience
    "dk_no_story": {"zh": "尚未关联稿件", "en": "No story linked yet"},
    "dk_task_story": {"zh": "产出稿件", "en": "Story"},
    "dk_story_missing": {
        "zh": "稿件 {id} 尚未进入稿件库",
        "en": "Story {id} is not in the CMS feed yet",
    },
    "dk_audience": {"zh": "近1小时受众 (各渠道)", "en": "Audience, last hour, per channel"},
    "dk_no_audience": {"zh": "近1小时暂无受众数据", "en": "No audience in the last hour"},
    # alerts
    "dk_alerts": {"zh": "告警", "en": "Alerts"},
    "dk_no_alerts": {"zh": "暂无告警", "en": "No alerts"},
    "dk_unacked": {"zh": "{n} 条未确认", "en": "{n} unacknowledged"},
    "dk_ack": {"zh": "确认", "en": "Acknowledge"},
    "dk_acked": {"zh": "{who} 已确认 · {at}", "en": "Acknowledged by {who} · {at}"},
    "dk_ack_done": {"zh": "已确认", "en": "Acknowledged"},
    "dk_follow": {"zh": "跟进派单", "en": "Follow up"},
    "dk_show_task": {"zh": "查看任务", "en": "Show task"},
    # stories
    "dk_stories": {"zh": "稿件", "en": "Stories"},
    "dk_filter_desk": {"zh": "全部部门", "en": "All desks"},
    "dk_filter_stage": {"zh": "全部环节", "en": "All stages"},
    "dk_filter_channel": {"zh": "全部渠道", "en": "All channels"},
    "dk_col_story": {"zh": "标题", "en": "Title"},
    "dk_col_desk": {"zh": "部门", "en": "Desk"},
    "dk_col_stage": {"zh": "环节", "en": "Stage"},
    "dk_col_channels": {"zh": "渠道", "en": "Channels"},
    "dk_col_updated": {"zh": "更新", "en": "Updated"},
    "dk_col_views": {"zh": "阅读量 (1小时)", "en": "Views (1 h)"},
    "dk_no_stories": {"zh": "没有符合条件的稿件", "en": "No stories match"},
    "dk_stories_count": {"zh": "{shown} / {total} 篇", "en": "{shown} of {total}"},
    # roster
    "dk_col_task": {"zh": "当前任务", "en": "Task"},
    # after-action review
    "dk_review_title": {"zh": "复盘", "en": "After-action review"},
    "dk_review_hint": {
        "zh": "在任务上点“复盘”, 或点击稿件表中的一篇稿件",
        "en": "Press Review on a task, or pick a story in the table",
    },
    "dk_review_task": {"zh": "任务: {title}", "en": "Task: {title}"},
    "dk_review_story": {"zh": "稿件: {title}", "en": "Story: {title}"},
    "dk_review_missing": {"zh": "找不到 {id}", "en": "Nothing found for {id}"},
    "dk_csv": {"zh": "导出 CSV", "en": "Download CSV"},
    "dk_png_hint": {
        "zh": "PNG: 点击图表右上角的相机图标",
        "en": "PNG: the camera icon on the chart",
    },
    "dk_lane_task": {"zh": "任务", "en": "Task"},
    "dk_lane_story": {"zh": "稿件", "en": "Story (CMS)"},
    "dk_lane_traffic": {"zh": "流量", "en": "Traffic"},
    "dk_views_min": {"zh": "阅读量/分钟", "en": "Views per minute"},
    "dk_mark_dispatch": {"zh": "派单", "en": "Dispatch"},
    "dk_mark_arrival": {"zh": "到达现场", "en": "Arrival"},
    "dk_edited": {"zh": "修改", "en": "Edited"},
    "dk_csv_time": {"zh": "时间", "en": "Time"},
    "dk_csv_ms": {"zh": "时间戳 (毫秒)", "en": "Epoch ms"},
    "dk_csv_lane": {"zh": "类别", "en": "Lane"},
    "dk_csv_subject": {"zh": "对象", "en": "Subject"},
    "dk_csv_event": {"zh": "事件", "en": "Event"},
    "dk_csv_code": {"zh": "代码", "en": "Code"},
    "dk_csv_value": {"zh": "数值", "en": "Value"},
    "dk_csv_who": {"zh": "操作人", "en": "Who"},
    "dk_csv_note": {"zh": "备注", "en": "Note"},
}

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "desk": {
        "news": {"zh": "新闻", "en": "News"},
        "rural": {"zh": "乡村振兴", "en": "Rural"},
        "emergency": {"zh": "应急", "en": "Emergency"},
        "economy": {"zh": "经济", "en": "Economy"},
        "education": {"zh": "教育", "en": "Education"},
        "transport": {"zh": "交通", "en": "Transport"},
        "agriculture": {"zh": "农业", "en": "Agriculture"},
        "politics": {"zh": "时政", "en": "Politics"},
        "culture": {"zh": "文化", "en": "Culture"},
        "health": {"zh": "卫健", "en": "Health"},
        "livelihood": {"zh": "民生", "en": "Livelihood"},
        "sports": {"zh": "体育", "en": "Sports"},
    },
    "skill": {
        "camera": {"zh": "摄像机", "en": "camera"},
        "live": {"zh": "直播背包", "en": "live backpack"},
        "drone": {"zh": "无人机", "en": "drone"},
        "video": {"zh": "视频设备", "en": "video kit"},
        "photo": {"zh": "摄影器材", "en": "photo kit"},
    },
}
