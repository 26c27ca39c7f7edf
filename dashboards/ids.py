"""Every component id the dashboards render, with a page prefix, in one place.

Tests and the watchdog script (assets/watchdog.js) address components by these ids, so they
are part of the UI's contract: rename one here and everywhere follows.
"""

from __future__ import annotations

# --- shell (every page) ----------------------------------------------------------------------
URL = "url"
PAGE = "page"

# --- wall ------------------------------------------------------------------------------------
WALL = "wall"
WALL_DENIED = "wall-denied"
WALL_SEED = "wall-seed"  # dcc.Store: key, language and panels, as rendered
WALL_TICKET = "wall-ticket"  # dcc.Store: the seed plus the screen's scale (clientside);
# the stream starts from it and re-checks its key
WALL_LIVE_SINK = "wall-live-sink"  # the streaming callback's (never-written) output
WALL_HEARTBEAT = "wall-heartbeat"  # text changes every 2 s while the stream is alive
WALL_STALE = "wall-stale"  # banner the watchdog shows when the heartbeat stops
WALL_CLOCK = "wall-clock"  # local clock, ticked by assets/watchdog.js
WALL_LINK = "wall-link"  # live / degraded indicator
WALL_LAST_UPDATE = "wall-last-update"  # time of the last push
WALL_LAST_EVENT = "wall-last-event"  # text changes on every received event
WALL_EVENT_RATE = "wall-event-rate"  # events in the last minute
WALL_ON_DUTY = "wall-on-duty"
WALL_OPEN_TASKS_COUNT = "wall-open-task-count"
WALL_REPORTER_COUNT = "wall-reporter-count"  # reporters drawn on the map
WALL_MAP = "wall-map"  # the base map (ground, county layers); the markers are drawn over it
# The canvas the map's markers are drawn on (assets/map_overlay.js), from its data-markers.
WALL_MAP_OVERLAY = "wall-map-overlay"
WALL_STAGES = "wall-stages"
WALL_TRAFFIC = "wall-traffic"
WALL_TASKS = "wall-tasks"  # open tasks list (rows carry class nr-task-row)
WALL_FEEDS = "wall-feeds"  # source health chips ([data-source], [data-status])
WALL_TRAFFIC_STALE = "wall-traffic-stale"  # the traffic panel's "stale" mark (hidden when fresh)
WALL_GRID = "wall-grid"  # the panels' grid ([data-view]: the view shown, rotating)
WALL_PANEL = "wall-panel-"  # + panel name (map, stages, …): each panel's <section>
WALL_TOP = "wall-top"  # top stories (rows .nr-top-row[data-story-id])
WALL_ALERTS = "wall-alerts"  # recent alerts (rows .nr-alert[data-kind])
WALL_DEADLINES = "wall-deadlines"  # the deadline board (rows .nr-deadline[data-channel])
WALL_STUCK = "wall-stuck"  # the pipeline's "n stuck" badge
WALL_NOTICE = "wall-notice"  # what the wall ignored (unknown URL options, …)

# --- desk ------------------------------------------------------------------------------------
DESK = "desk"
DESK_LOGIN = "desk-login"  # the login form (rendered when not logged in)
DESK_LOGIN_ERROR = "desk-login-error"
DESK_LOGOUT = "desk-logout"  # the logout form
DESK_USER = "desk-user"
DESK_TICKET = "desk-ticket"  # dcc.Store: the view ticket the stream redeems
DESK_LIVE_SINK = "desk-live-sink"
DESK_HEARTBEAT = "desk-heartbeat"
DESK_STALE = "desk-stale"
DESK_SESSION_ENDED = "desk-session-ended"
DESK_LINK = "desk-link"
DESK_LAST_EVENT = "desk-last-event"
DESK_MAP = "desk-map"
DESK_TASKS = "desk-tasks"
DESK_REPORTERS = "desk-reporters"
DESK_OPEN_TASKS_COUNT = "desk-open-task-count"
DESK_ON_DUTY = "desk-on-duty"
DESK_REPORTER_COUNT = "desk-reporter-count"

# the task timeline (dashboards/timeline.py)
DESK_TASK_ROW = "desk-task-row"  # pattern-matching type: {"type": ..., "task": task_id}
DESK_SELECTED = "desk-selected"  # dcc.Store: the task_id whose timeline is shown
DESK_TASK_VERSIONS = "desk-task-versions"  # dcc.Store: task_id -> version, pushed by the stream
DESK_TIMELINE_SHOWN = "desk-timeline-shown"  # dcc.Store: {task_id, version, open} on screen
DESK_TIMELINE = "desk-timeline"  # the timeline; one [data-state] element per transition

# the create-task form
DESK_TITLE = "desk-title"
DESK_BRIEF = "desk-brief"
DESK_PRIORITY = "desk-priority"
DESK_LAT = "desk-lat"
DESK_LON = "desk-lon"
DESK_SUGGEST = "desk-suggest"  # button: rank the nearest on-duty reporters
DESK_SUGGESTIONS = "desk-suggestions"  # the ranked list, shown under the button
DESK_ASSIGNEE = "desk-assignee"  # dropdown: "" (nobody yet) or a reporter_id
DESK_DISPATCH = "desk-dispatch"  # button: create (and offer) the task
DESK_RESULT = "desk-result"  # task id and state, or the error text

# --- index -----------------------------------------------------------------------------------
INDEX = "index"
NOT_FOUND = "not-found"
