// The kfn dev console: plain JavaScript, no build step, talking to /_kfn/api/ and to the host itself.
"use strict";

const api = (path, options) => fetch("/_kfn/api/" + path, options);
const $ = (selector) => document.querySelector(selector);
let cursor = 0;
let selectedTrace = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell === null || cell === undefined || cell === "" ? "–" : String(cell);
    tr.append(td);
  }
  return tr;
}

function statusBadge(delivery) {
  return el("span", delivery.status, "status " + delivery.outcome);
}

function randomHex(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (b) => b.toString(16).padStart(2, "0")).join("");
}

// -- functions and schedules -------------------------------------------------------------

async function loadFunctions() {
  const functions = await (await api("functions")).json();
  const body = $("#functions tbody");
  const schedules = $("#schedules tbody");
  const target = $("#send select[name=target]");
  body.replaceChildren();
  schedules.replaceChildren();
  for (const f of functions) {
    const tr = row([el("code", f.name), f.kind, f.route, f.filters, f.reply_type, f.schedule,
                    (f.emits || []).join(", "), f.service]);
    tr.dataset.function = f.name;
    body.append(tr);
    if (f.kind === "cloudevent" && !target.querySelector(`option[value="${f.name}"]`)) {
      target.append(new Option(`/events/${f.name}`, f.name));
    }
    if (f.kind === "schedule") {
      const button = el("button", "Fire now");
      button.type = "button";
      button.dataset.fire = f.name;
      button.addEventListener("click", () => fire(f.name));
      const tr = row([el("code", f.name), f.schedule, f.next_fire || "(croniter not installed)", button]);
      tr.dataset.schedule = f.name;
      schedules.append(tr);
    }
  }
  if (!schedules.children.length) schedules.append(row(["no @schedule functions", "", "", ""]));
}

async function fire(name) {
  const result = $("#fire-result");
  result.textContent = `firing ${name}…`;
  const response = await api(`schedules/${encodeURIComponent(name)}/fire`, { method: "POST" });
  const answer = await response.json();
  result.textContent = response.ok
    ? `${name} fired: its function answered ${answer.status}`
    : `${name} did not fire: ${answer.detail}`;
  await loadFunctions();
}

// -- sending a test event ------------------------------------------------------------------

function extensions(text) {
  const found = {};
  for (const part of text.split(",")) {
    const [name, ...value] = part.split("=");
    if (name.trim()) found[name.trim().toLowerCase()] = value.join("=").trim();
  }
  return found;
}

async function send(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const traceId = randomHex(16);
  const attributes = {
    specversion: "1.0",
    id: "console-" + randomHex(6),
    source: form.get("source"),
    type: form.get("type"),
    traceparent: `00-${traceId}-${randomHex(8)}-01`,
    ...extensions(form.get("extensions")),
  };
  if (form.get("subject")) attributes.subject = form.get("subject");
  const contentType = form.get("datacontenttype");
  const data = form.get("data");
  let headers, body;
  if (form.get("mode") === "structured") {
    const envelope = { ...attributes };
    if (contentType) envelope.datacontenttype = contentType;
    if (data) {
      try { envelope.data = /json/.test(contentType) ? JSON.parse(data) : data; }
      catch (error) { return showReply(`not sent: data is not JSON (${error.message})`, ""); }
    }
    headers = { "content-type": "application/cloudevents+json" };
    body = JSON.stringify(envelope);
  } else {
    headers = {};
    for (const [name, value] of Object.entries(attributes)) headers["ce-" + name] = value;
    if (contentType) headers["content-type"] = contentType;
    body = data;
  }
  const target = form.get("target");
  const response = await fetch(target ? `/events/${encodeURIComponent(target)}` : "/", {
    method: "POST", headers, body,
  });
  const text = await response.text();
  const lines = [];
  for (const [name, value] of response.headers) {
    if (name.startsWith("ce-") || name === "content-type" || name === "traceparent") lines.push(`${name}: ${value}`);
  }
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: as is */ }
  const meaning = { 200: "a reply", 202: "handled, no reply" }[response.status] || "refused or failed";
  showReply(`${response.status} ${response.statusText} (${meaning})`, [...lines, "", shown].join("\n").trim());
  selectTrace(traceId);
}

function showReply(status, body) {
  $("#reply").hidden = false;
  $("#reply-status").textContent = status;
  $("#reply-body").textContent = body;
}

// -- the live feed, traces, failures ---------------------------------------------------------

async function poll() {
  try {
    const answer = await (await api(`deliveries?after=${cursor}`)).json();
    $("#status").textContent = `live · ${answer.sequence} deliveries`;
    const body = $("#feed tbody");
    for (const d of answer.deliveries) {
      cursor = Math.max(cursor, d.seq);
      const reply = d.reply ? d.reply.type : "";
      const tr = row([d.started.slice(11, 23), el("code", d.event.id), d.event.type, d.function,
                      statusBadge(d), `${d.duration_ms} ms`, reply]);
      tr.dataset.trace = d.trace_id;
      tr.dataset.function = d.function;
      tr.dataset.type = d.event.type;
      tr.dataset.status = d.status;
      tr.addEventListener("click", () => selectTrace(d.trace_id));
      body.prepend(tr);
      if (d.problem) addFailure(d);
    }
    while (body.children.length > 300) body.lastChild.remove();
    if (answer.deliveries.length && selectedTrace) await showTrace(selectedTrace);
  } catch (error) {
    $("#status").textContent = "disconnected: is kfn run still running?";
  }
  setTimeout(poll, 500);
}

function addFailure(d) {
  const item = el("li");
  item.dataset.function = d.function;
  const title = el("div");
  title.append(statusBadge(d), ` ${d.function} on `, el("code", d.event.type), ` (${d.event.id})`);
  const details = el("pre", JSON.stringify(d.problem, null, 2));
  item.append(title, details);
  item.addEventListener("click", () => selectTrace(d.trace_id));
  $("#failures").prepend(item);
}

async function selectTrace(traceId) {
  selectedTrace = traceId;
  for (const tr of document.querySelectorAll("#feed tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.trace === traceId);
  }
  await showTrace(traceId);
}

async function showTrace(traceId) {
  const answer = await (await api(`traces/${traceId}`)).json();
  $("#trace-id").textContent = traceId;
  $("#trace-hint").hidden = answer.roots.length > 0;
  const tree = $("#trace");
  tree.replaceChildren(...answer.roots.map(node));
}

function node(d) {
  const item = el("li");
  item.dataset.function = d.function;
  item.append(el("code", d.event.type), " → ", el("strong", d.function), " ", statusBadge(d),
              ` ${d.duration_ms} ms`);
  if (d.reply) item.append(" · replied ", el("code", d.reply.type));
  if (d.children.length) {
    const children = el("ul");
    children.append(...d.children.map(node));
    item.append(children);
  }
  return item;
}

$("#send").addEventListener("submit", send);
loadFunctions().then(poll);
