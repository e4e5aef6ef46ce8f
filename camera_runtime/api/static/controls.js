// The settings panel of one channel: its controls as the API declares them (status.controls),
// main controls first, then settings; set through PUT/POST /api/channels/{id}/controls/{key}
// and kept live by the channel changes pushed on the events WebSocket. Below them, its image
// stages (image.js), target cropping (cropping.js), smart event rules (rules.js) and streams (streams.js), from the same
// status.
//
// The panel never names a control: whatever a channel declares is shown, whatever it stops
// declaring (a detector in another mode) goes away.

import { authed, hasStatus } from "./api.js";
import { ControlField, isControl } from "./control-fields.js";
import { clearCropping, renderCropping, setCroppingReadOnly } from "./cropping.js";
import { clearImage, renderImage, setImageReadOnly } from "./image.js";
import { channelName, channelStatus, setSettingsOpen } from "./live.js";
import { clearPtz, renderPtz, setPtzReadOnly } from "./ptz.js";
import { clearRules, renderRules, setRulesReadOnly } from "./rules.js";
import { clearStreams, renderStreams } from "./streams.js";
import { $, showMessage } from "./util.js";

const panel = {
  channelId: null, // the channel shown, null while closed
  opener: null, // the button that opened the panel, focused again when it closes
  fields: new Map(), // control key -> ControlField
  readOnly: false, // the session's level may not change controls (the API answers 403)
  loads: 0, // counts GETs, so that only the newest answer is shown
};

function controlUrl(channelId, key) {
  return `/api/channels/${encodeURIComponent(channelId)}/controls/${encodeURIComponent(key)}`;
}

/** The session's user level (GET /api/session): "user" sees the controls read-only. */
export function setControlsAccess(level) {
  panel.readOnly = level === "user";
  $("controls-readonly").hidden = !panel.readOnly;
  for (const field of panel.fields.values()) field.setReadOnly(panel.readOnly);
  setImageReadOnly(panel.readOnly);
  setCroppingReadOnly(panel.readOnly);
  setPtzReadOnly(panel.readOnly);
  setRulesReadOnly(panel.readOnly);
}

/** A tile's "Settings" button: open that channel's panel, or close it when already open. */
export function toggleControls(channelId, opener) {
  if (panel.channelId === channelId) {
    closeControls();
  } else {
    openControls(channelId, opener);
  }
}

export function openControls(channelId, opener) {
  if (panel.channelId !== channelId) clearFields();
  panel.channelId = channelId;
  panel.opener = opener || null;
  showMessage("controls-notice", "");
  $("controls-panel").hidden = false;
  setSettingsOpen(channelId);
  const known = channelStatus(channelId);
  if (known) render(known);
  else $("controls-title").textContent = channelName(channelId) || channelId;
  $("controls-title").focus();
  reload();
}

/** Close the panel; the keyboard goes back to the button that opened it. */
export function closeControls({ restoreFocus = true } = {}) {
  if (panel.channelId === null) return;
  const opener = panel.opener;
  panel.channelId = null;
  panel.opener = null;
  clearFields();
  $("controls-panel").hidden = true;
  setSettingsOpen(null);
  if (restoreFocus && opener && opener.isConnected) opener.focus();
}

/** Leaving the app (signed out): close without moving the focus. */
export function stopControls() {
  closeControls({ restoreFocus: false });
}

/** A channel change pushed on the WebSocket ({change, channel, status}). */
export function channelChanged(message) {
  if (message.channel !== panel.channelId) return;
  if (message.change === "removed") {
    closeControls();
    return;
  }
  if (message.status && typeof message.status === "object") render(message.status);
}

/** Load the open channel's status again (the socket came back: changes may have been missed). */
export function refreshControls() {
  if (panel.channelId !== null) reload();
}

async function reload() {
  const channelId = panel.channelId;
  const load = ++panel.loads;
  let status;
  try {
    status = await authed("GET", `/api/channels/${encodeURIComponent(channelId)}`);
  } catch (err) {
    if (panel.channelId !== channelId || load !== panel.loads) return;
    if (hasStatus(err, 404)) closeControls();
    else if (!hasStatus(err, 401)) showMessage("controls-notice", err.message);
    return;
  }
  if (panel.channelId !== channelId || load !== panel.loads) return;
  showMessage("controls-notice", "");
  render(status);
}

function clearFields() {
  for (const field of panel.fields.values()) field.remove();
  panel.fields.clear();
  clearImage();
  clearCropping();
  clearPtz();
  clearRules();
  clearStreams();
}

/** Show a status's controls: new ones are added, gone ones removed, changed ones rebuilt, and
 * every value follows the channel's. Fields are moved only when out of place, so the one the
 * keyboard is on keeps its focus. */
function render(status) {
  $("controls-title").textContent = status.name || status.id || panel.channelId;
  const controls = (Array.isArray(status.controls) ? status.controls : []).filter(isControl);
  const wanted = new Set(controls.map((c) => c.key));
  let focusLost = false;
  const drop = (field) => {
    focusLost ||= field.el.contains(document.activeElement);
    field.remove();
  };
  for (const [key, field] of panel.fields) {
    if (!wanted.has(key)) {
      drop(field);
      panel.fields.delete(key);
    }
  }
  const groups = { main: [], config: [] };
  for (const control of controls) {
    let field = panel.fields.get(control.key);
    if (field && !field.fits(control)) {
      drop(field);
      field = null;
    }
    if (!field) {
      field = new ControlField(control, { commit, press });
      field.setReadOnly(panel.readOnly);
      panel.fields.set(control.key, field);
    }
    field.control = control;
    field.update(control.value);
    groups[control.config ? "config" : "main"].push(field.el);
  }
  place($("controls-main"), groups.main);
  place($("controls-config"), groups.config);
  $("controls-main-group").hidden = groups.main.length === 0;
  $("controls-config-group").hidden = groups.config.length === 0;
  $("controls-empty").hidden = controls.length > 0;
  renderPtz(panel.channelId, status);
  renderImage(panel.channelId, status, { onStatus: render });
  const size = [Number(status.width), Number(status.height)];
  renderCropping(panel.channelId, status, { onStatus: render, pictureSize: () => size });
  renderRules(panel.channelId, status, { onStatus: render, pictureSize: () => size });
  renderStreams(panel.channelId, status);
  // The control the keyboard was on went away: stay in the panel rather than fall to the page.
  if (focusLost) $("controls-title").focus();
}

function place(list, rows) {
  rows.forEach((row, index) => {
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
  });
}

/** Set a control. Values chosen while a request is in flight wait for it, and only the latest
 * is sent; a refusal shows the API's message and the field goes back to the real value.
 * Whatever else the change did (a control that comes or goes) arrives as a channel push. */
async function commit(field, value) {
  if (panel.readOnly) {
    field.revert();
    return;
  }
  field.pending = { value };
  if (field.busy) return;
  field.busy = true;
  field.clearError();
  const channelId = panel.channelId;
  let status = null;
  let failure = null;
  while (field.pending) {
    const next = field.pending.value;
    field.pending = null;
    try {
      status = await authed("PUT", controlUrl(channelId, field.key), { value: next });
    } catch (err) {
      failure = err;
      field.pending = null;
    }
    if (failure) break;
  }
  field.busy = false;
  if (panel.channelId !== channelId || panel.fields.get(field.key) !== field) return;
  if (failure) {
    field.revert();
    field.showError(failure.message);
    if (!hasStatus(failure, 401)) reload();
  } else if (status && Array.isArray(status.controls)) {
    // The answer confirms this control only: it may arrive after a newer push (the socket and
    // this request are separate connections), so the other fields keep what the pushes said.
    const confirmed = status.controls.find((c) => isControl(c) && c.key === field.key);
    if (confirmed && field.fits(confirmed)) field.update(confirmed.value, true);
  }
}

/** Press a button control and show what its command produced. */
async function press(field) {
  if (panel.readOnly || field.busy) return;
  field.busy = true;
  field.setPressing(true);
  field.clearError();
  const channelId = panel.channelId;
  try {
    const result = await authed("POST", controlUrl(channelId, field.key));
    if (panel.fields.get(field.key) === field) {
      field.showResult(result, channelName(channelId) || channelId);
    }
  } catch (err) {
    field.showError(err.message);
  } finally {
    field.busy = false;
    field.setPressing(false);
  }
}

function onKeydown(event) {
  if (event.key !== "Escape") return;
  const target = event.target;
  for (const field of panel.fields.values()) {
    if (field.kind === "number" && target === field.input && field.editing()) {
      // Escape while typing a number: back to the real value, the panel stays open.
      event.preventDefault();
      field.clearError();
      field.revert();
      return;
    }
  }
  event.preventDefault();
  closeControls();
}

export function initControls() {
  $("controls-close").addEventListener("click", () => closeControls());
  $("controls-panel").addEventListener("keydown", onKeydown);
}
