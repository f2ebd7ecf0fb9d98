// The inspector page: one vanilla ES module, no framework, nothing to build. It reads /api/state once,
// then listens to /api/events (server-sent events); it never polls. Untrusted text (payloads, response
// bodies, headers) only ever becomes text nodes, never HTML.

const $ = (id) => document.getElementById(id);
const MAX_ITEMS = 50;

/** An element with attributes (`on*` as listeners) and children (strings become text nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(
    ...children.flat().filter((child) => child !== null && child !== undefined && child !== false),
  );
  return element;
}

const time = (iso) => new Date(iso).toLocaleTimeString();

/** A page API call: JSON in, JSON out; a refusal becomes an Error carrying the body's code and fields. */
async function api(path, body, signal) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const json = await response.json();
  if (!response.ok) {
    const error = new Error(json.error?.message ?? `HTTP ${response.status}`);
    Object.assign(error, { code: json.error?.code, fields: json.error?.fields ?? [] });
    throw error;
  }
  return json;
}

function prepend(list, item) {
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

function fieldList(errors) {
  return h(
    "ul",
    { class: "fields" },
    ...errors.map((e) => h("li", {}, h("code", {}, e.path), `: ${e.message}`)),
  );
}

// ---- the endpoint panel, both modes ------------------------------------------------------------------

async function setUpSecret() {
  const input = $("secret");
  input.value = (await api("/api/secret")).secret;
  $("show-secret").addEventListener("click", (event) => {
    const shown = input.type === "text";
    input.type = shown ? "password" : "text";
    event.currentTarget.setAttribute("aria-pressed", String(!shown));
    event.currentTarget.textContent = shown ? "Show" : "Hide";
  });
  $("copy-secret").addEventListener("click", () => copy(input.value, "Secret copied."));
}

async function copy(text, done) {
  try {
    await navigator.clipboard.writeText(text);
    $("copied").textContent = done;
  } catch {
    $("copied").textContent = "Copying is blocked here: select the text and copy it yourself.";
  }
}

// ---- dev mode: compose, send, deliveries --------------------------------------------------------------

function devMode(state) {
  const types = new Map(state.types.map((entry) => [entry.type, entry]));
  const drafts = new Map();
  const select = $("event-type");
  const payload = $("payload");
  const groups = new Map();
  for (const entry of state.types) {
    if (!groups.has(entry.group)) groups.set(entry.group, h("optgroup", { label: entry.group }));
    groups.get(entry.group).append(h("option", { value: entry.type }, entry.type));
  }
  select.append(...groups.values());
  $("target").textContent = state.endpoint.url;

  const fixtureText = (type) => JSON.stringify(types.get(type).fixture, null, 2);
  function showType() {
    const entry = types.get(select.value);
    payload.value = drafts.get(select.value) ?? fixtureText(select.value);
    $("event-description").textContent =
      entry.description +
      (entry.published ? "" : " (a counterpart the SDK adds; not on Optare's published list)");
    validate();
  }

  let pending = null;
  let timer = 0;
  async function validate() {
    pending?.abort();
    pending = new AbortController();
    try {
      const result = await api(
        "/api/validate",
        { type: select.value, payload: payload.value },
        pending.signal,
      );
      payload.setAttribute("aria-invalid", String(!result.valid));
      $("validation").replaceChildren(
        result.valid
          ? h("p", { class: "ok-text" }, `✓ Valid ${select.value} data.`)
          : h(
              "div",
              { class: "fail-text" },
              h("p", {}, "Does not match the schema:"),
              fieldList(result.errors),
            ),
      );
    } catch (error) {
      if (error.name !== "AbortError")
        $("validation").replaceChildren(h("p", { class: "fail-text" }, error.message));
    }
  }
  select.addEventListener("change", showType);
  payload.addEventListener("input", () => {
    drafts.set(select.value, payload.value);
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  });
  $("reset").addEventListener("click", () => {
    drafts.delete(select.value);
    showType();
  });

  async function act(label, call) {
    $("send-result").textContent = `${label}…`;
    try {
      const result = await call();
      $("send-result").textContent = `${label}: ${result.eventId}.`;
    } catch (error) {
      $("send-result").replaceChildren(
        `${label} refused (${error.code}): ${error.message}`,
        fieldList(error.fields),
      );
    }
  }
  const send = (tampered) => () =>
    act(tampered ? "Sent with a tampered signature" : "Sent", () =>
      api("/api/send", { type: select.value, payload: payload.value, tampered }),
    );
  $("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    send(false)();
  });
  $("send-tampered").addEventListener("click", send(true));

  const toggle = $("toggle-active");
  const showActive = (isActive) => {
    toggle.setAttribute("aria-pressed", String(isActive));
    toggle.textContent = isActive ? "Active" : "Paused";
  };
  showActive(state.endpoint.isActive);
  toggle.addEventListener("click", async () => {
    showActive(
      (await api("/api/endpoint", { active: toggle.getAttribute("aria-pressed") !== "true" })).isActive,
    );
  });

  const showRetries = ({ pending: count, nextAt }) => {
    $("run-retries").disabled = count === 0;
    $("retries").textContent =
      count === 0
        ? "No retry pending."
        : `${count} ${count === 1 ? "retry" : "retries"} pending, next at ${time(nextAt)}.`;
  };
  showRetries(state.retries);
  $("run-retries").addEventListener("click", async () =>
    showRetries((await api("/api/retries/run", {})).retries),
  );

  const list = $("deliveries");
  const seen = new Set();
  function delivery(view) {
    if (seen.has(view.id)) return null;
    seen.add(view.id);
    const status = view.statusCode ?? view.errorCode;
    const name = `${view.event} ${view.eventId} attempt ${view.attempt}`;
    return h(
      "li",
      {
        class: `item ${view.success ? "ok" : "fail"}`,
        "data-event-id": view.eventId,
        "data-attempt": view.attempt,
        "data-status": status,
      },
      h(
        "p",
        { class: "line" },
        h(
          "span",
          { class: "badge" },
          view.statusCode === null ? view.errorCode.replace("_", " ") : `HTTP ${view.statusCode}`,
        ),
        h("strong", {}, view.event),
        h("code", {}, view.eventId),
        h("span", {}, `attempt ${view.attempt}`),
        h("span", {}, `${Math.round(view.durationMs)} ms`),
        h("span", {}, time(view.deliveredAt)),
        view.tampered && h("span", { class: "badge warn" }, "tampered signature"),
        view.nextAttemptAt && h("span", { class: "next" }, `next retry ${time(view.nextAttemptAt)}`),
      ),
      h(
        "details",
        {},
        h("summary", {}, "Response and signature"),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "X-Optare-Signature"),
          h("dd", {}, h("code", {}, view.signature ?? "(not sent)")),
          view.error && [h("dt", {}, "Error"), h("dd", {}, view.error)],
          h("dt", {}, "Response body"),
          h("dd", {}, h("pre", {}, view.responseBody ?? "(none)")),
        ),
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            "aria-label": `Resend ${name} as a new event`,
            onclick: () => act("Resent", () => api("/api/resend", { eventId: view.eventId })),
          },
          "Resend",
        ),
        h(
          "button",
          {
            type: "button",
            "aria-label": `Send a duplicate of ${name}`,
            onclick: () => act("Duplicate sent", () => api("/api/duplicate", { eventId: view.eventId })),
          },
          "Duplicate",
        ),
      ),
    );
  }
  for (const view of state.deliveries) {
    const item = delivery(view);
    if (item) list.append(item);
  }
  on("delivery", (view) => {
    const item = delivery(view);
    if (item) prepend(list, item);
  });
  on("retries", showRetries);
  on("endpoint", (endpoint) => showActive(endpoint.isActive));
  showType();
}

// ---- capture mode -------------------------------------------------------------------------------------

function capture(view) {
  const validation = view.validation;
  const forward = view.forward;
  return h(
    "li",
    { class: `item ${view.verdict.valid ? "ok" : "fail"}`, "data-verdict": view.verdict.code },
    h(
      "p",
      { class: "line" },
      h(
        "span",
        { class: "badge" },
        view.verdict.valid ? "signature valid" : `signature: ${view.verdict.code.replace("_", " ")}`,
      ),
      h("strong", {}, validation.event ?? "(no event)"),
      h("code", {}, `${view.method} ${view.path}`),
      h("span", {}, `${view.bytes} B`),
      h("span", {}, time(view.receivedAt)),
      forward &&
        h("span", { class: "badge" }, forward.error ? "forward failed" : `forwarded: HTTP ${forward.status}`),
    ),
    h("p", { class: "verdict" }, view.verdict.message),
    validation.errors.length > 0
      ? h("div", { class: "fail-text" }, h("p", {}, "Schema: does not match"), fieldList(validation.errors))
      : h(
          "p",
          { class: validation.known ? "ok-text" : "hint" },
          validation.known ? "✓ Schema: valid." : "Unknown event type: passed through untyped.",
        ),
    h(
      "details",
      {},
      h("summary", {}, "Headers"),
      h(
        "table",
        {},
        h(
          "tbody",
          {},
          ...view.headers.map(([name, value]) =>
            h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, value)),
          ),
        ),
      ),
    ),
    h("details", {}, h("summary", {}, "Raw body"), h("pre", {}, view.body)),
    forward &&
      h(
        "details",
        { open: Boolean(forward.error) },
        h("summary", {}, "Forward answer"),
        forward.error
          ? h("p", { class: "fail-text" }, forward.error.message)
          : h("pre", {}, `HTTP ${forward.status}\n${forward.body}`),
      ),
  );
}

function inspectMode(state) {
  $("receive-url").textContent = state.receiveUrl;
  if (state.forwardTo) $("forward-to").textContent = state.forwardTo;
  $("copy-url").addEventListener("click", () => copy(state.receiveUrl, "URL copied."));
  const list = $("captures");
  list.append(...state.captures.map(capture));
  $("captures-empty").hidden = state.captures.length > 0;
  on("capture", (view) => {
    $("captures-empty").hidden = true;
    prepend(list, capture(view));
  });
}

// ---- start --------------------------------------------------------------------------------------------

// Events that arrive while the page is still being set up wait in `early` for their handler.
const events = new EventSource("/api/events");
const handlers = new Map();
const early = [];
function on(name, handle) {
  handlers.set(name, handle);
  for (const [queued, data] of early.splice(0)) {
    if (queued === name) handle(data);
    else early.push([queued, data]);
  }
}
for (const name of ["delivery", "retries", "endpoint", "capture"]) {
  events.addEventListener(name, (event) => {
    const data = JSON.parse(event.data);
    if (handlers.has(name)) handlers.get(name)(data);
    else early.push([name, data]);
  });
}
events.addEventListener("open", () => {
  $("connection").textContent = "Live: updates arrive as they happen.";
});
events.addEventListener("error", () => {
  $("connection").textContent = "Disconnected: is optare-webhooks still running? Reconnecting…";
});
const state = await api("/api/state");
document.body.classList.add(state.mode);
$("mode").textContent = state.mode === "dev" ? "· dev" : "· inspect";
await setUpSecret();
if (state.mode === "dev") devMode(state);
else inspectMode(state);
document.body.dataset.ready = "true";
