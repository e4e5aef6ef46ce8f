// The "Streams" part of a channel's settings panel: its streams (status.streams: role ->
// {mode, codec, width, height, clients}) and, per stream, a URL to play it in VLC or ffplay
// (POST /api/channels/{id}/streams/{role}/url: it needs no sign-in, so it is shown, not opened).

import { authed, hasStatus } from "./api.js";
import { $ } from "./util.js";

const ROLE = /^[a-z][a-z0-9_]*$/;

const section = {
  channelId: null,
  rows: new Map(), // role -> {row, cells, url}
};

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function size(stream) {
  const { width, height } = stream;
  return Number(width) > 0 && Number(height) > 0 ? `${width} x ${height}` : "–";
}

function makeRow(channelId, role) {
  const row = element("tr", "stream-row");
  row.dataset.role = role;
  const cells = {
    role: element("th", "", role),
    mode: element("td", "stream-mode"),
    codec: element("td", "stream-codec"),
    size: element("td", "stream-size"),
    clients: element("td", "stream-clients"),
  };
  cells.role.scope = "row";
  const action = element("td", "stream-action");
  const ask = element("button", "ghost image-button", "URL");
  ask.type = "button";
  ask.setAttribute("aria-label", `URL of the ${role} stream`);
  action.append(ask);
  row.append(cells.role, cells.mode, cells.codec, cells.size, cells.clients, action);

  const entry = { row, urlRow: null, cells };
  ask.addEventListener("click", () => showUrl(channelId, role, entry, ask));
  return entry;
}

/** The URL, on a row of its own under the stream's, built once first asked for. */
function urlRowOf(role, entry) {
  if (entry.urlRow) return entry.urlRow;
  const urlRow = element("tr", "stream-url-row");
  const urlCell = element("td");
  urlCell.colSpan = 6;
  const url = element("input", "image-text stream-url");
  url.type = "text";
  url.readOnly = true;
  url.setAttribute("aria-label", `Play URL of the ${role} stream`);
  const copy = element("button", "ghost image-button", "Copy");
  copy.type = "button";
  const note = element("p", "image-hint stream-note");
  note.setAttribute("role", "status");
  urlCell.append(url, copy, note);
  urlRow.append(urlCell);
  copy.addEventListener("click", async () => {
    url.select();
    try {
      await navigator.clipboard.writeText(url.value);
      note.textContent = "Copied.";
    } catch {
      note.textContent = "Press Ctrl+C to copy the selected URL.";
    }
  });
  entry.urlRow = urlRow;
  entry.row.after(urlRow);
  return urlRow;
}

async function showUrl(channelId, role, entry, ask) {
  ask.disabled = true;
  let answer;
  let failure = null;
  try {
    const path = `/api/channels/${encodeURIComponent(channelId)}/streams/${role}/url`;
    answer = await authed("POST", path);
  } catch (err) {
    failure = err;
  } finally {
    ask.disabled = false;
  }
  if (failure && hasStatus(failure, 401)) return;
  if (!entry.row.isConnected) return;
  const urlRow = urlRowOf(role, entry);
  const url = urlRow.querySelector(".stream-url");
  const note = urlRow.querySelector(".stream-note");
  if (failure) {
    url.value = "";
    note.textContent = failure.message;
    return;
  }
  url.value = answer && typeof answer.url === "string" ? answer.url : "";
  const expires = answer && typeof answer.expires === "number" ? answer.expires : null;
  note.textContent = expires
    ? `Plays without signing in until ${new Date(expires * 1000).toLocaleString()}.`
    : "Plays without signing in.";
  url.select();
}

/** Show a channel's streams (a status from the API or a push). */
export function renderStreams(channelId, status) {
  if (section.channelId !== channelId) clearStreams();
  section.channelId = channelId;
  const streams = status.streams && typeof status.streams === "object" ? status.streams : {};
  const roles = Object.keys(streams).filter(
    (role) => ROLE.test(role) && streams[role] && typeof streams[role] === "object",
  );
  for (const [role, entry] of section.rows) {
    if (!roles.includes(role)) {
      entry.row.remove();
      if (entry.urlRow) entry.urlRow.remove();
      section.rows.delete(role);
    }
  }
  const body = $("streams-rows");
  const wanted = [];
  for (const role of roles) {
    let entry = section.rows.get(role);
    if (!entry) {
      entry = makeRow(channelId, role);
      section.rows.set(role, entry);
    }
    const stream = streams[role];
    entry.cells.mode.textContent = typeof stream.mode === "string" ? stream.mode : "–";
    entry.cells.codec.textContent = typeof stream.codec === "string" ? stream.codec : "–";
    entry.cells.size.textContent = size(stream);
    entry.cells.clients.textContent = String(Number(stream.clients) || 0);
    wanted.push(entry.row);
    if (entry.urlRow) wanted.push(entry.urlRow);
  }
  // Moved only when out of the status's order, so a focused button keeps its focus.
  const current = [...body.children];
  if (current.length !== wanted.length || current.some((row, i) => row !== wanted[i])) {
    body.replaceChildren(...wanted);
  }
  $("streams-group").hidden = roles.length === 0;
}

export function clearStreams() {
  for (const entry of section.rows.values()) {
    entry.row.remove();
    if (entry.urlRow) entry.urlRow.remove();
  }
  section.rows.clear();
  section.channelId = null;
  $("streams-group").hidden = true;
}
