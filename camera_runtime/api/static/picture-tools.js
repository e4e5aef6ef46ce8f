// Tools drawn on a channel's live picture (docs/ptz.md), from its settings panel (ptz.js):
// 3D positioning (a click centres a point, a box dragged towards the lower right zooms in,
// towards the upper left out; ePTZ channels only), count pixel (a box's size in pixels) and
// digital zoom (a box enlarged in this browser only; a click goes back). One tool at a time: a
// toggle button each, pressed again to stop.
//
// An SVG over the tile whose viewBox is the picture's size (as cropping.js draws), so a
// pointer's place is read in picture pixels whatever the tile's size.

import { tilePictureSize } from "./live.js";
import { element, showMessage } from "./util.js";

const SVG = "http://www.w3.org/2000/svg";
const TOOLS = [
  ["position", "3D positioning"],
  ["count", "Count pixel"],
  ["zoom", "Digital zoom"],
];
const CLICK = 4; // a drag shorter than this many screen pixels is a click

const state = {
  ctx: null, // {channelId, status(), send(method, path, body), onPosition(answer)}
  tool: "off",
  overlay: null,
  box: null, // the SVG rect being dragged
  drag: null,
  zoomed: false,
  size: [16, 9],
};

/** A small panel button; `label` names it for assistive technology when its text is a sign. */
export function button(text, label, onClick) {
  const b = element("button", "ghost ptz-button", text);
  b.type = "button";
  if (label) {
    b.setAttribute("aria-label", label);
    b.title = label;
  }
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

/** The tools' buttons and their message line, for one channel (`ctx`, see `state.ctx`). */
export function toolButtons(ctx) {
  state.ctx = ctx;
  const tools = element("div", "ptz-tools");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", "Tools on the live picture");
  for (const [value, label] of TOOLS) {
    const tool = button(label, null, () => setTool(state.tool === value ? "off" : value));
    tool.id = `ptz-tool-${value}`;
    tool.setAttribute("aria-pressed", "false");
    tools.append(tool);
  }
  const measured = element("p", "image-hint ptz-count");
  measured.id = "ptz-count";
  measured.setAttribute("role", "status");
  return [tools, measured];
}

/** 3D positioning only with ePTZ and a level that may move; the overlay follows the tile. */
export function updateTools(hasPtz, readOnly) {
  const position = document.getElementById("ptz-tool-position");
  if (position) {
    position.hidden = !hasPtz;
    position.disabled = readOnly;
  }
  if ((!hasPtz || readOnly) && state.tool === "position") setTool("off");
  placeOverlay();
}

/** The panel closed or shows another channel: the tools leave the picture. */
export function stopTools() {
  setTool("off");
  state.ctx = null;
}

function tile() {
  if (!state.ctx) return null;
  const id = CSS.escape(state.ctx.channelId);
  return document.querySelector(`#live-grid .tile[data-channel-id="${id}"]`);
}

function setTool(tool) {
  state.tool = tool;
  for (const [value] of TOOLS) {
    const toggle = document.getElementById(`ptz-tool-${value}`);
    if (toggle) toggle.setAttribute("aria-pressed", String(value === tool));
  }
  if (tool !== "zoom") resetZoom();
  showMessage("ptz-count", "");
  placeOverlay();
}

function placeOverlay() {
  const where = tile();
  if (state.tool === "off" || !where) {
    if (state.overlay) state.overlay.remove();
    return;
  }
  if (!state.overlay) {
    const overlay = document.createElementNS(SVG, "svg");
    overlay.setAttribute("class", "ptz-overlay");
    overlay.addEventListener("pointerdown", onDown);
    overlay.addEventListener("pointermove", onMove);
    overlay.addEventListener("pointerup", onUp);
    overlay.addEventListener("pointercancel", () => endDrag());
    state.box = document.createElementNS(SVG, "rect");
    state.box.setAttribute("class", "ptz-box");
    overlay.append(state.box);
    state.overlay = overlay;
  }
  const status = state.ctx.status();
  const [width, height] = tilePictureSize(where, () => [Number(status.width), Number(status.height)]);
  state.size = [width, height];
  state.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
  state.overlay.setAttribute("preserveAspectRatio", "xMidYMid meet");
  state.overlay.dataset.tool = state.tool;
  if (state.overlay.parentNode !== where) {
    where.insertBefore(state.overlay, where.querySelector(".tile-settings"));
  }
  state.box.setAttribute("visibility", "hidden");
}

/** The pointer's place as fractions (0..1) of the picture, and in screen pixels. */
function pointAt(event) {
  const matrix = state.overlay.getScreenCTM();
  const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
  const [width, height] = state.size;
  const clamp = (v) => Math.min(Math.max(v, 0), 1);
  return { x: clamp(point.x / width), y: clamp(point.y / height), sx: event.clientX, sy: event.clientY };
}

function onDown(event) {
  if (event.button !== 0) return;
  event.preventDefault();
  state.overlay.setPointerCapture(event.pointerId);
  state.drag = { from: pointAt(event), to: pointAt(event) };
}

function onMove(event) {
  if (!state.drag) return;
  state.drag.to = pointAt(event);
  const { from, to } = state.drag;
  const [width, height] = state.size;
  state.box.setAttribute("x", String(Math.min(from.x, to.x) * width));
  state.box.setAttribute("y", String(Math.min(from.y, to.y) * height));
  state.box.setAttribute("width", String(Math.abs(to.x - from.x) * width));
  state.box.setAttribute("height", String(Math.abs(to.y - from.y) * height));
  state.box.setAttribute("visibility", "visible");
}

function endDrag() {
  const drag = state.drag;
  state.drag = null;
  if (state.box) state.box.setAttribute("visibility", "hidden");
  return drag;
}

async function onUp(event) {
  if (!state.drag) return;
  state.drag.to = pointAt(event);
  const { from, to } = endDrag();
  const click = Math.hypot(to.sx - from.sx, to.sy - from.sy) < CLICK;
  const box = { x0: from.x, y0: from.y, x1: to.x, y1: to.y };
  if (state.tool === "position") {
    const body = click ? { x: to.x, y: to.y } : box;
    const answer = await state.ctx.send("POST", "/position_3d", body);
    if (answer) state.ctx.onPosition(answer);
  } else if (state.tool === "count" && !click) {
    const url = `/api/channels/${encodeURIComponent(state.ctx.channelId)}/count_pixel`;
    const size = await state.ctx.send("POST", url, box, { absolute: true });
    if (size) showMessage("ptz-count", `${size.width} x ${size.height} pixels`);
  } else if (state.tool === "zoom") {
    if (click || state.zoomed) resetZoom();
    else zoomTo(box);
  }
}

/** Digital zoom: scale the tile's picture so the box fills it (this browser only). */
function zoomTo(box) {
  const where = tile();
  if (!where) return;
  const [width, height] = state.size;
  const matrix = state.overlay.getScreenCTM();
  const rect = where.getBoundingClientRect();
  const corner = (x, y) => new DOMPoint(x * width, y * height).matrixTransform(matrix);
  const a = corner(Math.min(box.x0, box.x1), Math.min(box.y0, box.y1));
  const b = corner(Math.max(box.x0, box.x1), Math.max(box.y0, box.y1));
  const boxWidth = Math.max(b.x - a.x, 1);
  const boxHeight = Math.max(b.y - a.y, 1);
  const scale = Math.min(rect.width / boxWidth, rect.height / boxHeight);
  const cx = (a.x + b.x) / 2 - rect.left;
  const cy = (a.y + b.y) / 2 - rect.top;
  const tx = rect.width / 2 - scale * cx;
  const ty = rect.height / 2 - scale * cy;
  for (const picture of where.querySelectorAll("img, video")) {
    picture.classList.add("ptz-zoomed");
    picture.style.transform = `translate(${tx}px, ${ty}px) scale(${scale})`;
  }
  where.dataset.digitalZoom = scale.toFixed(2);
  state.zoomed = true;
  showMessage("ptz-count", `Digital zoom ${scale.toFixed(1)}x: click the picture to go back`);
}

function resetZoom() {
  for (const picture of document.querySelectorAll("#live-grid .ptz-zoomed")) {
    picture.classList.remove("ptz-zoomed");
    picture.style.transform = "";
  }
  for (const zoomed of document.querySelectorAll("#live-grid [data-digital-zoom]")) {
    delete zoomed.dataset.digitalZoom;
  }
  state.zoomed = false;
}
