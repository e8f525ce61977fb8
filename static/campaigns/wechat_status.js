// Live status of a WeChat campaign: the page asks the portal's API (never JD Cloud)
// for the campaign with backoff 1 s, 2 s, 4 s … capped at 15 s until its status is
// final, and shows status, expected and actual recipients, remark and last error.
// Also counts the cancel remark's characters against its limit.

import { format, formatNumber, getJSON, readJSONScript } from "./api.js";

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;
const live = readJSONScript("wechat-live", { labels: {} });
const scope = document.getElementById("wechat-campaign");

function setField(name, text) {
  for (const node of scope.querySelectorAll(`[data-field="${name}"]`)) node.textContent = text;
}

function show(name, visible) {
  for (const node of scope.querySelectorAll(`[data-show-when="${name}"]`)) node.hidden = !visible;
}

function statusText(data) {
  if (data.activity_status === null || data.activity_status === undefined) {
    return data.sync_error ? live.notCreated : live.creating;
  }
  return live.labels[String(data.activity_status)] || String(data.activity_status);
}

function apply(data) {
  const status = data.activity_status ?? "";
  scope.dataset.status = String(status);
  for (const node of scope.querySelectorAll('[data-field="status"]')) {
    node.dataset.status = String(status);
    node.textContent = statusText(data);
  }
  setField("status-text", statusText(data));
  setField("pre_num", data.pre_num === null ? "—" : formatNumber(data.pre_num, live.numbers));
  setField("act_num", data.act_num === null ? "—" : formatNumber(data.act_num, live.numbers));
  setField("remark", data.remark || "");
  setField("sync_error", data.sync_error || "");
  show("remark", Boolean(data.remark));
  show("sync-error", Boolean(data.sync_error));
  if (data.is_final) {
    scope.dataset.final = "true";
    show("live", false);
    show("cancellable", false);
  }
}

function watch(url) {
  let delay = FIRST_DELAY_MS;
  let polls = 0;
  const tick = async () => {
    try {
      const data = await getJSON(url);
      polls += 1;
      scope.dataset.browserPolls = String(polls);
      setField("browser-polls", String(polls));
      apply(data);
      if (data.is_final) {
        scope.dataset.live = "done";
        return;
      }
    } catch (error) {
      if ([401, 403, 404].includes(error.status)) {
        scope.dataset.live = "off"; // e.g. a read-only preview session, without API access
        show("live", false);
        show("live-off", true);
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

function countRemark() {
  const input = document.getElementById("cancel-remark");
  const counter = document.getElementById("remark-count");
  if (!input || !counter) return;
  const update = () => {
    const max = Number(input.dataset.max);
    counter.textContent = format(live.remarkCount, { count: input.value.length, max });
    counter.classList.toggle("error", input.value.length > max);
  };
  input.addEventListener("input", update);
  update();
}

if (scope) {
  if (scope.dataset.wechatPoll) watch(scope.dataset.wechatPoll);
  countRemark();
}
