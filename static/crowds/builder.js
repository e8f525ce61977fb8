// The condition builder: edits the builder tree (see crowds/conditions.py), asks the
// portal to compile it (POST /api/v1/conditions/compile/) for the sentence, the DSL, the
// package type and every error with its path, and posts the tree with the form. The
// browser never writes the DSL itself. Every label comes translated from the page.

import { postJSON, readJSONScript } from "./api.js";

const ENUM_OPS = ["eq", "in"];
const FREE_OPS = ["eq", "gte", "lte", "gt", "lt", "between"];
const MAX_DEPTH = 3; // sub-groups the UI offers (the server accepts more)
const DEBOUNCE_MS = 400;

const labels = readJSONScript("builder-labels", { ops: {}, packageTypes: {} });
const catalog = readJSONScript("tag-catalog", { groups: [] });
const groupByCode = new Map(catalog.groups.map((group) => [group.table_cd, group]));
const tagByCode = new Map();
for (const group of catalog.groups) {
  for (const tag of group.tags) tagByCode.set(tag.tag, { ...tag, table_cd: group.table_cd });
}

const root = document.getElementById("builder");
const form = document.getElementById("crowd-form");
const blocksHost = document.getElementById("builder-blocks");
const excludeHost = document.getElementById("builder-exclude");
const emptyNote = document.getElementById("builder-empty");
const topErrors = document.getElementById("builder-errors");
const hidden = document.getElementById("id_builder");
const preview = {
  state: document.getElementById("preview-state"),
  sentence: document.getElementById("preview-sentence"),
  packageType: document.getElementById("preview-package-type"),
  dsl: document.getElementById("preview-dsl"),
};

// --- helpers ---------------------------------------------------------------------------

function h(name, attrs = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function format(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

function isEnumTag(code) {
  const tag = tagByCode.get(code);
  return Boolean(tag && tag.enums.length);
}

function opsFor(code) {
  if (!code) return ["eq"];
  if (!tagByCode.has(code)) return [...new Set([...ENUM_OPS, ...FREE_OPS])];
  return isEnumTag(code) ? ENUM_OPS : FREE_OPS;
}

function opLabel(op, code) {
  if (op === "eq" && !isEnumTag(code)) return labels.ops.eqNumber;
  return labels.ops[op] || op;
}

// An enum value may be saved as its code `<TAG>_<NN>` (1-based): show the display value.
function enumDisplay(code, value) {
  const tag = tagByCode.get(code);
  if (!tag || !tag.enums.length || typeof value !== "string") return value;
  if (tag.enums.includes(value)) return value;
  const suffix = value.startsWith(`${code}_`) ? value.slice(code.length + 1) : "";
  if (/^\d{2,}$/.test(suffix)) {
    const index = Number.parseInt(suffix, 10);
    if (index >= 1 && index <= tag.enums.length) return tag.enums[index - 1];
  }
  return value;
}

function numberOrText(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}

// Free values typed for "=" (shop ids, SKUs, search words): numbers stay numbers unless
// a leading zero or their size would change them.
function freeValue(text) {
  const trimmed = String(text).trim();
  if (/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  return trimmed;
}

// --- the tree ----------------------------------------------------------------------------

function relationOf(node, fallback = "must") {
  return node && (node.relation === "must" || node.relation === "should") ? node.relation : fallback;
}

function normalizeItem(item) {
  if (item && typeof item === "object" && Array.isArray(item.items) && !("tag" in item)) {
    return { relation: relationOf(item), items: item.items.map(normalizeItem) };
  }
  const rule = { tag: (item && item.tag) || "", op: (item && item.op) || "eq" };
  for (const key of ["value", "values", "min", "max"]) {
    if (item && key in item) rule[key] = item[key];
  }
  if (isEnumTag(rule.tag)) {
    if ("value" in rule) rule.value = enumDisplay(rule.tag, rule.value);
    if (Array.isArray(rule.values)) rule.values = rule.values.map((v) => enumDisplay(rule.tag, v));
  }
  return rule;
}

function normalizeBlock(block) {
  return {
    group: (block && block.group) || "",
    relation: relationOf(block),
    items: Array.isArray(block && block.items) ? block.items.map(normalizeItem) : [],
  };
}

function normalizeTree(tree) {
  return {
    relation: relationOf(tree),
    blocks: Array.isArray(tree && tree.blocks) ? tree.blocks.map(normalizeBlock) : [],
    exclude: Array.isArray(tree && tree.exclude) ? tree.exclude.map(normalizeBlock) : [],
  };
}

const newRule = () => ({ tag: "", op: "eq", value: "" });
const newBlock = () => ({ group: "", relation: "must", items: [] });

function changeTag(rule, code) {
  rule.tag = code;
  for (const key of ["value", "values", "min", "max"]) delete rule[key];
  if (!opsFor(code).includes(rule.op)) rule.op = opsFor(code)[0];
  if (rule.op === "in") rule.values = [];
  else if (rule.op !== "between") rule.value = "";
}

// Values the new operator can use are carried over; the others stay in the tree (the
// server ignores fields an operator does not use), so switching back restores them.
function changeOp(rule, op) {
  const previous = rule.op;
  rule.op = op;
  const empty = (value) => value === undefined || value === null || value === "";
  if (op === "in" && (!Array.isArray(rule.values) || !rule.values.length) && !empty(rule.value)) {
    rule.values = [rule.value];
  }
  if (op === "in" && !Array.isArray(rule.values)) rule.values = [];
  if (op === "eq" && previous === "in" && empty(rule.value) && rule.values && rule.values.length) {
    rule.value = rule.values[0];
  }
  if (op === "between" && empty(rule.min) && typeof rule.value === "number") rule.min = rule.value;
  if (!["in", "between"].includes(op) && previous === "between" && empty(rule.value)) {
    rule.value = rule.min;
  }
}

// Rules whose tag is not of `group` go when the block's group changes.
function keepGroup(items, group) {
  return items
    .map((item) => {
      if ("tag" in item) return !item.tag || tagByCode.get(item.tag)?.table_cd === group ? item : null;
      const kept = keepGroup(item.items, group);
      return kept.length ? { ...item, items: kept } : null;
    })
    .filter(Boolean);
}

let tree = normalizeTree(readJSONScript("builder-initial"));

// --- rendering ---------------------------------------------------------------------------

function groupLabel(group) {
  const types = new Set(group.tags.map((tag) => tag.tag_type));
  const kind = [types.has("1") && labels.public, types.has("0") && labels.private]
    .filter(Boolean)
    .join(" / ");
  const names = group.tags.slice(0, 3).map((tag) => tag.instruction);
  const more = group.tags.length > 3 ? "…" : "";
  return `${group.table_cd} · ${kind} · ${names.join("、")}${more}`;
}

function relationSelect(node, path, onChange) {
  const select = h(
    "select",
    { class: "cb-relation", "data-path": `${path}.relation`, "aria-label": labels.relation },
    h("option", { value: "must" }, labels.allOf),
    h("option", { value: "should" }, labels.anyOf),
  );
  select.value = node.relation;
  select.addEventListener("change", () => {
    node.relation = select.value;
    onChange();
  });
  return select;
}

function removeButton(list, index, text, focusPath) {
  return h(
    "button",
    {
      type: "button",
      class: "cb-remove",
      title: text,
      "aria-label": text,
      onclick: () => {
        list.splice(index, 1);
        render(focusPath);
      },
    },
    "×",
  );
}

function renderValue(rule, path) {
  const tag = tagByCode.get(rule.tag);
  if (!rule.tag) return h("span", { class: "cb-value" });
  if (tag && tag.enums.length && rule.op === "in") {
    const chosen = new Set((rule.values || []).map(String));
    const box = h("span", {
      class: "cb-value cb-values",
      role: "group",
      "aria-label": labels.value,
      "data-path": `${path}.values`,
    });
    for (const value of tag.enums) {
      const checkbox = h("input", { type: "checkbox", value, checked: chosen.has(value) });
      checkbox.addEventListener("change", () => {
        const picked = new Set(
          [...box.querySelectorAll("input:checked")].map((input) => input.value),
        );
        rule.values = tag.enums.filter((one) => picked.has(one));
        changed();
      });
      box.append(h("label", { class: "cb-choice" }, checkbox, value));
    }
    return box;
  }
  if (tag && tag.enums.length) {
    const select = h(
      "select",
      { class: "cb-value", "data-path": `${path}.value`, "aria-label": labels.value },
      h("option", { value: "" }, labels.chooseValue),
      tag.enums.map((value) => h("option", { value }, value)),
    );
    if (rule.value !== undefined && rule.value !== "" && !tag.enums.includes(String(rule.value))) {
      select.append(h("option", { value: String(rule.value) }, String(rule.value)));
    }
    select.value = rule.value === undefined || rule.value === null ? "" : String(rule.value);
    select.addEventListener("change", () => {
      rule.value = select.value;
      changed();
    });
    return select;
  }
  const numberInput = (key, label) => {
    const input = h("input", {
      type: "number",
      step: "any",
      class: "cb-number",
      "data-path": `${path}.${key}`,
      "aria-label": label,
      placeholder: label,
    });
    input.value = rule[key] === undefined || rule[key] === null ? "" : String(rule[key]);
    input.addEventListener("input", () => {
      const value = numberOrText(input.value);
      if (value === undefined) delete rule[key];
      else rule[key] = value;
      changed();
    });
    return input;
  };
  if (rule.op === "between") {
    return h(
      "span",
      { class: "cb-value cb-between" },
      numberInput("min", labels.from),
      h("span", { "aria-hidden": "true" }, "–"),
      numberInput("max", labels.to),
    );
  }
  if (rule.op === "eq") {
    const input = h("input", {
      type: "text",
      class: "cb-text",
      "data-path": `${path}.value`,
      "aria-label": labels.value,
      placeholder: labels.value,
    });
    input.value = rule.value === undefined || rule.value === null ? "" : String(rule.value);
    input.addEventListener("input", () => {
      rule.value = freeValue(input.value);
      changed();
    });
    return input;
  }
  return numberInput("value", labels.value);
}

function renderRule(rule, list, index, path, group) {
  const tags = groupByCode.get(group)?.tags || [];
  const tagSelect = h(
    "select",
    { class: "cb-tag", "data-path": `${path}.tag`, "aria-label": labels.tag, disabled: !group },
    h("option", { value: "" }, labels.chooseTag),
    tags.map((tag) =>
      h("option", { value: tag.tag, title: tag.enums.join(" / ") }, `${tag.instruction} · ${tag.tag}`),
    ),
  );
  if (rule.tag && !tags.some((tag) => tag.tag === rule.tag)) {
    tagSelect.append(h("option", { value: rule.tag }, rule.tag));
  }
  tagSelect.value = rule.tag;
  tagSelect.addEventListener("change", () => {
    changeTag(rule, tagSelect.value);
    render(`${path}.op`);
  });

  const opSelect = h(
    "select",
    { class: "cb-op", "data-path": `${path}.op`, "aria-label": labels.operator, disabled: !rule.tag },
    opsFor(rule.tag).map((op) => h("option", { value: op }, opLabel(op, rule.tag))),
  );
  opSelect.value = rule.op;
  opSelect.addEventListener("change", () => {
    changeOp(rule, opSelect.value);
    render(`${path}.op`);
  });

  return h(
    "div",
    { class: "cb-rule", "data-path": path, "data-errors-host": true },
    h(
      "div",
      { class: "cb-rule-controls" },
      tagSelect,
      opSelect,
      renderValue(rule, path),
      removeButton(list, index, labels.remove),
    ),
    h("ul", { class: "errors" }),
  );
}

function renderItems(node, path, group, depth) {
  const box = h("div", { class: "cb-items", "data-path": `${path}.items` });
  node.items.forEach((item, index) => {
    if (index > 0) {
      box.append(
        h("div", { class: "cb-joiner", "aria-hidden": "true" }, node.relation === "should" ? labels.or : labels.and),
      );
    }
    const itemPath = `${path}.items[${index}]`;
    box.append(
      "tag" in item
        ? renderRule(item, node.items, index, itemPath, group)
        : renderSubgroup(item, node.items, index, itemPath, group, depth + 1),
    );
  });
  return box;
}

function itemActions(node, path, group, depth) {
  const addRule = h(
    "button",
    {
      type: "button",
      class: "linkish cb-add-rule",
      disabled: !group,
      onclick: () => {
        node.items.push(newRule());
        render(`${path}.items[${node.items.length - 1}].tag`);
      },
    },
    `+ ${labels.addRule}`,
  );
  const addSub =
    depth < MAX_DEPTH
      ? h(
          "button",
          {
            type: "button",
            class: "linkish cb-add-subgroup",
            disabled: !group,
            onclick: () => {
              node.items.push({ relation: "should", items: [newRule()] });
              render(`${path}.items[${node.items.length - 1}].items[0].tag`);
            },
          },
          `+ ${labels.addSubgroup}`,
        )
      : null;
  return h("div", { class: "cb-actions" }, addRule, addSub);
}

function renderSubgroup(node, list, index, path, group, depth) {
  return h(
    "div",
    { class: "cb-sub", "data-path": path, "data-errors-host": true },
    h(
      "div",
      { class: "cb-sub-head" },
      h("span", { class: "cb-sub-title" }, labels.subgroup),
      relationSelect(node, path, () => render(`${path}.relation`)),
      removeButton(list, index, labels.remove),
    ),
    h("ul", { class: "errors" }),
    renderItems(node, path, group, depth),
    itemActions(node, path, group, depth),
  );
}

function renderBlock(block, list, index, kind) {
  const path = `builder.${kind}[${index}]`;
  const title = format(kind === "blocks" ? labels.block : labels.exclusion, { number: index + 1 });
  const groupSelect = h(
    "select",
    { class: "cb-group", "data-path": `${path}.group`, "aria-label": labels.group },
    h("option", { value: "" }, labels.chooseGroup),
    catalog.groups.map((group) => h("option", { value: group.table_cd }, groupLabel(group))),
  );
  if (block.group && !groupByCode.has(block.group)) {
    groupSelect.append(h("option", { value: block.group }, block.group));
  }
  groupSelect.value = block.group;
  groupSelect.addEventListener("change", () => {
    block.group = groupSelect.value;
    block.items = keepGroup(block.items, block.group);
    if (!block.items.length && block.group) block.items.push(newRule());
    render(`${path}.items[0].tag`);
  });
  const noTags =
    block.group && !(groupByCode.get(block.group)?.tags || []).length
      ? h("p", { class: "hint" }, labels.noTags)
      : null;
  return h(
    "fieldset",
    { class: `cb-block cb-${kind}`, "data-path": path, "data-errors-host": true },
    h("legend", {}, title),
    h(
      "div",
      { class: "cb-block-head" },
      h("label", { class: "cb-group-label" }, h("span", {}, labels.group), groupSelect),
      relationSelect(block, path, () => render(`${path}.relation`)),
      h(
        "button",
        {
          type: "button",
          class: "linkish cb-remove-block",
          onclick: () => {
            list.splice(index, 1);
            render();
          },
        },
        labels.removeBlock,
      ),
    ),
    noTags,
    h("ul", { class: "errors" }),
    renderItems(block, path, block.group, 0),
    itemActions(block, path, block.group, 0),
  );
}

function joined(nodes, word) {
  const out = [];
  nodes.forEach((node, index) => {
    if (index > 0) out.push(h("div", { class: "cb-joiner cb-joiner-block", "aria-hidden": "true" }, word));
    out.push(node);
  });
  return out;
}

function render(focusPath) {
  const word = tree.relation === "should" ? labels.or : labels.and;
  blocksHost.replaceChildren(
    ...joined(tree.blocks.map((block, i) => renderBlock(block, tree.blocks, i, "blocks")), word),
  );
  excludeHost.replaceChildren(
    ...joined(
      tree.exclude.map((block, i) => renderBlock(block, tree.exclude, i, "exclude")),
      labels.or,
    ),
  );
  for (const radio of root.querySelectorAll("input[name=builder_relation]")) {
    radio.checked = radio.value === tree.relation;
  }
  emptyNote.hidden = tree.blocks.length > 0;
  if (focusPath) {
    const target = root.querySelector(`[data-path="${CSS.escape(focusPath)}"]`);
    if (target && !target.disabled) target.focus();
  }
  changed();
}

// --- errors ------------------------------------------------------------------------------

const LAST_SEGMENT = /(\.[^.[]*|\[\d+\])$/;

// The element a path points at, or the nearest one above it: "builder.blocks[0].items[1].values[2]"
// falls back to "...items[1].values", then "...items[1]".
function findTarget(path) {
  let current = path;
  while (current) {
    const found = root.querySelector(`[data-path="${CSS.escape(current)}"]`);
    if (found) return found;
    const parent = current.replace(LAST_SEGMENT, "");
    if (parent === current) break;
    current = parent;
  }
  return null;
}

function placeErrors(errors) {
  for (const node of root.querySelectorAll(".cb-error")) node.remove();
  for (const node of root.querySelectorAll(".invalid")) {
    node.classList.remove("invalid");
    node.removeAttribute("aria-invalid");
  }
  for (const error of errors) {
    const path = /^(builder|condition)\b/.test(error.path) ? error.path : `builder.${error.path}`;
    const target = path.startsWith("builder") ? findTarget(path) : null;
    if (target) {
      target.classList.add("invalid");
      if (target.matches("input, select, textarea")) target.setAttribute("aria-invalid", "true");
    }
    const host = target ? target.closest("[data-errors-host]") : root;
    const list = host && host !== root ? host.querySelector(":scope > .errors") : topErrors;
    list.append(h("li", { class: "cb-error", "data-error-path": error.path }, error.message));
  }
}

// --- preview -----------------------------------------------------------------------------

let timer = null;
let sequence = 0;
let inFlight = null;

function setState(state, text) {
  preview.state.dataset.state = state;
  preview.state.textContent = text;
}

function showResult(result) {
  preview.sentence.textContent = result.description || "—";
  const type = result.package_type ? String(result.package_type) : "";
  preview.packageType.textContent = type ? labels.packageTypes[type] || type : "—";
  preview.packageType.dataset.packageType = type;
  preview.dsl.textContent = result.condition ? JSON.stringify(result.condition, null, 2) : "";
  const errors = result.errors || [];
  placeErrors(errors);
  if (errors.length) setState("invalid", labels.fixErrors);
  else setState("valid", labels.ok);
}

function showEmpty() {
  preview.sentence.textContent = "—";
  preview.packageType.textContent = "—";
  preview.packageType.dataset.packageType = "";
  preview.dsl.textContent = "";
  setState("empty", labels.empty);
}

async function compile() {
  const mine = ++sequence;
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  try {
    const result = await postJSON(root.dataset.compileUrl, { builder: tree }, { signal: inFlight.signal });
    if (mine === sequence) showResult(result);
  } catch (error) {
    if (mine === sequence && error.name !== "AbortError") setState("failed", labels.previewFailed);
  }
}

function changed({ initial = false } = {}) {
  hidden.value = JSON.stringify(tree);
  clearTimeout(timer);
  if (!tree.blocks.length) {
    sequence += 1; // an answer still on its way is stale
    showEmpty();
    if (!initial) placeErrors([]);
    return;
  }
  setState("checking", labels.checking);
  timer = setTimeout(compile, initial ? 0 : DEBOUNCE_MS);
}

// --- wiring ------------------------------------------------------------------------------

for (const radio of root.querySelectorAll("input[name=builder_relation]")) {
  radio.addEventListener("change", () => {
    if (radio.checked) tree.relation = radio.value;
    render();
  });
}
document.getElementById("add-block").addEventListener("click", () => {
  tree.blocks.push(newBlock());
  render(`builder.blocks[${tree.blocks.length - 1}].group`);
});
document.getElementById("add-exclusion").addEventListener("click", () => {
  tree.exclude.push(newBlock());
  render(`builder.exclude[${tree.exclude.length - 1}].group`);
});
form.addEventListener("submit", () => {
  hidden.value = JSON.stringify(tree);
});

render();
placeErrors(readJSONScript("builder-initial-errors", []));
changed({ initial: true });
root.dataset.ready = "true";
