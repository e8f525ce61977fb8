// Talking to the portal's own REST API (/api/v1/) with the session and its CSRF token.
// Failures throw an ApiError carrying the HTTP status and the answer's JSON body, so
// the caller can place `{"errors":[{path,message}]}` or a pre-flight beside its fields.

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }

  // JD Cloud's words when the API relays them (`detail`), else the HTTP status.
  get detail() {
    if (this.body && typeof this.body.detail === "string") return this.body.detail;
    return this.message;
  }
}

export function csrfToken() {
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function getJSON(url, { signal } = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal,
  });
  return answer(response);
}

export async function postJSON(url, body, { signal } = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify(body),
    signal,
  });
  return answer(response);
}

export function readJSONScript(id, fallback = null) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

// "%(name)s" placeholders, as Django's gettext strings carry them.
export function format(text, values) {
  return String(text).replace(/%\((\w+)\)s/g, (match, name) =>
    name in values ? String(values[name]) : match,
  );
}

// Numbers as the server's templates show them in the page's language (Django's
// THOUSAND_SEPARATOR and NUMBER_GROUPING, which the page passes on), so a live update
// looks like a reload.
export function formatNumber(value, numbers = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const digits = String(Math.trunc(Number(value)));
  const group = Number(numbers.grouping) || 0;
  if (!numbers.separator || group <= 0) return digits;
  const pattern = new RegExp(`\\B(?=(\\d{${group}})+(?!\\d))`, "g");
  return digits.replace(pattern, numbers.separator);
}
