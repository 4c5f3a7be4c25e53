// What the page's tools share: the state, the viewer, status messages, jobs, layers and classes.
import { api, followJob } from "./api.js";
import { Viewer } from "./viewer.js";

export const $ = (id) => document.getElementById(id);

// Colour-blind-safe defaults (Okabe–Ito) for new classes.
export const DEFAULT_COLOURS = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#8c8c8c", "#783ca0"];

export const state = {
  projects: [], project: null, images: [], image: null,
  tool: "pan", brushRadius: 8,
  classes: [], classesLocal: false, classValue: null,
  clustering: null, selectedCluster: null,
  prediction: null, objectSet: null, selectedObject: null,
  decision: null,          // {kind: "clustering"|"prediction", id, label}
  job: null,               // the job the progress bar shows
  channels: [],            // a multi-channel image's channels: {channel, on, colour, low, high}
};

export const viewer = new Viewer($("canvas"), { onViewChange: () => hooks.viewChanged.forEach((f) => f()) });
viewer.colourOf = (value) => classByValue(value)?.colour || DEFAULT_COLOURS[(value - 1) % DEFAULT_COLOURS.length];

// Callbacks the modules register: hooks.imageOpened.push(fn) …
export const hooks = { imageOpened: [], imageCleared: [], projectOpened: [], viewChanged: [], classesChanged: [], strokeSaved: [],
                       predictionShown: [], predictionsLoaded: [], toolChanged: [], planeChanged: [], pixelSizeChanged: [],
                       windowChanged: [] };
export const emit = (name, ...args) => hooks[name].forEach((f) => f(...args));

export function status(text, isError = false) {
  $("status").textContent = text;
  $("status").title = text;
  $("status").classList.toggle("error", isError);
}

// A one-line message for an API error; routes this server does not offer yet say so plainly.
export function explain(error, what) {
  if (error?.missing) return `${what}: this Cleave server does not offer it yet (${error.path})`;
  return `${what}: ${error?.message || error}`;
}

export function fail(error, what, line = null) {
  const text = explain(error, what);
  status(text, true);
  if (line) { line.textContent = text; line.classList.add("error"); }
  console.warn(text);
  return text;
}

export function classByValue(value) { return state.classes.find((c) => c.value === value); }

// ---------- jobs: one progress bar with a cancel button ----------

let cancelRequested = false;
$("job-cancel").addEventListener("click", async () => {
  if (!state.job) return;
  cancelRequested = true;
  $("job-cancel").disabled = true;
  $("job-stage").textContent = "Cancelling…";
  try { await api.cancelJob(state.job.id); } catch (error) { fail(error, "Cancel"); }
});

function showJob(job, label) {
  state.job = job;
  $("job").hidden = false;
  const percent = Math.round(100 * (job.progress || 0));
  $("job-fill").style.width = `${job.state === "done" ? 100 : percent}%`;
  const stage = job.stage ? ` – ${job.stage}` : "";
  $("job-stage").textContent = job.state === "queued" ? `${label}: waiting for a free worker…`
    : job.state === "running" ? `${label}${stage} (${percent}%)`
    : job.state === "done" ? `${label}: done` : job.state === "cancelled" ? `${label}: cancelled` : `${label}: failed`;
  $("job").dataset.state = job.state;
}

// Starts work (`start` resolves with a Job) and follows it (`onUpdate` sees every state of the job);
// resolves with the finished job's result, null when cancelled; throws with the server's message when it failed.
export async function runJob(start, label, onUpdate = null) {
  cancelRequested = false;
  $("job-cancel").disabled = false;
  $("job").hidden = false;
  $("job-fill").style.width = "0%";
  $("job-stage").textContent = `${label}: starting…`;
  let job;
  try {
    job = await start();
  } catch (error) {
    $("job").hidden = true;
    throw error;
  }
  const final = await followJob(job, (j) => { showJob(j, label); if (onUpdate) onUpdate(j); });
  state.job = null;
  $("job-cancel").disabled = true;
  setTimeout(() => { if (!state.job) $("job").hidden = true; }, final.state === "done" ? 1200 : 4000);
  if (final.state === "cancelled" || cancelRequested && final.state !== "done") { status(`${label} cancelled`); return null; }
  if (final.state !== "done") throw new Error(final.error || `${label} failed`);
  return final.result || {};
}

// ---------- layers: the image, overlays and strokes, each with an opacity slider ----------

const layerNames = { clusters: "Clusters", prediction: "Classes (prediction)", preview: "Live preview (visible region)",
                     uncertainty: "Uncertainty", objects: "Objects" };

export function renderLayers() {
  const rows = [];
  const row = (label, visible, opacity, onVisible, onOpacity, key) => {
    const div = document.createElement("div");
    div.className = "layer";
    div.dataset.layer = key;
    const check = Object.assign(document.createElement("input"), { type: "checkbox", checked: visible, title: `Show ${label}` });
    check.addEventListener("change", () => onVisible(check.checked));
    const name = Object.assign(document.createElement("span"), { textContent: label });
    const slider = Object.assign(document.createElement("input"), { type: "range", min: 0, max: 100, value: Math.round(opacity * 100), title: `${label} opacity` });
    slider.addEventListener("input", () => onOpacity(slider.value / 100));
    div.append(check, name, slider);
    rows.push(div);
  };
  row("Strokes", viewer.strokesVisible, viewer.strokeOpacity,
      (v) => { viewer.strokesVisible = v; viewer.draw(); },
      (o) => { viewer.strokeOpacity = o; viewer.draw(); }, "strokes");
  for (const overlay of viewer.overlays.values()) {
    row(layerNames[overlay.key] || overlay.label, overlay.visible, overlay.opacity,
        (v) => { overlay.visible = v; viewer.draw(); },
        (o) => { overlay.opacity = o; viewer.draw(); }, overlay.key);
  }
  $("layers").replaceChildren(...rows);
}

// Toggles every overlay at once (H).
let hiddenOverlays = null;
export function toggleOverlays() {
  if (hiddenOverlays) {
    for (const key of hiddenOverlays) { const o = viewer.overlays.get(key); if (o) o.visible = true; }
    hiddenOverlays = null;
  } else {
    hiddenOverlays = [...viewer.overlays.values()].filter((o) => o.visible).map((o) => o.key);
    for (const o of viewer.overlays.values()) o.visible = false;
  }
  viewer.draw();
  renderLayers();
}

export function showOverlay(key, url, options) {
  viewer.setOverlay(key, url, options);
  renderLayers();
}

// ---------- the result that Accept / Reject apply to ----------

export function setDecision(decision) {
  state.decision = decision;
  const target = $("decision-target");
  if (!decision) {
    target.textContent = "No result yet.";
  } else {
    const verdict = decision.state === "accepted" ? " — accepted ✓" : decision.state === "rejected" ? " — rejected ✗" : "";
    target.textContent = `${decision.label}${verdict}`;
  }
  $("accept").disabled = !decision || decision.state === "accepted";
  $("reject").disabled = !decision || decision.state === "rejected";
}

export const number = (value, digits = 3) =>
  value === null || value === undefined ? "–" : Number.isInteger(value) ? String(value) : (+value).toPrecision(digits);

// Areas in one readable unit for a whole table: nm² becomes µm² (and so on) when the largest
// area is at least 10⁶ of the smaller unit. Returns {factor, name} (divide by factor), or null without a unit.
export function areaUnit(largest, unit) {
  if (!unit) return null;
  let base = unit.replace(/²$/, ""), factor = 1;
  const steps = { nm: "µm", "µm": "mm", um: "mm", mm: "m" };
  while (largest / factor >= 1e6 && steps[base]) { factor *= 1e6; base = steps[base]; }
  return { factor, name: `${base}²` };
}

// A formatter of areas with their unit (see areaUnit), or null without a unit.
export function areaFormatter(largest, unit) {
  const chosen = areaUnit(largest, unit);
  if (!chosen) return null;
  return (area) => (area === null || area === undefined ? "–" : `${number(area / chosen.factor)} ${chosen.name}`);
}

// When a tool shows a new result, its layer is shown and the other tools' result layers are hidden
// (they stay in the Layers list, one tick away), so one picture at a time explains itself.
export function focusLayer(key) {
  const together = { prediction: ["preview"], preview: ["prediction"] };
  for (const other of ["clusters", "prediction", "preview", "objects"]) {
    const overlay = viewer.overlays.get(other);
    if (overlay && other !== key && !(together[key] || []).includes(other)) overlay.visible = false;
  }
  const own = viewer.overlays.get(key);
  if (own) own.visible = true;
  viewer.draw();
  renderLayers();
}
