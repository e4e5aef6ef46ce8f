// camera_runtime web UI: activation, sign-in, live view with window division, live event list.
//
// Plain modern JS, no build step, no framework. The server sets a CSP (default-src 'self'):
// no inline script, no inline style attribute, no external resource. Every piece of server data
// reaches the page through textContent or an attribute, never through innerHTML.
"use strict";

const DIVISIONS = [1, 2, 3, 4];
const MAX_EVENT_ROWS = 200;
const EVENT_PHASES = new Set(["new", "update", "end"]);
const CHANNEL_REFRESH_MS = 10000;
const WS_BACKOFF_START_MS = 1000;
const WS_BACKOFF_MAX_MS = 30000;
const WS_STABLE_MS = 5000;
const IMG_RETRY_START_MS = 2000;
const IMG_RETRY_MAX_MS = 30000;
const SNAPSHOT_INTERVAL_MS = 1000;
const WATCHDOG_MS = 2000;
// Browsers open at most 6 HTTP/1.1 connections to one host, and an MJPEG stream holds one for
// as long as it plays. Past this many visible tiles, the others show a snapshot refreshed every
// second, so API calls (and the snapshots) still get a connection.
const MAX_STREAMS = 4;
const BAD_STATES = new Set(["offline", "ended", "stopped"]);

const $ = (id) => document.getElementById(id);

const ui = {
  channels: [], // the last GET /api/channels
  names: new Map(), // channel id -> name
  division: 1,
  page: 0,
  zoomedFrom: null, // the division a tile click left, to go back to on the next click
  inApp: false,
  refreshTimer: null,
  watchdogTimer: null,
  events: new Map(), // event id -> <li>
  ws: null,
  wsWanted: false,
  wsTimer: null,
  wsBackoff: WS_BACKOFF_START_MS,
  wsBuffer: null, // updates received while the list is (re)loading
  wsDropped: false, // the socket closed since it last opened: the server may have restarted
};

// ------------------------------------------------------------------ HTTP

class HttpError extends Error {
  constructor(status, message, code = "") {
    super(message);
    this.status = status;
    this.code = code; // the server's stable error code ("weak_password"), if any
  }
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The human text of an error body ({"error": code, "message": text}): whatever text field
 * the server put there, the message first. */
function errorText(data, res) {
  if (data && typeof data === "object") {
    for (const key of ["message", "error", "detail", "reason"]) {
      const value = data[key];
      if (typeof value === "string" && value) return capitalised(value);
      if (value && typeof value === "object" && typeof value.message === "string") {
        return capitalised(value.message);
      }
    }
  }
  return `Request failed (${res.status}${res.statusText ? " " + res.statusText : ""})`;
}

/** fetch + JSON, same origin, cookie auth. Throws HttpError (status 0: unreachable). */
async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new HttpError(0, "Cannot reach the camera.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const code = data && typeof data.error === "string" ? data.error : "";
    throw new HttpError(res.status, errorText(data, res), code);
  }
  return data;
}

/** An API call made while signed in: a 401 ends the session and shows the sign-in form. */
async function authed(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) {
      leaveApp("Your session has ended. Please sign in again.");
    }
    throw err;
  }
}

// ------------------------------------------------------------------ views

/** Show one of "loading", "activate", "login", "app". The two forms are mounted from their
 * templates only while shown, so the page never holds more than one password form. */
function showView(name) {
  $("loading").hidden = name !== "loading";
  $("app-view").hidden = name !== "app";
  $("logout").hidden = name !== "app";
  $("connection").hidden = name !== "app";
  const auth = $("auth");
  if (name === "activate" || name === "login") {
    if (auth.dataset.view !== name) {
      auth.replaceChildren($(`${name}-template`).content.cloneNode(true));
      auth.dataset.view = name;
      const form = $(`${name}-form`);
      form.addEventListener("submit", name === "login" ? onLogin : onActivate);
    }
  } else {
    auth.replaceChildren();
    delete auth.dataset.view;
  }
}

function showMessage(id, text) {
  const el = $(id);
  if (!el) return;
  el.textContent = text || "";
  el.hidden = !text;
}

function showLogin(notice) {
  showView("login");
  showMessage("login-error", "");
  showMessage("login-notice", notice || "");
  $("login-password").value = "";
  const user = $("login-username");
  (user.value ? $("login-password") : user).focus();
}

function showActivate() {
  showView("activate");
  showMessage("activate-error", "");
  $("activate-password").focus();
}

function setBusy(form, busy) {
  for (const el of form.elements) el.disabled = busy;
}

// ------------------------------------------------------------------ start-up and sign-in

async function boot() {
  showView("loading");
  let health;
  try {
    health = await api("GET", "/api/health");
  } catch (err) {
    $("loading").textContent = `${err.message} Retrying…`;
    setTimeout(boot, 3000);
    return;
  }
  if (!health || !health.activated) {
    showActivate();
    return;
  }
  try {
    await api("GET", "/api/session");
  } catch (err) {
    // 401: no session yet, the usual case.
    showLogin(err instanceof HttpError && err.status === 401 ? "" : err.message);
    return;
  }
  try {
    await enterApp();
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 401)) showLogin(err.message);
  }
}

async function onActivate(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const password = $("activate-password").value;
  if (password !== $("activate-confirm").value) {
    showMessage("activate-error", "The passwords do not match.");
    return;
  }
  showMessage("activate-error", "");
  setBusy(form, true);
  try {
    await api("POST", "/api/activate", { password });
  } catch (err) {
    setBusy(form, false);
    if (err instanceof HttpError && err.status === 409) {
      showLogin("The camera is already activated. Sign in.");
    } else {
      showMessage("activate-error", err.message);
    }
    return;
  }
  setBusy(form, false);
  form.reset();
  // Activated: sign straight in with the password just set.
  try {
    await api("POST", "/api/login", { username: "admin", password });
    await enterApp();
  } catch {
    showLogin("The camera is activated. Sign in with the new password.");
  }
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    showMessage("login-error", "Enter the user name and the password.");
    return;
  }
  showMessage("login-error", "");
  setBusy(form, true);
  try {
    await api("POST", "/api/login", { username, password });
  } catch (err) {
    setBusy(form, false);
    if (err.code === "not_activated") {
      showActivate();
      return;
    }
    // A 401 body may carry only a code ("unauthorized"): say it in words then.
    const sentence = err.message.includes(" ") && !err.message.startsWith("Request failed");
    const text =
      err instanceof HttpError && err.status === 401 && !sentence
        ? "Wrong user name or password."
        : err.message;
    showMessage("login-error", text);
    $("login-password").value = "";
    $("login-password").focus();
    return;
  }
  setBusy(form, false);
  $("login-password").value = "";
  showMessage("login-notice", "");
  try {
    await enterApp();
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 401)) showLogin(err.message);
  }
}

async function onLogout() {
  try {
    await api("POST", "/api/logout");
  } catch {
    // Signed out locally either way.
  }
  leaveApp("You are signed out.");
}

// ------------------------------------------------------------------ the app

async function enterApp() {
  const [device, channels] = await Promise.all([
    authed("GET", "/api/device"),
    authed("GET", "/api/channels"),
  ]);
  renderDevice(device || {});
  setChannels(Array.isArray(channels) ? channels : []);
  ui.division = initialDivision(ui.channels.length);
  ui.page = 0;
  ui.zoomedFrom = null;
  ui.inApp = true;
  showView("app");
  renderGrid();
  startEvents();
  clearInterval(ui.refreshTimer);
  ui.refreshTimer = setInterval(refreshChannels, CHANNEL_REFRESH_MS);
  clearInterval(ui.watchdogTimer);
  ui.watchdogTimer = setInterval(watchTiles, WATCHDOG_MS);
}

/** Stop every stream and timer and go back to the sign-in form. */
function leaveApp(notice) {
  if (!ui.inApp) return;
  ui.inApp = false;
  clearInterval(ui.refreshTimer);
  ui.refreshTimer = null;
  clearInterval(ui.watchdogTimer);
  ui.watchdogTimer = null;
  stopEvents();
  for (const tile of $("live-grid").children) stopTile(tile);
  $("live-grid").replaceChildren();
  $("events").replaceChildren();
  ui.events.clear();
  $("device-name").textContent = "Camera";
  $("device-meta").textContent = "";
  document.title = "Camera";
  showLogin(notice);
}

function renderDevice(device) {
  const name =
    typeof device.device_name === "string" && device.device_name ? device.device_name : "Camera";
  $("device-name").textContent = name;
  const meta = [device.model, device.firmware_version && `v${device.firmware_version}`]
    .filter((part) => typeof part === "string" && part)
    .join(" · ");
  $("device-meta").textContent = meta;
  $("device-meta").title = device.serial_no ? `Serial no. ${device.serial_no}` : "";
  document.title = `${name} · Live view`;
}

function setChannels(channels) {
  ui.channels = channels.filter((ch) => ch && typeof ch.id === "string");
  ui.names = new Map(ui.channels.map((ch) => [ch.id, ch.name || ch.id]));
}

async function refreshChannels() {
  let channels;
  try {
    channels = await authed("GET", "/api/channels");
  } catch {
    return;
  }
  if (!ui.inApp || !Array.isArray(channels)) return;
  const before = ui.channels.map((ch) => ch.id).join("\n");
  setChannels(channels);
  if (ui.channels.map((ch) => ch.id).join("\n") !== before) {
    renderGrid();
  } else {
    for (const tile of $("live-grid").children) {
      const ch = ui.channels.find((c) => c.id === tile.dataset.channelId);
      if (ch) updateTile(tile, ch);
    }
  }
  for (const row of $("events").children) {
    const name = ui.names.get(row.dataset.channel);
    if (name) row.querySelector(".ev-channel").textContent = name;
  }
}

// ------------------------------------------------------------------ live view

function initialDivision(count) {
  const stored = Number(localStorage.getItem("camera_runtime.division"));
  if (DIVISIONS.includes(stored)) return stored;
  return DIVISIONS.find((n) => n * n >= count) || 4;
}

function setDivision(n, page, { remember = true } = {}) {
  ui.division = n;
  ui.page = page || 0;
  if (remember) {
    ui.zoomedFrom = null;
    try {
      localStorage.setItem("camera_runtime.division", String(n));
    } catch {
      // Private mode: the choice is not kept, nothing else changes.
    }
  }
  renderGrid();
}

function pageCount() {
  const per = ui.division * ui.division;
  return Math.max(1, Math.ceil(ui.channels.length / per));
}

/** Lay out the current page. Tiles of channels that stay visible keep their stream;
 * tiles that leave stop theirs, so hidden channels are not streamed (nor encoded). */
function renderGrid() {
  const grid = $("live-grid");
  const n = ui.division;
  const per = n * n;
  const pages = pageCount();
  ui.page = Math.min(Math.max(ui.page, 0), pages - 1);
  const visible = ui.channels.slice(ui.page * per, ui.page * per + per);

  const previous = new Map();
  for (const tile of grid.children) {
    if (tile.dataset.channelId) previous.set(tile.dataset.channelId, tile);
  }
  const tiles = [];
  let streams = 0;
  for (let i = 0; i < per; i++) {
    const ch = visible[i];
    if (!ch) {
      tiles.push(makeEmptyTile());
      continue;
    }
    let tile = previous.get(ch.id);
    previous.delete(ch.id);
    if (!tile) tile = makeTile(ch);
    updateTile(tile, ch);
    const mode = streams < MAX_STREAMS ? "stream" : "snapshot";
    if (mode === "stream") streams += 1;
    if (tile.dataset.mode !== mode) startTile(tile, mode);
    tiles.push(tile);
  }
  for (const tile of previous.values()) stopTile(tile);
  grid.dataset.division = String(n);
  grid.replaceChildren(...tiles);

  for (const button of document.querySelectorAll(".division button")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.division) === n));
  }
  $("pager").hidden = pages <= 1;
  $("page-label").textContent = `Page ${ui.page + 1} of ${pages}`;
  $("page-prev").disabled = ui.page === 0;
  $("page-next").disabled = ui.page >= pages - 1;
  $("no-channels").hidden = ui.channels.length > 0;
}

function tileUrl(tile) {
  const id = encodeURIComponent(tile.dataset.channelId);
  // Every new request gets a new URL, so no cache hands back an old picture or a failure.
  const seq = Number(tile.dataset.seq || 0);
  tile.dataset.seq = String(seq + 1);
  if (tile.dataset.mode === "snapshot") return `/api/channels/${id}/snapshot.jpg?n=${seq}`;
  const url = `/api/channels/${id}/live.mjpeg`;
  return seq ? `${url}?n=${seq}` : url;
}

function makeTile(ch) {
  const tile = document.createElement("div");
  tile.className = "tile";
  tile.dataset.channelId = ch.id;
  tile.tabIndex = 0;
  tile.setAttribute("role", "button");

  const img = document.createElement("img");
  img.decoding = "async";
  img.draggable = false;
  img.addEventListener("load", () => onTileLoad(tile));
  img.addEventListener("error", () => onTileError(tile));

  const name = document.createElement("span");
  name.className = "tile-name";
  const badge = document.createElement("span");
  badge.className = "tile-state";
  badge.hidden = true;

  tile.append(img, name, badge);
  tile.addEventListener("click", () => onTileActivate(tile));
  tile.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onTileActivate(tile);
    }
  });
  return tile;
}

function makeEmptyTile() {
  const tile = document.createElement("div");
  tile.className = "tile empty";
  const label = document.createElement("span");
  label.className = "tile-empty-label";
  label.textContent = "No channel";
  tile.append(label);
  return tile;
}

function updateTile(tile, ch) {
  const name = ch.name || ch.id;
  tile.querySelector(".tile-name").textContent = name;
  tile.querySelector("img").alt = `Live view of ${name}`;
  const back = ui.zoomedFrom;
  if (ui.division > 1) tile.title = `${name}: click to view alone`;
  else if (back) tile.title = `${name}: click to go back to ${back}x${back}`;
  else tile.title = name;
  tile.setAttribute("aria-label", tile.title);
  const badge = tile.querySelector(".tile-state");
  let text = "";
  if (BAD_STATES.has(ch.state)) text = ch.state;
  else if (tile.classList.contains("no-video")) text = "no video";
  badge.textContent = text;
  badge.hidden = !text;
}

function clearTileTimer(tile) {
  clearTimeout(Number(tile.dataset.timer || 0));
  delete tile.dataset.timer;
}

/** (Re)start a tile's picture: an MJPEG stream, or a snapshot refreshed every second. */
function startTile(tile, mode) {
  clearTileTimer(tile);
  tile.dataset.mode = mode;
  tile.dataset.retry = "0";
  tile.dataset.loaded = "false";
  const img = tile.querySelector("img");
  img.removeAttribute("src");
  img.src = tileUrl(tile);
}

/** Start the streams again (after the event socket came back: the server may have restarted,
 * and a stream it ended cleanly leaves a frozen picture that fires no event). */
function restartTiles() {
  for (const tile of $("live-grid").children) {
    if (tile.dataset.mode) startTile(tile, tile.dataset.mode);
  }
}

function stopTile(tile) {
  clearTileTimer(tile);
  delete tile.dataset.mode;
  const img = tile.querySelector("img");
  // Removing src aborts the multipart request: the server stops encoding for this viewer.
  if (img) img.removeAttribute("src");
}

function onTileLoad(tile) {
  if (!tile.isConnected || !tile.dataset.mode) return;
  tile.dataset.retry = "0";
  tile.dataset.loaded = "true";
  tile.dataset.loads = String(Number(tile.dataset.loads || 0) + 1);
  if (tile.classList.contains("no-video")) {
    tile.classList.remove("no-video");
    const ch = ui.channels.find((c) => c.id === tile.dataset.channelId);
    if (ch) updateTile(tile, ch);
  }
  if (tile.dataset.mode === "snapshot") {
    clearTileTimer(tile);
    const timer = setTimeout(() => {
      if (tile.isConnected && tile.dataset.mode === "snapshot") {
        tile.querySelector("img").src = tileUrl(tile);
      }
    }, SNAPSHOT_INTERVAL_MS);
    tile.dataset.timer = String(timer);
  }
}

function onTileError(tile) {
  if (!tile.isConnected || !ui.inApp || !tile.dataset.mode) return;
  clearTileTimer(tile);
  tile.dataset.loaded = "false";
  tile.classList.add("no-video");
  const ch = ui.channels.find((c) => c.id === tile.dataset.channelId);
  if (ch) updateTile(tile, ch);
  const attempt = Number(tile.dataset.retry || 0) + 1;
  tile.dataset.retry = String(attempt);
  const delay = Math.min(IMG_RETRY_START_MS * 2 ** (attempt - 1), IMG_RETRY_MAX_MS);
  const timer = setTimeout(async () => {
    if (!tile.isConnected || !ui.inApp) return;
    // The picture may have failed because the session ended: this brings back the sign-in form.
    try {
      await authed("GET", "/api/session");
    } catch {
      if (!ui.inApp) return;
    }
    if (tile.isConnected && tile.dataset.mode) tile.querySelector("img").src = tileUrl(tile);
  }, delay);
  tile.dataset.timer = String(timer);
}

/** A broken multipart stream blanks the picture without an error event: look for that. */
function watchTiles() {
  for (const tile of $("live-grid").children) {
    const img = tile.querySelector("img");
    if (tile.dataset.loaded === "true" && img && img.naturalWidth === 0) onTileError(tile);
  }
}

function onTileActivate(tile) {
  const index = ui.channels.findIndex((c) => c.id === tile.dataset.channelId);
  if (index < 0) return;
  if (ui.division > 1) {
    const from = ui.division;
    ui.zoomedFrom = from;
    setDivision(1, index, { remember: false });
  } else if (ui.zoomedFrom) {
    const n = ui.zoomedFrom;
    ui.zoomedFrom = null;
    setDivision(n, Math.floor(index / (n * n)), { remember: false });
  }
}

// ------------------------------------------------------------------ events

function startEvents() {
  ui.wsWanted = true;
  ui.wsDropped = false;
  ui.wsBackoff = WS_BACKOFF_START_MS;
  connectEvents();
}

function stopEvents() {
  ui.wsWanted = false;
  clearTimeout(ui.wsTimer);
  ui.wsTimer = null;
  const ws = ui.ws;
  ui.ws = null;
  if (ws) ws.close(1000);
  $("events").setAttribute("aria-busy", "true");
}

function setConnection(live) {
  const el = $("connection");
  el.textContent = live ? "Live" : "Reconnecting…";
  el.classList.toggle("offline", !live);
}

function connectEvents() {
  ui.wsTimer = null;
  if (!ui.wsWanted) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/events/ws`);
  ui.ws = ws;
  ui.wsBuffer = [];
  let openedAt = 0;

  ws.addEventListener("open", async () => {
    if (ui.ws !== ws) return;
    openedAt = Date.now();
    setConnection(true);
    if (ui.wsDropped) {
      ui.wsDropped = false;
      restartTiles();
    }
    // Load the list after the socket is open, so no event falls between the two; updates
    // that arrive meanwhile are applied on top (applying one twice is harmless).
    try {
      await loadEventList();
    } catch {
      // A 401 already went back to the sign-in form; anything else: keep the old list.
    }
    if (ui.ws !== ws) return;
    const buffered = ui.wsBuffer || [];
    ui.wsBuffer = null;
    for (const message of buffered) applyUpdate(message);
    $("events").setAttribute("aria-busy", "false");
  });

  ws.addEventListener("message", (message) => {
    if (ui.ws !== ws) return;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!data || !EVENT_PHASES.has(data.phase) || !data.event || typeof data.event !== "object") {
      return; // overflow notices, pongs and anything newer than this page
    }
    if (ui.wsBuffer) ui.wsBuffer.push(data);
    else applyUpdate(data);
  });

  ws.addEventListener("close", () => {
    if (ui.ws !== ws) return;
    ui.ws = null;
    if (!ui.wsWanted) return;
    ui.wsDropped = true;
    setConnection(false);
    if (openedAt && Date.now() - openedAt > WS_STABLE_MS) ui.wsBackoff = WS_BACKOFF_START_MS;
    const delay = ui.wsBackoff;
    ui.wsBackoff = Math.min(ui.wsBackoff * 2, WS_BACKOFF_MAX_MS);
    // A refused upgrade may mean the session ended: ask, and go to sign-in if so.
    authed("GET", "/api/session").catch(() => {});
    ui.wsTimer = setTimeout(connectEvents, delay);
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
  for (const [id, row] of ui.events) {
    if (!keep.has(id) && row.dataset.pushed !== "true") {
      row.remove();
      ui.events.delete(id);
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
  const text = String(type || "event").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Insert or update the row of an event; rows stay sorted newest first. */
function upsertEvent(event) {
  let row = ui.events.get(event.id);
  if (!row) {
    row = makeEventRow();
    row.dataset.eventId = event.id;
    ui.events.set(event.id, row);
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
    ui.names.get(event.channel) || String(event.channel || "");
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
    ui.events.delete(last.dataset.eventId);
    last.remove();
  }
}

function updateEventsEmpty() {
  $("events-empty").hidden = ui.events.size > 0;
}

// ------------------------------------------------------------------ wiring

function init() {
  $("logout").addEventListener("click", onLogout);
  for (const button of document.querySelectorAll(".division button")) {
    button.addEventListener("click", () => setDivision(Number(button.dataset.division), 0));
  }
  // Coming back to the tab: fresh channel states, and a session that ended shows the form.
  window.addEventListener("focus", () => {
    if (ui.inApp) refreshChannels();
  });
  $("page-prev").addEventListener("click", () => {
    ui.page -= 1;
    renderGrid();
  });
  $("page-next").addEventListener("click", () => {
    ui.page += 1;
    renderGrid();
  });
  boot();
}

init();
