// Location, shared only while the reporter is on duty (design.md §6): the duty toggle starts
// navigator.geolocation.watchPosition, going off duty clears the watch and forgets the last
// fix. Fixes go out as protocol `location` messages, at most one per MIN_GAP_MS (the newest
// wins); a fix taken while the link is down is sent when it comes back.
//
// The duty toggle also tells the server (protocol `duty` message, phone.js), so the desk's
// roster and the ranking see 在岗/离岗; this module only tracks and sends the location.

const MIN_GAP_MS = 3000;
const MAX_ACCURACY_M = 100000; // the schema's bound

export class Duty {
  /**
   * @param {(msg: object) => boolean} send   false if the link is down
   * @param {(status: {key: string, acc?: number}) => void} onStatus
   */
  constructor(send, onStatus) {
    this.send = send;
    this.onStatus = onStatus;
    this.watch = null;
    this.fix = null;        // the newest fix not yet sent
    this.lastSent = 0;
    this.timer = null;
    this.battery = null;
    if (navigator.getBattery) {
      navigator.getBattery().then((b) => { this.battery = b; }).catch(() => {});
    }
  }

  get on() {
    return this.watch !== null;
  }

  start() {
    if (this.watch !== null) return;
    if (!window.isSecureContext) return this.onStatus({ key: "geo_insecure" });
    if (!navigator.geolocation) return this.onStatus({ key: "geo_unsupported" });
    this.onStatus({ key: "geo_waiting" });
    this.watch = navigator.geolocation.watchPosition(
      (pos) => this.take(pos), (err) => this.failed(err),
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  }

  stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    this.fix = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.onStatus({ key: "" });
  }

  take(pos) {
    if (this.watch === null) return; // a late callback after going off duty
    const c = pos.coords;
    const num = (v, lo, hi) => (typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi ? v : null);
    this.fix = {
      type: "location", v: 1, lat: c.latitude, lon: c.longitude,
      accuracy_m: num(c.accuracy, 0, MAX_ACCURACY_M), speed_mps: num(c.speed, 0, 500),
      heading: num(c.heading, 0, 360), ts: Math.round(pos.timestamp || Date.now()),
    };
    if (this.battery) this.fix.battery = Math.round(this.battery.level * 100);
    this.onStatus({ key: "duty_sharing", acc: Math.round(c.accuracy) });
    this.flush();
  }

  failed(err) {
    const key = { 1: "geo_denied", 2: "geo_unavailable", 3: "geo_timeout" }[err.code] || "geo_unavailable";
    this.onStatus({ key });
  }

  /** Send the newest fix now, or when MIN_GAP_MS has passed since the last one. */
  flush() {
    if (!this.fix || this.timer) return;
    const wait = this.lastSent + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => { this.timer = null; this.flush(); }, wait);
      return;
    }
    if (this.send(this.fix)) {
      this.fix = null;
      this.lastSent = Date.now();
    }
  }
}
