// The linkage panel: the rules (Source + Triggering Event -> Linked Resource + Linkage
// Action) with whether each is active and why not, a rule editor whose choices come from
// GET /api/linkage/resources (a source's events, a resource's actions), and the newest fired
// rules with each action's outcome. The server checks every constraint; its 422 lines are
// shown as they are. Fired rules arrive as `linkage_fired` events on the events socket
// (events.js re-dispatches each update as a `camera-event` on window).

import { authed, hasStatus } from "./api.js";
import { $, capitalised } from "./util.js";

const LOG_ROWS = 20;

const state = { resources: [], admin: false, operator: false, running: false };

const label = (key) => capitalised(String(key).replace(/_/g, " "));

function option(value, text) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = text;
  return el;
}

function resource(id) {
  return state.resources.find((r) => r.id === id);
}

/** Fill the source select and everything that follows from it. */
function fillSources() {
  const select = $("linkage-source");
  const sources = state.resources.filter((r) => r.event_types.length);
  select.replaceChildren(...sources.map((r) => option(r.id, `${r.name} (${label(r.type)})`)));
  fillEvents();
}

function fillEvents() {
  const source = resource($("linkage-source").value);
  const events = source ? source.event_types : [];
  $("linkage-event").replaceChildren(...events.map((e) => option(e, label(e))));
  for (const row of $("linkage-actions").children) fillTargets(row);
}

/** One action row's resource select: every resource but the source (the document's rule). */
function fillTargets(row) {
  const select = row.querySelector(".linkage-target");
  const kept = select.value;
  const source = $("linkage-source").value;
  const targets = state.resources.filter((r) => r.actions.length && r.id !== source);
  select.replaceChildren(...targets.map((r) => option(r.id, `${r.name} (${label(r.type)})`)));
  if (targets.some((r) => r.id === kept)) select.value = kept;
  fillActions(row);
}

function fillActions(row) {
  const target = resource(row.querySelector(".linkage-target").value);
  const actions = target ? target.actions : [];
  row.querySelector(".linkage-action").replaceChildren(...actions.map((a) => option(a, label(a))));
}

function addActionRow() {
  const index = $("linkage-actions").children.length + 1;
  const row = document.createElement("li");
  row.className = "linkage-action-row";
  const target = document.createElement("select");
  target.className = "linkage-target";
  target.setAttribute("aria-label", `Linked resource ${index}`);
  const action = document.createElement("select");
  action.className = "linkage-action";
  action.setAttribute("aria-label", `Linkage action ${index}`);
  target.addEventListener("change", () => fillActions(row));
  row.append(target, action);
  $("linkage-actions").append(row);
  fillTargets(row);
}

function renderRules(rules) {
  const list = $("linkage-rules");
  list.replaceChildren();
  for (const rule of rules) {
    const row = document.createElement("li");
    row.className = "linkage-rule";
    row.dataset.ruleId = rule.id;
    row.dataset.active = String(Boolean(rule.active));
    const text = document.createElement("span");
    const actions = rule.actions.map((a) => `${label(a.action)} on ${a.resource}`).join(", ");
    text.textContent = `${rule.source}: ${label(rule.event)} → ${actions}`;
    row.append(text);
    if (!rule.active) {
      const why = document.createElement("span");
      why.className = "linkage-inactive";
      why.textContent = `Inactive: ${rule.inactive_reason}`;
      row.append(why);
    }
    if (state.admin) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "ghost";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete rule ${rule.id}`);
      remove.addEventListener("click", () => deleteRule(rule.id));
      row.append(remove);
    }
    list.append(row);
  }
  $("linkage-empty").hidden = rules.length > 0;
}

/** The declared resources (not the channels) with their state, and a button per action for
 * an operator: a manual alarm output and its clearing, an alarm input switched on or off, a door opened. */
function renderResources() {
  const list = $("linkage-resources");
  list.replaceChildren();
  for (const r of state.resources.filter((x) => x.type !== "channel")) {
    const row = document.createElement("li");
    row.className = "linkage-resource";
    row.dataset.resource = r.id;
    const text = document.createElement("span");
    const facts = Object.entries(r.state || {})
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${label(k).toLowerCase()}: ${v === true ? "yes" : v === false ? "no" : v}`);
    text.textContent = `${r.name} (${label(r.type)})${facts.length ? ` · ${facts.join(", ")}` : ""}`;
    row.append(text);
    if (state.operator) {
      for (const action of r.actions) {
        const run = document.createElement("button");
        run.type = "button";
        run.className = "ghost";
        run.textContent = label(action);
        run.setAttribute("aria-label", `${label(action)}: ${r.name}`);
        run.addEventListener("click", () => runAction(r.id, action));
        row.append(run);
      }
    }
    list.append(row);
  }
}

async function runAction(resourceId, action) {
  try {
    const outcome = await authed(
      "POST",
      `/api/linkage/resources/${encodeURIComponent(resourceId)}/actions/${encodeURIComponent(action)}`,
      {},
    );
    showErrors(outcome && outcome.outcome === "failed" ? { message: outcome.error } : null);
  } catch (err) {
    if (!hasStatus(err, 401)) showErrors(err);
  }
  await refreshLinkage();
}

function renderLog(fired) {
  const list = $("linkage-log");
  list.replaceChildren();
  for (const entry of fired.slice(0, LOG_ROWS)) {
    const data = entry.data || {};
    const row = document.createElement("li");
    row.className = "linkage-fired";
    row.dataset.rule = String(data.rule || "");
    const when = new Date((entry.start || 0) * 1000).toLocaleTimeString();
    const trigger = data.trigger || {};
    const outcomes = (data.actions || [])
      .map((a) => `${label(a.action)} on ${a.resource}: ${a.outcome}${a.error ? ` (${a.error})` : ""}`)
      .join("; ");
    row.textContent = `${when} ${data.rule} (${label(trigger.type || "")} from ${trigger.source}): ${outcomes}`;
    list.append(row);
  }
}

function showErrors(err) {
  const box = $("linkage-error");
  const lines = err && err.errors && err.errors.length ? err.errors : [err ? err.message : ""];
  box.replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
  box.hidden = !lines.some(Boolean);
}

export async function refreshLinkage() {
  if (!state.running) return;
  try {
    const [resources, rules, log] = await Promise.all([
      authed("GET", "/api/linkage/resources"),
      authed("GET", "/api/linkage/rules"),
      authed("GET", `/api/linkage/log?limit=${LOG_ROWS}`),
    ]);
    const changed = JSON.stringify(resources) !== JSON.stringify(state.resources);
    state.resources = Array.isArray(resources) ? resources : [];
    if (changed) fillSources();
    renderResources();
    renderRules(Array.isArray(rules) ? rules : []);
    renderLog(log && Array.isArray(log.fired) ? log.fired : []);
  } catch {
    // A 401 went back to the sign-in form; otherwise the panel keeps what it showed.
  }
}

async function addRule(submit) {
  submit.preventDefault();
  const actions = [...$("linkage-actions").children].map((row) => ({
    resource: row.querySelector(".linkage-target").value,
    action: row.querySelector(".linkage-action").value,
  }));
  const body = { source: $("linkage-source").value, event: $("linkage-event").value, actions };
  const name = $("linkage-name").value.trim();
  if (name) body.name = name;
  try {
    await authed("POST", "/api/linkage/rules", body);
    showErrors(null);
    $("linkage-name").value = "";
  } catch (err) {
    if (!hasStatus(err, 401)) showErrors(err);
    return;
  }
  await refreshLinkage();
}

async function deleteRule(ruleId) {
  try {
    await authed("DELETE", `/api/linkage/rules/${encodeURIComponent(ruleId)}`);
  } catch (err) {
    if (!hasStatus(err, 401)) showErrors(err);
  }
  await refreshLinkage();
}

/** Show the panel for a session of `level` (only an administrator edits rules). */
export function startLinkage(level) {
  state.admin = level === "administrator";
  state.operator = state.admin || level === "operator";
  state.running = true;
  state.resources = [];
  $("linkage-panel").hidden = false;
  $("linkage-form").hidden = !state.admin;
  if (!$("linkage-actions").children.length) addActionRow();
  refreshLinkage();
}

export function stopLinkage() {
  state.running = false;
  $("linkage-panel").hidden = true;
}

export function initLinkage() {
  $("linkage-source").addEventListener("change", fillEvents);
  $("linkage-add-action").addEventListener("click", addActionRow);
  $("linkage-form").addEventListener("submit", addRule);
  window.addEventListener("camera-event", (e) => {
    const update = e.detail;
    if (update && update.event && update.event.type === "linkage_fired" && update.phase === "end") {
      refreshLinkage();
    }
  });
}
