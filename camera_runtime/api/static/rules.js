// Smart event rules (docs/smart-events.md) in a channel's settings panel: every detector whose
// options hold a `rules` list of lines or regions (line crossing, intrusion, region entrance
// and exiting, unattended baggage, object removal) gets a form listing its rules, with add,
// edit and delete. The rules are drawn on the channel's live picture: a line with its sides
// A and B and an arrow for each watched direction, a region's polygon, and the selected
// rule's size filter as its min and max boxes (centred on the picture, as the camera's own
// page draws them). Drag a point or a box's corner to edit it; "Add a rule" turns the picture
// into a canvas (a line: two clicks; a region: a click per corner, then "Close the region" or
// a click on the first corner). Nothing is sent until Save, which sends the detector's whole
// new rules list with PUT /api/channels/{id}/detectors/{kind}; a refusal (422, "…rules[1].line:
// …") is shown under the rule it names. Rules go back with their `id`, so deleting rule 1
// leaves rule 2 (its events and entities) rule 2; a new rule gets the lowest free id. Each rule has its arming schedule, edited with the
// weekly editor of schedule-editor.js and checked before it is sent, with the API's words.
// A user-level session sees the rules read-only.
//
// Which detectors have rules is read from their status, never named here. The overlay is an
// SVG over the tile whose viewBox is the picture's size, as mask.js and cropping.js draw.

import { putForm } from "./api.js";
import { tilePictureSize } from "./live.js";
import { ScheduleEditor, scheduleErrors } from "./schedule-editor.js";
import { $, capitalised, element, svgElement } from "./util.js";

const MAX_RULES = 4; // the detectors' schema: 1 to 4 rules
const MIN_CORNERS = 3;
const MAX_CORNERS = 10;
const CLOSE_DISTANCE_PX = 10; // a click this near the first corner closes the region
const DIGITS = 10000; // points to 4 decimals
const STEP = 0.01; // an arrow key moves a handle by 1% of the picture
const DIRECTIONS = ["A<->B", "A->B", "B->A"];
/** What a new rule does not copy from the first: its identity and its shape. */
const SHAPE_KEYS = ["id", "name", "line", "region"];

const section = {
  channelId: null,
  forms: new Map(), // detector kind -> RulesForm
  active: null, // the kind whose selected rule shows its handles and size boxes
  readOnly: false,
  handlers: null, // onStatus(status), pictureSize()
  overlay: null,
  observer: null,
  size: [16, 9],
  drag: null, // {form, index, target: point index | "min" | "max"}
};

function button(text, onClick, className = "ghost image-button") {
  const el = element("button", className, text);
  el.type = "button";
  el.addEventListener("click", onClick);
  return el;
}

function round(value) {
  return Math.round(Math.min(Math.max(value, 0), 1) * DIGITS) / DIGITS;
}

function isPoint(p) {
  return Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number");
}

function isRule(rule) {
  if (!rule || typeof rule !== "object") return false;
  const shape = rule.line || rule.region;
  return Array.isArray(shape) && shape.every(isPoint);
}

/** A detector's rules from its status, if it is a detector with drawn rules. */
function rulesOf(detector) {
  const rules = detector && detector.options && detector.options.rules;
  return Array.isArray(rules) && rules.length > 0 && rules.every(isRule) ? rules : null;
}

function sizeFilter(rule) {
  const filter = rule.size_filter || {};
  return {
    min: isPoint(filter.min) ? filter.min : [0, 0],
    max: isPoint(filter.max) ? filter.max : [1, 1],
  };
}

/** The size filter's boxes in words. */
function sizeText(rule) {
  const { min, max } = sizeFilter(rule);
  const percent = ([w, h]) => `${Math.round(w * 100)}% x ${Math.round(h * 100)}%`;
  const boxes = `min ${percent(min)}, max ${percent(max)}`;
  return `Size filter: ${boxes} of the picture (drag a box's corner).`;
}

/** "A typed number" as a number; anything else is sent as typed, for the API to refuse. */
function typedNumber(text) {
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

class RulesForm {
  constructor(kind, detector) {
    this.kind = kind;
    this.label = capitalised(kind.replaceAll("_", " "));
    this.type = rulesOf(detector)[0].line ? "line" : "region";
    this.busy = false;
    this.dirty = false;
    this.selected = 0;
    this.drawing = null; // the points of the rule being drawn, or null
    this.version = 0; // counts changes of the rules from elsewhere than the fields

    const form = element("form", "image-stage rules-form");
    form.noValidate = true;
    form.dataset.kind = kind;
    form.setAttribute("aria-label", `${this.label} rules`);
    const head = element("div", "control-head image-stage-head");
    head.append(element("span", "control-label", this.label));
    this.state = element("span", "rules-state");
    head.append(this.state);
    this.list = element("ol", "rules-list");
    this.editor = element("div", "rules-editor");
    this.status = element("p", "image-hint");
    this.status.setAttribute("role", "status");
    this.addButton = button("Add a rule", () => this.startDrawing());
    this.closeButton = button("Close the region", () => this.finishDrawing());
    this.cancelButton = button("Cancel drawing", () => this.cancelDrawing());
    const drawActions = element("div", "image-actions");
    drawActions.append(this.addButton, this.closeButton, this.cancelButton);
    this.formError = element("p", "control-error image-form-error");
    this.formError.setAttribute("role", "alert");
    this.formError.hidden = true;
    this.save = element("button", "primary image-save", "Save");
    this.save.type = "submit";
    this.undo = button("Undo changes", () => this.revert(), "ghost image-undo");
    const actions = element("div", "image-actions");
    actions.append(this.save, this.undo);
    form.append(head, this.list, drawActions, this.status, this.editor, this.formError, actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    // Escape while drawing drops the rule being drawn (and leaves the panel open).
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.drawing) {
        event.preventDefault();
        event.stopPropagation();
        this.cancelDrawing();
      }
    });
    this.el = form;
    this.errors = new Map(); // rule index -> message lines
    this.typed = new Set(); // number keys holding text the user typed (sent as typed)
    this.update(detector);
  }

  /** The detector's status: its rules are taken unless the user is editing them. */
  update(detector) {
    // Pushes come every few seconds (the channel's stats): an unchanged detector leaves the
    // form alone, so a field being typed in keeps its text and its focus.
    const seen = JSON.stringify([Boolean(detector.enabled), rulesOf(detector)]);
    if (seen === this.seen) return;
    this.seen = seen;
    this.enabled = Boolean(detector.enabled);
    this.saved = rulesOf(detector).map((rule) => structuredClone(rule));
    if (!this.dirty && !this.drawing) {
      this.version += 1;
      this.rules = this.saved.map((rule) => structuredClone(rule));
      this.selected = Math.min(this.selected, this.rules.length - 1);
    }
    this.show();
  }

  edited() {
    activate(this.kind);
    this.dirty = true;
    this.errors.clear();
    this.formError.hidden = true;
    this.show();
  }

  revert() {
    this.version += 1;
    this.rules = this.saved.map((rule) => structuredClone(rule));
    this.typed.clear();
    this.dirty = false;
    this.drawing = null;
    this.selected = Math.min(this.selected, this.rules.length - 1);
    this.errors.clear();
    this.formError.hidden = true;
    this.show();
  }

  select(index) {
    activate(this.kind);
    this.selected = index;
    this.show();
  }

  deleteRule(index) {
    if (section.readOnly) return;
    this.version += 1;
    this.rules.splice(index, 1);
    this.selected = Math.max(0, Math.min(this.selected, this.rules.length - 1));
    this.edited();
  }

  startDrawing() {
    if (section.readOnly || this.rules.length >= MAX_RULES) return;
    for (const other of section.forms.values()) if (other !== this) other.cancelDrawing();
    this.drawing = [];
    activate(this.kind);
    this.show();
    this.cancelButton.focus();
  }

  cancelDrawing() {
    if (!this.drawing) return;
    this.drawing = null;
    this.show();
  }

  /** A point clicked on the picture while drawing (fractions of the picture). */
  addPoint(point, screenDistanceToFirst) {
    if (this.type === "region" && this.drawing.length >= MIN_CORNERS) {
      if (screenDistanceToFirst <= CLOSE_DISTANCE_PX) {
        this.finishDrawing();
        return;
      }
    }
    if (this.drawing.length < MAX_CORNERS) this.drawing.push(point);
    if (this.type === "line" && this.drawing.length === 2) this.finishDrawing();
    else this.show();
  }

  finishDrawing() {
    const points = this.drawing;
    if (!points) return;
    if (points.length < (this.type === "line" ? 2 : MIN_CORNERS)) return;
    // A new rule starts with the settings of the detector's first one (its numbers, its
    // direction, its size filter); the API fills in what that one lacks.
    const model = this.rules[0] || this.saved[0] || {};
    const rule = {};
    for (const [key, value] of Object.entries(model)) {
      if (!SHAPE_KEYS.includes(key)) rule[key] = structuredClone(value);
    }
    rule[this.type] = points;
    this.drawing = null;
    this.rules.push(rule);
    this.selected = this.rules.length - 1;
    this.edited();
    this.addButton.focus();
  }

  /** The rules' arming schedules checked as the API checks them: its words, under each rule
   * in error (and under the day in the schedule editor); true when there is none. */
  checkSchedules() {
    this.errors.clear();
    this.rules.forEach((rule, index) => {
      const errors = scheduleErrors(rule.arming_schedule);
      if (errors.size === 0) return;
      const lines = [...errors].map(([day, text]) => `Arming schedule ${day}: ${text}`);
      this.errors.set(index, lines);
      if (!this.errors.has(this.selected)) this.selected = index;
    });
    if (this.errors.size === 0) return true;
    this.formError.textContent = "Fix the arming schedule first: nothing was saved.";
    this.formError.hidden = false;
    this.show();
    return false;
  }

  async submit() {
    if (section.readOnly || this.busy || this.drawing) return;
    if (!this.checkSchedules()) return;
    const url =
      `/api/channels/${encodeURIComponent(section.channelId)}` +
      `/detectors/${encodeURIComponent(this.kind)}`;
    const status = await putForm(this, url, { options: { rules: this.rules.map((rule) => structuredClone(rule)) } });
    if (status === null) return;
    this.dirty = false;
    this.seen = null; // the answer's rules are taken, even when a push brought them first
    if (section.forms.get(this.kind) === this && status && typeof status === "object") {
      section.handlers.onStatus(status);
    }
  }

  /** The API's refusal: "channels.front.detectors.intrusion.rules[1].region: …" goes under
   * rule 2; the rest above the buttons. */
  showRefusal(err) {
    const lines = Array.isArray(err.errors) && err.errors.length > 0 ? err.errors : [];
    const marker = `.detectors.${this.kind}.rules[`;
    const unplaced = [];
    this.errors.clear();
    for (const line of lines) {
      const colon = line.indexOf(": ");
      const path = colon >= 0 ? line.slice(0, colon) : "";
      const message = colon >= 0 ? line.slice(colon + 2) : line;
      const at = path.indexOf(marker);
      const match = at >= 0 ? /^(\d+)\]\.?(.*)$/.exec(path.slice(at + marker.length)) : null;
      const index = match ? Number(match[1]) : -1;
      if (index >= 0 && index < this.rules.length) {
        const key = match[2] ? `${match[2].replaceAll(/[_.]/g, " ")}: ` : "";
        this.errors.set(index, [...(this.errors.get(index) || []), capitalised(key + message)]);
        this.selected = index;
      } else {
        unplaced.push(capitalised(message));
      }
    }
    if (lines.length === 0) unplaced.push(err.message);
    this.formError.textContent = unplaced.join("\n");
    this.formError.hidden = unplaced.length === 0;
  }

  idle() {
    this.show();
  }

  /** The list, the selected rule's fields, the buttons and the overlay. */
  show() {
    const readOnly = section.readOnly;
    this.state.textContent = this.enabled ? "on" : "off";
    this.state.classList.toggle("on", this.enabled);
    this.el.dataset.changed = String(this.dirty);
    const items = this.rules.map((rule, index) => {
      const item = element("li", "rules-item");
      item.dataset.index = String(index);
      const name = rule.name || `Rule ${index + 1} (new)`;
      const kind = rule.line ? `line ${rule.direction || "A<->B"}` : `region`;
      const pick = button(`${name} · ${kind}`, () => this.select(index), "ghost rules-pick");
      const editing = index === this.selected && this.kind === activeKind();
      pick.setAttribute("aria-pressed", String(editing));
      const remove = button("Delete", () => this.deleteRule(index));
      remove.setAttribute("aria-label", `Delete ${name}`);
      remove.disabled = readOnly || this.drawing !== null;
      item.append(pick, remove);
      for (const text of this.errors.get(index) || []) {
        const error = element("p", "control-error rules-error", text);
        error.setAttribute("role", "alert");
        item.append(error);
      }
      return item;
    });
    // The list and the fields are built again: the keyboard goes back to where it was.
    const focused = document.activeElement;
    const place = this.el.contains(focused) ? focusPlace(focused) : null;
    this.list.replaceChildren(...items);
    this.showEditor(readOnly);
    const drawing = this.drawing !== null;
    const visible = ruleTile() !== null;
    this.addButton.hidden = drawing;
    this.addButton.disabled = readOnly || this.rules.length >= MAX_RULES || !visible;
    this.closeButton.hidden = !drawing || this.type !== "region";
    this.closeButton.disabled = readOnly || !drawing || this.drawing.length < MIN_CORNERS;
    this.cancelButton.hidden = !drawing;
    this.cancelButton.disabled = readOnly;
    let hint = "";
    if (drawing && this.type === "line") {
      const which = this.drawing.length === 0 ? "first" : "second";
      hint = `Click the line's ${which} point on the picture.`;
    } else if (drawing) {
      hint =
        `${this.drawing.length} corners. Click on the picture to add one ` +
        `(${MIN_CORNERS} to ${MAX_CORNERS}).`;
    } else if (!visible && !readOnly) {
      hint = "Show this channel in the live view to draw on its picture.";
    } else if (this.rules.length >= MAX_RULES) {
      hint = `${MAX_RULES} rules, the most a detector has.`;
    }
    this.status.textContent = hint;
    this.status.hidden = !hint;
    this.save.disabled = readOnly || this.busy || drawing;
    this.undo.disabled = readOnly || !this.dirty;
    if (place) this.restoreFocus(place);
    drawOverlay();
  }

  /** The selected rule's name, direction, each of its numbers (as its detector declares
   * them: none is named here) and its size filter. */
  showEditor(readOnly) {
    const rule = this.rules[this.selected];
    if (!rule) {
      this.editor.replaceChildren();
      this.editorKey = null;
      return;
    }
    // The fields hold what the user typed: they are built again only for another rule, other
    // keys or values from elsewhere (a revert, a push, another rule picked), never while typed in.
    const keys = Object.keys(rule).filter((name) => name !== "name"); // its field is always there
    const key = JSON.stringify([this.selected, keys, readOnly, this.version]);
    if (key === this.editorKey) {
      this.sizeText.textContent = sizeText(rule);
      return;
    }
    this.editorKey = key;
    const id = `rule-${this.kind}`;
    const rows = [];
    const row = (key, label, input) => {
      const wrap = element("div", "control-head image-field");
      const name = element("label", "control-label", label);
      input.id = `${id}-${key}`;
      name.htmlFor = input.id;
      input.disabled = readOnly;
      wrap.append(name, input);
      rows.push(wrap);
    };
    const text = (key, label, value, change, className = "image-text") => {
      const input = element("input", className);
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("change", () => {
        change(input.value);
        this.edited();
      });
      row(key, label, input);
    };
    text("name", "Rule name", rule.name, (value) => {
      if (value.trim()) rule.name = value.trim();
      else delete rule.name;
    });
    if (rule.line) {
      const select = element("select", "control-select");
      for (const direction of DIRECTIONS) select.append(new Option(direction, direction));
      select.value = rule.direction || "A<->B";
      select.addEventListener("change", () => {
        rule.direction = select.value;
        this.edited();
      });
      row("direction", "Direction", select);
    }
    for (const [key, value] of Object.entries(rule)) {
      if (key === "id" || (typeof value !== "number" && !this.typed.has(key))) continue;
      text(key, capitalised(key.replaceAll("_", " ")), value, (typed) => {
        rule[key] = typedNumber(typed);
        if (typeof rule[key] !== "number") this.typed.add(key); // kept, for the API to refuse
      }, "control-number-input");
    }
    this.sizeText = element("p", "image-hint rules-size", sizeText(rule));
    rows.push(this.sizeText);
    // The rule's own arming schedule (manual 8.1): "always armed" or weekly periods.
    const schedule = new ScheduleEditor(rule, "arming_schedule", {
      readOnly,
      idPrefix: `${id}-schedule`,
      changed: () => this.edited(),
    });
    rows.push(schedule.el);
    this.editor.replaceChildren(...rows);
  }

  /** Focus what `focusPlace` named, after the list and fields were built again. */
  restoreFocus(place) {
    if (this.el.contains(document.activeElement)) return; // still in place
    let target = null;
    if (place.id) target = document.getElementById(place.id);
    else if (place.index !== null) {
      const item = this.list.querySelector(`.rules-item[data-index="${place.index}"]`);
      target = item && item.querySelectorAll("button")[place.button];
    }
    if (!target || target.disabled || target.hidden) target = this.addButton;
    if (target.hidden || target.disabled) target = this.save;
    target.focus();
  }

  remove() {
    this.el.remove();
  }
}

/** Where an element of a form is, to find its like once the form is built again: a field by
 * its id, a list button by its rule and its place in the row. */
function focusPlace(el) {
  const item = el.closest(".rules-item");
  if (item) {
    const index = Number(item.dataset.index);
    return { id: null, index, button: [...item.querySelectorAll("button")].indexOf(el) };
  }
  return { id: el.id || null, index: null, button: 0 };
}

/** The tile showing the section's channel, if it is in the live view. */
function ruleTile() {
  if (section.channelId === null) return null;
  const id = CSS.escape(section.channelId);
  return document.querySelector(`#live-grid .tile[data-channel-id="${id}"]`);
}

function overlay() {
  if (section.overlay) return section.overlay;
  const svg = svgElement("svg", {
    class: "rules-overlay",
    role: "group",
    "aria-label": "Smart event rules on the picture",
  });
  svg.addEventListener("keydown", onHandleKey);
  svg.addEventListener("click", onPictureClick);
  // A click on the picture while drawing leaves the keyboard where it was (on the form).
  svg.addEventListener("mousedown", (event) => {
    if (drawingForm()) event.preventDefault();
  });
  svg.addEventListener("pointerdown", onPointerDown);
  svg.addEventListener("pointermove", onPointerMove);
  svg.addEventListener("pointerup", () => (section.drag = null));
  svg.addEventListener("pointercancel", () => (section.drag = null));
  section.overlay = svg;
  return svg;
}

/** The pointer's place in fractions of the picture, or null beside it. */
function pictureAt(event) {
  const matrix = section.overlay.getScreenCTM();
  if (!matrix) return null;
  const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
  const [width, height] = section.size;
  return [point.x / width, point.y / height];
}

/** Edit this detector's rules on the picture: the other forms' lists show it. */
function activate(kind) {
  if (section.active === kind) return;
  section.active = kind;
  for (const form of section.forms.values()) if (form.kind !== kind) form.show();
}

/** The form whose selected rule is edited on the picture: the last one used, else the first. */
function activeKind() {
  if (section.forms.has(section.active)) return section.active;
  const first = section.forms.keys().next();
  return first.done ? null : first.value;
}

function drawingForm() {
  for (const form of section.forms.values()) if (form.drawing) return form;
  return null;
}

function onPictureClick(event) {
  const form = drawingForm();
  if (!form || section.readOnly) return;
  event.preventDefault();
  event.stopPropagation();
  const at = pictureAt(event);
  if (!at || at.some((v) => v < 0 || v > 1)) return; // on the bars beside the picture
  let distance = Infinity;
  const first = form.drawing[0];
  if (first) {
    const [width, height] = section.size;
    const matrix = section.overlay.getScreenCTM();
    const corner = new DOMPoint(first[0] * width, first[1] * height).matrixTransform(matrix);
    distance = Math.hypot(corner.x - event.clientX, corner.y - event.clientY);
  }
  form.addPoint([round(at[0]), round(at[1])], distance);
}

function onPointerDown(event) {
  const handle = event.target;
  if (section.readOnly || event.button !== 0 || !handle.dataset || !handle.dataset.target) return;
  const form = section.forms.get(handle.dataset.kind);
  if (!form || form.drawing) return;
  event.preventDefault();
  section.overlay.setPointerCapture(event.pointerId);
  const target = handle.dataset.target;
  section.drag = { form, index: form.selected, target };
}

function onPointerMove(event) {
  const drag = section.drag;
  if (!drag) return;
  const at = pictureAt(event);
  if (at) moveTo(drag.form, drag.index, drag.target, at);
}

/** Move a handle of a form's rule to a place of the picture (fractions): a point of its
 * shape, or the lower right corner of its "min" or "max" size box. */
function moveTo(form, index, target, at) {
  const rule = form.rules[index];
  if (!rule) return;
  if (target === "min" || target === "max") {
    // A size box is centred on the picture: its corner sets half its width and height.
    const filter = sizeFilter(rule);
    filter[target] = [round(Math.abs(at[0] - 0.5) * 2), round(Math.abs(at[1] - 0.5) * 2)];
    rule.size_filter = filter;
  } else {
    rule[rule.line ? "line" : "region"][Number(target)] = [round(at[0]), round(at[1])];
  }
  form.edited();
}

/** Where a handle is (fractions of the picture). */
function handlePlace(rule, target) {
  if (target === "min" || target === "max") {
    const [w, h] = sizeFilter(rule)[target];
    return [0.5 + w / 2, 0.5 + h / 2];
  }
  return (rule.line || rule.region)[Number(target)];
}

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** The arrow keys move the focused handle by 1% of the picture (a box's corner too). */
function onHandleKey(event) {
  const step = ARROWS[event.key];
  const data = event.target.dataset;
  const form = data && section.forms.get(data.kind);
  if (!step || !form || section.readOnly || form.drawing) return;
  event.preventDefault();
  const [x, y] = handlePlace(form.rules[form.selected], data.target);
  moveTo(form, form.selected, data.target, [x + step[0] * STEP, y + step[1] * STEP]);
}

/** Side A's unit normal of a line (in picture pixels): on the left of the way from its first
 * point to its second, as drawn (y grows downwards), as the detector counts it. */
function sideA([ax, ay], [bx, by]) {
  const length = Math.hypot(bx - ax, by - ay) || 1;
  return [(by - ay) / length, -(bx - ax) / length];
}

function arrowHead(tip, from, size) {
  const [dx, dy] = [tip[0] - from[0], tip[1] - from[1]];
  const length = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [dx / length, dy / length];
  const back = [tip[0] - ux * size, tip[1] - uy * size];
  return [
    [back[0] + uy * size * 0.5, back[1] - ux * size * 0.5],
    tip,
    [back[0] - uy * size * 0.5, back[1] + ux * size * 0.5],
  ];
}

const pointList = (points) => points.map(([x, y]) => `${x},${y}`).join(" ");
const arrow = (points) =>
  svgElement("polyline", { class: "rules-arrow", points: pointList(points) });

function lineShapes(form, rule, index) {
  const [width, height] = section.size;
  const [a, b] = rule.line.map(([x, y]) => [x * width, y * height]);
  const unit = Math.max(width, height) / 30;
  const [nx, ny] = sideA(a, b);
  const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const aSide = [mid[0] + nx * unit, mid[1] + ny * unit];
  const bSide = [mid[0] - nx * unit, mid[1] - ny * unit];
  const common = { "data-kind": form.kind, "data-index": index };
  const shapes = [
    svgElement("line", {
      ...common,
      class: `rules-line${form.dirty ? " unsaved" : ""}`,
      x1: a[0],
      y1: a[1],
      x2: b[0],
      y2: b[1],
    }),
    svgElement("line", {
      class: "rules-arrow",
      "data-direction": rule.direction || "A<->B",
      x1: aSide[0],
      y1: aSide[1],
      x2: bSide[0],
      y2: bSide[1],
    }),
  ];
  const direction = rule.direction || "A<->B";
  if (direction !== "B->A") {
    shapes.push(arrow(arrowHead(bSide, aSide, unit / 2)));
  }
  if (direction !== "A->B") {
    shapes.push(arrow(arrowHead(aSide, bSide, unit / 2)));
  }
  for (const [side, at] of [["A", aSide], ["B", bSide]]) {
    const label = svgElement("text", {
      class: "rules-side",
      x: at[0] + nx * unit * 0.6 * (side === "A" ? 1 : -1),
      y: at[1] + ny * unit * 0.6 * (side === "A" ? 1 : -1),
      "font-size": unit * 0.8,
    });
    label.textContent = side;
    shapes.push(label);
  }
  return shapes;
}

/** Draw every form's rules over the channel's tile; the selected rule of each form gets its
 * handles and size boxes when the session may edit. */
function drawOverlay() {
  const tile = ruleTile();
  const svg = overlay();
  if (!tile || section.forms.size === 0) {
    svg.remove();
    return;
  }
  if (svg.parentNode !== tile) tile.insertBefore(svg, tile.querySelector(".tile-settings"));
  const [width, height] = tilePictureSize(tile, section.handlers.pictureSize);
  section.size = [width, height];
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.classList.toggle("drawing", drawingForm() !== null);
  const radius = Math.max(width, height) / 120;
  const shapes = [];
  // The handle the keyboard is on is focused again once redrawn.
  const focused = svg.contains(document.activeElement) ? document.activeElement.dataset : null;
  let refocus = null;
  const handle = (form, target, x, y, className) => {
    const rule = form.rules[form.selected];
    const name = rule.name || `rule ${form.selected + 1}`;
    const what =
      target === "min" || target === "max"
        ? `The ${target === "min" ? "minimum" : "maximum"} size box's corner`
        : `Point ${Number(target) + 1}`;
    const el = svgElement("circle", {
      class: `rules-handle ${className}`,
      "data-kind": form.kind,
      "data-target": target,
      tabindex: 0,
      role: "img",
      "aria-label": `${what} of ${name}: drag it, or use the arrows`,
      cx: x,
      cy: y,
      r: radius,
    });
    if (focused && focused.kind === form.kind && focused.target === target) refocus = el;
    shapes.push(el);
  };
  for (const form of section.forms.values()) {
    form.rules.forEach((rule, index) => {
      const selected = index === form.selected && form.kind === activeKind();
      if (rule.line) {
        shapes.push(...lineShapes(form, rule, index));
      } else {
        shapes.push(
          svgElement("polygon", {
            class: `rules-region${form.dirty ? " unsaved" : ""}`,
            "data-kind": form.kind,
            "data-index": index,
            points: pointList(rule.region.map(([x, y]) => [x * width, y * height])),
          }),
        );
      }
      if (!selected) return;
      for (const which of ["min", "max"]) {
        const [w, h] = sizeFilter(rule)[which];
        const box = { x: (0.5 - w / 2) * width, y: (0.5 - h / 2) * height };
        shapes.push(
          svgElement("rect", {
            class: `rules-size-box ${which}`,
            "data-kind": form.kind,
            ...box,
            width: w * width,
            height: h * height,
          }),
        );
        // Its corner's handle is kept inside the picture, clear of the tile's own buttons
        // along the edges (a drag sets the size from where the pointer goes).
        const inset = (value, size) => Math.min(Math.max(value, 3 * radius), size - 3 * radius);
        const cx = inset(box.x + w * width, width);
        const cy = inset(box.y + h * height, height);
        if (!section.readOnly) handle(form, which, cx, cy, "size");
      }
      if (section.readOnly || form.drawing) return;
      (rule.line || rule.region).forEach(([x, y], point) => {
        handle(form, String(point), x * width, y * height, "point");
      });
    });
    if (form.drawing) {
      shapes.push(
        svgElement("polyline", {
          class: "rules-drawing",
          points: pointList(form.drawing.map(([x, y]) => [x * width, y * height])),
        }),
      );
      for (const [x, y] of form.drawing) {
        const corner = { class: "rules-corner", cx: x * width, cy: y * height, r: radius };
        shapes.push(svgElement("circle", corner));
      }
    }
  }
  svg.replaceChildren(...shapes);
  if (refocus) refocus.focus();
}

/** Show a channel's smart event rules (a status from the API or a push). `onStatus(status)`
 * is given the API's answer to a save; `pictureSize()` the picture's size from the status. */
export function renderRules(channelId, status, handlers) {
  if (section.channelId !== channelId) clearRules();
  section.channelId = channelId;
  section.handlers = handlers;
  const detectors =
    status.detectors && typeof status.detectors === "object" ? status.detectors : {};
  const wanted = Object.keys(detectors)
    .filter((kind) => rulesOf(detectors[kind]) !== null)
    .sort();
  for (const [kind, form] of section.forms) {
    if (!wanted.includes(kind)) {
      form.remove();
      section.forms.delete(kind);
    }
  }
  for (const kind of wanted) {
    const form = section.forms.get(kind);
    if (form) form.update(detectors[kind]);
    else section.forms.set(kind, new RulesForm(kind, detectors[kind]));
  }
  const forms = wanted.map((kind) => section.forms.get(kind).el);
  const box = $("rules-forms");
  forms.forEach((el, index) => {
    if (box.children[index] !== el) box.insertBefore(el, box.children[index] || null);
  });
  $("rules-group").hidden = wanted.length === 0;
  if (!section.observer) {
    // The live grid is laid out again when the division or page changes: follow the tile.
    section.observer = new MutationObserver(() => drawOverlay());
    const grid = document.getElementById("live-grid");
    if (grid) section.observer.observe(grid, { childList: true });
  }
  drawOverlay();
}

/** The panel closed or shows another channel. */
export function clearRules() {
  for (const form of section.forms.values()) form.remove();
  section.forms.clear();
  section.channelId = null;
  section.active = null;
  section.drag = null;
  if (section.overlay) section.overlay.remove();
  if (section.observer) section.observer.disconnect();
  section.observer = null;
  $("rules-group").hidden = true;
}

/** The session's user level may not change settings: the rules are shown read-only. */
export function setRulesReadOnly(readOnly) {
  section.readOnly = readOnly;
  for (const form of section.forms.values()) {
    if (readOnly) form.drawing = null;
    form.show();
  }
}
