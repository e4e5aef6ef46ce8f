// The recordings panel: one channel's day on a timeline (its recorded segments, its clips and
// its events as marks), playback in the page from where the timeline is clicked (a <video> on
// the API's MP4 remux of the range), a segment's thumbnail with its download, a clip exported
// as one file for any time range, picture search (type, event type, time of day: thumbnails
// to open or download), and the storage status (manual 5.2.3 and 5.3).
//
// Everything comes from the API (recordings, events, search, storage); files are addressed
// by id or by time range, never by a path. Positions on the timeline are set through the
// CSSOM (element.style), which the CSP allows; no inline style attribute.

import { authed } from "./api.js";
import { $, showMessage } from "./util.js";

const DAY_S = 86400;

/** Fill the channel list (today, the first channel); the day shows once the panel opens. */
export function startRecordings(channels) {
  const select = $("rec-channel");
  const chosen = select.value;
  select.replaceChildren();
  for (const channel of channels) {
    const option = document.createElement("option");
    option.value = channel.id;
    option.textContent = channel.name || channel.id;
    select.append(option);
  }
  if (chosen && channels.some((c) => c.id === chosen)) select.value = chosen;
  if (!$("rec-day").value) $("rec-day").value = localDay(new Date());
  $("recordings-panel").hidden = channels.length === 0;
  if (channels.length && $("recordings-panel").open) showDay();
}

export function initRecordings() {
  // Closed, the panel asks the API nothing; opened, it shows the chosen day.
  $("recordings-panel").addEventListener("toggle", () => {
    if ($("recordings-panel").open) showDay();
  });
  $("rec-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showDay();
  });
  $("rec-export").addEventListener("submit", (event) => {
    event.preventDefault();
    exportClip();
  });
  $("rec-timeline").addEventListener("click", pickAt);
  $("rec-segment-list").addEventListener("change", () => {
    const id = Number($("rec-segment-list").value);
    const segment = shown.find((s) => s.id === id);
    if (segment) {
      showSegment(segment);
      playFrom(segment.start);
    }
  });
  $("pic-form").addEventListener("submit", (event) => {
    event.preventDefault();
    searchPictures();
  });
}

function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The chosen day's bounds in epoch seconds (local midnight to midnight). */
function dayBounds() {
  const [y, m, d] = $("rec-day").value.split("-").map(Number);
  const start = new Date(y, m - 1, d).getTime() / 1000;
  return [start, start + DAY_S];
}

/** Seconds of the day of a "HH:MM:SS" field, or null. */
function timeOfDay(value) {
  const parts = value.split(":").map(Number);
  if (parts.length < 2 || parts.some((n) => !Number.isFinite(n))) return null;
  return parts[0] * 3600 + parts[1] * 60 + (parts[2] || 0);
}

function clock(epoch) {
  return new Date(epoch * 1000).toLocaleTimeString([], { hour12: false });
}

function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

async function showDay() {
  const channel = $("rec-channel").value;
  if (!channel) return;
  const [start, end] = dayBounds();
  const range = `start=${start}&end=${end}`;
  showMessage("rec-error", "");
  let found;
  let events;
  try {
    [found, events] = await Promise.all([
      authed("GET", `/api/channels/${encodeURIComponent(channel)}/recordings?${range}`),
      authed("GET", `/api/events?channel=${encodeURIComponent(channel)}&since=${start}&until=${end}&limit=500`),
    ]);
  } catch (err) {
    showMessage("rec-error", err.message);
    return;
  }
  drawTimeline(found.segments || [], found.clips || [], (events && events.events) || [], start);
  renderStorage();
}

function placed(cls, from, to, dayStart) {
  const mark = document.createElement("span");
  mark.className = cls;
  const left = Math.max(0, (from - dayStart) / DAY_S);
  const right = Math.min(1, (to - dayStart) / DAY_S);
  mark.style.left = `${(left * 100).toFixed(3)}%`;
  mark.style.width = `${Math.max(0.1, (right - left) * 100).toFixed(3)}%`;
  return mark;
}

let shown = [];

function drawTimeline(segments, clips, events, dayStart) {
  shown = segments;
  const line = $("rec-timeline");
  line.replaceChildren();
  const list = $("rec-segment-list");
  list.replaceChildren();
  for (const segment of segments) {
    const bar = placed("rec-segment", segment.start, segment.end, dayStart);
    bar.title = `${clock(segment.start)}–${clock(segment.end)}`;
    line.append(bar);
    const option = document.createElement("option");
    option.value = String(segment.id);
    option.textContent = `${clock(segment.start)}–${clock(segment.end)}`;
    list.append(option);
  }
  for (const clip of clips) {
    const bar = placed("rec-clip", clip.start, clip.end ?? clip.start, dayStart);
    bar.title = `${clip.reason} ${clock(clip.start)}`;
    line.append(bar);
  }
  for (const event of events) {
    const mark = placed("rec-event", event.start, event.end ?? event.start, dayStart);
    mark.title = `${event.type} ${clock(event.start)}`;
    mark.dataset.type = event.type;
    line.append(mark);
  }
  $("rec-summary").textContent =
    `${segments.length} segment(s), ${clips.length} clip(s), ${events.length} event(s)`;
  $("rec-empty").hidden = segments.length > 0;
  list.disabled = segments.length === 0;
}

/** A click on the timeline: the segment at (or nearest) that time of the day. */
function pickAt(event) {
  if (!shown.length) return;
  const box = $("rec-timeline").getBoundingClientRect();
  const [dayStart] = dayBounds();
  const at = dayStart + ((event.clientX - box.left) / box.width) * DAY_S;
  const distance = (s) => (at < s.start ? s.start - at : at > s.end ? at - s.end : 0);
  const nearest = shown.reduce((best, s) => (distance(s) < distance(best) ? s : best));
  $("rec-segment-list").value = String(nearest.id);
  showSegment(nearest);
  playFrom(Math.min(Math.max(at, nearest.start), nearest.end));
}

/** Seconds a playback asks for from where it starts (the API remuxes them into one MP4). */
const PLAY_S = 600;

/** Play the recording from `at` (epoch s) in the page: the segments from the one holding
 * `at`, as MP4; the file's times count from that segment's start. */
function playFrom(at) {
  const first = shown.find((s) => s.end > at) || shown[shown.length - 1];
  if (!first) return;
  const [, dayEnd] = dayBounds();
  // Just after the segment's start: the one before it (ending there) is not included.
  const from = first.start + 0.001;
  const to = Math.max(from + 1, Math.min(first.start + PLAY_S, dayEnd));
  const channel = encodeURIComponent($("rec-channel").value);
  const video = $("rec-video");
  video.hidden = false;
  const offset = Math.max(0, at - first.start);
  video.addEventListener(
    "loadedmetadata",
    () => {
      video.currentTime = Math.min(offset, Math.max(0, video.duration - 0.1));
      video.play().catch(() => {}); // muted: allowed; a refusal leaves the controls
    },
    { once: true },
  );
  video.src = `/api/channels/${channel}/playback.mp4?start=${from}&end=${to}`;
  $("rec-playing").textContent = `Playing from ${clock(first.start + offset)}`;
}

function showSegment(segment) {
  const box = $("rec-segment-view");
  box.hidden = false;
  const picture = $("rec-thumb");
  picture.src = `/api/recordings/${segment.id}.jpg?width=320`;
  picture.alt = `Picture at ${clock(segment.start)}`;
  $("rec-segment-label").textContent =
    `${clock(segment.start)}–${clock(segment.end)} · ${megabytes(segment.size)}`;
  const link = $("rec-download");
  link.href = `/api/recordings/${segment.id}.ts`;
  link.download = `${$("rec-channel").value}_${segment.id}.ts`;
  $("rec-from").value = clock(segment.start);
  $("rec-to").value = clock(segment.end);
}

/** Clip export: the time range as one MPEG-TS file, downloaded. */
function exportClip() {
  const [dayStart] = dayBounds();
  const from = timeOfDay($("rec-from").value);
  const to = timeOfDay($("rec-to").value);
  if (from === null || to === null || to <= from) {
    showMessage("rec-error", "Export: give a start and a later end, as HH:MM:SS.");
    return;
  }
  showMessage("rec-error", "");
  const channel = encodeURIComponent($("rec-channel").value);
  const link = $("rec-export-link");
  link.href = `/api/channels/${channel}/playback.ts?start=${dayStart + from}&end=${dayStart + to}`;
  link.download = `${$("rec-channel").value}_${$("rec-day").value}_${$("rec-from").value}.ts`;
  link.hidden = false;
  link.click();
}

/** Picture search: the day (or the time of day between From and To) of the channel, by
 * type (timing, event, manual) or event type, through the API's one search. */
async function searchPictures() {
  const channel = $("rec-channel").value;
  let [start, end] = dayBounds();
  const from = $("pic-from").value.trim();
  const to = $("pic-to").value.trim();
  if (from || to) {
    const a = from ? timeOfDay(from) : 0;
    const b = to ? timeOfDay(to) : DAY_S;
    if (a === null || b === null || b <= a) {
      showMessage("pic-error", "Pictures: give the times as HH:MM:SS, the end after the start.");
      return;
    }
    [start, end] = [start + a, start + b];
  }
  const kind = $("pic-reason").value.trim() || $("pic-type").value;
  const query = new URLSearchParams({ channel, start, end, within: "pictures" });
  if (kind) query.set("type", kind);
  showMessage("pic-error", "");
  let found;
  try {
    found = await authed("GET", `/api/search?${query}`);
  } catch (err) {
    showMessage("pic-error", err.message);
    return;
  }
  const grid = $("pic-results");
  grid.replaceChildren();
  for (const picture of found.pictures || []) {
    const item = document.createElement("figure");
    const link = document.createElement("a");
    link.href = picture.url;
    link.target = "_blank";
    link.rel = "noopener";
    const img = document.createElement("img");
    img.src = `${picture.thumbnail}?width=160`;
    img.alt = `${picture.reason} at ${clock(picture.time)}`;
    img.loading = "lazy";
    link.append(img);
    const caption = document.createElement("figcaption");
    caption.textContent = `${clock(picture.time)} · ${picture.type}`;
    if (picture.reason !== picture.type) caption.textContent += ` (${picture.reason})`;
    const save = document.createElement("a");
    save.className = "pic-download";
    save.href = picture.url;
    save.download = `${picture.channel}_${picture.id}.jpg`;
    save.textContent = "Download";
    item.append(link, caption, save);
    grid.append(item);
  }
  $("pic-count").textContent = `${(found.pictures || []).length} picture(s)`;
}

async function renderStorage() {
  let storage;
  let device;
  try {
    [storage, device] = await Promise.all([
      authed("GET", "/api/recordings/storage"),
      authed("GET", "/api/device"),
    ]);
  } catch (err) {
    showMessage("rec-storage-full", err.message);
    return;
  }
  const readings = Object.fromEntries((device.sensors || []).map((s) => [s.key, s.value]));
  const parts = [
    readings.storage_status ? `Storage ${readings.storage_status}` : "",
    readings.storage_capacity ? `(${megabytes(readings.storage_capacity)})` : "",
    "·",
    `Video ${megabytes(storage.video_bytes)}`,
    storage.quota_bytes ? `of ${megabytes(storage.quota_bytes)}` : "",
    `· pictures ${megabytes(storage.picture_bytes)} (${storage.pictures})`,
    `· ${megabytes(storage.free_bytes)} free`,
    `· overwrite ${storage.overwrite ? "on" : "off"}`,
  ];
  $("rec-storage").textContent = parts.filter(Boolean).join(" ");
  showMessage("rec-storage-full", storage.full ? `Recording stopped: ${storage.full}` : "");
}
