// The page's views and its two forms: activation (first start) and sign-in.

import { api, hasStatus } from "./api.js";
import { $, showMessage } from "./util.js";

let enterApp = async () => {};

/** What opens the app once signed in (app.js); it throws when it cannot. */
export function setEnterApp(handler) {
  enterApp = handler;
}

/** Open the app; on failure show the sign-in form (a 401 has already shown it). */
export async function openApp() {
  try {
    await enterApp();
  } catch (err) {
    if (!hasStatus(err, 401)) showLogin(err.message);
  }
}

/** Show one of "loading", "activate", "login", "app". The two forms are mounted from their
 * templates only while shown, so the page never holds more than one password form. */
export function showView(name) {
  $("loading").hidden = name !== "loading";
  $("app-view").hidden = name !== "app";
  $("logout").hidden = name !== "app";
  $("connection").hidden = name !== "app";
  const auth = $("auth");
  if (name === "activate" || name === "login") {
    if (auth.dataset.view !== name) {
      auth.replaceChildren($(`${name}-template`).content.cloneNode(true));
      auth.dataset.view = name;
      const form = $(`${name}-form`);
      form.addEventListener("submit", name === "login" ? onLogin : onActivate);
    }
  } else {
    auth.replaceChildren();
    delete auth.dataset.view;
  }
}

export function showLogin(notice) {
  showView("login");
  showMessage("login-error", "");
  showMessage("login-notice", notice || "");
  $("login-password").value = "";
  const user = $("login-username");
  (user.value ? $("login-password") : user).focus();
}

export function showActivate() {
  showView("activate");
  showMessage("activate-error", "");
  $("activate-password").focus();
}

function setBusy(form, busy) {
  for (const el of form.elements) el.disabled = busy;
}

async function onActivate(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const password = $("activate-password").value;
  if (password !== $("activate-confirm").value) {
    showMessage("activate-error", "The passwords do not match.");
    return;
  }
  showMessage("activate-error", "");
  setBusy(form, true);
  try {
    await api("POST", "/api/activate", { password });
  } catch (err) {
    setBusy(form, false);
    if (hasStatus(err, 409)) {
      showLogin("The camera is already activated. Sign in.");
    } else {
      showMessage("activate-error", err.message);
    }
    return;
  }
  setBusy(form, false);
  form.reset();
  // Activated: sign straight in with the password just set.
  try {
    await api("POST", "/api/login", { username: "admin", password });
    await enterApp();
  } catch {
    showLogin("The camera is activated. Sign in with the new password.");
  }
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    showMessage("login-error", "Enter the user name and the password.");
    return;
  }
  showMessage("login-error", "");
  setBusy(form, true);
  try {
    await api("POST", "/api/login", { username, password });
  } catch (err) {
    setBusy(form, false);
    if (err.code === "not_activated") {
      showActivate();
      return;
    }
    // A 401 body may carry only a code ("unauthorized"): say it in words then.
    const sentence = err.message.includes(" ") && !err.message.startsWith("Request failed");
    const text = hasStatus(err, 401) && !sentence ? "Wrong user name or password." : err.message;
    showMessage("login-error", text);
    $("login-password").value = "";
    $("login-password").focus();
    return;
  }
  setBusy(form, false);
  $("login-password").value = "";
  showMessage("login-notice", "");
  await openApp();
}
