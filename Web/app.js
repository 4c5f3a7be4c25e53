// The workbench page: projects and images on the left, the viewer in the middle, the tools on the right.
import { api, jobStats, onSignedOut, setCSRFToken } from "./api.js";
import { flush, record, setContext, throttle } from "./events.js";
import { $, emit, fail, focusLayer, hooks, renderLayers, state, status, toggleOverlays, viewer } from "./shared.js";
import * as classify from "./classify.js";
import * as locate from "./locate.js";
import * as objects from "./objects.js";
import * as roi from "./roi.js";
import * as correct from "./correct.js";
import "./results.js";
import "./pixelsize.js";
import * as channels from "./channels.js";
import "./orthogonal.js";
import "./guide.js";

// ---------- projects and images ----------

async function loadProjects() {
  state.projects = await api.projects();
  renderProjects();
  if (!state.project && state.projects.length) await selectProject(state.projects[0]);
}

// A list of projects or images; `actions(item, startRename)` gives the item's buttons (rename, delete).
function renderList(list, items, activeId, label, onPick, detail = () => "", actions = () => []) {
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const name = Object.assign(document.createElement("span"), { className: "label", textContent: label(item) });
    li.append(name);
    const small = detail(item);
    if (small) { const s = document.createElement("small"); s.textContent = small; li.append(s); }
    li.title = label(item);
    li.classList.toggle("active", item.id === activeId);
    li.addEventListener("click", () => onPick(item));
    const buttons = actions(item, (save) => renameInPlace(name, label(item), save));
    if (buttons.length) {
      const box = Object.assign(document.createElement("span"), { className: "item-actions" });
      box.append(...buttons);
      li.append(box);
    }
    return li;
  }));
}

// A small button of a list item; its click does not also open the item.
function itemButton(text, title, className, needs, onClick) {
  const button = Object.assign(document.createElement("button"), { type: "button", textContent: text, title, className });
  if (needs) button.dataset.needs = needs;
  button.addEventListener("click", (event) => { event.stopPropagation(); onClick(); });
  return button;
}

// Rename in place: the name becomes a field; Enter or leaving it saves, Escape keeps the old name.
function renameInPlace(nameSpan, current, save) {
  const input = Object.assign(document.createElement("input"), { value: current, className: "rename-input", maxLength: 200 });
  input.setAttribute("aria-label", `New name for ${current}`);
  nameSpan.replaceWith(input);
  input.focus();
  input.select();
  let finished = false;
  const finish = async (commit) => {
    if (finished) return;
    finished = true;
    const next = input.value.trim();
    try {
      if (commit && next && next !== current) await save(next);
    } catch (error) { fail(error, "Rename"); }
    input.replaceWith(nameSpan);
  };
  input.addEventListener("click", (event) => event.stopPropagation());
  input.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key === "Enter") { event.preventDefault(); finish(true); }
    if (event.key === "Escape") { event.preventDefault(); finish(false); }
  });
  input.addEventListener("blur", () => finish(true));
}

// "4 strokes, 1 clustering, 1 result": what a deletion takes with it (counts from the server).
function describeLoss(counts, { withImages }) {
  const parts = [[withImages ? counts.images : 0, "image"], [counts.strokes, "stroke"], [counts.clusterings, "clustering"],
                 [counts.predictions, "result"], [counts.objectSets, "object table"], [counts.models, "trained model"],
                 [counts.classes, "class"]]
    .filter(([count]) => count > 0)
    .map(([count, word]) => `${count} ${word}${count === 1 ? "" : word.endsWith("s") ? "es" : "s"}`);
  if (counts.runningJobs > 0) parts.push(`${counts.runningJobs} running job${counts.runningJobs === 1 ? "" : "s"} (cancelled first)`);
  return parts.length ? parts.join(", ") : "nothing else";
}

const ownsProject = (project) => ["owner", "admin", undefined].includes(project.role);

function renderProjects() {
  renderList($("projects"), state.projects, state.project?.id, (p) => p.name, selectProject, () => "", (project, rename) => ownsProject(project) ? [
    itemButton("✎", "Rename this project", "rename", null, () => rename(async (name) => {
      Object.assign(project, await api.renameProject(project.id, name), { role: project.role });
      renderProjects();
      status(`Project renamed to “${project.name}”`);
    })),
    itemButton("✕", "Delete this project and everything in it…", "delete", null, () => deleteProject(project)),
  ] : []);
}

async function deleteProject(project) {
  let counts;
  try { counts = await api.projectDeletion(project.id); } catch (error) { return fail(error, "Delete project"); }
  const loss = describeLoss(counts, { withImages: true });
  if (!confirm(`Delete the project “${project.name}”?\n\nThis deletes ${loss}. It cannot be undone ` +
               "(the record of events and the audit log stay).")) return;
  try {
    await api.deleteProject(project.id);
  } catch (error) { return fail(error, "Delete project"); }
  state.projects = state.projects.filter((p) => p.id !== project.id);
  if (state.project?.id === project.id) {
    state.project = null;
    state.image = null;
    state.images = [];
    emit("imageCleared");
    viewer.open(null);
    showPlanes(null);
    $("images-section").hidden = true;
    if (state.projects.length) await selectProject(state.projects[0]);
    else { $("empty").hidden = false; $("empty").textContent = "No projects yet: create one on the left."; }
  }
  renderProjects();
  status(`Deleted the project “${project.name}” with ${loss}`);
}

async function selectProject(project) {
  state.project = project;
  state.image = null;
  // Nothing of the previous project stays on screen: its image, results and messages.
  emit("imageCleared");
  $("upload-status").textContent = "";
  $("upload-status").classList.remove("error");
  status("");
  setContext({ projectId: project.id, imageId: undefined });
  renderProjects();
  applyRole(project);
  $("images-section").hidden = false;
  $("consent-row").hidden = project.consent === undefined;
  $("consent").checked = !!project.consent;
  emit("projectOpened", project);
  await loadImages();
}

async function loadImages() {
  const project = state.project;
  const listed = await api.images(project.id);
  if (state.project !== project) return;
  // An image uploaded while the list was on its way stays (and stays open).
  const known = new Set(listed.map((i) => i.id));
  state.images = listed.concat(state.images.filter((i) => i.projectId === project.id && !known.has(i.id)));
  renderImages();
  if (!state.images.length) {
    viewer.open(null);
    showPlanes(null);
    $("empty").hidden = false;
    $("empty").textContent = `“${state.project.name}” has no images yet: drop a TIFF, PNG or MRC on the upload box on the left.`;
  }
  if (!state.image && state.images.length) await openImage(state.images[0]);
}

function renderImages() {
  renderList($("images"), state.images, state.image?.id, (i) => i.name, openImage, describeImage, (image, rename) => [
    itemButton("✎", "Rename this image", "rename", "annotator", () => rename(async (name) => {
      Object.assign(image, await api.renameImage(image.id, name));
      renderImages();
      status(`Image renamed to “${image.name}”`);
    })),
    itemButton("✕", "Delete this image and its work…", "delete", "owner", () => deleteImage(image)),
  ]);
}

async function deleteImage(image) {
  let counts;
  try { counts = await api.imageDeletion(image.id); } catch (error) { return fail(error, "Delete image"); }
  const loss = describeLoss(counts, { withImages: false });
  if (!confirm(`Delete the image “${image.name}”?\n\nThis deletes it with ${loss}. It cannot be undone ` +
               "(the project's classes and trained models stay).")) return;
  try {
    await api.deleteImage(image.id);
  } catch (error) { return fail(error, "Delete image"); }
  state.images = state.images.filter((i) => i.id !== image.id);
  if (state.image?.id === image.id) {
    state.image = null;
    emit("imageCleared");
    await loadImages();
  } else {
    renderImages();
  }
  status(`Deleted the image “${image.name}” with ${loss}`);
}

// "512×512×5 planes, 3 channels, uint16": a stack or a colour image says so in the list.
function describeImage(i) {
  return `${i.width}×${i.height}` + (i.depth > 1 ? `×${i.depth} planes` : "") +
    (i.channels > 1 ? `, ${i.channels} channels` : "") + ` ${i.pixelType}`;
}

// ---------- planes of a stack: slider, keys ----------

function showPlanes(image) {
  const depth = image?.depth ?? 1;
  $("plane-group").hidden = depth <= 1;
  $("plane").max = Math.max(0, depth - 1);
  $("plane").value = viewer.plane;
  $("plane-value").textContent = `${viewer.plane + 1} / ${depth}`;
}

function setPlane(plane) {
  if (!state.image || state.image.depth <= 1) return;
  const before = viewer.plane;
  viewer.setPlane(plane);
  showPlanes(state.image);
  if (viewer.plane === before) return;
  record("plane.change", { plane: viewer.plane });
  emit("planeChanged", viewer.plane);
}
$("plane").addEventListener("input", (event) => setPlane(+event.target.value));

async function openImage(image) {
  state.image = image;
  setContext({ imageId: image.id });
  renderImages();
  $("empty").hidden = true;
  emit("imageCleared");
  viewer.open(image);
  showPlanes(image);
  record("image.open", { width: image.width, height: image.height, depth: image.depth, pixelType: image.pixelType });
  status(`${image.name}: ${describeImage(image)}` + (image.depth > 1 ? " (a stack: , and . or PgUp/PgDn change the plane)" : "") +
         (image.spacing ? `, ${+image.spacing.x.toPrecision(4)} ${image.spacing.unit}/pixel` : ", no pixel size in the file"));
  try {
    const [window, strokes] = await Promise.all([api.window(image.id), api.strokes(image.id)]);
    state.defaultWindow = window;
    showWindow(window);
    viewer.strokes = strokes;
    viewer.draw();
  } catch (error) { fail(error, "Opening the image"); }
  renderLayers();
  emit("imageOpened", image);
}

$("new-project").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const project = await api.createProject($("project-name").value);
    $("project-name").value = "";
    record("project.create", { projectId: project.id });
    state.projects.push(project);
    await selectProject(project);
  } catch (error) { fail(error, "New project"); }
});

// A file being sent: its status line says so, the bar fills as it goes, then the line says what
// the server is doing with it. Returns the progress callback for the upload.
function sending(file, line, bar, verb, checking) {
  line.classList.remove("error");
  line.textContent = `${verb} ${file.name} (${(file.size / 1048576).toFixed(1)} MiB)…`;
  bar.hidden = false;
  bar.firstElementChild.style.width = "0%";
  return (fraction) => {
    bar.firstElementChild.style.width = `${Math.round(100 * fraction)}%`;
    if (fraction >= 1) line.textContent = checking;
  };
}

// ---------- import of a project export zip, with a progress bar and the error line ----------

$("import-project").addEventListener("click", () => $("import-input").click());
$("import-input").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  const line = $("import-status"), bar = $("import-progress");
  try {
    const imported = await api.importProject(file, sending(file, line, bar, "Sending", `Checking ${file.name}: every image, label and stroke…`));
    const project = imported.project;
    line.textContent = `Imported “${project.name}”: ${imported.images} image${imported.images === 1 ? "" : "s"}, ` +
      `${imported.classes} class${imported.classes === 1 ? "" : "es"}, ${imported.strokes} stroke${imported.strokes === 1 ? "" : "s"}` +
      (imported.unrestoredPixels ? `; ${imported.unrestoredPixels} pixels labelled by results are not restored (train and predict again)` : "");
    record("project.import", { projectId: project.id, images: imported.images, strokes: imported.strokes });
    state.projects.push(project);
    await selectProject(project);
  } catch (error) {
    fail(error, `Import of ${file.name}`, line);
  } finally {
    setTimeout(() => { bar.hidden = true; }, 800);
  }
});

$("consent").addEventListener("change", async (event) => {
  const consent = event.target.checked;
  try {
    const project = await api.setConsent(state.project.id, consent);
    Object.assign(state.project, project);
    status(consent ? "This project may be exported as open reference data (CC-BY-4.0)." : "This project stays private.");
  } catch (error) {
    event.target.checked = !consent;
    fail(error, "Consent");
  }
});

// ---------- upload: drag and drop or choose, with a progress bar ----------

async function upload(file) {
  if (!state.project) return status("Choose or create a project first", true);
  const line = $("upload-status"), bar = $("upload-progress");
  try {
    const image = await api.upload(state.project.id, file, sending(file, line, bar, "Uploading", `Checking ${file.name}…`));
    line.textContent = `Stored ${image.name} (${image.width}×${image.height}, ${image.pixelType})`;
    record("image.upload", { imageId: image.id, byteCount: image.byteCount, format: image.format });
    state.images.push(image);
    await openImage(image);
  } catch (error) {
    fail(error, `Upload of ${file.name} refused`, line);
  } finally {
    setTimeout(() => { bar.hidden = true; }, 800);
  }
}

const drop = $("dropzone");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  for (const file of event.dataTransfer.files) upload(file);
});
drop.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") $("file-input").click(); });
$("file-input").addEventListener("change", (event) => { for (const file of event.target.files) upload(file); event.target.value = ""; });

// ---------- accounts: sign in, who is signed in, what the project role allows ----------

// Shows the sign-in screen (the server said 401: accounts exist and this browser has no session).
function showSignIn(message = "") {
  setCSRFToken(null);
  $("account").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-status").textContent = message;
  $("sign-in-status").classList.toggle("error", !!message);
  $("sign-in-name").focus();
}
onSignedOut(() => { if ($("sign-in").hidden) showSignIn("Your session ended: sign in again."); });

function showAccount(session) {
  setCSRFToken(session.csrfToken);
  state.account = session.user;
  $("account").hidden = !session.user;
  if (session.user) $("account-name").textContent = `Signed in as ${session.user.name}${session.user.admin ? " (administrator)" : ""}`;
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-button").disabled = true;
  try {
    const session = await api.signIn($("sign-in-name").value, $("sign-in-password").value);
    $("sign-in-password").value = "";
    $("sign-in").hidden = true;
    showAccount(session);
    record("session.signin", {});
    state.project = null;
    await loadProjects();
  } catch (error) {
    $("sign-in-status").textContent = error.message;
    $("sign-in-status").classList.add("error");
  } finally {
    $("sign-in-button").disabled = false;
  }
});

$("sign-out").addEventListener("click", async () => {
  await flush();
  try { await api.signOut(); } catch (error) { fail(error, "Sign out"); }
  location.reload();
});

// A viewer may look and export, not paint or run tools: the page hides those actions (the
// server refuses them too) and says why, rather than letting a stroke fail when it is sent.
// The ROI tool stays: a viewer sees what the fractions count, but a click adds no vertex.
const paintTools = ["brush", "eraser", "correct"];
function applyRole(project) {
  const role = project.role || "owner";
  document.body.dataset.role = role;
  const viewerOnly = role === "viewer";
  for (const tool of paintTools) {
    const button = document.querySelector(`.tool[data-tool="${tool}"]`);
    button.disabled = viewerOnly;
  }
  $("role-note").hidden = !viewerOnly;
  $("role-note").textContent = viewerOnly
    ? `You are a viewer of “${project.name}”: you can look and export, not paint or run tools. An owner of the project can make you an annotator.`
    : "";
  if (viewerOnly && paintTools.includes(state.tool)) setTool("pan");
}
const mayPaint = () => document.body.dataset.role !== "viewer";

// ---------- tools ----------

const panels = { locate: "locate", brush: "brush", eraser: "brush", correct: "brush", objects: "objects", roi: "roi" };
let lastPanel = "brush";   // the classes and Train & predict are in view from the start

function setTool(tool) {
  if (paintTools.includes(tool) && !mayPaint()) {
    status("You are a viewer of this project: painting and correcting need the annotator role (ask an owner)", true);
    return;
  }
  const previous = state.tool;
  document.querySelectorAll(".tool").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  $("viewer").className = tool;
  // Pan keeps the last tool's panel, so the legend or the classes stay in view.
  if (panels[tool]) lastPanel = panels[tool];
  document.querySelectorAll(".tool-panel").forEach((p) => p.classList.toggle("shown", p.dataset.panel === lastPanel));
  // Each tool shows its own result layer; the others are one tick away under Layers.
  const layer = { locate: "clusters", brush: "prediction", eraser: "prediction", correct: "prediction", objects: "objects" }[tool];
  state.tool = tool;
  if (layer && previous !== tool) focusLayer(layer);
  record("tool.change", { tool });
  emit("toolChanged", tool);
}
document.querySelectorAll(".tool").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));

function setBrushRadius(radius) {
  state.brushRadius = Math.min(100, Math.max(1, Math.round(radius)));
  $("brush-size").value = state.brushRadius;
  $("brush-size-value").textContent = state.brushRadius;
}
$("brush-size").addEventListener("input", (event) => setBrushRadius(+event.target.value));

// ---------- pointer: pan, paint, click ----------

const canvas = $("canvas");
let drag = null;
canvas.addEventListener("pointerdown", (event) => {
  if (!state.image) return;
  canvas.setPointerCapture(event.pointerId);
  const [x, y] = viewer.toImage(event.offsetX, event.offsetY);
  const painting = (state.tool === "brush" || state.tool === "eraser") && event.button === 0;
  // Correct: the brush paints like the brush (in the class colour), the lasso draws a thin outline.
  const correcting = state.tool === "correct" && event.button === 0 && correct.mode() !== "fill";
  if (correcting) {
    const problem = correct.blocked();
    if (problem) { status(problem, true); return; }
    const lasso = correct.mode() === "lasso";
    viewer.liveStroke = { class: state.classValue, radius: (lasso ? 1.5 : state.brushRadius) / viewer.scale, points: [[x, y]],
                          plane: viewer.plane, correction: correct.mode() };
    viewer.draw();
  }
  if (painting) {
    const value = state.tool === "eraser" ? 0 : state.classValue;
    if (value === null) { status("Add a class first (Classify panel), then paint", true); return; }
    // Radius is in screen pixels on the slider, stored in image pixels.
    viewer.liveStroke = { class: value, radius: state.brushRadius / viewer.scale, points: [[x, y]], plane: viewer.plane };
    viewer.draw();
  }
  drag = { x: event.offsetX, y: event.offsetY, startX: event.offsetX, startY: event.offsetY, moved: false };
});
canvas.addEventListener("pointermove", (event) => {
  const [x, y] = state.image ? viewer.toImage(event.offsetX, event.offsetY) : [0, 0];
  if (state.image && x >= 0 && y >= 0 && x < state.image.width && y < state.image.height) {
    $("cursor").textContent = `x ${Math.floor(x)}  y ${Math.floor(y)}`;
  }
  if (!drag) return;
  if (Math.hypot(event.offsetX - drag.startX, event.offsetY - drag.startY) > 4) drag.moved = true;
  if (viewer.liveStroke) {
    const last = viewer.liveStroke.points.at(-1);
    if (Math.hypot(x - last[0], y - last[1]) * viewer.scale >= 2) {
      viewer.liveStroke.points.push([x, y]);
      viewer.draw();
    }
  } else {
    viewer.panBy(event.offsetX - drag.x, event.offsetY - drag.y);
    drag.x = event.offsetX;
    drag.y = event.offsetY;
  }
});
canvas.addEventListener("pointerup", (event) => {
  const wasClick = drag && !drag.moved;
  drag = null;
  const live = viewer.liveStroke;
  if (live) {
    viewer.liveStroke = null;
    if (live.correction === "lasso") correct.apply({ mode: "lasso", points: live.points });
    else if (live.correction) correct.apply({ mode: "brush", points: live.points, radius: live.radius });
    else classify.saveStroke(live);
    viewer.draw();
    return;
  }
  if (!wasClick || !state.image) return;
  const [x, y] = viewer.toImage(event.offsetX, event.offsetY);
  if (state.tool === "locate") locate.pickAt(x, y);
  else if (state.tool === "objects") objects.selectAt(x, y);
  else if (state.tool === "roi" && !mayPaint()) status("You are a viewer of this project: drawing a region of interest needs the annotator role (ask an owner)", true);
  else if (state.tool === "roi") roi.clickAt(x, y);
  else if (state.tool === "correct" && correct.mode() === "fill") correct.apply({ mode: "fill", points: [[x, y]] });
});
canvas.addEventListener("wheel", (event) => {
  event.preventDefault();
  viewer.zoomAt(Math.exp(-event.deltaY * 0.0015), event.offsetX, event.offsetY);
}, { passive: false });

// ---------- contrast, brightness, scale bar, viewport events ----------

function showWindow(window) {
  $("window-low").value = +window.low.toPrecision(6);
  $("window-high").value = +window.high.toPrecision(6);
}

function applyWindow() {
  const low = +$("window-low").value, high = +$("window-high").value;
  if (!(low < high)) return status("Display window: Low must be below High", true);
  viewer.setWindow({ low, high });
  emit("windowChanged");
  record("contrast.change", { low, high });
}
$("window-low").addEventListener("change", applyWindow);
$("window-high").addEventListener("change", applyWindow);

// Auto contrast: the 0.5–99.5 percentiles of the plane on screen (also for 8-bit images, whose
// default window is the full 0–255 range). When they equal the default window, the default tiles are used.
async function autoContrast() {
  if (channels.isComposite()) return channels.autoContrast();
  if (!state.defaultWindow || !state.image) return;
  const image = state.image, plane = viewer.plane;
  let auto = state.defaultWindow.auto;
  try {
    if (plane !== 0) auto = (await api.window(image.id, plane)).auto;
  } catch (error) { return fail(error, "Auto contrast"); }
  if (state.image !== image) return;
  auto = auto || state.defaultWindow;
  const isDefault = auto.low === state.defaultWindow.low && auto.high === state.defaultWindow.high;
  showWindow(auto);
  viewer.setWindow(isDefault ? null : { low: auto.low, high: auto.high });
  emit("windowChanged");
  $("brightness").value = 100;
  $("contrast-slider").value = 100;
  viewer.setAdjustments(1, 1);
  status(`Auto contrast: ${+auto.low.toPrecision(6)} – ${+auto.high.toPrecision(6)} (0.5–99.5 percentiles${image.depth > 1 ? ` of plane ${plane + 1}` : ""})`);
  record("contrast.auto", { low: auto.low, high: auto.high, plane });
}
$("auto-contrast").addEventListener("click", autoContrast);
const adjust = () => viewer.setAdjustments($("brightness").value / 100, $("contrast-slider").value / 100);
$("brightness").addEventListener("input", adjust);
$("contrast-slider").addEventListener("input", adjust);

hooks.pixelSizeChanged.push(() => updateScaleBar());
function updateScaleBar() {
  const bar = viewer.scaleBar();
  $("scalebar").hidden = !bar;
  if (!bar) return;
  $("scalebar").querySelector(".bar").style.width = `${bar.pixels}px`;
  $("scalebar").querySelector("span").textContent = bar.label;
}

const recordViewport = throttle(() => {
  if (!state.image) return;
  const [x0, y0] = viewer.toImage(0, 0);
  record("viewport", { x: Math.round(x0), y: Math.round(y0), scale: +viewer.scale.toPrecision(4) });
}, 1000);
hooks.viewChanged.push(updateScaleBar, recordViewport);

// ---------- keyboard: one key per tool ----------

addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type !== "checkbox" && event.target.type !== "range") return;
  if (event.target instanceof HTMLSelectElement || $("my-data").open) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") { event.preventDefault(); event.shiftKey ? classify.redo() : classify.undo(); return; }
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "y") { event.preventDefault(); classify.redo(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (state.tool === "roi" && roi.key(event.key)) { event.preventDefault(); return; }
  const centre = [canvas.clientWidth / 2, canvas.clientHeight / 2];
  const tools = { v: "pan", l: "locate", b: "brush", e: "eraser", c: "correct", o: "objects", r: "roi" };
  if (tools[key]) setTool(tools[key]);
  else if (/^[1-9]$/.test(key)) classify.selectClassAt(+key - 1);
  else if (key === "[") setBrushRadius(state.brushRadius / 1.25);
  else if (key === "]") setBrushRadius(state.brushRadius * 1.25);
  else if (key === "0") viewer.fit();
  else if (key === "+" || key === "=") viewer.zoomAt(1.5, ...centre);
  else if (key === "-") viewer.zoomAt(1 / 1.5, ...centre);
  else if (key === "a") autoContrast();
  else if (key === "," || key === "PageUp") setPlane(viewer.plane - 1);
  else if (key === "." || key === "PageDown") setPlane(viewer.plane + 1);
  else if (key === "u") classify.toggleUncertainty();
  else if (key === "h") toggleOverlays();
  else return;
  event.preventDefault();
});

// ---------- start ----------

setBrushRadius(8);
setTool("pan");
renderLayers();
record("session.start", { userAgent: navigator.userAgent.slice(0, 120) });
addEventListener("pagehide", () => { record("session.end", {}); flush(); });
// With accounts, nothing loads before sign-in; without them (single-user) the session says so.
api.session().then((session) => { showAccount(session); return loadProjects(); }).catch((error) => {
  if (error.status === 401) showSignIn();
  else fail(error, "Loading projects");
});

// For tests and the console: what the page currently shows.
window.cleave = { state, viewer, flush, jobStats, ready: true };
