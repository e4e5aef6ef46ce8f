// The image stitching section (manual ch. 10): each stitched device's output mode, channels,
// calibration state and preview picture, and Recalibrate (administrators only: the API
// answers 403 to the others). Shown only when the runtime has stitched devices. Fetched again
// when channels come and go (an output mode chosen in a channel's settings rebuilds them).

import { authed } from "./api.js";
import { $ } from "./util.js";

const MODES = {
  panorama: "Panorama",
  panorama_eptz: "Panorama + ePTZ",
  original: "Original",
  divided_panorama: "Divided Panorama",
};

let canCalibrate = false;
let loads = 0; // counts GETs, so that only the newest answer is shown

/** Fetch the stitched devices and show them; `level` is the session's user level. */
export async function startStitching(level) {
  canCalibrate = level === "administrator";
  await loadStitching();
}

/** A channel was added or removed: the devices' modes and channels may have changed. */
export function refreshStitching() {
  loadStitching();
}

async function loadStitching() {
  const load = ++loads;
  let devices = [];
  try {
    devices = await authed("GET", "/api/stitching");
  } catch {
    devices = [];
  }
  if (load !== loads) return;
  const list = $("stitching-devices");
  list.replaceChildren();
  if (!Array.isArray(devices) || devices.length === 0) {
    $("stitching-panel").hidden = true;
    return;
  }
  for (const device of devices) list.append(deviceCard(device));
  $("stitching-panel").hidden = false;
}

export function stopStitching() {
  loads++;
  $("stitching-panel").hidden = true;
  $("stitching-devices").replaceChildren();
}

function row(list, term, text) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = text;
  list.append(dt, dd);
  return dd;
}

function calibrationText(device) {
  if (!device.calibrated) return "Not calibrated yet";
  const when = new Date(device.calibrated_at * 1000).toLocaleString();
  const size = Array.isArray(device.size) ? ` · ${device.size[0]}x${device.size[1]}` : "";
  const matches = Array.isArray(device.matches)
    ? ` · matching features per seam: ${device.matches.join(", ")}`
    : "";
  return `Calibrated ${when}${size}${matches}`;
}

/** One device's card; Recalibrate replaces it with the answer's. */
function deviceCard(device) {
  const card = document.createElement("article");
  card.className = "stitched-device";
  card.dataset.deviceId = device.id;
  card.setAttribute("aria-label", `Stitched device ${device.id}`);
  const title = document.createElement("h3");
  title.textContent = device.id;
  const facts = document.createElement("dl");
  row(facts, "Output mode", MODES[device.output_mode] || device.output_mode);
  row(facts, "Channels", (device.channels || []).join(", "));
  row(facts, "Calibration", calibrationText(device)).className = "calibration-state";
  const problem = document.createElement("p");
  problem.className = "error";
  problem.setAttribute("role", "alert");
  problem.textContent = device.calibration_error || device.error || "";
  problem.hidden = !problem.textContent;
  card.append(title, facts, problem);
  if (device.calibrated) {
    const img = document.createElement("img");
    img.className = "stitching-preview";
    img.alt = `Stitched preview of ${device.id}`;
    img.src = `/api/stitching/${encodeURIComponent(device.id)}/preview.jpg?n=${device.calibrated_at}`;
    card.append(img);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Recalibrate";
  button.disabled = !canCalibrate || !device.running;
  button.title = canCalibrate
    ? "Calibrate again from the sensors' next pictures"
    : "Only an administrator can recalibrate";
  button.addEventListener("click", () => recalibrate(card, button, device.id));
  card.append(button);
  return card;
}

async function recalibrate(card, button, id) {
  button.disabled = true;
  button.textContent = "Recalibrating…";
  card.setAttribute("aria-busy", "true");
  try {
    const device = await authed("POST", `/api/stitching/${encodeURIComponent(id)}/calibrate`);
    const channels = card.querySelector("dl dd:nth-of-type(2)").textContent;
    card.replaceWith(deviceCard({ ...device, channels: channels ? channels.split(", ") : [] }));
  } catch (err) {
    const problem = card.querySelector("p.error");
    problem.textContent = err.message;
    problem.hidden = false;
    button.disabled = false;
    button.textContent = "Recalibrate";
    card.removeAttribute("aria-busy");
  }
}
