// Every string the phone page shows, in Simplified Chinese and English, in one table.
// Terms follow the newsroom glossary (接单/拒单/在途/已到达现场/已交稿/已完成); state and
// priority names match dashboards/i18n.py, so the phone and the desk say the same thing.

export const LANGS = ["zh", "en"];

export const STRINGS = {
  zh: {
    app_title: "记者端",
    lang_switch: "EN",
    lang_switch_label: "Switch to English",
    login_title: "记者登录",
    login_token: "令牌",
    login_submit: "登录",
    login_checking: "正在验证令牌…",
    login_hint: "令牌由管理员发放 (newsroom reporters add), 只需粘贴一次, 保存在本机.",
    login_empty: "请粘贴令牌",
    login_refused: "服务器拒绝了令牌: {reason}",
    login_refused_plain: "服务器拒绝了令牌, 请向值班台索取新令牌",
    login_unreachable: "无法连接服务器, 正在重试…",
    logout: "退出",
    logout_confirm: "还有 {n} 项更改未发送, 退出会丢弃它们. 确定退出?",
    link_online: "在线",
    link_connecting: "连接中",
    link_offline: "离线",
    banner_offline: "离线 — 操作已保存在手机上, 恢复连接后自动发送",
    banner_connecting: "正在连接服务器…",
    banner_wait: "服务器繁忙, 稍后自动重连",
    banner_queued: "待发送 {n} 项",
    duty_on: "在岗",
    duty_off: "离岗",
    duty_note: "仅在岗时共享位置. 值班台的在岗状态暂不能在手机上更改.",
    duty_sharing: "正在共享位置 (精度约 {acc} 米)",
    geo_waiting: "正在定位…",
    geo_unsupported: "此浏览器无法定位",
    geo_insecure: "定位需要 HTTPS 连接",
    geo_denied: "定位权限被拒绝, 请在浏览器设置中允许",
    geo_unavailable: "暂时无法定位",
    geo_timeout: "定位超时, 继续尝试…",
    no_tasks: "暂无任务. 新任务会自动推送到这里.",
    new_task: "新任务",
    act_accepted: "接单",
    act_declined: "拒单",
    act_en_route: "在途",
    act_on_scene: "已到达现场",
    act_filed: "已交稿",
    act_done: "已完成",
    decline_reason: "拒单原因 (必填)",
    decline_confirm: "确认拒单",
    decline_back: "返回",
    decline_need_reason: "请填写拒单原因",
    pending: "待发送: {state}",
    sending: "发送中: {state}",
    navigate: "导航",
    coords_title: "点击复制坐标",
    copied: "坐标已复制",
    error_prefix: "未能执行",
    server_error: "服务器提示: {text}",
    reassigned: "任务已改派给其他记者",
    cancelled_note: "值班台已取消此任务",
    dismiss: "移除",
    deadline: "截止 {time}",
    answer_within: "请在 {left} 内应答",
    answer_late: "应答时限已到",
    expired_note: "未在时限内应答, 任务已退回值班台",
    age_s: "{n}秒",
    age_min: "{n}分钟",
    age_h: "{n}小时",
    ago: "{age}前",
    state_created: "已创建",
    state_offered: "已派发",
    state_delivered: "已送达",
    state_accepted: "已接单",
    state_declined: "已拒单",
    state_en_route: "在途",
    state_on_scene: "已到达现场",
    state_filed: "已交稿",
    state_done: "已完成",
    state_cancelled: "已取消",
    state_expired: "超时未接",
    prio_normal: "普通",
    prio_high: "紧急",
    prio_breaking: "突发",
  },
  en: {
    app_title: "Reporter",
    lang_switch: "中文",
    lang_switch_label: "切换到中文",
    login_title: "Reporter login",
    login_token: "Token",
    login_submit: "Log in",
    login_checking: "Checking the token…",
    login_hint: "An admin gives you the token ('newsroom reporters add'); paste it once, it stays on this phone.",
    login_empty: "Paste your token",
    login_refused: "The server refused the token: {reason}",
    login_refused_plain: "The server refused the token; ask the desk for a new one",
    login_unreachable: "Cannot reach the server; retrying…",
    logout: "Log out",
    logout_confirm: "{n} changes have not been sent; logging out discards them. Log out?",
    link_online: "Online",
    link_connecting: "Connecting",
    link_offline: "Offline",
    banner_offline: "Offline — changes are kept on the phone and sent when the connection is back",
    banner_connecting: "Connecting to the server…",
    banner_wait: "The server is busy; reconnecting shortly",
    banner_queued: "{n} waiting to send",
    duty_on: "On duty",
    duty_off: "Off duty",
    duty_note: "Your location is shared only while you are on duty. The desk's duty roster is not changed from the phone yet.",
    duty_sharing: "Sharing your location (±{acc} m)",
    geo_waiting: "Locating…",
    geo_unsupported: "This browser cannot share a location",
    geo_insecure: "Location needs an HTTPS connection",
    geo_denied: "Location permission denied; allow it in the browser settings",
    geo_unavailable: "Position unavailable for now",
    geo_timeout: "Locating timed out; still trying…",
    no_tasks: "No tasks yet. New tasks are pushed here.",
    new_task: "New task",
    act_accepted: "Accept",
    act_declined: "Decline",
    act_en_route: "En route",
    act_on_scene: "On scene",
    act_filed: "Filed",
    act_done: "Done",
    decline_reason: "Reason for declining (required)",
    decline_confirm: "Decline",
    decline_back: "Back",
    decline_need_reason: "Give a reason",
    pending: "Waiting to send: {state}",
    sending: "Sending: {state}",
    navigate: "Navigate",
    coords_title: "Tap to copy the coordinates",
    copied: "Coordinates copied",
    error_prefix: "Not applied",
    server_error: "Server says: {text}",
    reassigned: "The task was reassigned to someone else",
    cancelled_note: "The desk cancelled this task",
    dismiss: "Remove",
    deadline: "Due {time}",
    answer_within: "Answer within {left}",
    answer_late: "Time to answer is up",
    expired_note: "Not answered in time; the task went back to the desk",
    age_s: "{n} s",
    age_min: "{n} min",
    age_h: "{n} h",
    ago: "{age} ago",
    state_created: "Created",
    state_offered: "Offered",
    state_delivered: "Delivered",
    state_accepted: "Accepted",
    state_declined: "Declined",
    state_en_route: "En route",
    state_on_scene: "On scene",
    state_filed: "Filed",
    state_done: "Done",
    state_cancelled: "Cancelled",
    state_expired: "Expired",
    prio_normal: "Normal",
    prio_high: "High",
    prio_breaking: "Breaking",
  },
};

/** The string `key` in `lang`, with {name} placeholders filled from `vars`. */
export function t(lang, key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}

/** zh for any Chinese browser language, else en; `?lang=` and the saved choice win. */
export function pickLang(requested, saved, browser) {
  for (const candidate of [requested, saved]) {
    if (LANGS.includes(candidate)) return candidate;
  }
  return String(browser || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** A countdown ("0:25", "9:58") for an offer's time to answer. */
export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A short age ("3分钟", "45 s"), like dashboards/i18n.py's age(). */
export function age(lang, ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t(lang, "age_s", { n: s });
  if (s < 3600) return t(lang, "age_min", { n: Math.floor(s / 60) });
  return t(lang, "age_h", { n: Math.floor(s / 3600) });
}
