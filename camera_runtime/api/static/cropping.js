// Target cropping (manual 4.10) in a channel's settings panel: the third stream's window, from
// status.target_cropping, drawn on the channel's live picture as a red frame of the cropping
// resolution scaled to the picture. Drag the frame (or focus it and use the arrow keys) to
// move it, pick a resolution, switch it on or off; Save sends what changed with
// PUT /api/channels/{id}/target_cropping. A refusal (422, "…target_cropping.x: …") is shown
// next to the field its key path names; the window keeps what was set until saved or undone.
//
// The frame is drawn like the privacy mask's areas (mask.js): an SVG over the tile whose
// viewBox is the picture's size, scaled and centred as the picture is (object-fit: contain).

import { putForm } from "./api.js";
import { tilePictureSize } from "./live.js";
import { $, capitalised } from "./util.js";

const SVG = "http://www.w3.org/2000/svg";
/** Cropping resolutions offered (the current one is added when it is another). */
const RESOLUTIONS = ["320x240", "640x360", "640x480", "800x600", "1280x720", "1920x1080"];
const KEYS = ["enabled", "resolution", "x", "y"];
const DIGITS = 10000; // x and y to 4 decimals
const STEP = 0.01; // an arrow key moves the window by 1% of the picture

const section = { form: null, readOnly: false };

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}

function isCropping(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.enabled === "boolean" &&
    typeof value.resolution === "string" &&
    typeof value.x === "number" &&
    typeof value.y === "number"
  );
}

class CroppingForm {
  constructor(channelId, cropping, handlers) {
    this.channelId = channelId;
    this.handlers = handlers; // onStatus(status), pictureSize()
    this.saved = { ...cropping };
    this.draft = { ...cropping };
    this.busy = false;
    this.drag = null;

    const form = element("form", "image-stage crop-form");
    form.noValidate = true;
    form.setAttribute("aria-labelledby", "cropping-title");
    const head = element("div", "control-head image-stage-head");
    const title = element("span", "control-label", "Enable target cropping");
    title.id = "crop-enabled-label";
    this.enabled = element("input", "toggle");
    this.enabled.type = "checkbox";
    this.enabled.id = "crop-enabled";
    this.enabled.setAttribute("role", "switch");
    this.enabled.setAttribute("aria-labelledby", title.id);
    this.enabled.addEventListener("change", () => this.set({ enabled: this.enabled.checked }));
    head.append(title, this.enabled);

    const row = element("div", "image-field");
    const name = element("label", "control-label", "Cropping resolution");
    name.htmlFor = "crop-resolution";
    this.resolution = element("select", "control-select");
    this.resolution.id = "crop-resolution";
    this.resolution.addEventListener("change", () => this.set({ resolution: this.resolution.value }));
    const rowHead = element("div", "control-head");
    rowHead.append(name, this.resolution);
    row.append(rowHead);

    this.errors = {};
    for (const key of ["enabled", "resolution", "position"]) {
      const error = element("p", "control-error");
      error.id = `crop-${key}-error`;
      error.setAttribute("role", "alert");
      error.hidden = true;
      this.errors[key] = error;
    }
    this.enabled.setAttribute("aria-describedby", this.errors.enabled.id);
    this.resolution.setAttribute("aria-describedby", this.errors.resolution.id);
    row.append(this.errors.resolution);
    this.where = element("p", "image-hint crop-where");
    this.where.setAttribute("role", "status");
    this.formError = element("p", "control-error image-form-error");
    this.formError.setAttribute("role", "alert");
    this.formError.hidden = true;
    this.save = element("button", "primary image-save", "Save");
    this.save.type = "submit";
    this.undo = element("button", "ghost image-undo", "Undo changes");
    this.undo.type = "button";
    this.undo.addEventListener("click", () => this.revert());
    const actions = element("div", "image-actions");
    actions.append(this.save, this.undo);
    form.append(
      head,
      this.errors.enabled,
      row,
      this.where,
      this.errors.position,
      this.formError,
      actions,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.el = form;

    this.overlay = document.createElementNS(SVG, "svg");
    this.overlay.setAttribute("class", "crop-overlay");
    this.overlay.dataset.channelId = channelId;
    this.frame = document.createElementNS(SVG, "rect");
    this.frame.setAttribute("class", "crop-window");
    this.frame.setAttribute("tabindex", "0");
    this.frame.setAttribute("role", "img");
    this.frame.setAttribute("aria-label", "Target cropping window: drag it, or use the arrows");
    this.overlay.append(this.frame);
    this.frame.addEventListener("pointerdown", (event) => this.startDrag(event));
    this.frame.addEventListener("pointermove", (event) => this.moveDrag(event));
    this.frame.addEventListener("pointerup", (event) => this.endDrag(event));
    this.frame.addEventListener("pointercancel", (event) => this.endDrag(event));
    this.frame.addEventListener("click", (event) => event.stopPropagation());
    this.frame.addEventListener("keydown", (event) => this.onKey(event));
    // The live grid is laid out again when the division or page changes: follow the tile.
    this.observer = new MutationObserver(() => this.draw());
    const grid = $("live-grid");
    if (grid) this.observer.observe(grid, { childList: true });
    this.show();
  }

  /** Keys whose value differs from the saved one. */
  changedKeys() {
    return KEYS.filter((key) => this.draft[key] !== this.saved[key]);
  }

  /** A newer status: what the user has not changed follows it. */
  update(cropping) {
    for (const key of KEYS) {
      if (this.draft[key] === this.saved[key]) this.draft[key] = cropping[key];
    }
    this.saved = { ...cropping };
    this.show();
  }

  /** The user changed something (not sent before Save). */
  set(values) {
    Object.assign(this.draft, values);
    this.clearErrors();
    this.show();
  }

  revert() {
    this.draft = { ...this.saved };
    this.clearErrors();
    this.show();
  }

  /** The form's fields, the hint and the frame, from the draft. */
  show() {
    const { enabled, resolution, x, y } = this.draft;
    this.enabled.checked = enabled;
    const choices = RESOLUTIONS.includes(resolution) ? RESOLUTIONS : [...RESOLUTIONS, resolution];
    if ([...this.resolution.options].map((o) => o.value).join() !== choices.join()) {
      this.resolution.replaceChildren(...choices.map((r) => element("option", "", r)));
    }
    this.resolution.value = resolution;
    const changed = this.changedKeys().length > 0;
    this.el.dataset.changed = String(changed);
    this.undo.disabled = section.readOnly || !changed;
    this.save.disabled = section.readOnly || this.busy;
    this.enabled.disabled = section.readOnly;
    this.resolution.disabled = section.readOnly;
    const place = `${Math.round(x * 100)}%, ${Math.round(y * 100)}%`;
    let hint = `The window's top-left corner is at ${place} of the picture.`;
    if (!enabled) hint = "Off: the third stream shows the whole picture.";
    else if (!this.tile()) hint += " Show this channel in the live view to move it.";
    else if (!section.readOnly) hint += " Drag the red frame on the live picture to move it.";
    this.where.textContent = hint;
    this.draw();
  }

  tile() {
    const id = CSS.escape(this.channelId);
    return document.querySelector(`#live-grid .tile[data-channel-id="${id}"]`);
  }

  /** The picture's size in pixels: the decoded picture's, else the channel's status. */
  pictureSize(tile) {
    return tilePictureSize(tile, this.handlers.pictureSize);
  }

  /** The window in picture pixels, kept inside the picture as the runtime keeps it. */
  window(size) {
    const [width, height] = size;
    const [cw, ch] = this.draft.resolution.split("x").map(Number);
    const w = Math.min(cw, width);
    const h = Math.min(ch, height);
    const left = clamp(this.draft.x * width, 0, width - w);
    const top = clamp(this.draft.y * height, 0, height - h);
    return { left, top, w, h };
  }

  draw() {
    const tile = this.tile();
    if (!tile || !this.el.isConnected || !this.draft.enabled) {
      this.overlay.remove();
      return;
    }
    if (this.overlay.parentNode !== tile) {
      tile.insertBefore(this.overlay, tile.querySelector(".tile-settings"));
    }
    this.size = this.pictureSize(tile);
    const [width, height] = this.size;
    this.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.overlay.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const { left, top, w, h } = this.window(this.size);
    for (const [name, value] of Object.entries({ x: left, y: top, width: w, height: h })) {
      this.frame.setAttribute(name, String(value));
    }
    const unsaved = this.changedKeys().some((key) => key !== "enabled");
    this.frame.classList.toggle("unsaved", unsaved);
    this.frame.classList.toggle("movable", !section.readOnly);
  }

  /** Move the window's corner to (left, top) in picture pixels, inside the picture. */
  moveTo(left, top) {
    const [width, height] = this.size;
    const { w, h } = this.window(this.size);
    const x = clamp(left, 0, width - w) / width;
    const y = clamp(top, 0, height - h) / height;
    this.set({ x: Math.round(x * DIGITS) / DIGITS, y: Math.round(y * DIGITS) / DIGITS });
  }

  /** The pointer's place in picture pixels. */
  pointAt(event) {
    const matrix = this.overlay.getScreenCTM();
    return new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
  }

  startDrag(event) {
    if (section.readOnly || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    this.frame.setPointerCapture(event.pointerId);
    const { left, top } = this.window(this.size);
    const start = this.pointAt(event);
    this.drag = { dx: start.x - left, dy: start.y - top };
  }

  moveDrag(event) {
    if (!this.drag) return;
    const point = this.pointAt(event);
    this.moveTo(point.x - this.drag.dx, point.y - this.drag.dy);
  }

  endDrag(event) {
    if (!this.drag) return;
    this.drag = null;
    if (this.frame.hasPointerCapture(event.pointerId)) {
      this.frame.releasePointerCapture(event.pointerId);
    }
  }

  onKey(event) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move || section.readOnly) return;
    event.preventDefault();
    const [width, height] = this.size;
    const { left, top } = this.window(this.size);
    this.moveTo(left + move[0] * STEP * width, top + move[1] * STEP * height);
  }

  clearErrors() {
    for (const error of [...Object.values(this.errors), this.formError]) {
      error.textContent = "";
      error.hidden = true;
    }
  }

  async submit() {
    if (section.readOnly || this.busy) return;
    this.clearErrors();
    const keys = this.changedKeys();
    if (keys.length === 0) return;
    const body = Object.fromEntries(keys.map((key) => [key, this.draft[key]]));
    const url = `/api/channels/${encodeURIComponent(this.channelId)}/target_cropping`;
    const status = await putForm(this, url, body);
    if (section.form !== this || !status || !isCropping(status.target_cropping)) return;
    this.draft = { ...status.target_cropping };
    this.saved = { ...status.target_cropping };
    this.show();
    this.handlers.onStatus(status);
  }

  idle() {
    this.show();
  }

  /** The API's refusal: "channels.front.target_cropping.x: value must be at most 1" goes
   * under the window's place, a resolution's under the resolution, the rest above the
   * buttons. */
  showRefusal(err) {
    const lines = Array.isArray(err.errors) && err.errors.length > 0 ? err.errors : [];
    const unplaced = [];
    for (const line of lines) {
      const match = /\.target_cropping\.([a-z_]+): (.*)$/.exec(line);
      const key = match ? match[1] : "";
      const target = this.errors[key === "x" || key === "y" ? "position" : key];
      const text = match ? capitalised(match[2]) : capitalised(line);
      if (target) {
        target.textContent = key === "x" || key === "y" ? `${key.toUpperCase()}: ${match[2]}` : text;
        target.hidden = false;
      } else {
        unplaced.push(text);
      }
    }
    if (lines.length === 0) unplaced.push(err.message);
    this.formError.textContent = unplaced.join("\n");
    this.formError.hidden = unplaced.length === 0;
  }

  remove() {
    this.observer.disconnect();
    this.overlay.remove();
    this.el.remove();
  }
}

/** Show a channel's target cropping (a status from the API or a push). `onStatus(status)` is
 * given the API's answer to a save; `pictureSize()` the picture's size from the status. */
export function renderCropping(channelId, status, handlers) {
  const cropping = status.target_cropping;
  if (!isCropping(cropping)) {
    clearCropping();
    return;
  }
  let form = section.form;
  if (form && form.channelId !== channelId) {
    clearCropping();
    form = null;
  }
  if (form) {
    form.handlers = handlers;
    form.update(cropping);
  } else {
    form = section.form = new CroppingForm(channelId, cropping, handlers);
    $("cropping-form").replaceChildren(form.el);
    form.show();
  }
  $("cropping-group").hidden = false;
}

/** The panel closed or shows another channel. */
export function clearCropping() {
  if (section.form) section.form.remove();
  section.form = null;
  $("cropping-group").hidden = true;
}

/** The session's user level may not change settings: the form and the frame are read-only. */
export function setCroppingReadOnly(readOnly) {
  section.readOnly = readOnly;
  if (section.form) section.form.show();
}
