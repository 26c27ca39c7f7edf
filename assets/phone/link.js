// The websocket link to /ws/reporter (protocol v1, docs/protocol.md): hello with the token
// and the resume cursor, then messages; pings to keep NATs open; reconnects by itself with
// backoff (0.5 s doubling to 15 s); stops for good on close 1008 (bad or revoked token).
//
// The browser's offline signal counts: Chromium keeps an open websocket through a network
// change it cannot see, so on `offline` the link closes the socket itself and waits for
// `online` (or its retry timer) instead of trusting a socket that may be dead.

const FIRST_DELAY_S = 0.5;
const MAX_DELAY_S = 15;
const POLICY_VIOLATION = 1008;
const CLOSE_APP = 4000; // our own close: offline, or the server went silent
// 1008 is also how the server refuses too many connections from one address; that one is
// worth waiting out ("... retry in N s"), unlike a bad token.
const RATE_LIMITED = /^too many /i;

export class Link {
  /**
   * @param {object} o
   * @param {string} o.url             ws(s)://host/ws/reporter
   * @param {() => object} o.hello     the hello message (read at each connect: the cursor moves)
   * @param {(msg: object) => void} o.onWelcome
   * @param {(msg: object) => void} o.onMessage  every message after welcome
   * @param {(state: string) => void} o.onState  "connecting" | "online" | "offline"
   * @param {(reason: string) => void} o.onFatal closed with 1008: do not retry this token
   */
  constructor(o) {
    Object.assign(this, o);
    this.ws = null;
    this.welcomed = false;
    this.delay = FIRST_DELAY_S;
    this.retry = null;
    this.pinger = null;
    this.heartbeatS = 20;
    this.lastRx = 0;
    this.running = false;
    this.state = "offline";
    this._online = () => this.reconnectNow();
    this._offline = () => this.drop("offline");
    this._visible = () => {
      if (document.visibilityState === "visible" && !this.ws) this.reconnectNow();
    };
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener("online", this._online);
    window.addEventListener("offline", this._offline);
    document.addEventListener("visibilitychange", this._visible);
    this.connect();
  }

  stop() {
    this.running = false;
    window.removeEventListener("online", this._online);
    window.removeEventListener("offline", this._offline);
    document.removeEventListener("visibilitychange", this._visible);
    clearTimeout(this.retry);
    this.drop("stopped", false);
  }

  get online() {
    return this.welcomed && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a message if the link is up; false if not (the caller keeps it for later). */
  send(msg) {
    if (!this.online) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    clearTimeout(this.retry);
    this.retry = null;
    if (!this.running || this.ws) return;
    if (navigator.onLine === false) {
      this.setState("offline");
      this.schedule();
      return;
    }
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.warn("phone: cannot open the websocket", err);
      this.setState("offline");
      this.schedule();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastRx = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (err) {
        console.warn("phone: a message that is not JSON", err);
        return;
      }
      if (msg.type === "welcome") {
        this.welcomed = true;
        this.delay = FIRST_DELAY_S;
        this.heartbeatS = Math.max(5, Number(msg.heartbeat_s) || 20);
        this.startPings();
        this.setState("online");
        this.onWelcome(msg);
      } else {
        this.onMessage(msg);
      }
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return; // a socket we already gave up on
      this.ws = null;
      this.welcomed = false;
      this.stopPings();
      if (ev.code === POLICY_VIOLATION && RATE_LIMITED.test(ev.reason || "")) {
        const retry = Number((/retry in (\d+) s/.exec(ev.reason) || [])[1]) || MAX_DELAY_S;
        this.delay = Math.min(Math.max(retry, MAX_DELAY_S), 60);
        this.setState("offline");
        this.schedule();
        return;
      }
      if (ev.code === POLICY_VIOLATION) {
        this.running = false;
        this.setState("offline");
        this.onFatal(ev.reason || "");
        return;
      }
      this.setState("offline");
      this.schedule();
    };
  }

  /** Close the current socket (if any) and carry on as if it had dropped. */
  drop(why, retry = true) {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    this.stopPings();
    if (ws) {
      try {
        ws.close(CLOSE_APP, why);
      } catch (err) {
        console.warn("phone: closing the socket failed", err);
      }
    }
    this.setState("offline");
    if (retry && this.running) this.schedule();
  }

  reconnectNow() {
    if (!this.running) return;
    this.delay = FIRST_DELAY_S;
    if (!this.ws) this.connect();
  }

  schedule() {
    if (!this.running || this.retry) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY_S);
    this.retry = setTimeout(() => this.connect(), wait * 1000);
  }

  startPings() {
    this.stopPings();
    this.lastRx = Date.now();
    this.pinger = setInterval(() => {
      // No answer to two pings: the path is dead even if the socket does not know it yet.
      if (Date.now() - this.lastRx > (2 * this.heartbeatS + 5) * 1000) {
        this.drop("silent");
        return;
      }
      this.send({ type: "ping", v: 1, t: Date.now() });
    }, this.heartbeatS * 1000);
  }

  stopPings() {
    clearInterval(this.pinger);
    this.pinger = null;
  }
}
