// HTTP to the camera's API: fetch + JSON with cookie auth, error messages, 401 = session ended.

import { capitalised } from "./util.js";

class HttpError extends Error {
  constructor(status, message, code = "", errors = []) {
    super(message);
    this.status = status;
    this.code = code; // the server's stable error code ("weak_password"), if any
    this.errors = errors; // 422 invalid_config: one line per problem, "key.path: message"
  }
}

/** Whether an error is the API's answer with this HTTP status. */
export function hasStatus(err, status) {
  return err instanceof HttpError && err.status === status;
}

let sessionEnded = () => {};

/** What to do when a call made while signed in gets a 401 (app.js: back to the sign-in form). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/** The human text of an error body ({"error": code, "message": text}): whatever text field
 * the server put there, the message first. */
function errorText(data, res) {
  if (data && typeof data === "object") {
    for (const key of ["message", "error", "detail", "reason"]) {
      const value = data[key];
      if (typeof value === "string" && value) return capitalised(value);
      if (value && typeof value === "object" && typeof value.message === "string") {
        return capitalised(value.message);
      }
    }
  }
  return `Request failed (${res.status}${res.statusText ? " " + res.statusText : ""})`;
}

/** fetch + JSON, same origin, cookie auth. Throws HttpError (status 0: unreachable). With
 * `binary`, a successful answer is returned as a Blob (a picture); errors are still JSON. */
export async function api(method, path, body, { binary = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new HttpError(0, "Cannot reach the camera.");
  }
  if (binary && res.ok) return await res.blob();
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const code = data && typeof data.error === "string" ? data.error : "";
    const errors =
      data && Array.isArray(data.errors) ? data.errors.filter((e) => typeof e === "string") : [];
    throw new HttpError(res.status, errorText(data, res), code, errors);
  }
  return data;
}

/** An API call made while signed in: a 401 ends the session and shows the sign-in form. */
export async function authed(method, path, body, options) {
  try {
    return await api(method, path, body, options);
  } catch (err) {
    if (hasStatus(err, 401)) {
      sessionEnded("Your session has ended. Please sign in again.");
    }
    throw err;
  }
}

/** PUT a settings form's changes. Meanwhile the form is busy (`busy`, its `save` button off,
 * `aria-busy` on its `el`); then `idle()` lets it show its state again. The API's refusal goes
 * to `form.showRefusal(err)` (a 401 ends the session instead). The answer, or null if refused. */
export async function putForm(form, url, body) {
  form.busy = true;
  form.save.disabled = true;
  form.el.setAttribute("aria-busy", "true");
  try {
    return await authed("PUT", url, body);
  } catch (err) {
    if (!hasStatus(err, 401)) form.showRefusal(err);
    return null;
  } finally {
    form.busy = false;
    form.el.setAttribute("aria-busy", "false");
    form.idle();
  }
}
