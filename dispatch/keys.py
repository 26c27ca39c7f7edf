"""Every Redis name (keys, streams, channels) is built here, with the tenant hash tag.

`nr:{tenant}:...` keeps one tenant's keys in one Redis Cluster slot, so multi-key
transactions and scripts work on a cluster, and a provincial platform can host many
county centres in one deployment. No other module writes a key string literal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    tenant: str

    @property
    def prefix(self) -> str:
        return f"nr:{{{self.tenant}}}"

    # --- tokens and sessions -------------------------------------------------------------
    def token(self, token_hash: str) -> str:
        """Hash: role, subject, label, created_at. The key holds only the token's SHA-256."""
        return f"{self.prefix}:token:{token_hash}"

    @property
    def tokens(self) -> str:
        """Set of token hashes, for listing and revoking."""
        return f"{self.prefix}:tokens"

    def session(self, session_id_hash: str) -> str:
        return f"{self.prefix}:session:{session_id_hash}"

    def view_ticket(self, ticket_hash: str) -> str:
        """String + TTL: a desk page's view ticket → the session it was drawn for."""
        return f"{self.prefix}:viewticket:{ticket_hash}"

    # --- reporters -----------------------------------------------------------------------
    @property
    def reporters(self) -> str:
        """Set of reporter ids."""
        return f"{self.prefix}:reporters"

    def reporter(self, reporter_id: str) -> str:
        """Hash: profile, duty state and the current fix."""
        return f"{self.prefix}:reporter:{reporter_id}"

    @property
    def reporter_geo(self) -> str:
        """GEO set of the current position of every reporter with a fix."""
        return f"{self.prefix}:geo:reporters"

    def trail(self, reporter_id: str) -> str:
        """Stream of accepted fixes, trimmed by age."""
        return f"{self.prefix}:trail:{reporter_id}"

    def outbox(self, reporter_id: str) -> str:
        """Stream of messages for one reporter; entry ids are the protocol's cursors."""
        return f"{self.prefix}:outbox:{reporter_id}"

    def acked(self, reporter_id: str) -> str:
        """String: the highest cursor the reporter acknowledged."""
        return f"{self.prefix}:acked:{reporter_id}"

    def held(self, reporter_id: str) -> str:
        """Sorted set: the tasks a reporter holds now (offered to them and not closed, declined,
        expired or reassigned), scored by creation time. A new device catches up from it."""
        return f"{self.prefix}:held:{reporter_id}"

    # --- tasks ---------------------------------------------------------------------------
    def task(self, task_id: str) -> str:
        """Hash: the task's current fields, JSON-encoded under `doc`, and its `version`."""
        return f"{self.prefix}:task:{task_id}"

    def timeline(self, task_id: str) -> str:
        """Stream of task_event entries: the durable per-task timeline."""
        return f"{self.prefix}:timeline:{task_id}"

    @property
    def tasks_open(self) -> str:
        """Sorted set of open task ids, scored by creation time."""
        return f"{self.prefix}:tasks:open"

    @property
    def tasks_all(self) -> str:
        """Sorted set of every task id, scored by creation time."""
        return f"{self.prefix}:tasks:all"

    @property
    def timers(self) -> str:
        """Sorted set: `task_id|offer number` scored by when that offer expires unanswered."""
        return f"{self.prefix}:timers"

    @property
    def timers_claimed(self) -> str:
        """Sorted set: timers a process is firing, scored by when its lease runs out."""
        return f"{self.prefix}:timers:claimed"

    def ratelimit(self, scope: str, ident: str, window: int) -> str:
        """Counter of requests by one token or address in one time window."""
        return f"{self.prefix}:rl:{scope}:{ident}:{window}"

    def idempotency(self, scope: str, key: str) -> str:
        return f"{self.prefix}:idem:{scope}:{key}"

    # --- stories and traffic -------------------------------------------------------------
    @property
    def stories(self) -> str:
        """Hash: story_id -> the latest story event (JSON)."""
        return f"{self.prefix}:stories"

    def traffic_minute(self, channel: str) -> str:
        """Hash: minute (epoch ms of the minute's start) -> views on that channel."""
        return f"{self.prefix}:traffic:{channel}"

    def story_stages(self, story_id: str) -> str:
        """Stream: the stages a story went through (at = its updated_at), for the review."""
        return f"{self.prefix}:story:stages:{story_id}"

    def traffic_story(self, story_id: str) -> str:
        """Hash: "<channel>:<minute>" -> views (or reach) of one story on one channel."""
        return f"{self.prefix}:traffic:story:{story_id}"

    @property
    def traffic_stories(self) -> str:
        """Sorted set: story_id -> the last minute it had traffic (what is being read now)."""
        return f"{self.prefix}:traffic:stories"

    @property
    def places(self) -> str:
        """Hash: the gazetteer, place name -> "lat,lon" (dispatch/gazetteer.py)."""
        return f"{self.prefix}:places"

    # --- feeds ---------------------------------------------------------------------------
    @property
    def devices(self) -> str:
        """Hash: tracker device id (OsmAnd/Traccar `id`) -> reporter_id."""
        return f"{self.prefix}:devices"

    @property
    def feed_health(self) -> str:
        """Hash: source name -> its last heartbeat (JSON: kind, ok, last_ok, last_error...)."""
        return f"{self.prefix}:feeds:health"

    def feed_state(self, source: str) -> str:
        """Hash: a collector's own state (ETag, Last-Modified, log offset and inode, cursor)."""
        return f"{self.prefix}:feeds:state:{source}"

    def webhook_seen(self, kind: str, ident: str) -> str:
        """String + TTL: a webhook delivery already applied (idempotency, replay protection)."""
        return f"{self.prefix}:feeds:seen:{kind}:{ident}"

    def derived_alert(self, kind: str, subject: str) -> str:
        """String + TTL: a derived alert raised recently (so it is not raised again each minute)."""
        return f"{self.prefix}:feeds:alerted:{kind}:{subject}"

    @property
    def events(self) -> str:
        """Stream: the durable log of every event, for replay and audit (trimmed by length)."""
        return f"{self.prefix}:events"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}:alerts"

    @property
    def alert_acks(self) -> str:
        """Hash: alert id (its `alerts` stream entry id) -> who acknowledged it and when (JSON)."""
        return f"{self.prefix}:alerts:acks"

    # --- pub/sub channels (nudges, never the record) -------------------------------------
    @property
    def live_channel(self) -> str:
        """Every event for dashboards."""
        return f"{self.prefix}:ch:live"

    def reporter_channel(self, reporter_id: str) -> str:
        """A nudge: this reporter's outbox has new entries (or its token was revoked)."""
        return f"{self.prefix}:ch:reporter:{reporter_id}"

    # --- misc ----------------------------------------------------------------------------
    @property
    def settings(self) -> str:
        """Hash of generated settings (e.g. the webhook secret), shared by every process."""
        return f"{self.prefix}:settings"

    def sequence(self, name: str) -> str:
        return f"{self.prefix}:seq:{name}"


# The bus's one process-wide subscription: every tenant's channels.
CHANNEL_PATTERN = "nr:*:ch:*"
