// camera_runtime web UI, entry module: start-up, entering and leaving the app, the page wiring.
//
// Plain modern JS modules, no build step, no framework. The server sets a CSP (default-src
// 'self'): no inline script, no inline style attribute, no external resource. Every piece of
// server data reaches the page through textContent or an attribute, never through innerHTML.
// The other modules: util.js (helpers), api.js (HTTP), auth.js (views and forms), live.js (the
// live view), events.js (the event list and the WebSocket), controls.js and control-fields.js
// (a channel's settings panel), uploads.js (the upload targets), recordings.js (playback
// timeline, export, pictures, storage).

import { api, authed, hasStatus, onSessionEnded } from "./api.js";
import { openApp, setEnterApp, showActivate, showLogin, showView } from "./auth.js";
import {
  channelChanged,
  initControls,
  refreshControls,
  setControlsAccess,
  stopControls,
  toggleControls,
} from "./controls.js";
import { renameChannels, startEvents, stopEvents } from "./events.js";
import { initLinkage, refreshLinkage, startLinkage, stopLinkage } from "./linkage.js";
import { initRecordings, startRecordings } from "./recordings.js";
import {
  liveRunning,
  onTileSettings,
  restartTiles,
  setDivision,
  startLive,
  stopLive,
  turnPage,
  updateChannel,
  updateChannels,
} from "./live.js";
import { startUploads, stopUploads } from "./uploads.js";
import { refreshStitching, startStitching, stopStitching } from "./stitching.js";
import { $ } from "./util.js";

const CHANNEL_REFRESH_MS = 10000;

let refreshTimer = null;

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
    showLogin(hasStatus(err, 401) ? "" : err.message);
    return;
  }
  await openApp();
}

async function enterApp() {
  const [device, channels, session] = await Promise.all([
    authed("GET", "/api/device"),
    authed("GET", "/api/channels"),
    authed("GET", "/api/session"),
  ]);
  renderDevice(device || {});
  setControlsAccess(session && session.level);
  showView("app");
  startLive(Array.isArray(channels) ? channels : []);
  startRecordings(Array.isArray(channels) ? channels : []);
  startEvents({ onReconnect, onChannel });
  startUploads(session && session.level);
  startLinkage(session && session.level);
  startStitching(session && session.level);
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refreshChannels, CHANNEL_REFRESH_MS);
}

/** The events socket opened again: the server may have restarted, changes may be missed. */
function onReconnect() {
  restartTiles();
  refreshControls();
  refreshLinkage();
}

/** A channel change pushed on the events socket: the live view and the settings panel follow;
 * a channel added or removed lays the grid out again. */
function onChannel(message) {
  if (!liveRunning()) return;
  if (message.change === "changed" && message.status) updateChannel(message.status);
  else {
    refreshChannels();
    refreshStitching();
  }
  channelChanged(message);
}

/** Stop every stream and timer and go back to the sign-in form. */
function leaveApp(notice) {
  if (!liveRunning()) return;
  stopControls();
  stopLinkage();
  stopLive();
  clearInterval(refreshTimer);
  refreshTimer = null;
  stopEvents();
  stopUploads();
  stopStitching();
  $("device-name").textContent = "Camera";
  $("device-meta").textContent = "";
  document.title = "Camera";
  showLogin(notice);
}

async function onLogout() {
  try {
    await api("POST", "/api/logout");
  } catch {
    // Signed out locally either way.
  }
  leaveApp("You are signed out.");
}

function plural(count, noun, many = `${noun}s`) {
  return `${count} ${count === 1 ? noun : many}`;
}

/** Channels in worker processes: how many run and how often one was replaced (a crashing
 * worker shows here, not only in the logs); each process's channels in the tooltip. */
function describeWorkers(workers) {
  if (!workers || !Array.isArray(workers.processes)) return { text: "", detail: [] };
  const alive = workers.processes.filter((p) => p.alive).length;
  const restarts = Number(workers.restarts) || 0;
  let text = plural(alive, "worker process", "worker processes");
  if (restarts) text += ` (${plural(restarts, "restart")})`;
  const detail = workers.processes.map(
    (p) =>
      `${p.name} (pid ${p.pid ?? "?"}${p.alive ? "" : ", down"}): ` +
      `${(p.channels || []).join(", ") || "no channel"}`,
  );
  return { text, detail };
}

function renderDevice(device) {
  const name =
    typeof device.device_name === "string" && device.device_name ? device.device_name : "Camera";
  $("device-name").textContent = name;
  const workers = describeWorkers(device.workers);
  const version = device.firmware_version && `v${device.firmware_version}`;
  const meta = [device.model, version, workers.text]
    .filter((part) => typeof part === "string" && part)
    .join(" · ");
  $("device-meta").textContent = meta;
  const serial = device.serial_no ? `Serial no. ${device.serial_no}` : "";
  $("device-meta").title = [serial, ...workers.detail].filter(Boolean).join("\n");
  document.title = `${name} · Live view`;
}

async function refreshChannels() {
  // Each on its own: a failed device fetch (the header's workers line) must not hold back the
  // channels' states, which are what a user watches; the header keeps its last reading.
  const [channels, device] = await Promise.allSettled([
    authed("GET", "/api/channels"),
    authed("GET", "/api/device"),
  ]);
  if (!liveRunning()) return;
  if (device.status === "fulfilled" && device.value) renderDevice(device.value);
  if (channels.status !== "fulfilled" || !Array.isArray(channels.value)) return;
  updateChannels(channels.value);
  renameChannels();
}

function init() {
  onSessionEnded(leaveApp);
  setEnterApp(enterApp);
  initControls();
  initLinkage();
  initRecordings();
  onTileSettings(toggleControls);
  $("logout").addEventListener("click", onLogout);
  for (const button of document.querySelectorAll(".division button")) {
    button.addEventListener("click", () => setDivision(Number(button.dataset.division), 0));
  }
  // Coming back to the tab: fresh channel states, and a session that ended shows the form.
  window.addEventListener("focus", () => {
    if (liveRunning()) refreshChannels();
  });
  $("page-prev").addEventListener("click", () => turnPage(-1));
  $("page-next").addEventListener("click", () => turnPage(1));
  boot();
}

init();
