"""Component ids the desk adds to those in ids.py (the page's frame, the task form, the task
list and the timeline are there). Tests address components by these ids: they are part of the
desk's contract. Names with "type" in the comment are pattern-matching id types.
"""

from __future__ import annotations

# --- the task form: where -------------------------------------------------------------------
DESK_PLACE = "desk-place"  # text: a place name, part of one, or "lat, lon"
DESK_PLACE_HITS = "desk-place-hits"  # the places that match ([data-place] buttons)
DESK_PLACE_HIT = "desk-place-hit"  # pattern {"type", "name", "lat", "lon"} (strings)
DESK_PLACE_NOTE = "desk-place-note"  # the point chosen and the place nearest to it
DESK_PLACE_SAVE = "desk-place-save"  # button: keep the point under the typed name
DESK_PIN_SYNC = "desk-pin-sync"  # dcc.Store: the point the map's pin shows (clientside)
DESK_FORM_STORY = "desk-form-story"  # dcc.Store: {story_id, title} the next task is for
DESK_FORM_STORY_BOX = "desk-form-story-box"  # shows that story (hidden when there is none)
DESK_FORM_STORY_CHIP = "desk-form-story-chip"  # its title
DESK_FORM_STORY_CLEAR = "desk-form-story-clear"

# --- the selected task: actions, its story and audience --------------------------------------
DESK_ACTIONS = "desk-actions"  # the toolbar (hidden until a task is shown)
DESK_ACT_REASSIGN = "desk-act-reassign"  # opens the reassign form
DESK_ACT_CANCEL = "desk-act-cancel"  # opens the cancel form
DESK_ACT_LINK = "desk-act-link"  # opens the link-to-story form
DESK_ACT_REVIEW = "desk-act-review"  # shows the task's after-action review
DESK_ACTION = "desk-action"  # dcc.Store: {kind, task_id, version} being confirmed
DESK_ACTION_FORM = "desk-action-form"  # the confirmation box ([data-kind], [data-version])
DESK_ACTION_TEXT = "desk-action-text"
DESK_ACTION_PICK = "desk-action-pick"  # dropdown: the reporter (reassign) or story (link)
DESK_ACTION_REASON = "desk-action-reason"
DESK_ACTION_CONFIRM = "desk-action-confirm"
DESK_ACTION_BACK = "desk-action-back"
DESK_ACTION_RESULT = "desk-action-result"  # .nr-ok, or .nr-error with the server's reason
DESK_TASK_STORY = "desk-task-story"  # the story the task produced ([data-story-id])
DESK_TASK_AUDIENCE = "desk-task-audience"  # graph: that story's audience per channel

# --- alerts ----------------------------------------------------------------------------------
DESK_ALERTS = "desk-alerts"  # rows .nr-dk-alert[data-alert-id][data-kind][data-acked]
DESK_ALERTS_UNACKED = "desk-alerts-unacked"  # the count of alerts nobody acknowledged
DESK_ALERTS_STATUS = "desk-alerts-status"  # the last acknowledgement's result
DESK_ALERTS_TICK = "desk-alerts-tick"  # dcc.Store pushed by the stream: alerts or acks moved
DESK_ALERTS_LOCAL = "desk-alerts-local"  # dcc.Store: this desk acknowledged one
DESK_ALERT_ACK = "desk-alert-ack"  # pattern {"type", "alert"}
DESK_ALERT_FOLLOW = "desk-alert-follow"  # pattern {"type", "alert", "story"}
DESK_ALERT_TASK = "desk-alert-task"  # pattern {"type", "task"} (shows the task)

# --- stories ---------------------------------------------------------------------------------
DESK_STORIES = "desk-stories"  # rows .nr-story-row[data-story-id][data-stage]
DESK_STORIES_COUNT = "desk-stories-count"
DESK_STORIES_TICK = "desk-stories-tick"  # dcc.Store pushed by the stream: a story moved
DESK_TRAFFIC_TICK = "desk-traffic-tick"  # dcc.Store pushed by the stream: audience counted
DESK_FILTER_DESK = "desk-filter-desk"
DESK_FILTER_STAGE = "desk-filter-stage"
DESK_FILTER_CHANNEL = "desk-filter-channel"
DESK_STORY_ROW = "desk-story-row"  # pattern {"type", "story"}

# --- after-action review ---------------------------------------------------------------------
DESK_REVIEW = "desk-review"  # dcc.Store: {"kind": "task" | "story", "id"}
DESK_REVIEW_TITLE = "desk-review-title"
DESK_REVIEW_GRAPH = "desk-review-graph"  # dispatch, arrival, stages and traffic on one chart
DESK_REVIEW_CSV = "desk-review-csv"  # button: download the chart's data as CSV
DESK_REVIEW_DOWNLOAD = "desk-review-download"  # dcc.Download
DESK_REVIEW_FOLLOW = "desk-review-follow"  # button: a follow-up task for the story shown
