// Live status of crowd instances (packages). Every element with `data-instance-poll`
// (a row of a table, or the instance page) asks the portal's API — never JD Cloud — for
// the instance, with backoff 1 s, 2 s, 4 s … capped at 15 s, until the status is final.
// Inside it, [data-field=…] elements get the new values and [data-show-when=…] elements
// appear or hide; an `instance:update` event carries each answer to other scripts.

import { getJSON, readJSONScript } from "./api.js";

const FINAL = new Set(["1", "2", "request_failed"]);
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;
const live = readJSONScript("instance-live-status", { labels: {}, thousand_separator: "" });

// Sizes as the server's template shows them in the page's language (Django's
// THOUSAND_SEPARATOR and NUMBER_GROUPING), so a live update looks like a reload.
function formatSize(size) {
  const digits = String(Math.trunc(Number(size)));
  const group = Number(live.grouping) || 0;
  if (!live.thousand_separator || group <= 0) return digits;
  const pattern = new RegExp(`\\B(?=(\\d{${group}})+(?!\\d))`, "g");
  return digits.replace(pattern, live.thousand_separator);
}

function formatElapsed(milliseconds) {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return hours ? `${hours}:${clock}` : clock;
}

const conditions = {
  pending: (data) => !FINAL.has(data.status),
  generated: (data) => data.status === "2",
  failed: (data) => data.status === "1" || data.status === "request_failed",
  stuck: (data) => data.status === "0" && Boolean(data.stuck),
  "live-off": () => false,
};

function setField(scope, name, text) {
  for (const node of scope.querySelectorAll(`[data-field="${name}"]`)) node.textContent = text;
}

function apply(scope, data) {
  scope.dataset.status = data.status;
  for (const node of scope.querySelectorAll('[data-field="status"]')) {
    node.textContent = live.labels[data.status] || data.status;
    node.dataset.status = data.status;
  }
  const size = data.package_size === null || data.package_size === undefined;
  setField(scope, "size", size ? "—" : formatSize(data.package_size));
  setField(scope, "poll-count", String(data.poll_count ?? 0));
  setField(scope, "package-id", data.package_id || "—");
  setField(scope, "error", data.error || "");
  for (const node of scope.querySelectorAll("[data-show-when]")) {
    const test = conditions[node.dataset.showWhen];
    if (test) node.hidden = !test(data);
  }
  scope.dispatchEvent(new CustomEvent("instance:update", { detail: data, bubbles: true }));
}

function startClock(scope) {
  const clock = scope.querySelector('[data-field="elapsed"]');
  if (!clock || !clock.dataset.since) return () => {};
  const since = Date.parse(clock.dataset.since);
  const offset = clock.dataset.serverNow ? Date.parse(clock.dataset.serverNow) - Date.now() : 0;
  const tick = () => {
    clock.textContent = formatElapsed(Date.now() + offset - since);
  };
  tick();
  const interval = setInterval(tick, 1000);
  return (completedAt) => {
    clearInterval(interval);
    if (completedAt) clock.textContent = formatElapsed(Date.parse(completedAt) - since);
  };
}

function watch(scope) {
  let delay = FIRST_DELAY_MS;
  let polls = 0;
  const stopClock = startClock(scope);
  const liveOff = () => {
    scope.dataset.live = "off";
    for (const node of scope.querySelectorAll('[data-show-when="live-off"]')) node.hidden = false;
  };
  const tick = async () => {
    try {
      const data = await getJSON(scope.dataset.instancePoll);
      polls += 1;
      scope.dataset.browserPolls = String(polls);
      setField(scope, "browser-polls", String(polls));
      apply(scope, data);
      if (FINAL.has(data.status)) {
        scope.dataset.live = "done";
        stopClock(data.completed_at);
        return;
      }
    } catch (error) {
      if ([401, 403, 404].includes(error.status)) {
        stopClock();
        liveOff(); // e.g. a read-only preview session, which has no API access
        return;
      }
    }
    setTimeout(tick, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  };
  scope.dataset.live = "on";
  setTimeout(tick, delay);
  delay = Math.min(delay * 2, MAX_DELAY_MS);
}

for (const scope of document.querySelectorAll("[data-instance-poll]")) {
  if (!FINAL.has(scope.dataset.status)) watch(scope);
}
