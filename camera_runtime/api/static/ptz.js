// PTZ on the live view, in a channel's settings panel (docs/ptz.md): for a channel with ePTZ
// (status.ptz), arrows, zoom, speed and stop (a press moves, a release stops), the presets
// (save, call, rename, delete), patrols and patterns; for every channel the tools on its live
// picture (picture-tools.js: 3D positioning, count pixel, digital zoom).
//
// Everything goes through /api/channels/{id}/ptz; the preset list is the GET of .../ptz,
// loaded again when the status' PTZ controls change.

import { authed } from "./api.js";
import { button, stopTools, toolButtons, updateTools } from "./picture-tools.js";
import { $, element, showMessage } from "./util.js";

const ARROWS = [
  ["Pan up-left", "↖", -1, -1],
  ["Tilt up", "↑", 0, -1],
  ["Pan up-right", "↗", 1, -1],
  ["Pan left", "←", -1, 0],
  null, // the stop button sits in the middle
  ["Pan right", "→", 1, 0],
  ["Pan down-left", "↙", -1, 1],
  ["Tilt down", "↓", 0, 1],
  ["Pan down-right", "↘", 1, 1],
];

const state = {
  channelId: null,
  status: null,
  signature: "", // what of the status the preset list depends on
  listing: null, // GET .../ptz
  readOnly: false,
};

function base() {
  return `/api/channels/${encodeURIComponent(state.channelId)}/ptz`;
}

/** Send to the API (`path` under the channel's .../ptz unless `absolute`); the answer, or
 * null after showing the refusal. */
async function send(method, path, body, { absolute = false } = {}) {
  showMessage("ptz-error", "");
  if (!absolute) path = `${base()}${path}`;
  try {
    const answer = await authed(method, path, body);
    return answer === undefined ? {} : answer;
  } catch (err) {
    showMessage("ptz-error", err.message);
    return null;
  }
}

function speed() {
  return Number($("ptz-speed").value) || 4;
}

// ------------------------------------------------------------------ the panel section

/** The ePTZ controls (only for a channel with ePTZ: a channel without has no inputs here). */
function buildPtzOnly() {
  const moves = element("div", "ptz-pad");
  moves.setAttribute("role", "group");
  moves.setAttribute("aria-label", "Pan and tilt");
  for (const arrow of ARROWS) {
    if (arrow === null) {
      moves.append(button("■", "Stop", () => send("POST", "/stop")));
      continue;
    }
    const [label, text, pan, tilt] = arrow;
    moves.append(holdButton(text, label, { pan, tilt }));
  }
  const zoom = element("div", "ptz-zoom");
  zoom.setAttribute("role", "group");
  zoom.setAttribute("aria-label", "Zoom");
  zoom.append(holdButton("+", "Zoom in", { zoom: 1 }), holdButton("−", "Zoom out", { zoom: -1 }));
  const speedLabel = element("label", "control-label", "PTZ speed");
  speedLabel.htmlFor = "ptz-speed";
  const speedInput = element("input", "ptz-speed");
  speedInput.id = "ptz-speed";
  speedInput.type = "range";
  speedInput.min = "1";
  speedInput.max = "7";
  speedInput.step = "1";
  speedInput.value = "4";
  const where = element("p", "image-hint ptz-where");
  where.id = "ptz-where";
  where.setAttribute("role", "status");
  const live = element("div", "ptz-live");
  live.id = "ptz-live";
  live.append(moves, zoom, speedLabel, speedInput, where);

  const presets = element("div", "ptz-presets");
  presets.id = "ptz-presets";
  const saveRow = element("div", "ptz-row");
  const number = numberInput("ptz-preset-number", "Preset number", 1, 256);
  const name = element("input", "control-input ptz-name");
  name.id = "ptz-preset-name";
  name.placeholder = "Name";
  name.maxLength = 32;
  name.setAttribute("aria-label", "Preset name");
  saveRow.append(
    number,
    name,
    button("Save preset", null, async () => {
      const body = name.value.trim() ? { name: name.value.trim() } : {};
      if (await send("PUT", `/presets/${Number(number.value)}`, body)) {
        name.value = "";
        await reload();
      }
    }),
  );
  presets.append(...titled("Presets", saveRow, "ptz-preset-list"));

  const patrols = element("div", "ptz-patrols");
  const patrolRow = element("div", "ptz-row");
  const patrolNumber = numberInput("ptz-patrol-number", "Patrol number", 1, 8);
  const patrolPresets = element("input", "control-input");
  patrolPresets.id = "ptz-patrol-presets";
  patrolPresets.placeholder = "Presets: 1, 2, 5";
  patrolPresets.setAttribute("aria-label", "Patrol presets");
  const dwell = numberInput("ptz-patrol-dwell", "Dwell time (s)", 1, 30);
  dwell.value = "5";
  patrolRow.append(
    patrolNumber,
    patrolPresets,
    dwell,
    button("Save patrol", null, async () => {
      const numbers = patrolPresets.value.split(/[\s,]+/).filter(Boolean).map(Number);
      const points = numbers.map((preset) => ({ preset, dwell: Number(dwell.value), speed: 30 }));
      const path = `/patrols/${Number(patrolNumber.value)}`;
      if (await send("PUT", path, { presets: points })) await reload();
    }),
  );
  patrols.append(...titled("Patrols", patrolRow, "ptz-patrol-list"));

  const patterns = element("div", "ptz-patterns");
  const patternRow = element("div", "ptz-row");
  const patternNumber = numberInput("ptz-pattern-number", "Pattern number", 1, 4);
  const record = button("Record pattern", null, async () => {
    if (await send("POST", "/patterns/record")) await reload();
  });
  record.id = "ptz-record";
  const savePattern = button("Save pattern", null, async () => {
    if (await send("PUT", `/patterns/${Number(patternNumber.value)}`)) await reload();
  });
  savePattern.id = "ptz-save-pattern";
  patternRow.append(patternNumber, record, savePattern);
  patterns.append(...titled("Patterns", patternRow, "ptz-pattern-list"));

  $("ptz-only").replaceChildren(live, presets, patrols, patterns);
}

/** The section: the ePTZ controls' place, and the tools on the picture (toggle buttons: one
 * at a time, pressed again to stop). */
function build() {
  const ptzOnly = element("div", "ptz-only");
  ptzOnly.id = "ptz-only";
  const tools = toolButtons({
    channelId: state.channelId,
    status: () => state.status,
    send,
    onPosition: (answer) => showWhere({ ...state.status.ptz, ...answer }),
  });
  const error = element("p", "control-error");
  error.id = "ptz-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  $("ptz-body").replaceChildren(ptzOnly, ...tools, error);
}

/** A block's title, its form row, and its list (labelled with the title). */
function titled(title, row, listId) {
  const list = element("ul", "ptz-list");
  list.id = listId;
  list.setAttribute("aria-label", title);
  return [element("h4", "ptz-title", title), row, list];
}

function numberInput(id, label, min, max) {
  const input = element("input", "control-input ptz-number");
  input.id = id;
  input.type = "number";
  input.min = String(min);
  input.max = String(max);
  input.value = String(min);
  input.setAttribute("aria-label", label);
  input.title = label;
  return input;
}

/** A button that moves while pressed (pointer or Space/Enter held) and stops on release. */
function holdButton(text, label, direction) {
  const b = button(text, label);
  let held = false;
  const start = () => {
    if (held || state.readOnly) return;
    held = true;
    send("POST", "/move", { ...direction, speed: speed() });
  };
  const stop = () => {
    if (!held) return;
    held = false;
    send("POST", "/move", { pan: 0, tilt: 0, zoom: 0 });
  };
  b.addEventListener("pointerdown", start);
  b.addEventListener("pointerup", stop);
  b.addEventListener("pointerleave", stop);
  b.addEventListener("pointercancel", stop);
  b.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) {
      event.preventDefault();
      start();
    }
  });
  b.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") stop();
  });
  return b;
}

function listItem(text, actions) {
  const item = element("li", "ptz-item");
  item.append(element("span", "ptz-item-label", text), ...actions);
  return item;
}

function showListing(listing) {
  state.listing = listing;
  const presets = $("ptz-preset-list");
  presets.replaceChildren(
    ...listing.presets.map((preset) => {
      const rename = element("input", "control-input ptz-name");
      rename.value = preset.name;
      rename.maxLength = 32;
      rename.setAttribute("aria-label", `New name of preset ${preset.number}`);
      const url = `/presets/${preset.number}`;
      return listItem(`${preset.number}: ${preset.name}`, [
        button("Call", `Call preset ${preset.number}`, () => send("POST", `${url}/call`)),
        rename,
        button("Rename", `Rename preset ${preset.number}`, async () => {
          if (await send("PATCH", url, { name: rename.value.trim() })) await reload();
        }),
        button("Delete", `Delete preset ${preset.number}`, async () => {
          if (await send("DELETE", url)) await reload();
        }),
      ]);
    }),
  );
  $("ptz-patrol-list").replaceChildren(
    ...listing.patrols.map((patrol) => {
      const url = `/patrols/${patrol.number}`;
      const stops = patrol.presets.map((p) => p.preset).join(", ");
      return listItem(`Patrol ${patrol.number}: presets ${stops}`, [
        button("Start", `Start patrol ${patrol.number}`, () => send("POST", `${url}/start`)),
        button("Stop", `Stop patrol ${patrol.number}`, () => send("POST", "/stop")),
        button("Delete", `Delete patrol ${patrol.number}`, async () => {
          if (await send("DELETE", url)) await reload();
        }),
      ]);
    }),
  );
  $("ptz-pattern-list").replaceChildren(
    ...listing.patterns.map((pattern) => {
      const url = `/patterns/${pattern.number}`;
      return listItem(`Pattern ${pattern.number}: ${pattern.length.toFixed(1)} s`, [
        button("Run", `Run pattern ${pattern.number}`, () => send("POST", `${url}/run`)),
        button("Delete", `Delete pattern ${pattern.number}`, async () => {
          if (await send("DELETE", url)) await reload();
        }),
      ]);
    }),
  );
  showWhere(listing);
}

function showWhere(ptz) {
  if (!ptz) return;
  const parts = [`pan ${ptz.pan.toFixed(2)}`, `tilt ${ptz.tilt.toFixed(2)}`, `zoom ${ptz.zoom.toFixed(1)}x`];
  if (ptz.patrol) parts.push(`patrol ${ptz.patrol} running`);
  if (ptz.pattern) parts.push(`pattern ${ptz.pattern} running`);
  if (ptz.recording) parts.push("recording a pattern");
  $("ptz-where").textContent = parts.join(" · ");
  $("ptz-save-pattern").disabled = !ptz.recording || state.readOnly;
}

async function reload() {
  const channelId = state.channelId;
  if (!channelId || !state.status || !state.status.ptz) return;
  try {
    const listing = await authed("GET", base());
    if (state.channelId === channelId) showListing(listing);
  } catch (err) {
    if (state.channelId === channelId) showMessage("ptz-error", err.message);
  }
}

function signature(status) {
  const keys = (status.controls || [])
    .filter((c) => c && typeof c.key === "string" && c.key.startsWith("ptz_"))
    .map((c) => `${c.key}=${(c.options || []).join("|")}`);
  const ptz = status.ptz || {};
  return [...keys, ptz.patrol, ptz.pattern, ptz.recording].join(";");
}

/** Show a channel's PTZ section (a status from the API or a push). */
export function renderPtz(channelId, status) {
  if (state.channelId !== channelId) {
    clearPtz();
    state.channelId = channelId;
    build();
  }
  state.status = status;
  const hasPtz = Boolean(status.ptz);
  if (!hasPtz) $("ptz-only").replaceChildren();
  else if (!$("ptz-only").firstChild) buildPtzOnly();
  $("ptz-group").hidden = false;
  setPtzReadOnly(state.readOnly);
  if (hasPtz) showWhere(status.ptz);
  const sig = signature(status);
  if (hasPtz && (sig !== state.signature || !state.listing)) {
    state.signature = sig;
    reload();
  }
  updateTools(hasPtz, state.readOnly);
}

/** The panel closed or shows another channel: the tools leave the picture. */
export function clearPtz() {
  stopTools();
  state.channelId = null;
  state.status = null;
  state.listing = null;
  state.signature = "";
  $("ptz-group").hidden = true;
  $("ptz-body").replaceChildren();
}

/** The session's user level may not move: the buttons are disabled (the tools that only look,
 * count pixel and digital zoom, stay). */
export function setPtzReadOnly(readOnly) {
  state.readOnly = readOnly;
  const only = document.getElementById("ptz-only");
  if (!only) return;
  for (const control of only.querySelectorAll("button, input")) control.disabled = readOnly;
  updateTools(Boolean(state.status && state.status.ptz), readOnly);
}
