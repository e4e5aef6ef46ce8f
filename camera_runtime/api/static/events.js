// The live event list: loaded from GET /api/events, kept live by the events WebSocket, which
// reconnects with back-off. The same socket's channel changes are handed to `onChannel`.

import { authed } from "./api.js";
import { channelName } from "./live.js";
import { $, backoffDelay, capitalised } from "./util.js";

const MAX_EVENT_ROWS = 200;
const EVENT_PHASES = new Set(["new", "update", "end"]);
const WS_BACKOFF_START_MS = 1000;
const WS_BACKOFF_MAX_MS = 30000;
const WS_STABLE_MS = 5000;

const state = {
  rows: new Map(), // event id -> <li>
  ws: null,
  wanted: false,
  timer: null,
  attempts: 0, // reconnections since the socket last stayed open WS_STABLE_MS
  buffer: null, // updates received while the list is (re)loading
  dropped: false, // the socket closed since it last opened: the server may have restarted
  onReconnect: () => {},
  onChannel: () => {},
};

/** Load the list and keep it live. `onReconnect` runs each time the socket opens again after
 * it closed (the server may have restarted); `onChannel` gets every channel change pushed
 * (`{type: "channel", change, channel, status}`). */
export function startEvents({ onReconnect, onChannel = () => {} }) {
  state.onReconnect = onReconnect;
  state.onChannel = onChannel;
  state.wanted = true;
  state.dropped = false;
  state.attempts = 0;
  connectEvents();
}

/** Close the socket and empty the list. */
export function stopEvents() {
  state.wanted = false;
  clearTimeout(state.timer);
  state.timer = null;
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000);
  $("events").setAttribute("aria-busy", "true");
  $("events").replaceChildren();
  state.rows.clear();
}

/** Show the channels' current names in the rows (after the channel list changed). */
export function renameChannels() {
  for (const row of $("events").children) {
    const name = channelName(row.dataset.channel);
    if (name) row.querySelector(".ev-channel").textContent = name;
  }
}

function setConnection(live) {
  const el = $("connection");
  el.textContent = live ? "Live" : "Reconnecting…";
  el.classList.toggle("offline", !live);
}

function connectEvents() {
  state.timer = null;
  if (!state.wanted) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/events/ws`);
  state.ws = ws;
  state.buffer = [];
  let openedAt = 0;

  ws.addEventListener("open", async () => {
    if (state.ws !== ws) return;
    openedAt = Date.now();
    setConnection(true);
    if (state.dropped) {
      state.dropped = false;
      state.onReconnect();
    }
    // Load the list after the socket is open, so no event falls between the two; updates
    // that arrive meanwhile are applied on top (applying one twice is harmless).
    try {
      await loadEventList();
    } catch {
      // A 401 already went back to the sign-in form; anything else: keep the old list.
    }
    if (state.ws !== ws) return;
    const buffered = state.buffer || [];
    state.buffer = null;
    for (const message of buffered) applyUpdate(message);
    $("events").setAttribute("aria-busy", "false");
  });

  ws.addEventListener("message", (message) => {
    if (state.ws !== ws) return;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data && data.type === "channel" && typeof data.channel === "string") {
      state.onChannel(data);
      return;
    }
    if (!data || !EVENT_PHASES.has(data.phase) || !data.event || typeof data.event !== "object") {
      return; // overflow notices, pongs and anything newer than this page
    }
    if (state.buffer) state.buffer.push(data);
    else applyUpdate(data);
    // Other panels follow events too (linkage.js: the fired rules).
    window.dispatchEvent(new CustomEvent("camera-event", { detail: data }));
  });

  ws.addEventListener("close", () => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (!state.wanted) return;
    state.dropped = true;
    setConnection(false);
    if (openedAt && Date.now() - openedAt > WS_STABLE_MS) state.attempts = 0;
    state.attempts += 1;
    const delay = backoffDelay(state.attempts, WS_BACKOFF_START_MS, WS_BACKOFF_MAX_MS);
    // A refused upgrade may mean the session ended: ask, and go to sign-in if so.
    authed("GET", "/api/session").catch(() => {});
    state.timer = setTimeout(connectEvents, delay);
  });
}

async function loadEventList() {
  const data = await authed("GET", "/api/events?limit=50");
  const list = data && Array.isArray(data.events) ? data.events : [];
  const keep = new Set();
  for (const event of list) {
    if (event && typeof event.id === "string") {
      upsertEvent(event);
      keep.add(event.id);
    }
  }
  // Rows the server no longer lists (and no push mentioned) are dropped.
  for (const [id, row] of state.rows) {
    if (!keep.has(id) && row.dataset.pushed !== "true") {
      row.remove();
      state.rows.delete(id);
    }
  }
  updateEventsEmpty();
}

function applyUpdate(message) {
  const event = message.event;
  if (typeof event.id !== "string") return;
  const row = upsertEvent(event);
  row.dataset.pushed = "true";
  updateEventsEmpty();
}

function eventTime(value) {
  if (typeof value === "number") return new Date(value > 1e12 ? value : value * 1000);
  if (typeof value === "string") return new Date(value);
  return null;
}

function formatTime(date) {
  if (!date || Number.isNaN(date.getTime())) return "";
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return date.toLocaleTimeString();
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

function formatDuration(seconds) {
  if (!(seconds >= 0)) return "";
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function typeLabel(type) {
  return capitalised(String(type || "event").replace(/_/g, " "));
}

/** Insert or update the row of an event; rows stay sorted newest first. */
function upsertEvent(event) {
  let row = state.rows.get(event.id);
  if (!row) {
    row = makeEventRow();
    row.dataset.eventId = event.id;
    state.rows.set(event.id, row);
    fillEventRow(row, event);
    insertSorted(row);
  } else {
    fillEventRow(row, event);
  }
  return row;
}

function makeEventRow() {
  const row = document.createElement("li");
  row.className = "event";
  const dot = document.createElement("span");
  dot.className = "ev-dot";
  dot.setAttribute("aria-hidden", "true");
  const time = document.createElement("time");
  time.className = "ev-time";
  const channel = document.createElement("span");
  channel.className = "ev-channel";
  const type = document.createElement("span");
  type.className = "ev-type";
  const status = document.createElement("span");
  status.className = "ev-status";
  row.append(dot, time, channel, type, status);
  return row;
}

function fillEventRow(row, event) {
  const start = eventTime(event.start);
  const end = eventTime(event.end);
  const active = event.active === undefined ? event.end == null : Boolean(event.active);
  row.dataset.type = String(event.type || "");
  row.dataset.channel = String(event.channel || "");
  row.dataset.active = String(active);
  row.dataset.start = start ? String(start.getTime()) : "0";
  row.classList.toggle("active", active);

  const time = row.querySelector(".ev-time");
  time.textContent = formatTime(start);
  if (start && !Number.isNaN(start.getTime())) {
    time.dateTime = start.toISOString();
    time.title = start.toLocaleString();
  }
  row.querySelector(".ev-channel").textContent =
    // An event of the device itself (a storage error) has no channel: say so.
    event.channel === "" ? "Device" : channelName(event.channel) || String(event.channel || "");
  row.querySelector(".ev-type").textContent = typeLabel(event.type);
  let status = active ? "active" : "ended";
  if (!active && start && end) {
    const duration = formatDuration((end.getTime() - start.getTime()) / 1000);
    if (duration) status += ` · ${duration}`;
  }
  row.querySelector(".ev-status").textContent = status;
}

function insertSorted(row) {
  const list = $("events");
  const start = Number(row.dataset.start);
  let before = null;
  for (const other of list.children) {
    if (Number(other.dataset.start) <= start) {
      before = other;
      break;
    }
  }
  list.insertBefore(row, before);
  while (list.children.length > MAX_EVENT_ROWS) {
    const last = list.lastElementChild;
    state.rows.delete(last.dataset.eventId);
    last.remove();
  }
}

function updateEventsEmpty() {
  $("events-empty").hidden = state.rows.size > 0;
}
