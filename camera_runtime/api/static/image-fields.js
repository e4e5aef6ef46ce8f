// One form field per image stage option (status.image[kind].options), its input inferred from
// the option's current value: a boolean is a switch, a number a number box, a text a text box,
// a list of texts one line each, a list of polygons the areas drawn on the picture (mask.js).
//
// The status gives values, not schemas: HINTS adds what a value cannot say (the choices of an
// enumeration, a number's range and step), checked again by the API, whose refusals (422 with
// the key path) are shown next to the field they name.

import { capitalised } from "./util.js";

const COLOURS = ["black", "white", "grey", "red", "green", "blue", "yellow"];
const FRACTION = { min: 0, max: 1, step: 0.01 };
const LEVEL = { min: 0, max: 100, step: 1 };

/** Hints by option name, for any stage; a stage's own hints (below) come first. */
const COMMON_HINTS = {
  color: { options: COLOURS, colour: true },
  x: FRACTION,
  y: FRACTION,
};

/** Hints by stage kind and option name ("*": every option of that stage). */
const HINTS = {
  rotate: { angle: { options: [0, 90, 180, 270], unit: "°" } },
  mirror: { mode: { options: ["off", "left_right", "up_down", "center"] } },
  adjust: { "*": LEVEL },
  day_night: {
    mode: { options: ["auto", "scheduled", "day", "night"] },
    threshold: { min: 1, max: 254, step: 1 },
    hysteresis: LEVEL,
    day_start: { type: "time" },
    day_end: { type: "time" },
  },
  privacy_mask: { areas: { type: "areas" } },
  osd: {
    date_format: {
      options: ["MM-DD-YYYY", "DD-MM-YYYY", "YYYY-MM-DD", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY/MM/DD"],
      raw: true,
    },
    time_format: { options: [12, 24], unit: "h" },
    texts: { type: "lines" },
    font_size: { options: [16, 24, 32, 48, 64], unit: "px" },
    alignment: { options: ["left", "right"] },
  },
};

/** Names a stage's kind cannot spell. */
const STAGE_LABELS = { osd: "OSD" };

export function stageLabel(kind) {
  return STAGE_LABELS[kind] || label(kind);
}

/** What the page knows of an option beyond its value: {options}, {min, max, step}, {type}. */
export function hintFor(kind, name) {
  const own = HINTS[kind] || {};
  return own[name] || own["*"] || COMMON_HINTS[name] || {};
}

function isPoint(value) {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((n) => typeof n === "number" && Number.isFinite(n))
  );
}

/** Whether a value is a list of polygons (lists of [x, y] points). */
export function isAreaList(value) {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((poly) => Array.isArray(poly) && poly.length > 0 && poly.every(isPoint))
  );
}

/** The input an option gets: from its hint where the value cannot say, else from the value. */
export function fieldType(kind, name, value) {
  const hint = hintFor(kind, name);
  if (hint.type) return hint.type;
  if (Array.isArray(hint.options)) return "select";
  if (typeof value === "boolean") return "switch";
  if (typeof value === "number") return "number";
  if (typeof value === "string") return "text";
  if (isAreaList(value)) return "areas";
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return "lines";
  return "json";
}

export function label(name) {
  return capitalised(String(name).replace(/_/g, " "));
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The field of one option of one stage. `read()` gives {value} or {error} (what the page
 * itself can tell: an empty number, text that is not JSON); ranges are left to the API. */
export class OptionField {
  constructor(kind, name, value, handlers = {}) {
    this.kind = kind;
    this.name = name;
    this.type = fieldType(kind, name, value);
    this.hint = hintFor(kind, name);
    this.value = value; // the stage's real value, as last reported by the API
    this.dirty = false; // edited since the last value from the API
    this.handlers = handlers; // onEdit(field); for the areas: channelId, pictureSize()
    this.id = `img-${kind}-${name}`;
    this.build();
    this.set(value);
  }

  build() {
    const row = element("div", `image-field image-field-${this.type}`);
    row.dataset.option = this.name;
    this.el = row;
    this.error = element("p", "control-error");
    this.error.id = `${this.id}-error`;
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    const name = element("label", "control-label", label(this.name));
    name.htmlFor = this.id;
    const head = element("div", "control-head");
    head.append(name);
    row.append(head);

    if (this.type === "switch") {
      this.input = element("input", "toggle");
      this.input.type = "checkbox";
      this.input.setAttribute("role", "switch");
    } else if (this.type === "select") {
      this.input = element("select", "control-select");
      this.addOptions(this.hint.options);
    } else if (this.type === "number") {
      this.input = element("input", "control-number-input");
      this.input.type = "number";
      const { min, max, step } = this.hint;
      if (typeof min === "number") this.input.min = String(min);
      if (typeof max === "number") this.input.max = String(max);
      this.input.step = typeof step === "number" ? String(step) : "any";
    } else if (this.type === "time") {
      this.input = element("input", "control-number-input image-time");
      this.input.type = "time";
    } else if (this.type === "lines" || this.type === "json") {
      this.input = element("textarea", "image-text image-lines");
      this.input.rows = 3;
      this.input.spellcheck = false;
    } else if (this.type === "areas") {
      // The areas are drawn on the picture; the panel lists them (image.js builds that part).
      this.input = element("div", "image-areas");
      this.input.tabIndex = -1;
      name.removeAttribute("for");
      name.id = `${this.id}-label`;
      this.input.setAttribute("role", "group");
      this.input.setAttribute("aria-labelledby", name.id);
    } else {
      this.input = element("input", "image-text");
      this.input.type = "text";
      this.input.spellcheck = false;
    }
    this.input.id = this.id;
    if (this.type !== "areas") {
      this.input.setAttribute("aria-describedby", this.error.id);
      this.input.addEventListener("input", () => this.edited());
      this.input.addEventListener("change", () => this.edited());
    }
    if (this.type === "lines" || this.type === "json" || this.type === "areas") {
      row.append(this.input);
    } else {
      const box = element("span", "control-number-box");
      box.append(this.input);
      if (typeof this.hint.unit === "string") {
        box.append(element("span", "control-unit", this.hint.unit));
      }
      if (this.hint.colour) {
        this.swatch = element("span", "image-swatch");
        this.swatch.setAttribute("aria-hidden", "true");
        box.prepend(this.swatch);
      }
      head.append(box);
    }
    if (this.type === "lines") {
      row.append(element("p", "image-hint", "One line each."));
    }
    row.append(this.error);
  }

  addOptions(options) {
    for (const option of options) {
      const item = element("option", "", this.hint.raw ? String(option) : label(option));
      item.value = String(option);
      this.input.append(item);
    }
  }

  edited() {
    this.dirty = true;
    this.clearError();
    this.paintSwatch();
    if (this.handlers.onEdit) this.handlers.onEdit(this);
  }

  paintSwatch() {
    if (this.swatch) this.swatch.dataset.colour = this.input.value;
  }

  /** A new value from the API: shown unless the user has edited the field (kept until saved
   * or undone). */
  update(value) {
    if (this.dirty) this.value = value;
    else this.set(value);
  }

  /** Show a value from the API (the field is clean again). */
  set(value) {
    this.value = value;
    this.dirty = false;
    const input = this.input;
    if (this.type === "switch") {
      input.checked = value === true;
    } else if (this.type === "select") {
      const text = value === null || value === undefined ? "" : String(value);
      // A value the hint does not know (a newer plugin) is still shown, and kept.
      if (![...input.options].some((o) => o.value === text)) this.addOptions([value]);
      input.value = text;
    } else if (this.type === "number") {
      input.value = typeof value === "number" ? String(value) : "";
    } else if (this.type === "lines") {
      input.value = Array.isArray(value) ? value.join("\n") : "";
    } else if (this.type === "json") {
      input.value = value === undefined ? "" : JSON.stringify(value);
    } else if (this.type !== "areas") {
      input.value = value === null || value === undefined ? "" : String(value);
    }
    this.paintSwatch();
  }

  /** The value the user gave: {value} or {error}. */
  read() {
    const input = this.input;
    if (this.type === "switch") return { value: input.checked };
    if (this.type === "select") {
      const match = (this.hint.options || []).find((o) => String(o) === input.value);
      if (match !== undefined) return { value: match };
      return { value: typeof this.value === "number" ? Number(input.value) : input.value };
    }
    if (this.type === "number") {
      const text = input.value.trim();
      if (input.validity.badInput || text === "" || !Number.isFinite(Number(text))) {
        return { error: "Enter a number." };
      }
      return { value: Number(text) };
    }
    if (this.type === "lines") {
      return { value: input.value.split("\n").filter((line) => line.trim() !== "") };
    }
    if (this.type === "json") {
      try {
        return { value: JSON.parse(input.value) };
      } catch {
        return { error: "Enter a JSON value." };
      }
    }
    if (this.type === "areas") return { value: this.value };
    return { value: input.value };
  }

  /** Whether the value given differs from the stage's real one. */
  changed() {
    const read = this.read();
    return read.error !== undefined || !same(read.value, this.value);
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
    if (this.type !== "areas") this.input.setAttribute("aria-invalid", "true");
  }

  clearError() {
    this.error.textContent = "";
    this.error.hidden = true;
    if (this.type !== "areas") this.input.removeAttribute("aria-invalid");
  }

  /** The text of an API error on this option; `rest` is the key path below it ("[1]"). */
  errorText(rest, message) {
    return rest ? `${rest}: ${message}` : capitalised(message);
  }

  setReadOnly(readOnly) {
    if (this.type !== "areas") this.input.disabled = readOnly;
  }

  remove() {
    this.el.remove();
  }
}
