// Live H.264 in a <video>: a stream's fragmented MP4 (GET .../streams/{role}.mp4) through Media
// Source Extensions. The server passes the camera's own packets through, so this costs it no
// encoding (MJPEG encodes every frame); the live view falls back to MJPEG when the browser
// cannot play the codec or the stream fails.

const STALL_MS = 10000; // no bytes for this long: the stream is given up
const LIVE_LAG_S = 1.5; // further behind the newest frame than this: jump to it
const LIVE_EDGE_S = 0.3; // where a jump lands, before the newest frame
const KEEP_S = 20; // seconds of played video kept in the buffer

/** Whether this browser has Media Source Extensions at all. */
export function mseSupported() {
  return typeof window.MediaSource === "function";
}

function fourcc(bytes, at) {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function u32(bytes, at) {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** The length of the initialisation segment (top-level boxes up to the end of `moov`) at the
 * start of `bytes`, or 0 while it has not all arrived. */
export function initLength(bytes) {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const size = u32(bytes, at);
    if (size < 8) throw new Error("not a fragmented MP4 stream");
    const kind = fourcc(bytes, at + 4);
    at += size;
    if (kind === "moov") return at <= bytes.length ? at : 0;
  }
  return 0;
}

function find(bytes, kind) {
  for (let at = 4; at + 4 <= bytes.length; at += 1) {
    if (fourcc(bytes, at) === kind) return at + 4; // the box's payload
  }
  return -1;
}

function hex(n) {
  return n.toString(16).toUpperCase();
}

/** The RFC 6381 codec string of the init segment's sample entry (`avc1...`, `hvc1...`). */
export function codecString(init) {
  const avc = find(init, "avcC");
  if (avc >= 0) {
    return `avc1.${[1, 2, 3].map((i) => hex(init[avc + i]).padStart(2, "0")).join("")}`;
  }
  const hevc = find(init, "hvcC");
  if (hevc < 0) throw new Error("the stream is neither H.264 nor H.265");
  const p = init.subarray(hevc + 1, hevc + 13);
  const space = ["", "A", "B", "C"][p[0] >> 6];
  const tier = p[0] & 0x20 ? "H" : "L";
  let compat = u32(p, 1);
  let reversed = 0;
  for (let i = 0; i < 32; i += 1) {
    reversed = ((reversed << 1) | (compat & 1)) >>> 0;
    compat >>>= 1;
  }
  const constraints = Array.from(p.subarray(5, 11));
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  const tail = constraints.map((b) => `.${hex(b)}`).join("");
  return `hvc1.${space}${p[0] & 0x1f}.${hex(reversed)}.${tier}${p[11]}${tail}`;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One live stream played in `video`. `onPlaying()` when the first frame shows; `onEnd(reason)`
 * once, when it cannot go on: "unsupported" (the browser cannot play the codec: use MJPEG),
 * or another reason (the stream ended or failed: try again later). */
export class LivePlayer {
  constructor(video, url, { onPlaying = () => {}, onEnd = () => {} } = {}) {
    this.video = video;
    this.url = url;
    this.onPlaying = onPlaying;
    this.onEnd = onEnd;
    this.abort = new AbortController();
    this.queue = [];
    this.buffer = null;
    this.ended = false;
    this.codecs = "";
    this.stallTimer = null;
  }

  start() {
    this.run().catch((err) => this.end(err && err.unsupported ? "unsupported" : String(err)));
    return this;
  }

  /** Stop for good (the tile went away): the request is aborted, the video emptied. */
  stop() {
    this.ended = true;
    this.cleanup();
  }

  cleanup() {
    clearTimeout(this.stallTimer);
    this.abort.abort();
    this.video.removeAttribute("src");
    this.video.load();
  }

  end(reason) {
    if (this.ended) return;
    this.ended = true;
    this.cleanup();
    this.onEnd(reason);
  }

  armStall() {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.end("stalled"), STALL_MS);
  }

  async run() {
    this.armStall();
    const response = await fetch(this.url, {
      credentials: "same-origin",
      cache: "no-store",
      signal: this.abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const reader = response.body.getReader();
    let head = new Uint8Array(0);
    let length = 0;
    while (!length) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before its first frame");
      this.armStall();
      head = concat([head, value]);
      length = initLength(head);
    }
    this.codecs = codecString(head.subarray(0, length));
    const mime = `video/mp4; codecs="${this.codecs}"`;
    if (!MediaSource.isTypeSupported(mime)) {
      const err = new Error(`this browser cannot play ${this.codecs}`);
      err.unsupported = true;
      throw err;
    }
    await this.open(mime);
    this.push(head);
    for (;;) {
      const { value, done } = await reader.read();
      if (this.ended) return;
      if (done) throw new Error("the stream ended");
      this.armStall();
      this.push(value);
    }
  }

  open(mime) {
    const source = new MediaSource();
    return new Promise((resolve, reject) => {
      source.addEventListener(
        "sourceopen",
        () => {
          try {
            this.buffer = source.addSourceBuffer(mime);
            this.buffer.mode = "segments";
            this.buffer.addEventListener("updateend", () => this.updated());
            this.buffer.addEventListener("error", () => this.end("the browser refused the video"));
            resolve();
          } catch (err) {
            reject(err);
          }
        },
        { once: true },
      );
      this.video.addEventListener("error", () => this.end("the video failed"), { once: true });
      this.video.addEventListener("playing", () => this.onPlaying(), { once: true });
      this.video.src = URL.createObjectURL(source);
    });
  }

  push(bytes) {
    this.queue.push(bytes);
    if (!this.buffer.updating) this.flush();
  }

  flush() {
    if (this.ended || !this.queue.length) return;
    const data = this.queue.length === 1 ? this.queue[0] : concat(this.queue);
    this.queue = [];
    try {
      this.buffer.appendBuffer(data);
    } catch (err) {
      this.end(`the browser refused the video: ${err.name}`);
    }
  }

  /** After each append: start playing, stay near the newest frame, forget what was played. */
  updated() {
    if (this.ended) return;
    const { video } = this;
    const ranges = this.buffer.buffered;
    if (ranges.length) {
      const start = ranges.start(0);
      const end = ranges.end(ranges.length - 1);
      if (video.currentTime < start || end - video.currentTime > LIVE_LAG_S) {
        video.currentTime = Math.max(start, end - LIVE_EDGE_S);
      }
      if (video.paused) video.play().catch(() => {});
      if (video.currentTime - start > KEEP_S * 1.5 && !this.queue.length) {
        this.buffer.remove(start, video.currentTime - KEEP_S);
        return; // its own updateend comes next
      }
    }
    this.flush();
  }
}
