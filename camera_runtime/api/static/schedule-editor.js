// A weekly arming schedule editor (manual 8.1, docs/smart-events.md): "always armed", or a
// row per weekday with its time bar and its periods. Drag on a day's bar to draw a period (it
// joins the periods it overlaps), type a period as HH:MM-HH:MM, remove one, clear the day, and
// "Copy to…" the day's periods to other days. Up to 8 periods a day.
//
// The schedule is edited in place as the API takes it: no key (always armed), or
// `{monday: ["08:00-18:00"], ...}` with every day. `scheduleErrors` checks it with the API's
// own rules and words (camera_runtime/schedule.py), so a refusal reads the same here and there.

import { capitalised, element } from "./util.js";

export const DAYS = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];
const MAX_PERIODS = 8; // "Up to 8 periods can be configured for one day."
const DAY_MINUTES = 24 * 60;
const SNAP_MINUTES = 30; // a drawn period starts and ends on the half hour
const PERIOD = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/;

const pad = (n) => String(n).padStart(2, "0");

function clock(minutes) {
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

function minutes(hours, mins) {
  const h = Number(hours);
  const m = Number(mins);
  if (m > 59 || h > 24 || (h === 24 && m !== 0)) {
    throw new Error(`${pad(h)}:${pad(m)} is not a time of day (00:00 to 24:00)`);
  }
  return h * 60 + m;
}

/** "08:00-12:30" -> [480, 750]; throws the API's message for anything else. */
function parsePeriod(text) {
  const match = typeof text === "string" ? PERIOD.exec(text) : null;
  if (!match) {
    throw new Error(`'${text}' is not a period like 08:00-18:00`);
  }
  const start = minutes(match[1], match[2]);
  const end = minutes(match[3], match[4]);
  if (end <= start) throw new Error(`period '${text}' ends before it starts`);
  return [start, end];
}

/** A day's periods as [start, end] minutes, sorted; throws the API's message. */
function dayPeriods(list) {
  if (list.length > MAX_PERIODS) {
    throw new Error(`at most ${MAX_PERIODS} periods a day, got ${list.length}`);
  }
  const periods = list.map(parsePeriod).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < periods.length; i += 1) {
    if (periods[i][0] < periods[i - 1][1]) throw new Error("periods of one day must not overlap");
  }
  return periods;
}

/** Day -> the API's message for each bad day of a schedule (none when it is absent). */
export function scheduleErrors(schedule) {
  const errors = new Map();
  if (!schedule) return errors;
  for (const day of DAYS) {
    try {
      dayPeriods(schedule[day] || []);
    } catch (err) {
      errors.set(day, err.message);
    }
  }
  return errors;
}

/** Every day armed all day: what "always" means, the start of a weekly schedule. */
function fullWeek() {
  return Object.fromEntries(DAYS.map((day) => [day, ["00:00-24:00"]]));
}

/** `owner[key]` is the schedule edited; `changed()` is called after each edit. */
export class ScheduleEditor {
  constructor(owner, key, { readOnly, idPrefix, changed }) {
    this.owner = owner;
    this.key = key;
    this.readOnly = readOnly;
    this.id = idPrefix;
    this.changed = changed;
    this.drag = null; // {day, bar, from} while a period is drawn
    this.copying = null; // the day whose "Copy to…" is open
    const box = element("fieldset", "schedule");
    box.append(element("legend", "control-label", "Arming schedule"));
    const mode = element("select", "control-select schedule-mode");
    mode.id = `${idPrefix}-mode`;
    mode.setAttribute("aria-label", "Arming schedule");
    mode.append(new Option("Always armed", "always"), new Option("Weekly schedule", "weekly"));
    mode.disabled = readOnly;
    mode.addEventListener("change", () => {
      if (mode.value === "always") delete owner[key];
      else owner[key] = fullWeek();
      this.edited();
    });
    this.mode = mode;
    this.days = element("div", "schedule-days");
    box.append(mode, this.days);
    this.el = box;
    this.render();
  }

  get schedule() {
    return this.owner[this.key];
  }

  edited() {
    this.render();
    this.changed();
  }

  periods(day) {
    return this.schedule[day] || (this.schedule[day] = []);
  }

  render() {
    const schedule = this.schedule;
    this.mode.value = schedule ? "weekly" : "always";
    if (!schedule) {
      this.days.replaceChildren();
      return;
    }
    const errors = scheduleErrors(schedule);
    // The rows are built again: the keyboard goes back to the field or button it was on.
    const focused = this.el.contains(document.activeElement) ? document.activeElement.id : "";
    this.days.replaceChildren(...DAYS.map((day) => this.dayRow(day, errors.get(day))));
    const again = focused ? document.getElementById(focused) : null;
    if (again && !again.disabled) again.focus();
  }

  dayRow(day, error) {
    const row = element("div", "schedule-day");
    row.dataset.day = day;
    const head = element("div", "schedule-head");
    head.append(element("span", "schedule-name", capitalised(day)));
    head.append(this.bar(day));
    row.append(head);
    const list = element("div", "schedule-periods");
    this.periods(day).forEach((text, index) => {
      const input = element("input", "image-text schedule-period");
      input.id = `${this.id}-${day}-${index}`;
      input.value = text;
      input.disabled = this.readOnly;
      input.setAttribute("aria-label", `${capitalised(day)} period ${index + 1}`);
      input.addEventListener("change", () => {
        this.periods(day)[index] = input.value;
        this.edited();
      });
      const remove = this.button("Remove", () => {
        this.periods(day).splice(index, 1);
        this.edited();
      }, `${day}-${index}-remove`);
      remove.setAttribute("aria-label", `Remove ${capitalised(day)} period ${index + 1}`);
      const item = element("span", "schedule-item");
      item.append(input, remove);
      list.append(item);
    });
    const add = this.button("Add a period", () => {
      this.periods(day).push("");
      this.edited();
      const inputs = this.days.querySelectorAll(`[data-day="${day}"] .schedule-period`);
      inputs[inputs.length - 1].focus();
    }, `${day}-add`);
    add.setAttribute("aria-label", `Add a ${capitalised(day)} period`);
    add.disabled = this.readOnly || this.periods(day).length >= MAX_PERIODS;
    const clear = this.button("Clear", () => {
      this.schedule[day] = [];
      this.edited();
    }, `${day}-clear`);
    clear.setAttribute("aria-label", `Clear ${capitalised(day)}`);
    const copy = this.button("Copy to…", () => {
      this.copying = this.copying === day ? null : day;
      this.render();
    }, `${day}-copy`);
    copy.setAttribute("aria-label", `Copy ${capitalised(day)} to…`);
    copy.setAttribute("aria-expanded", String(this.copying === day));
    list.append(add, clear, copy);
    row.append(list);
    if (this.copying === day && !this.readOnly) row.append(this.copyPanel(day));
    if (error) {
      const message = element("p", "control-error schedule-error", capitalised(error));
      message.setAttribute("role", "alert");
      row.append(message);
    }
    return row;
  }

  button(text, onClick, id = "") {
    const el = element("button", "ghost image-button", text);
    el.type = "button";
    if (id) el.id = `${this.id}-${id}`;
    el.disabled = this.readOnly;
    el.addEventListener("click", onClick);
    return el;
  }

  /** The manual's "Copy to…": tick other days, then copy this day's periods onto them. */
  copyPanel(day) {
    const panel = element("div", "schedule-copy");
    const boxes = [];
    for (const other of DAYS) {
      if (other === day) continue;
      const label = element("label", "schedule-copy-day");
      const box = element("input");
      box.type = "checkbox";
      box.value = other;
      label.append(box, ` ${capitalised(other)}`);
      boxes.push(box);
      panel.append(label);
    }
    const all = this.button("All days", () => boxes.forEach((box) => (box.checked = true)));
    const go = this.button("Copy", () => {
      for (const box of boxes) {
        if (box.checked) this.schedule[box.value] = [...this.periods(day)];
      }
      this.copying = null;
      this.edited();
    });
    go.setAttribute("aria-label", `Copy ${capitalised(day)}'s periods`);
    panel.append(all, go);
    return panel;
  }

  /** A day's 24-hour bar: its periods drawn on it; drag on it to draw one more. */
  bar(day) {
    const bar = element("div", "schedule-bar");
    bar.setAttribute("role", "img");
    const periods = this.periods(day).join(", ") || "not armed";
    bar.setAttribute("aria-label", `${capitalised(day)}: ${periods}`);
    for (const text of this.periods(day)) {
      let period;
      try {
        period = parsePeriod(text);
      } catch {
        continue; // shown as an error under the day
      }
      const block = element("span", "schedule-block");
      block.style.left = `${(period[0] / DAY_MINUTES) * 100}%`;
      block.style.width = `${((period[1] - period[0]) / DAY_MINUTES) * 100}%`;
      bar.append(block);
    }
    if (this.readOnly) return bar;
    const at = (event) => {
      const box = bar.getBoundingClientRect();
      const share = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
      return Math.round((share * DAY_MINUTES) / SNAP_MINUTES) * SNAP_MINUTES;
    };
    const ghost = element("span", "schedule-block schedule-drawn");
    bar.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      bar.setPointerCapture(event.pointerId);
      this.drag = { day, from: at(event) };
      ghost.style.left = `${(this.drag.from / DAY_MINUTES) * 100}%`;
      ghost.style.width = "0";
      bar.append(ghost);
    });
    bar.addEventListener("pointermove", (event) => {
      if (!this.drag || this.drag.day !== day) return;
      const [a, b] = [this.drag.from, at(event)].sort((x, y) => x - y);
      ghost.style.left = `${(a / DAY_MINUTES) * 100}%`;
      ghost.style.width = `${((b - a) / DAY_MINUTES) * 100}%`;
    });
    bar.addEventListener("pointerup", (event) => {
      if (!this.drag || this.drag.day !== day) return;
      const [a, b] = [this.drag.from, at(event)].sort((x, y) => x - y);
      this.drag = null;
      if (b > a) this.addPeriod(day, a, b);
      else ghost.remove();
    });
    bar.addEventListener("pointercancel", () => {
      this.drag = null;
      ghost.remove();
    });
    return bar;
  }

  /** A drawn period joins the valid periods it overlaps or touches. */
  addPeriod(day, start, end) {
    const kept = [];
    for (const text of this.periods(day)) {
      let period;
      try {
        period = parsePeriod(text);
      } catch {
        kept.push(text); // a typed period in error stays, for the user to fix
        continue;
      }
      if (period[1] < start || period[0] > end) kept.push(text);
      else [start, end] = [Math.min(start, period[0]), Math.max(end, period[1])];
    }
    kept.push(`${clock(start)}-${clock(end)}`);
    this.schedule[day] = kept.sort((a, b) => startOf(a) - startOf(b));
    this.edited();
  }
}

/** Where a period starts, to sort a day's list (one in error goes last). */
function startOf(text) {
  try {
    return parsePeriod(text)[0];
  } catch {
    return DAY_MINUTES;
  }
}
