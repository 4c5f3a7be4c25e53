// Pixel classification: classes, brush strokes with undo/redo, training and prediction, class fractions.
import { api } from "./api.js";
import { record } from "./events.js";
import { $, DEFAULT_COLOURS, classByValue, emit, fail, areaFormatter, focusLayer, hooks, number, renderLayers, runJob, setDecision,
         showOverlay, state, status, viewer } from "./shared.js";

// ---------- classes ----------

async function loadClasses() {
  state.classesLocal = false;
  try {
    state.classes = await api.classes(state.project.id);
  } catch (error) {
    if (!error.missing) return fail(error, "Classes");
    // Server without class routes: four numbered classes kept by the page.
    state.classesLocal = true;
    state.classes = DEFAULT_COLOURS.slice(0, 4).map((colour, i) => ({ value: i + 1, name: `class ${i + 1}`, colour }));
  }
  if (!classByValue(state.classValue)) state.classValue = state.classes[0]?.value ?? null;
  renderClasses();
}

export function renderClasses() {
  const items = state.classes.map((c, i) => {
    const li = document.createElement("li");
    li.dataset.value = c.value;
    li.classList.toggle("active", c.value === state.classValue);
    const dot = Object.assign(document.createElement("span"), { className: "dot" });
    dot.style.background = c.colour;
    const colour = Object.assign(document.createElement("input"), { type: "color", value: c.colour, title: "Change colour" });
    colour.hidden = true;
    dot.title = "Change colour";
    dot.addEventListener("click", (event) => { event.stopPropagation(); colour.click(); });
    colour.addEventListener("change", () => updateClass(c, { colour: colour.value }));
    const name = Object.assign(document.createElement("span"), { className: "name", textContent: c.name });
    name.title = "Double-click to rename";
    const rename = () => {
      const next = prompt("Class name", c.name);
      if (next && next.trim() && next !== c.name) updateClass(c, { name: next.trim() });
    };
    name.addEventListener("dblclick", rename);
    const key = Object.assign(document.createElement("kbd"), { textContent: i < 9 ? String(i + 1) : "" });
    const button = (text, title, className, needs, onClick) => {
      const b = Object.assign(document.createElement("button"), { type: "button", textContent: text, title, className });
      b.dataset.needs = needs;
      b.addEventListener("click", (event) => { event.stopPropagation(); onClick(); });
      return b;
    };
    li.append(dot, colour, name, key, button("✎", "Rename this class", "rename", "annotator", rename));
    if (!state.classesLocal) li.append(button("✕", "Delete this class…", "delete", "owner", () => deleteClass(c)));
    li.addEventListener("click", () => selectClass(c.value));
    return li;
  });
  $("classes").replaceChildren(...items);
  const next = DEFAULT_COLOURS.find((colour) => !state.classes.some((c) => c.colour === colour)) || "#ffffff";
  $("class-colour").value = next;
  if (!state.classes.length) {
    const hint = Object.assign(document.createElement("li"), { className: "hint-item", textContent: "No classes yet: add one below (e.g. pore, grain)." });
    $("classes").append(hint);
  }
  emit("classesChanged");
}

function selectClass(value) {
  state.classValue = value;
  renderClasses();
  record("class.select", { class: value });
  // Choosing a class means painting it, unless the Correct tool is on (it paints the class onto the result).
  if (state.tool !== "brush" && state.tool !== "correct") document.querySelector('[data-tool="brush"]').click();
}

export function selectClassAt(index) {
  if (state.classes[index]) selectClass(state.classes[index].value);
}

async function updateClass(c, changes) {
  if (state.classesLocal) { Object.assign(c, changes); renderClasses(); viewer.draw(); return; }
  try {
    Object.assign(c, await api.updateClass(c.id, changes));
    renderClasses();
    viewer.draw();
  } catch (error) { fail(error, "Changing the class"); }
}

// "3 strokes and 120 corrected pixels" (parts that are 0 left out).
function countsText(strokes, correctedPixels) {
  return [strokes ? `${strokes} stroke${strokes === 1 ? "" : "s"}` : "",
          correctedPixels ? `${correctedPixels} corrected pixel${correctedPixels === 1 ? "" : "s"}` : ""].filter(Boolean).join(" and ");
}

// A class that labels nothing goes at once; one that labels strokes or corrected pixels is
// refused by the server with the counts, and goes only when the user agrees to discard them
// (they are kept for provenance, not used for training; trained models keep their classes).
async function deleteClass(c) {
  let answer;
  try {
    answer = await api.deleteClass(c.id);
  } catch (error) {
    if (error.status !== 409 || !error.data) return fail(error, "Deleting the class");
    const what = countsText(error.data.strokes || 0, error.data.correctedPixels || 0);
    if (!confirm(`Delete the class “${c.name}”?\n\nIt labels ${what}. They will be discarded: kept as a record, ` +
                 "no longer used for training or as reference labels. Models already trained keep their classes.")) return;
    try { answer = await api.deleteClass(c.id, true); } catch (again) { return fail(again, "Deleting the class"); }
  }
  state.classes = state.classes.filter((other) => other.id !== c.id);
  if (state.classValue === c.value) state.classValue = state.classes[0]?.value ?? null;
  if (state.image) {
    viewer.strokes = await api.strokes(state.image.id);
  }
  renderClasses();
  viewer.draw();
  const discarded = countsText(answer.discardedStrokes, answer.discardedCorrectedPixels);
  status(`Class “${c.name}” deleted${discarded ? ` (${discarded} discarded)` : ""}`);
  emit("strokeSaved", null);
}

$("new-class").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("class-name").value.trim(), colour = $("class-colour").value;
  if (!name) return;
  try {
    let created;
    if (state.classesLocal) {
      created = { value: Math.max(0, ...state.classes.map((c) => c.value)) + 1, name, colour };
    } else {
      created = await api.createClass(state.project.id, name, colour);
    }
    state.classes.push(created);
    state.classValue = created.value;
    $("class-name").value = "";
    renderClasses();
    status(`Class “${name}” added: paint it with the brush (B)`);
  } catch (error) { fail(error, "New class"); }
});

// ---------- strokes ----------

export async function saveStroke(live) {
  live.points = live.points.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]);
  live.radius = +live.radius.toFixed(3);
  const pending = { ...live, id: Infinity, pending: true };
  viewer.strokes.push(pending);
  viewer.draw();
  try {
    const saved = await api.addStroke(state.image.id, live);
    viewer.strokes = viewer.strokes.filter((s) => s !== pending).concat(saved);
    const what = saved.class === 0 ? "Erase stroke" : `Stroke (${classByValue(saved.class)?.name ?? `class ${saved.class}`})`;
    status(`${what} saved`);
    emit("strokeSaved", saved);
  } catch (error) {
    viewer.strokes = viewer.strokes.filter((s) => s !== pending);
    if (live.class === 0 && error.status === 400) {
      status("Eraser: this server cannot erase labels yet; paint over them with the right class instead", true);
      const eraser = document.querySelector('[data-tool="eraser"]');
      eraser.disabled = true;
      eraser.title = "This server cannot erase labels yet: paint over them with the right class";
      document.querySelector('[data-tool="brush"]').click();
    } else {
      fail(error, live.class === 0 ? "Eraser" : "Stroke not saved");
    }
  }
  viewer.draw();
}

export async function undo() {
  if (!state.image) return;
  try {
    const stroke = await api.undo(state.image.id);
    if (!stroke) return status("Nothing to undo");
    viewer.strokes = viewer.strokes.filter((s) => s.id !== stroke.id);
    viewer.draw();
    status(`Undid stroke ${stroke.id}`);
    emit("strokeSaved", stroke);
  } catch (error) { fail(error, "Undo"); }
}

export async function redo() {
  if (!state.image) return;
  try {
    const stroke = await api.redo(state.image.id);
    if (!stroke) return status("Nothing to redo");
    viewer.strokes = [...viewer.strokes, stroke].sort((a, b) => a.id - b.id);
    viewer.draw();
    status(`Redid stroke ${stroke.id}`);
    emit("strokeSaved", stroke);
  } catch (error) { fail(error, "Redo"); }
}
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);

// ---------- train and predict ----------

let busy = false, again = false;

// The method and its settings chosen in the panel; omitted fields take the server's (= the CLI's) defaults.
// Automatic trains both (the forest's features and trees, the U-Net's steps) and keeps the better.
function trainingSettings() {
  const method = $("train-method").value;
  const settings = method === "forest" ? {} : { method };
  const steps = $("train-steps").value.trim();
  if (method !== "forest" && steps !== "") settings.steps = Number(steps);
  if (method !== "unet") {
    settings.bank = $("train-bank").value;
    const trees = $("train-trees").value.trim();
    if (trees !== "") settings.treeCount = Number(trees);
  }
  return settings;
}

// A U-Net takes minutes, so it is trained on demand only: Live update is for the forest.
function syncMethod() {
  const method = $("train-method").value, slow = method !== "forest";
  $("train-steps-label").hidden = !slow;
  $("forest-settings").hidden = method === "unet";
  const live = $("live-update");
  if (slow && live.checked) { live.checked = false; record("live.toggle", { on: false }); }
  live.disabled = slow;
  live.parentElement.title = slow ? "Live update retrains after every stroke: too slow for a U-Net (use the random forest for it)"
    : "Retrain and predict the visible region after every stroke";
}
$("train-method").addEventListener("change", () => { syncMethod(); record("train.method", { method: $("train-method").value }); });
syncMethod();

// ---------- the U-Net's training chart: loss per step (left axis) and validation mean IoU (right, 0–1) ----------

function drawTrainingChart(metrics, finished = false) {
  if (!metrics || !Array.isArray(metrics.loss)) return;
  const figure = $("train-chart-figure"), canvas = $("train-chart");
  figure.hidden = false;
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const pad = { left: 34, right: 30, top: 8, bottom: 18 };
  const loss = metrics.loss, validation = metrics.validation || [];
  const lastStep = Math.max(metrics.totalSteps || 0, ...loss.map((p) => p[0]), 1);
  const highest = Math.max(1e-6, ...loss.map((p) => p[1]));
  const x = (step) => pad.left + (w - pad.left - pad.right) * step / lastStep;
  const yLoss = (v) => pad.top + (h - pad.top - pad.bottom) * (1 - v / highest);
  const yIoU = (v) => pad.top + (h - pad.top - pad.bottom) * (1 - v);
  g.clearRect(0, 0, w, h);
  g.font = "10px sans-serif";
  g.strokeStyle = "#777"; g.lineWidth = 1;
  g.strokeRect(pad.left, pad.top, w - pad.left - pad.right, h - pad.top - pad.bottom);
  g.fillStyle = "#56b4e9"; g.textAlign = "right";
  g.fillText(highest.toPrecision(2), pad.left - 3, pad.top + 8); g.fillText("0", pad.left - 3, h - pad.bottom);
  g.fillStyle = "#e69f00"; g.textAlign = "left";
  g.fillText("1", w - pad.right + 3, pad.top + 8); g.fillText("0", w - pad.right + 3, h - pad.bottom);
  g.fillStyle = "#bbb"; g.textAlign = "center";
  g.fillText(`step ${lastStep}`, w - pad.right, h - 4);
  g.strokeStyle = "#56b4e9"; g.lineWidth = 1.5; g.beginPath();
  loss.forEach(([step, value], i) => (i ? g.lineTo(x(step), yLoss(value)) : g.moveTo(x(step), yLoss(value))));
  g.stroke();
  g.strokeStyle = "#e69f00"; g.fillStyle = "#e69f00"; g.beginPath();
  validation.forEach(([step, value], i) => (i ? g.lineTo(x(step), yIoU(value)) : g.moveTo(x(step), yIoU(value))));
  g.stroke();
  for (const [step, value] of validation) { g.beginPath(); g.arc(x(step), yIoU(value), 2.5, 0, 7); g.fill(); }
  const last = loss[loss.length - 1], iou = validation[validation.length - 1];
  const step = metrics.step ?? last?.[0];
  const early = finished && metrics.validated !== false && metrics.totalSteps && step < metrics.totalSteps
    ? "; stopped early: the validation IoU stopped improving (the best step's network is kept)" : "";
  $("train-chart-caption").textContent = !last ? "U-Net: waiting for the first step"
    : `U-Net step ${step}${metrics.totalSteps ? ` of ${metrics.totalSteps}` : ""}: loss ${last[1].toFixed(3)} (blue)` +
      (metrics.validated === false ? "; no validation mean IoU: too few labelled pixels to hold some back, so all train the network"
        : iou ? `, validation mean IoU ${iou[1].toFixed(3)} at step ${iou[0]} (orange)` : ", validation mean IoU after the first evaluation (orange)") + early;
}

// The trained model as files to keep: the Cleave model (cleave predict --model reads it) and, for a U-Net, ONNX.
function showModelLinks(trained) {
  const line = $("model-links"), method = trained.method || "forest";
  const link = (file, text) => Object.assign(document.createElement("a"), { href: api.modelURL(trained.modelId, file), textContent: text, download: "" });
  const parts = [`Model v${trained.version}` + (method === "unet" ? ` (U-Net, ${trained.steps} steps` +
    (trained.validationMeanIoU !== undefined ? `, validation mean IoU ${number(trained.validationMeanIoU, 3)})` : ", no validation split)") : " (random forest)") + ": ",
    link("model.json", "Cleave model")];
  if (method === "unet") parts.push(", ", link("model.onnx", "ONNX"));
  // Automatic: which method was kept and why, in the words of cleave train --method auto.
  if (trained.selection) {
    const why = Object.assign(document.createElement("span"), { id: "method-choice", className: "method-choice",
      textContent: `Automatic kept the ${trained.selection.chosen === "unet" ? "U-Net" : "random forest"}: ${trained.selection.reason}` });
    parts.unshift(why, document.createElement("br"));
  }
  line.replaceChildren(...parts);
  line.hidden = false;
}

// Trains on every stroke of the project, then predicts `region` (the whole image when null).
async function trainAndPredict(region, label) {
  const image = state.image, settings = trainingSettings();
  if (settings.method) $("train-chart-figure").hidden = true;
  const doing = { unet: " a U-Net", auto: " a forest and a U-Net to keep the better" }[settings.method] || "";
  const trained = await runJob(() => api.train(image.id, settings), `${label}: training${doing}`,
                               (job) => { if (job.metrics) drawTrainingChart(job.metrics, job.state === "done"); });
  if (!trained) return null;
  showModelLinks(trained);
  status(`${label}: model v${trained.version} trained` +
         (trained.selection ? ` (Automatic kept the ${trained.selection.chosen === "unet" ? "U-Net" : "random forest"})` : ""));
  const result = await runJob(() => api.predict(image.id, region ? { modelId: trained.modelId, region } : { modelId: trained.modelId }),
                              `${label}: predicting`);
  if (!result || state.image !== image) return null;
  const prediction = await api.prediction(result.predictionId);
  showPrediction(prediction, trained.version);
  focusLayer(isWhole(prediction) ? "prediction" : "preview");
  return prediction;
}

// ---------- batch: the newest model applied to every image of the project ----------

// Images the model cannot classify (another channel count, say) are named and skipped; Cancel stops the batch.
async function predictAll() {
  const project = state.project, line = $("batch-status");
  if (!project) return;
  line.classList.remove("error");
  const model = (await api.models(project.id)).at(-1);
  if (!model) { line.textContent = "No model yet: paint a few strokes and Train & predict first."; return; }
  const images = state.images.slice();
  $("predict-all").disabled = $("update-once").disabled = true;
  let predicted = 0, stopped = false;
  const failed = [];
  try {
    for (const [i, image] of images.entries()) {
      line.textContent = `Predicting ${i + 1} of ${images.length}: ${image.name} with model v${model.version}…`;
      let result;
      try {
        result = await runJob(() => api.predict(image.id, { modelId: model.id }), `Predict all (${i + 1} of ${images.length}, ${image.name})`);
      } catch (error) {
        failed.push(error.message.startsWith(image.name) ? error.message : `${image.name}: ${error.message}`);
        continue;
      }
      if (!result) { stopped = true; break; }
      predicted += 1;
      // The image on screen shows its new result at once.
      if (state.image?.id === image.id) showPrediction(await api.prediction(result.predictionId), model.version);
    }
    record("predict.all", { modelVersion: model.version, images: predicted, of: images.length, failed: failed.length });
    line.textContent = `${stopped ? "Stopped: " : ""}${predicted} of ${images.length} images predicted with model v${model.version}` +
      (failed.length ? `; not predicted: ${failed.join("; ")}` : "") +
      ". Export › All fractions (CSV) has the table; open an image to see its result.";
    line.classList.toggle("error", failed.length > 0);
  } finally {
    $("predict-all").disabled = $("update-once").disabled = false;
  }
}
$("predict-all").addEventListener("click", predictAll);

// The live preview covers the visible rectangle of the plane on screen.
function previewRegion() {
  const region = viewer.visibleRegion();
  if (region && state.image?.depth > 1) Object.assign(region, { z: viewer.plane, depth: 1 });
  return region;
}

// A result of the whole image (every plane of a stack), as opposed to a live preview of a part.
export function isWhole(prediction) {
  const r = prediction.region, image = state.image;
  return r.x === 0 && r.y === 0 && r.width === image.width && r.height === image.height &&
    (r.z ?? 0) === 0 && (r.depth ?? 1) === image.depth;
}

async function update(region, label) {
  if (!state.image) return;
  if (busy) { again = true; return; }
  busy = true;
  $("update-once").disabled = true;
  try {
    do {
      again = false;
      await trainAndPredict(typeof region === "function" ? region() : region, label);
    } while (again);
  } catch (error) {
    fail(error, label, $("prediction-summary"));
  } finally {
    busy = false;
    $("update-once").disabled = false;
  }
}

$("update-once").addEventListener("click", () => update(null, "Train & predict"));

let liveTimer = null;
hooks.strokeSaved.push(() => {
  if (!$("live-update").checked) return;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => update(previewRegion, "Live update"), 500);
});
$("live-update").addEventListener("change", (event) => {
  record("live.toggle", { on: event.target.checked });
  if (event.target.checked) update(previewRegion, "Live update");
});

let overlayVersion = 0;

// The class and uncertainty pictures of a result, for the plane on screen (a stack result has one per plane).
function showResultOverlays(prediction, key) {
  const r = prediction.region, stack = state.image.depth > 1;
  const first = r.z ?? 0, planes = r.depth ?? 1;
  const plane = stack ? Math.min(first + planes - 1, Math.max(first, viewer.plane)) : undefined;
  const query = `opacity=1${stack ? `&plane=${plane}` : ""}&v=${overlayVersion}`;
  showOverlay(key, api.predictionURL(prediction.id, `labels.png?${query}`), { ...r, opacity: 0.5, plane });
  if (key !== "prediction") return;
  const uncertainty = viewer.overlays.get("uncertainty");
  showOverlay("uncertainty", api.predictionURL(prediction.id, `uncertainty.png?${query}`),
              { ...r, opacity: uncertainty?.opacity ?? 0.7, visible: uncertainty?.visible ?? false, smooth: true, plane });
}

// A whole-image result becomes the result (fractions, Accept, exports); a live preview of the
// visible rectangle is only drawn over it and never replaces it.
export function showPrediction(prediction, modelVersion = prediction.modelVersion) {
  const r = prediction.region;
  if (!isWhole(prediction)) {
    state.preview = { ...prediction, modelVersion };
    showResultOverlays(prediction, "preview");
    renderSummary();
    return;
  }
  state.prediction = prediction;
  state.predictionModelVersion = modelVersion;
  state.preview = null;
  viewer.removeOverlay("preview");
  showResultOverlays(prediction, "prediction");
  renderFractions(prediction.fractions || []);
  renderSummary();
  setDecision({ kind: "prediction", id: prediction.id, state: prediction.state,
                label: `Prediction with model v${modelVersion ?? "?"} (whole ${state.image.depth > 1 ? "stack" : "image"})` });
  emit("predictionShown", prediction);
}

// Reloads the shown result (after a reclassified object changed its labels and fractions).
export async function refreshPrediction() {
  if (!state.prediction) return;
  const image = state.image, updated = await api.prediction(state.prediction.id);
  if (state.image !== image) return;
  overlayVersion += 1;
  showPrediction(updated, state.predictionModelVersion);
}

function renderSummary() {
  const parts = [];
  const p = state.prediction, preview = state.preview;
  if (p) {
    parts.push(`Model v${state.predictionModelVersion ?? p.modelVersion ?? "?"}, whole ${state.image.depth > 1 ? `stack (${state.image.depth} planes)` : "image"}` +
      (p.meanUncertainty !== undefined ? `, mean uncertainty ${number(p.meanUncertainty, 2)}` : ""));
  }
  if (preview) {
    const r = preview.region;
    parts.push(`Live preview with model v${preview.modelVersion ?? "?"}: region ${r.width}×${r.height} at (${r.x}, ${r.y})` +
      (r.z !== undefined && r.z !== null ? `, plane ${r.z + 1}` : "") +
      (p ? "; the fractions, Accept and exports are of the whole-image result (Train & predict updates it)" : "; Train & predict for the whole image"));
  }
  $("prediction-summary").classList.remove("error");
  $("prediction-summary").textContent = parts.join(". ");
}

function renderFractions(fractions) {
  $("fractions").hidden = fractions.length === 0;
  const area = areaFormatter(Math.max(0, ...fractions.map((f) => f.area || 0)), fractions.find((f) => f.unit)?.unit);
  $("fractions").querySelector("tbody").replaceChildren(...fractions.map((f) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><span class="dot"></span></td><td></td><td>${(+f.percent).toFixed(1)}</td><td></td>`;
    tr.querySelector(".dot").style.background = f.colour || classByValue(f.value)?.colour || "#888";
    tr.children[1].textContent = f.name || `class ${f.value}`;
    tr.children[3].textContent = area && f.area !== null && f.area !== undefined ? area(f.area) : `${f.pixels} px`;
    return tr;
  }));
}

export function toggleUncertainty() {
  const overlay = viewer.overlays.get("uncertainty");
  if (!overlay) return status("No uncertainty yet: train and predict first");
  overlay.visible = !overlay.visible;
  record("uncertainty.toggle", { visible: overlay.visible });
  viewer.draw();
  renderLayers();
}

// ---------- opening a project or an image ----------

hooks.projectOpened.push(() => { loadClasses(); });
hooks.imageCleared.push(() => {
  state.prediction = null;
  state.preview = null;
  renderFractions([]);
  $("prediction-summary").textContent = "";
  $("prediction-summary").classList.remove("error");
  $("train-chart-figure").hidden = true;
  $("model-links").hidden = true;
});
hooks.projectOpened.push(() => { $("batch-status").textContent = ""; });
hooks.imageOpened.push(async (image) => {
  try {
    const predictions = (await api.predictions(image.id) || []).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (state.image !== image) return;
    // The result is the newest accepted whole-image result (the one the user settled on), else the
    // newest whole-image one; a newer live preview is drawn over it.
    const whole = predictions.find((p) => isWhole(p) && p.state === "accepted") || predictions.find(isWhole);
    const preview = predictions.find((p) => !isWhole(p));
    if (whole) showPrediction(whole);
    if (preview && (!whole || preview.createdAt > whole.createdAt)) showPrediction(preview);
    emit("predictionsLoaded");
  } catch { /* older server: no predictions yet */ }
});
// On another plane of a stack, the results show that plane.
hooks.planeChanged.push(() => {
  if (state.prediction) showResultOverlays(state.prediction, "prediction");
  viewer.draw();
});
