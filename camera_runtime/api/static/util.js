// Shared helpers of the web UI: element lookup, message lines, capitalisation, retry back-off.

/** The element with this id (the page's ids are in index.html). */
export const $ = (id) => document.getElementById(id);

/** Show a text in a message line (error, notice), or hide the line when the text is empty. */
export function showMessage(id, text) {
  const el = $(id);
  if (!el) return;
  el.textContent = text || "";
  el.hidden = !text;
}

/** A new element with a class and a text (both optional). */
export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A new SVG element with these attributes (drawings over the live picture). */
export function svgElement(tag, attributes = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  return el;
}

export function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Exponential back-off: `start` before the first retry, doubling, at most `max`. */
export function backoffDelay(attempt, start, max) {
  return Math.min(start * 2 ** (attempt - 1), max);
}
