// stylecam serve: the camera goes to the server as JPEG frames over a WebSocket; painted frames come back.
// At most MAX_IN_FLIGHT frames are unanswered at a time, so a slow model sets the pace and never a queue.
"use strict";

const MAX_IN_FLIGHT = 2;
const STALL_MS = 3000; // no answer for this long: stop waiting for the frames in flight
const $ = (id) => document.getElementById(id);
const output = $("output"), grab = $("grab"), camera = $("camera");
const params = new URLSearchParams(location.search);
const token = params.get("token");
if (token) history.replaceState(null, "", location.pathname); // the cookie carries it from here on

let socket = null, styles = [], minIntervalMs = 0;
let sent = 0, answered = 0, lastAnswer = performance.now(), lastSend = 0, shown = 0;
const sentAt = new Map();
const shownTimes = [];

function status(text, problem = false) {
  $("status").textContent = text;
  $("status").classList.toggle("problem", problem);
}

function settingsMessage() {
  return {
    type: "settings",
    style: Number($("style").value || 0),
    strength: Number($("strength").value),
    smoothing: $("smoothing").value,
    smooth_strength: Number($("smooth-strength").value),
    view: $("view").value,
    preserve_color: $("preserve-color").checked,
  };
}

function sendSettings() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(settingsMessage()));
}

function acknowledge(seq) {
  answered = Math.max(answered, seq);
  lastAnswer = performance.now();
  for (const key of sentAt.keys()) if (key <= seq) sentAt.delete(key);
}

async function showFrame(buffer) {
  const seq = new DataView(buffer).getUint32(0);
  const started = sentAt.get(seq);
  acknowledge(seq);
  const bitmap = await createImageBitmap(new Blob([buffer.slice(4)], { type: "image/jpeg" }));
  if (output.width !== bitmap.width || output.height !== bitmap.height) {
    output.width = bitmap.width;
    output.height = bitmap.height;
  }
  output.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  shown += 1;
  $("frames-shown").textContent = String(shown);
  const now = performance.now();
  shownTimes.push(now);
  while (shownTimes.length && shownTimes[0] < now - 2000) shownTimes.shift();
  $("fps").textContent = (shownTimes.length / 2).toFixed(1);
  if (started !== undefined) $("latency").textContent = String(Math.round(now - started));
}

function onText(message) {
  if (message.type === "hello") {
    styles = message.styles;
    $("style").replaceChildren(...styles.map((name, index) => new Option(name.replaceAll("_", " "), index)));
    minIntervalMs = 1000 / message.limits.max_fps;
    sendSettings();
    status(`connected: ${styles.length} style${styles.length === 1 ? "" : "s"}`);
  } else if (message.type === "stats") {
    $("server-ms").textContent = String(Math.round(message.infer_ms));
    if (message.error) status(message.error, true);
    else if (message.loading) status(`loading ${message.loading}...`);
    else if (message.style) {
      const skipped = message.dropped ? ` (${message.dropped} stale frames skipped)` : "";
      status(`${message.style.replaceAll("_", " ")}${skipped}`);
    }
  } else if (message.type === "skipped") {
    acknowledge(message.seq);
  } else if (message.type === "error") {
    status(message.message, true);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    if (typeof event.data === "string") onText(JSON.parse(event.data));
    else showFrame(event.data).catch((error) => status(`cannot show a frame: ${error}`, true));
  };
  socket.onclose = (event) => {
    sent = answered = 0;
    sentAt.clear();
    const why = event.reason || `code ${event.code}`;
    if (event.code === 1008 || event.code === 1003) {
      status(`disconnected: ${why}`, true);
      return;
    }
    status(`disconnected (${why}); reconnecting...`, true);
    setTimeout(connect, 2000);
  };
}

function pump() {
  const now = performance.now();
  if (sent - answered >= MAX_IN_FLIGHT && now - lastAnswer > STALL_MS) acknowledge(sent);
  const ready = socket && socket.readyState === WebSocket.OPEN && camera.readyState >= 2;
  if (ready && sent - answered < MAX_IN_FLIGHT && now - lastSend >= minIntervalMs && socket.bufferedAmount === 0) {
    const width = Number($("size").value);
    const height = Math.round((width * camera.videoHeight) / camera.videoWidth / 2) * 2;
    grab.width = width;
    grab.height = height;
    grab.getContext("2d").drawImage(camera, 0, 0, width, height);
    lastSend = now;
    grab.toBlob((blob) => {
      if (!blob || socket.readyState !== WebSocket.OPEN) return;
      sent += 1;
      sentAt.set(sent, performance.now());
      if (sent - answered === 1) lastAnswer = performance.now();
      socket.send(blob);
    }, "image/jpeg", 0.85);
  }
  setTimeout(pump, 5);
}

function snapshot() {
  output.toBlob((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    const style = (styles[Number($("style").value)] || "stylecam").replaceAll(" ", "_");
    link.download = `stylecam-${style}-${new Date().toISOString().replaceAll(":", "-").slice(0, 19)}.png`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }, "image/png");
}

async function start() {
  for (const id of ["style", "strength", "smoothing", "smooth-strength", "view", "preserve-color"]) {
    $(id).addEventListener("input", sendSettings);
  }
  $("snapshot").addEventListener("click", snapshot);
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const why = window.isSecureContext ? "this browser has no camera API" : "browsers give a camera only to https pages or localhost";
    status(`no camera: ${why}`, true);
    return;
  }
  try {
    camera.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (error) {
    status(`no camera: ${error.name}: ${error.message}`, true);
    return;
  }
  connect();
  pump();
}

start();
