// The live view: window division (1x1 to 4x4), paging, and one tile per channel with a live
// stream or a refreshed snapshot, retried when it fails, and a button to its settings panel.
// A stream is the camera's own H.264 played through Media Source Extensions when the server
// passes it through (no encoding on the server) and the browser can play it, else MJPEG.

import { authed } from "./api.js";
import { LivePlayer, mseSupported } from "./player.js";
import { $, backoffDelay } from "./util.js";

const DIVISIONS = [1, 2, 3, 4];
const DIVISION_KEY = "camera_runtime.division"; // localStorage: the last division chosen
const IMG_RETRY_START_MS = 2000;
const IMG_RETRY_MAX_MS = 30000;
const SNAPSHOT_INTERVAL_MS = 1000;
const WATCHDOG_MS = 2000;
// Browsers open at most 6 HTTP/1.1 connections to one host, and an MJPEG stream holds one for
// as long as it plays. Past this many visible tiles, the others show a snapshot refreshed every
// second, so API calls (and the snapshots) still get a connection.
const MAX_STREAMS = 4;
const BAD_STATES = new Set(["offline", "ended", "stopped"]);
const players = new WeakMap(); // tile -> its LivePlayer while it plays video

const view = {
  running: false, // between startLive and stopLive: signed in, the app shown
  channels: [], // the last GET /api/channels
  names: new Map(), // channel id -> name
  division: 1,
  page: 0,
  zoomedFrom: null, // the division a tile click left, to go back to on the next click
  watchdogTimer: null,
  settingsOpen: null, // the channel whose settings panel is open (its tile's button is expanded)
  onSettings: () => {}, // (channel id, the button pressed): open that channel's settings
};

/** Whether the live view is running (the app is shown, signed in). */
export function liveRunning() {
  return view.running;
}

/** A tile's picture size in pixels: the decoded picture's (its image or its video), else
 * `fallback()` (the channel's status), else 16:9. What drawings over a tile scale to. */
export function tilePictureSize(tile, fallback) {
  const img = tile.querySelector("img");
  if (img && !img.hidden && img.naturalWidth > 0) return [img.naturalWidth, img.naturalHeight];
  const video = tile.querySelector("video");
  if (video && !video.hidden && video.videoWidth > 0) return [video.videoWidth, video.videoHeight];
  const size = fallback ? fallback() : null;
  return size && size[0] > 0 && size[1] > 0 ? size : [16, 9];
}

/** The name shown for a channel id, if it is a known channel. */
export function channelName(id) {
  return view.names.get(id);
}

/** The channel's last known status (from the list or a push), if it is a known channel. */
export function channelStatus(id) {
  return view.channels.find((ch) => ch.id === id);
}

/** What a tile's "Settings" button does: `handler(channelId, button)`. */
export function onTileSettings(handler) {
  view.onSettings = handler;
}

/** Mark which channel's settings are open (null: none), on its tile's button. */
export function setSettingsOpen(id) {
  view.settingsOpen = id;
  for (const tile of $("live-grid").children) {
    const button = tile.querySelector(".tile-settings");
    if (button) button.setAttribute("aria-expanded", String(tile.dataset.channelId === id));
  }
}

function displayName(ch) {
  return ch.name || ch.id;
}

function setChannels(channels) {
  view.channels = channels.filter((ch) => ch && typeof ch.id === "string");
  view.names = new Map(view.channels.map((ch) => [ch.id, displayName(ch)]));
}

/** Show the channels (a GET /api/channels answer) in the division last chosen. */
export function startLive(channels) {
  setChannels(channels);
  view.division = initialDivision(view.channels.length);
  view.page = 0;
  view.zoomedFrom = null;
  view.running = true;
  renderGrid();
  clearInterval(view.watchdogTimer);
  view.watchdogTimer = setInterval(watchTiles, WATCHDOG_MS);
}

/** Stop every stream and timer and empty the grid. */
export function stopLive() {
  view.running = false;
  clearInterval(view.watchdogTimer);
  view.watchdogTimer = null;
  for (const tile of $("live-grid").children) stopTile(tile);
  $("live-grid").replaceChildren();
}

/** One channel's new status (pushed on the WebSocket): relabel its tile (state badge). */
export function updateChannel(status) {
  const index = view.channels.findIndex((ch) => ch.id === status.id);
  if (index < 0) return;
  view.channels[index] = status;
  view.names.set(status.id, displayName(status));
  for (const tile of $("live-grid").children) {
    if (tile.dataset.channelId === status.id) relabelTile(tile);
  }
}

/** A fresh channel list: lay the grid out again if the channels changed, else relabel. */
export function updateChannels(channels) {
  const before = view.channels.map((ch) => ch.id).join("\n");
  setChannels(channels);
  if (view.channels.map((ch) => ch.id).join("\n") !== before) {
    renderGrid();
  } else {
    for (const tile of $("live-grid").children) relabelTile(tile);
  }
}

function initialDivision(count) {
  const stored = Number(localStorage.getItem(DIVISION_KEY));
  if (DIVISIONS.includes(stored)) return stored;
  return DIVISIONS.find((n) => n * n >= count) || 4;
}

export function setDivision(n, page, { remember = true } = {}) {
  view.division = n;
  view.page = page || 0;
  if (remember) {
    view.zoomedFrom = null;
    try {
      localStorage.setItem(DIVISION_KEY, String(n));
    } catch {
      // Private mode: the choice is not kept, nothing else changes.
    }
  }
  renderGrid();
}

/** Go `delta` pages forward (or back); renderGrid keeps the page in range. */
export function turnPage(delta) {
  view.page += delta;
  renderGrid();
}

function pageCount() {
  const per = view.division * view.division;
  return Math.max(1, Math.ceil(view.channels.length / per));
}

/** Lay out the current page. Tiles of channels that stay visible keep their stream;
 * tiles that leave stop theirs, so hidden channels are not streamed (nor encoded). */
function renderGrid() {
  const grid = $("live-grid");
  const n = view.division;
  const per = n * n;
  const pages = pageCount();
  view.page = Math.min(Math.max(view.page, 0), pages - 1);
  const visible = view.channels.slice(view.page * per, view.page * per + per);

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
  $("page-label").textContent = `Page ${view.page + 1} of ${pages}`;
  $("page-prev").disabled = view.page === 0;
  $("page-next").disabled = view.page >= pages - 1;
  $("no-channels").hidden = view.channels.length > 0;
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

  const img = document.createElement("img");
  img.decoding = "async";
  img.draggable = false;
  img.addEventListener("load", () => onTileLoad(tile));
  img.addEventListener("error", () => onTileError(tile));
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.disablePictureInPicture = true;
  video.hidden = true;

  const name = document.createElement("span");
  name.className = "tile-name";
  const badge = document.createElement("span");
  badge.className = "tile-state";
  badge.hidden = true;

  // The whole picture is a button (view alone / go back); the settings button sits on top of
  // it, beside it in the tree rather than inside it, so both stay reachable by keyboard.
  const zoom = document.createElement("button");
  zoom.type = "button";
  zoom.className = "tile-view";
  zoom.addEventListener("click", () => onTileActivate(tile));
  const settings = document.createElement("button");
  settings.type = "button";
  settings.className = "tile-settings";
  settings.textContent = "Settings";
  settings.setAttribute("aria-controls", "controls-panel");
  settings.setAttribute("aria-expanded", "false");
  settings.addEventListener("click", () => view.onSettings(tile.dataset.channelId, settings));

  tile.append(img, video, name, badge, zoom, settings);
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
  const name = displayName(ch);
  tile.querySelector(".tile-name").textContent = name;
  tile.querySelector("img").alt = `Live view of ${name}`;
  tile.querySelector("video").setAttribute("aria-label", `Live video of ${name}`);
  const back = view.zoomedFrom;
  const zoom = tile.querySelector(".tile-view");
  if (view.division > 1) zoom.title = `${name}: click to view alone`;
  else if (back) zoom.title = `${name}: click to go back to ${back}x${back}`;
  else zoom.title = name;
  zoom.setAttribute("aria-label", zoom.title);
  const settings = tile.querySelector(".tile-settings");
  settings.setAttribute("aria-label", `Settings of ${name}`);
  settings.setAttribute("aria-expanded", String(view.settingsOpen === ch.id));
  const badge = tile.querySelector(".tile-state");
  let text = "";
  if (BAD_STATES.has(ch.state)) text = ch.state;
  else if (tile.classList.contains("no-video")) text = "no video";
  badge.textContent = text;
  badge.hidden = !text;
}

/** Update a tile's labels from its channel's latest state (empty tiles have none). */
function relabelTile(tile) {
  const ch = view.channels.find((c) => c.id === tile.dataset.channelId);
  if (ch) updateTile(tile, ch);
}

function clearTileTimer(tile) {
  clearTimeout(Number(tile.dataset.timer || 0));
  delete tile.dataset.timer;
}

/** Run `action` after `delay`, in place of the tile's pending timer. */
function setTileTimer(tile, delay, action) {
  clearTileTimer(tile);
  tile.dataset.timer = String(setTimeout(action, delay));
}

/** (Re)start a tile's picture: a live stream, or a snapshot refreshed every second. */
function startTile(tile, mode) {
  clearTileTimer(tile);
  tile.dataset.mode = mode;
  tile.dataset.retry = "0";
  tile.dataset.loaded = "false";
  play(tile);
}

/** The stream role a tile plays as video, or null for MJPEG: one the server passes through
 * (the sub-stream for small tiles when there is one), in a browser with Media Source. */
function videoRole(tile) {
  if (tile.dataset.mode !== "stream" || tile.dataset.mse === "off" || !mseSupported()) {
    return null;
  }
  const streams = (channelStatus(tile.dataset.channelId) || {}).streams || {};
  const passed = (role) => streams[role] && streams[role].mode === "passthrough";
  if (view.division > 1 && passed("sub")) return "sub";
  return passed("main") ? "main" : null;
}

/** Show the tile's picture: video, or the MJPEG stream or snapshot in its img. */
function play(tile) {
  stopPlayer(tile);
  const img = tile.querySelector("img");
  const video = tile.querySelector("video");
  img.removeAttribute("src");
  const role = videoRole(tile);
  tile.dataset.player = role ? "video" : "image";
  img.hidden = Boolean(role);
  video.hidden = !role;
  if (!role) {
    img.src = tileUrl(tile);
    return;
  }
  const id = encodeURIComponent(tile.dataset.channelId);
  let played = false;
  const player = new LivePlayer(video, `/api/channels/${id}/streams/${role}.mp4`, {
    onPlaying: () => {
      played = true;
      onTileLoad(tile);
    },
    onEnd: (reason) => {
      if (players.get(tile) !== player) return; // replaced or stopped meanwhile
      players.delete(tile);
      if (!played) {
        // The browser cannot play it (codec, a refused segment) or it never started: MJPEG.
        console.info(`live view of ${tile.dataset.channelId}: MJPEG (${reason})`);
        tile.dataset.mse = "off";
        if (tile.isConnected && tile.dataset.mode) play(tile);
      } else {
        onTileError(tile); // it played, then ended (the channel reconnected): again, later
      }
    },
  });
  players.set(tile, player);
  player.start();
}

function stopPlayer(tile) {
  const player = players.get(tile);
  if (player) {
    players.delete(tile);
    player.stop();
  }
}

/** Start the streams again (after the event socket came back: the server may have restarted,
 * and a stream it ended cleanly leaves a frozen picture that fires no event). */
export function restartTiles() {
  for (const tile of $("live-grid").children) {
    if (tile.dataset.mode) startTile(tile, tile.dataset.mode);
  }
}

function stopTile(tile) {
  clearTileTimer(tile);
  delete tile.dataset.mode;
  stopPlayer(tile);
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
    relabelTile(tile);
  }
  if (tile.dataset.mode === "snapshot") {
    setTileTimer(tile, SNAPSHOT_INTERVAL_MS, () => {
      if (tile.isConnected && tile.dataset.mode === "snapshot") {
        tile.querySelector("img").src = tileUrl(tile);
      }
    });
  }
}

function onTileError(tile) {
  if (!tile.isConnected || !view.running || !tile.dataset.mode) return;
  clearTileTimer(tile);
  tile.dataset.loaded = "false";
  tile.classList.add("no-video");
  relabelTile(tile);
  const attempt = Number(tile.dataset.retry || 0) + 1;
  tile.dataset.retry = String(attempt);
  const delay = backoffDelay(attempt, IMG_RETRY_START_MS, IMG_RETRY_MAX_MS);
  setTileTimer(tile, delay, async () => {
    if (!tile.isConnected || !view.running) return;
    // The picture may have failed because the session ended: this brings back the sign-in form.
    try {
      await authed("GET", "/api/session");
    } catch {
      if (!view.running) return;
    }
    if (tile.isConnected && tile.dataset.mode) play(tile);
  });
}

/** A broken multipart stream blanks the picture without an error event: look for that. */
function watchTiles() {
  for (const tile of $("live-grid").children) {
    const img = tile.querySelector("img");
    const showsImage = tile.dataset.player !== "video";
    if (showsImage && tile.dataset.loaded === "true" && img && img.naturalWidth === 0) {
      onTileError(tile);
    }
  }
}

function onTileActivate(tile) {
  const index = view.channels.findIndex((c) => c.id === tile.dataset.channelId);
  if (index < 0) return;
  if (view.division > 1) {
    const from = view.division;
    view.zoomedFrom = from;
    setDivision(1, index, { remember: false });
  } else if (view.zoomedFrom) {
    const n = view.zoomedFrom;
    view.zoomedFrom = null;
    setDivision(n, Math.floor(index / (n * n)), { remember: false });
  } else {
    return;
  }
  // The grid was laid out again: keep the keyboard on the tile just used.
  if (tile.isConnected) tile.querySelector(".tile-view").focus({ preventScroll: true });
}
