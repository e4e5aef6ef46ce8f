// One form field per declared control (switch, number, select, button), built only from the
// declaration the API gives in a channel's status, with the API's own value checks.
//
// Nothing here knows a control by its key: a plugin's new control gets its field for free.

import { capitalised } from "./util.js";

export const KINDS = new Set(["switch", "number", "select", "button"]);

/** Whether a declaration (an entry of a status's `controls`) can be shown. */
export function isControl(control) {
  return (
    control !== null &&
    typeof control === "object" &&
    typeof control.key === "string" &&
    /^[a-z][a-z0-9_]*$/.test(control.key) &&
    KINDS.has(control.kind) &&
    (control.kind !== "number" || (isFiniteNumber(control.min) && isFiniteNumber(control.max))) &&
    (control.kind !== "select" || Array.isArray(control.options))
  );
}

function isFiniteNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** What a field is built from: a change here means building the field again. */
function shape(control) {
  const { kind, label, config, min, max, step, options, unit } = control;
  return JSON.stringify([kind, label, Boolean(config), min, max, step, options, unit]);
}

/** The step a number takes (the API's default is 1). */
function stepOf(control) {
  return isFiniteNumber(control.step) && control.step > 0 ? control.step : 1;
}

/** Check a number as the API does (camera_runtime.capabilities.Control.parse): required,
 * within [min, max], and whole when the step is whole. Returns {value} or {error}. */
export function checkNumber(control, text, badInput = false) {
  const whole = Number.isInteger(stepOf(control));
  const range = `${whole ? "a whole number" : "a number"} from ${control.min} to ${control.max}`;
  if (badInput) return { error: `Enter ${range}.` };
  const trimmed = String(text).trim();
  if (trimmed === "") return { error: `Enter a value: ${range}.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { error: `Enter ${range}.` };
  if (value < control.min || value > control.max || (whole && !Number.isInteger(value))) {
    return { error: `Enter ${range}.` };
  }
  return { value };
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function optionLabel(option) {
  return capitalised(String(option).replace(/_/g, " "));
}

function formatSize(bytes) {
  if (!(bytes >= 0)) return "";
  return bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024)} kB`;
}

/** A field for one control. `handlers.commit(field, value)` sets a value,
 * `handlers.press(field)` presses a button; the panel owns the requests. */
export class ControlField {
  constructor(control, handlers) {
    this.control = control;
    this.key = control.key;
    this.kind = control.kind;
    this.shape = shape(control);
    this.value = undefined; // the channel's real value, as last reported by the API
    this.shown = undefined; // the value the field was last set to from the API
    this.busy = false; // a request for this control is in flight
    this.pending = null; // {value}: the latest value to send once the request in flight ends
    this.dirty = false; // a number typed but not committed yet
    this.readOnly = false;
    this.handlers = handlers;
    this.build();
  }

  /** Whether `control` (a new declaration of the same key) still fits this field. */
  fits(control) {
    return shape(control) === this.shape;
  }

  build() {
    const c = this.control;
    const id = `ctl-${c.key}`;
    const row = element("div", `control control-${c.kind}`);
    row.dataset.key = c.key;
    row.dataset.kind = c.kind;
    row.dataset.config = String(Boolean(c.config));
    if (c.detector) row.dataset.detector = String(c.detector);
    this.el = row;
    this.error = element("p", "control-error");
    this.error.id = `${id}-error`;
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    const label = typeof c.label === "string" && c.label ? c.label : optionLabel(c.key);

    if (c.kind === "button") {
      this.button = element("button", "control-button", label);
      this.button.type = "button";
      this.button.id = id;
      this.button.setAttribute("aria-describedby", this.error.id);
      this.button.addEventListener("click", () => this.handlers.press(this));
      this.result = element("div", "control-result");
      this.result.setAttribute("role", "status");
      row.append(this.button, this.result, this.error);
      this.inputs = [this.button];
      return;
    }

    const name = element("label", "control-label", label);
    name.htmlFor = id;
    name.id = `${id}-label`;
    const head = element("div", "control-head");
    head.append(name);
    row.append(head);

    if (c.kind === "switch") {
      this.input = element("input", "toggle");
      this.input.type = "checkbox";
      this.input.setAttribute("role", "switch");
      this.input.addEventListener("change", () => this.handlers.commit(this, this.input.checked));
      head.append(this.input);
      this.inputs = [this.input];
    } else if (c.kind === "select") {
      this.input = element("select", "control-select");
      for (const option of c.options) {
        const item = element("option", "", optionLabel(option));
        item.value = String(option);
        this.input.append(item);
      }
      this.input.addEventListener("change", () => this.handlers.commit(this, this.input.value));
      head.append(this.input);
      this.inputs = [this.input];
    } else {
      this.buildNumber(c, head, name.id);
    }
    this.input.id = id;
    if (c.kind !== "switch") this.input.required = true;
    const described = [this.error.id];
    if (this.unit) described.unshift(this.unit.id);
    for (const input of this.inputs) input.setAttribute("aria-describedby", described.join(" "));
    row.append(this.error);
  }

  buildNumber(c, head, labelId) {
    const step = String(stepOf(c));
    const box = element("span", "control-number-box");
    this.input = element("input", "control-number-input");
    this.input.type = "number";
    this.slider = element("input", "control-range");
    this.slider.type = "range";
    this.slider.setAttribute("aria-labelledby", labelId);
    for (const input of [this.input, this.slider]) {
      input.min = String(c.min);
      input.max = String(c.max);
      input.step = step;
    }
    box.append(this.input);
    if (typeof c.unit === "string" && c.unit) {
      this.unit = element("span", "control-unit", c.unit);
      this.unit.id = `ctl-${c.key}-unit`;
      box.append(this.unit);
    }
    head.append(box);
    this.el.append(this.slider);
    this.inputs = [this.slider, this.input];

    // The slider is always valid (the browser keeps it in range and on the step): it sends
    // when let go (or at each key press); the typed number sends on Enter or leaving the box.
    this.slider.addEventListener("input", () => {
      this.input.value = this.slider.value;
      this.setInvalid(false);
    });
    this.slider.addEventListener("change", () => {
      this.dirty = false;
      this.handlers.commit(this, Number(this.slider.value));
    });
    this.input.addEventListener("input", () => {
      this.dirty = true;
      const checked = checkNumber(c, this.input.value, this.input.validity.badInput);
      if (checked.error === undefined) this.slider.value = String(checked.value);
    });
    this.input.addEventListener("change", () => this.commitTyped());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.commitTyped();
      }
    });
  }

  /** Send the typed number, or refuse it here (nothing is sent) with the API's rule. */
  commitTyped() {
    if (!this.dirty) return;
    this.dirty = false;
    const checked = checkNumber(this.control, this.input.value, this.input.validity.badInput);
    if (checked.error !== undefined) {
      this.showError(checked.error);
      this.setInvalid(true);
      return;
    }
    this.handlers.commit(this, checked.value);
  }

  /** Whether the user is typing in (or left refused text in) the focused number box. */
  editing() {
    return (
      this.kind === "number" &&
      document.activeElement === this.input &&
      (this.dirty || this.input.getAttribute("aria-invalid") === "true")
    );
  }

  /** The channel's real value, reported by the API. Shown unless a request for this control
   * is in flight (its answer will show the outcome) or the user is typing a number; `force`
   * shows it even when it is the value shown before (the user may have moved the field). */
  update(value, force = false) {
    this.value = value;
    if (this.busy || (value === this.shown && !force)) return;
    this.show(value, { keepTyping: this.editing() });
  }

  /** Show the real value again (after a refusal, or Escape while typing). */
  revert() {
    this.dirty = false;
    this.show(this.value, { keepTyping: false });
  }

  show(value, { keepTyping }) {
    const c = this.control;
    this.shown = value;
    if (c.kind === "switch") {
      this.input.checked = value === true;
    } else if (c.kind === "select") {
      this.input.value = value === null || value === undefined ? "" : String(value);
    } else if (c.kind === "number") {
      const known = isFiniteNumber(value);
      this.slider.value = String(known ? value : c.min);
      if (!keepTyping) {
        this.input.value = known ? String(value) : "";
        this.dirty = false;
        this.setInvalid(false);
      }
    }
  }

  setInvalid(invalid) {
    if (this.input && this.kind === "number") {
      this.input.setAttribute("aria-invalid", String(invalid));
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  clearError() {
    this.error.textContent = "";
    this.error.hidden = true;
    this.setInvalid(false);
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    for (const input of this.inputs) input.disabled = readOnly;
  }

  /** A button's request in flight: it says so, and stays focusable (no `disabled`). */
  setPressing(pressing) {
    this.button.setAttribute("aria-busy", String(pressing));
    this.el.classList.toggle("pressing", pressing);
  }

  /** What a button's command produced: a captured picture (its `url`), or that it was done. */
  showResult(result, channelName) {
    const parts = [];
    const url = result && typeof result.url === "string" ? result.url : "";
    const sameOrigin = url.startsWith("/") && !url.startsWith("//");
    if (sameOrigin) {
      const when = typeof result.time === "number" ? new Date(result.time * 1000) : new Date();
      const link = element("a", "control-picture-link");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      const img = element("img", "control-picture");
      img.alt = `Picture of ${channelName} at ${when.toLocaleTimeString()}`;
      img.src = url;
      link.append(img);
      const caption = element("span", "control-result-text");
      const size = formatSize(result.size);
      caption.textContent = `${when.toLocaleTimeString()}${size ? ` · ${size}` : ""}`;
      parts.push(link, caption);
    } else {
      parts.push(element("span", "control-result-text", "Done."));
    }
    this.result.replaceChildren(...parts);
    this.el.dataset.result = sameOrigin ? "picture" : "done";
  }

  remove() {
    this.el.remove();
  }
}
