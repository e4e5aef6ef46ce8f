// The upload targets panel: where captured pictures and finished clips go (FTP servers, NAS
// shares, S3 buckets), what each target takes (its `content`: set in the config, shown here),
// what waits, what failed and why, and the manual's Test button for administrators.
//
// Shown only when the runtime has targets. Refreshed every few seconds while the app is open;
// every value reaches the page through textContent.

import { authed } from "./api.js";
import { $ } from "./util.js";

const REFRESH_MS = 5000;

let timer = null;
let canTest = false;

/** Start showing the targets; `level` is the session's user level (Test needs admin). */
export function startUploads(level) {
  canTest = level === "administrator";
  stopUploads();
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

export function stopUploads() {
  clearInterval(timer);
  timer = null;
}

async function refresh() {
  let body;
  try {
    body = await authed("GET", "/api/uploads");
  } catch {
    return;
  }
  const targets = body && typeof body.targets === "object" ? body.targets : {};
  render(targets);
}

function render(targets) {
  const ids = Object.keys(targets).sort();
  $("uploads-panel").hidden = ids.length === 0;
  const list = $("uploads");
  const rows = new Map([...list.children].map((row) => [row.dataset.target, row]));
  for (const [id, row] of rows) if (!ids.includes(id)) row.remove();
  for (const id of ids) {
    const row = rows.get(id) || list.appendChild(newRow(id));
    fill(row, targets[id] || {});
  }
}

/** An element with a class (and a text). */
function el(tag, className, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function newRow(id) {
  const row = el("li", "upload");
  row.dataset.target = id;
  const head = el("div", "upload-head");
  head.append(el("span", "upload-name", id), el("span", "upload-state"));
  const error = el("p", "error upload-error");
  error.hidden = true;
  const result = el("p", "upload-result");
  result.setAttribute("role", "status");
  row.append(head, el("div", "upload-content"), el("div", "upload-counts"), error, result);
  if (canTest) {
    const test = el("button", "ghost", "Test");
    test.type = "button";
    test.setAttribute("aria-label", `Test ${id}`);
    test.addEventListener("click", () => runTest(id, test, result));
    head.append(test);
  }
  return row;
}

function fill(row, target) {
  const failing = target.state === "failing";
  const state = row.querySelector(".upload-state");
  state.textContent = `${target.type || ""} · ${failing ? "failing" : "ok"}`;
  row.classList.toggle("failing", failing);
  const content = Array.isArray(target.content) ? target.content.map(String) : [];
  row.querySelector(".upload-content").textContent = `Takes ${content.join(" and ") || "nothing"}`;
  const clips = target.clips || {};
  row.querySelector(".upload-counts").textContent =
    `${target.uploaded ?? 0} uploaded · ${target.pending ?? 0} waiting` +
    (target.dropped ? ` · ${target.dropped} dropped` : "") +
    (content.includes("clips")
      ? ` (clips: ${clips.uploaded ?? 0} uploaded · ${clips.pending ?? 0} waiting` +
        (clips.dropped ? ` · ${clips.dropped} dropped` : "") +
        ")"
      : "");
  const error = row.querySelector(".upload-error");
  error.textContent = failing ? String(target.last_error || "") : "";
  error.hidden = !failing;
}

async function runTest(id, button, result) {
  button.disabled = true;
  result.textContent = "Testing…";
  try {
    const answer = await authed("POST", `/api/uploads/${encodeURIComponent(id)}/test`);
    result.textContent = answer && answer.ok ? "Reached." : `Not reached: ${answer?.error || ""}`;
    refresh();
  } catch (err) {
    result.textContent = `Test failed: ${err?.message || err}`;
  } finally {
    button.disabled = false;
  }
}
