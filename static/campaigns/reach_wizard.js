// The reach wizard: type → template → content → pre-flight → send.
//
// Templates and signatures come from the portal's API (which asks JD Cloud); the text is
// previewed live as it is typed (signature + rendered template, characters, SMS count);
// the pre-flight (`POST /api/v1/reaches/preflight/`) is asked again shortly after every
// change, and each of its blocking problems is shown beside the field its path names.
// Send is a plain form POST to the page, enabled only while the last pre-flight of the
// form as it stands said `ok`. Every string shown comes from the page (`reach-config`).

import { ApiError, format, formatNumber, getJSON, postJSON, readJSONScript } from "./api.js";

const config = readJSONScript("reach-config");
const initial = readJSONScript("reach-initial", {}) || {};
const labels = config.labels;
const form = document.getElementById("reach-wizard");
const $ = (id) => document.getElementById(id);
const PREFLIGHT_DELAY_MS = 450;
const URL_PATTERN = /https?:\/\/[^\s]+/;
const unsubscribe = new RegExp(config.unsubscribe);

// The API's input field names → the pre-flight's paths, for 400s of the serializer.
const INPUT_PATHS = {
  type: "type",
  template_id: "params.template_id",
  template_params: "params.template_params",
  signature_id: "params.signature_id",
  batch_id: "params.batch_id",
  send_time: "params.send_time",
  instance: "instance",
};

const state = {
  templates: {}, // domain → list, once fetched
  signatures: null,
  template: null,
  preflightTimer: null,
  preflightController: null,
  checkedBody: null, // the JSON of the body the last `ok` pre-flight was for
  sending: false,
};

function selectedType() {
  const checked = form.querySelector('input[name="type"]:checked');
  return checked ? checked.value : "";
}

const isPrivate = (type) => config.privateTypes.includes(type);
const isCoupon = (type) => config.couponTypes.includes(type);

function segments(length) {
  if (length <= config.singleLength) return 1;
  return Math.ceil(length / config.partLength);
}

function paramInputs() {
  return [...$("param-fields").querySelectorAll("input[data-param]")];
}

function paramValues() {
  const values = {};
  for (const input of paramInputs()) values[input.dataset.param] = input.value;
  return values;
}

function signatureName() {
  if (!isPrivate(selectedType())) return config.publicSignature;
  const select = $("reach-signature");
  const option = select.selectedOptions[0];
  return option && option.value ? option.textContent : "";
}

// --- Steps ----------------------------------------------------------------------------

async function onTypeChange() {
  const type = selectedType();
  $("step-template").hidden = !type;
  const privateType = isPrivate(type);
  $("signature-field").hidden = !privateType;
  $("reach-signature").disabled = !privateType;
  $("batch-field").hidden = !isCoupon(type);
  $("reach-batch").disabled = !isCoupon(type);
  if (!type) return;
  if (privateType) loadSignatures();
  await loadTemplates(privateType ? 2 : 1);
}

async function loadTemplates(domain, wanted = "") {
  const select = $("reach-template");
  const status = $("template-status");
  const previous = wanted || select.value;
  select.replaceChildren(new Option(labels.loading, ""));
  select.disabled = true;
  status.textContent = "";
  try {
    if (!state.templates[domain]) {
      state.templates[domain] = await getJSON(`${config.urls.templates}?type=${domain}`);
    }
  } catch (error) {
    select.replaceChildren(new Option(labels.chooseTemplate, ""));
    status.textContent = format(labels.loadFailed, { error: describe(error) });
    status.classList.add("error");
    chooseTemplate();
    return;
  }
  status.classList.remove("error");
  const templates = state.templates[domain];
  const options = [new Option(labels.chooseTemplate, "")];
  for (const template of templates) {
    const option = new Option(`${template.template_name} (${template.template_id})`, template.template_id);
    options.push(option);
  }
  select.replaceChildren(...options);
  select.disabled = false;
  if (!templates.length) status.textContent = labels.noTemplates;
  if (templates.some((t) => t.template_id === previous)) select.value = previous;
  chooseTemplate();
}

function currentTemplates() {
  return state.templates[isPrivate(selectedType()) ? 2 : 1] || [];
}

function chooseTemplate() {
  const id = $("reach-template").value;
  const template = currentTemplates().find((t) => t.template_id === id) || null;
  state.template = template;
  const content = $("template-content");
  content.hidden = !template;
  content.textContent = template ? template.template_content : "";
  $("step-params").hidden = !template;
  $("step-preflight").hidden = !template;
  buildParamFields(template);
  changed();
}

function buildParamFields(template) {
  const container = $("param-fields");
  const kept = { ...(initial.template_params || {}), ...paramValues() };
  container.replaceChildren();
  const names = template ? template.template_params : [];
  $("no-params").hidden = !template || names.length > 0;
  $("no-params").textContent = labels.noPlaceholders;
  const row = $("param-row-template");
  for (const name of names) {
    const field = row.content.firstElementChild.cloneNode(true);
    const input = field.querySelector("input");
    const id = `param-${name}`;
    const path = `params.template_params.${name}`;
    field.dataset.param = name;
    field.querySelector("label").htmlFor = id;
    field.querySelector("label").textContent = `{${name}}`;
    field.querySelector(".param-hint").textContent = format(labels.placeholderHint, { name });
    input.id = id;
    input.name = `param_${name}`;
    input.dataset.param = name;
    input.dataset.path = path;
    input.value = kept[name] || "";
    field.querySelector("ul.errors").dataset.errorsFor = path;
    const button = field.querySelector("button.shorten");
    button.addEventListener("click", () => shorten(input, button, field));
    input.addEventListener("input", () => updateShorten(input, button));
    updateShorten(input, button);
    container.append(field);
  }
}

async function loadSignatures() {
  const select = $("reach-signature");
  const status = $("signature-status");
  if (state.signatures) return;
  select.replaceChildren(new Option(labels.loading, ""));
  try {
    state.signatures = await getJSON(config.urls.signatures);
  } catch (error) {
    select.replaceChildren(new Option(labels.chooseSignature, ""));
    status.textContent = format(labels.loadFailed, { error: describe(error) });
    status.classList.add("error");
    return;
  }
  status.classList.remove("error");
  const options = [new Option(labels.chooseSignature, "")];
  for (const signature of state.signatures) {
    options.push(new Option(signature.signature_name, signature.signature_id));
  }
  select.replaceChildren(...options);
  status.textContent = state.signatures.length ? "" : labels.noSignatures;
  if (initial.signature_id && state.signatures.some((s) => s.signature_id === initial.signature_id)) {
    select.value = initial.signature_id;
  }
  changed();
}

// --- Short links ----------------------------------------------------------------------

function longUrl(value) {
  const match = value.match(URL_PATTERN);
  return match && match[0].length > config.longUrlLength ? match[0] : "";
}

function updateShorten(input, button) {
  button.hidden = !longUrl(input.value);
}

async function shorten(input, button, field) {
  const url = longUrl(input.value);
  if (!url) return;
  const errors = field.querySelector("ul.errors");
  const hint = field.querySelector(".param-hint");
  button.disabled = true;
  button.textContent = labels.shortening;
  errors.replaceChildren();
  try {
    const link = await postJSON(config.urls.shortLinks, { url });
    input.value = input.value.replace(url, link.short_url);
    hint.textContent = format(labels.shortened, { url: link.short_url });
    input.removeAttribute("aria-invalid");
  } catch (error) {
    const problems = error instanceof ApiError && error.body && Array.isArray(error.body.errors)
      ? error.body.errors.map((problem) => problem.message)
      : [format(labels.loadFailed, { error: describe(error) })];
    for (const message of problems) errors.append(item(message));
    input.setAttribute("aria-invalid", "true");
  } finally {
    button.disabled = false;
    button.textContent = labels.shorten;
    updateShorten(input, button);
    changed();
  }
}

// --- The live preview -----------------------------------------------------------------

function renderPreview() {
  const box = $("preview-text");
  const template = state.template;
  if (!template) return;
  const values = paramValues();
  const nodes = [];
  let text = signatureName();
  if (text) nodes.push(span("signature", text));
  const pattern = /\{(\w+)\}/g;
  let last = 0;
  for (const match of template.template_content.matchAll(pattern)) {
    nodes.push(document.createTextNode(template.template_content.slice(last, match.index)));
    const value = values[match[1]];
    if (value) {
      nodes.push(span("filled", value));
      text += template.template_content.slice(last, match.index) + value;
    } else {
      const mark = document.createElement("mark");
      mark.textContent = match[0];
      nodes.push(mark);
      text += template.template_content.slice(last, match.index) + match[0];
    }
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(template.template_content.slice(last)));
  text += template.template_content.slice(last);
  box.replaceChildren(...nodes);
  box.dataset.text = text;
  const count = segments(text.length);
  $("preview-length").dataset.count = String(text.length);
  $("preview-length").textContent = format(labels.characters, { count: text.length });
  $("preview-segments").dataset.count = String(count);
  $("preview-segments").textContent = format(labels.segments, { count });
  const note = $("preview-unsubscribe");
  const ok = unsubscribe.test(text);
  note.dataset.ok = String(ok);
  note.textContent = ok ? labels.unsubscribeOk : labels.unsubscribeMissing;
}

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

function item(text) {
  const node = document.createElement("li");
  node.textContent = text;
  return node;
}

// --- The pre-flight -------------------------------------------------------------------

function requestBody() {
  const type = selectedType();
  const send = $("reach-send-time").value;
  return {
    instance: config.instance,
    type,
    template_id: $("reach-template").value,
    template_params: paramValues(),
    signature_id: isPrivate(type) ? $("reach-signature").value : "",
    batch_id: isCoupon(type) ? $("reach-batch").value.trim() : "",
    send_time: send || null,
  };
}

function changed() {
  renderPreview();
  state.checkedBody = null;
  updateSend();
  clearTimeout(state.preflightTimer);
  if (!state.template) {
    setPreflightState("idle", labels.incomplete);
    return;
  }
  setPreflightState("checking", labels.checking);
  state.preflightTimer = setTimeout(preflight, PREFLIGHT_DELAY_MS);
}

function setPreflightState(name, text) {
  const node = $("preflight-state");
  node.dataset.state = name;
  node.textContent = text;
  form.dataset.preflight = name;
}

async function preflight() {
  if (state.preflightController) state.preflightController.abort();
  const controller = new AbortController();
  state.preflightController = controller;
  const body = requestBody();
  setPreflightState("checking", labels.checking);
  try {
    const check = await postJSON(config.urls.preflight, body, { signal: controller.signal });
    if (controller.signal.aborted) return;
    showPreflight(check);
    state.checkedBody = check.ok ? JSON.stringify(body) : null;
  } catch (error) {
    if (error.name === "AbortError") return;
    state.checkedBody = null;
    if (error instanceof ApiError && error.status === 400 && error.body) {
      showPreflight({ ok: false, blocking: inputProblems(error.body), warnings: [] });
    } else {
      clearProblems();
      setPreflightState("failed", format(labels.checkFailed, { error: describe(error) }));
    }
  } finally {
    if (state.preflightController === controller) state.preflightController = null;
    updateSend();
  }
}

function inputProblems(body) {
  if (Array.isArray(body.errors)) return body.errors;
  const problems = [];
  for (const [name, messages] of Object.entries(body)) {
    for (const message of [].concat(messages)) {
      problems.push({ path: INPUT_PATHS[name] || name, message: String(message) });
    }
  }
  return problems;
}

function clearProblems() {
  for (const list of form.querySelectorAll("ul.errors[data-errors-for]")) list.replaceChildren();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  $("preflight-blocking").replaceChildren();
  $("preflight-warnings").replaceChildren();
}

function showPreflight(check) {
  clearProblems();
  const fact = (name, text) => {
    const node = form.querySelector(`[data-preflight="${name}"]`);
    if (!node) return;
    node.textContent = text;
    node.dataset.value = name in check && check[name] !== null ? String(check[name]) : "";
  };
  if ("package_size" in check) {
    fact("package_size", formatNumber(check.package_size, config.numbers));
    fact("segments", formatNumber(check.segments, config.numbers));
    fact("length", check.length ? format(labels.characters, { count: check.length }) : "—");
    fact("cost", formatNumber(check.cost, config.numbers));
    fact("balance", formatNumber(check.balance, config.numbers));
    fact("balance_domain", check.balance_domain ? `(${labels.domains[check.balance_domain] || check.balance_domain})` : "");
    // A refused private signature: the check's text falls back to the public one.
    const noSignature = (check.blocking || []).some((p) => p.path === "params.signature_id");
    fact("signature", noSignature ? "—" : check.signature || "—");
    const unsubscribeNode = form.querySelector('[data-preflight="unsubscribe"]');
    const ok = Boolean(check.text) && unsubscribe.test(check.text);
    unsubscribeNode.dataset.ok = check.text ? String(ok) : "";
    unsubscribeNode.textContent = check.text ? (ok ? labels.unsubscribeOk : labels.unsubscribeMissing) : "—";
  }
  for (const problem of check.blocking || []) {
    const list = form.querySelector(`ul.errors[data-errors-for="${CSS.escape(problem.path)}"]`);
    const target = list && !list.closest("[hidden]") ? list : $("preflight-blocking");
    target.append(item(problem.message));
    const field = form.querySelector(`[data-path="${CSS.escape(problem.path)}"]`);
    if (field) field.setAttribute("aria-invalid", "true");
  }
  for (const warning of check.warnings || []) $("preflight-warnings").append(item(warning.message));
  if (check.ok) setPreflightState("ok", labels.ready);
  else setPreflightState("blocked", labels.blocked);
}

function updateSend() {
  const body = JSON.stringify(requestBody());
  const ready = !state.sending && state.checkedBody !== null && state.checkedBody === body;
  $("send-reach").disabled = !ready;
  form.dataset.ready = String(ready);
}

function describe(error) {
  return error instanceof ApiError ? error.detail : error.message;
}

// --- Wiring ---------------------------------------------------------------------------

async function restore() {
  if (!initial.type) return;
  const radio = form.querySelector(`input[name="type"][value="${CSS.escape(initial.type)}"]`);
  if (!radio) return;
  radio.checked = true;
  $("reach-batch").value = initial.batch_id || "";
  $("reach-send-time").value = initial.send_time || "";
  const type = initial.type;
  $("step-template").hidden = false;
  $("signature-field").hidden = !isPrivate(type);
  $("reach-signature").disabled = !isPrivate(type);
  $("batch-field").hidden = !isCoupon(type);
  $("reach-batch").disabled = !isCoupon(type);
  if (isPrivate(type)) await loadSignatures();
  await loadTemplates(isPrivate(type) ? 2 : 1, initial.template_id || "");
  if (initial.preflight) showPreflight(initial.preflight);
}

function start() {
  if (form.dataset.disabled === "true") return;
  for (const radio of form.querySelectorAll('input[name="type"]')) {
    radio.addEventListener("change", onTypeChange);
  }
  $("reach-template").addEventListener("change", chooseTemplate);
  form.addEventListener("input", (event) => {
    if (event.target.name === "type" || event.target.id === "reach-template") return;
    changed();
  });
  $("recheck").addEventListener("click", () => {
    clearTimeout(state.preflightTimer);
    preflight();
  });
  form.addEventListener("submit", (event) => {
    updateSend();
    if ($("send-reach").disabled) {
      event.preventDefault();
      return;
    }
    state.sending = true;
    // Disabled after this tick, so the browser still posts the form once.
    setTimeout(() => {
      $("send-reach").disabled = true;
    });
  });
  setPreflightState("idle", labels.incomplete);
  restore().finally(() => {
    form.dataset.wizard = "ready";
  });
}

start();
