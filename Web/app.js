// The workbench page: projects and images on the left, the viewer and its tools on the right.
import { api } from "./api.js";
import { flush, record, setContext, throttle } from "./events.js";
import { Viewer } from "./viewer.js";

const $ = (id) => document.getElementById(id);
const CLASS_COLOURS = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#8c8c8c", "#783ca0"];

const state = { projects: [], project: null, images: [], image: null, tool: "pan", classIndex: 1,
                brushRadius: 8, defaultWindow: null };

const viewer = new Viewer($("canvas"), {
  onViewChange: () => { updateScaleBar(); recordViewport(); },
  onCursor: null,
});
viewer.classColours = CLASS_COLOURS;

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// ---------- projects and images ----------

async function loadProjects() {
  state.projects = await api.projects();
  renderList($("projects"), state.projects, state.project?.id, (p) => p.name, selectProject);
  if (!state.project && state.projects.length) selectProject(state.projects[0]);
}

function renderList(list, items, activeId, label, onPick, detail = () => "") {
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = label(item);
    const small = detail(item);
    if (small) { const s = document.createElement("small"); s.textContent = small; li.append(s); }
    li.title = label(item);
    li.classList.toggle("active", item.id === activeId);
    li.addEventListener("click", () => onPick(item));
    return li;
  }));
}

async function selectProject(project) {
  state.project = project;
  setContext({ projectId: project.id });
  renderList($("projects"), state.projects, project.id, (p) => p.name, selectProject);
  $("images-section").hidden = false;
  await loadImages();
}

async function loadImages() {
  state.images = await api.images(state.project.id);
  renderImages();
  if (!state.image && state.images.length) openImage(state.images[0]);
}

function renderImages() {
  renderList($("images"), state.images, state.image?.id, (i) => i.name, openImage,
             (i) => `${i.width}×${i.height} ${i.pixelType}`);
}

async function openImage(image) {
  state.image = image;
  setContext({ imageId: image.id });
  renderImages();
  $("empty").hidden = true;
  viewer.open(image);
  record("image.open", { width: image.width, height: image.height, pixelType: image.pixelType });
  status(`${image.name}: ${image.width}×${image.height}, ${image.pixelType}` +
         (image.spacing ? `, ${image.spacing.x} ${image.spacing.unit}/pixel` : ", no pixel size"));
  const [window, strokes] = await Promise.all([api.window(image.id), api.strokes(image.id)]);
  state.defaultWindow = window;
  showWindow(window);
  viewer.strokes = strokes;
  viewer.draw();
}

$("new-project").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const project = await api.createProject($("project-name").value);
    $("project-name").value = "";
    record("project.create", { projectId: project.id });
    state.projects.push(project);
    selectProject(project);
  } catch (error) { status(error.message, true); }
});

// ---------- upload ----------

async function upload(file) {
  if (!state.project) return;
  const line = $("upload-status");
  line.classList.remove("error");
  line.textContent = `Uploading ${file.name} (${(file.size / 1048576).toFixed(1)} MiB)…`;
  try {
    const image = await api.upload(state.project.id, file);
    line.textContent = `Stored ${image.name}`;
    record("image.upload", { imageId: image.id, byteCount: image.byteCount, format: image.format });
    state.images.push(image);
    openImage(image);
  } catch (error) {
    line.textContent = error.message;
    line.classList.add("error");
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
$("file-input").addEventListener("change", (event) => { for (const file of event.target.files) upload(file); event.target.value = ""; });

// ---------- tools, classes, brush ----------

function setTool(tool) {
  state.tool = tool;
  document.querySelectorAll(".tool").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  $("viewer").className = tool;
  record("tool.change", { tool });
}
document.querySelectorAll(".tool").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));

function renderClasses() {
  $("classes").replaceChildren(...CLASS_COLOURS.slice(0, 4).map((colour, i) => {
    const b = document.createElement("button");
    b.className = "swatch" + (state.classIndex === i + 1 ? " active" : "");
    b.style.background = colour;
    b.title = `Class ${i + 1} (${i + 1})`;
    b.addEventListener("click", () => setClass(i + 1));
    return b;
  }));
}

function setClass(classIndex) {
  state.classIndex = classIndex;
  renderClasses();
  record("class.select", { class: classIndex });
}

function setBrushRadius(radius) {
  state.brushRadius = Math.min(100, Math.max(1, Math.round(radius)));
  $("brush-size").value = state.brushRadius;
  $("brush-size-value").textContent = state.brushRadius;
}
$("brush-size").addEventListener("input", (event) => setBrushRadius(+event.target.value));
$("stroke-opacity").addEventListener("input", (event) => { viewer.strokeOpacity = event.target.value / 100; viewer.draw(); });

async function undo() {
  if (!state.image) return;
  const stroke = await api.undo(state.image.id);
  if (!stroke) return status("Nothing to undo");
  viewer.strokes = viewer.strokes.filter((s) => s.id !== stroke.id);
  viewer.draw();
}

async function redo() {
  if (!state.image) return;
  const stroke = await api.redo(state.image.id);
  if (!stroke) return status("Nothing to redo");
  viewer.strokes = [...viewer.strokes, stroke].sort((a, b) => a.id - b.id);
  viewer.draw();
}
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);

// ---------- pointer: pan and paint ----------

const canvas = $("canvas");
let drag = null;
canvas.addEventListener("pointerdown", (event) => {
  if (!state.image) return;
  canvas.setPointerCapture(event.pointerId);
  const [x, y] = viewer.toImage(event.offsetX, event.offsetY);
  if (state.tool === "brush" && event.button === 0) {
    // Radius is in screen pixels on the slider, stored in image pixels.
    viewer.liveStroke = { class: state.classIndex, radius: state.brushRadius / viewer.scale, points: [[x, y]] };
    viewer.draw();
  }
  drag = { x: event.offsetX, y: event.offsetY };
});
canvas.addEventListener("pointermove", (event) => {
  const [x, y] = state.image ? viewer.toImage(event.offsetX, event.offsetY) : [0, 0];
  if (state.image) $("cursor").textContent = `x ${Math.floor(x)}  y ${Math.floor(y)}`;
  if (!drag) return;
  if (viewer.liveStroke) {
    const last = viewer.liveStroke.points.at(-1);
    if (Math.hypot(x - last[0], y - last[1]) * viewer.scale >= 2) {
      viewer.liveStroke.points.push([+x.toFixed(2), +y.toFixed(2)]);
      viewer.draw();
    }
  } else {
    viewer.panBy(event.offsetX - drag.x, event.offsetY - drag.y);
    drag = { x: event.offsetX, y: event.offsetY };
  }
});
canvas.addEventListener("pointerup", async () => {
  drag = null;
  const live = viewer.liveStroke;
  if (!live) return;
  viewer.liveStroke = null;
  live.points = live.points.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]);
  live.radius = +live.radius.toFixed(3);
  viewer.strokes.push({ ...live, id: Infinity, pending: true });
  viewer.draw();
  try {
    const saved = await api.addStroke(state.image.id, live);
    viewer.strokes = viewer.strokes.filter((s) => !s.pending).concat(saved);
    status(`Stroke ${saved.id} saved`);
  } catch (error) {
    viewer.strokes = viewer.strokes.filter((s) => !s.pending);
    status(`Stroke not saved: ${error.message}`, true);
  }
  viewer.draw();
});
canvas.addEventListener("wheel", (event) => {
  event.preventDefault();
  viewer.zoomAt(Math.exp(-event.deltaY * 0.0015), event.offsetX, event.offsetY);
}, { passive: false });

// ---------- contrast, scale bar, viewport events ----------

function showWindow(window) {
  $("window-low").value = +window.low.toPrecision(6);
  $("window-high").value = +window.high.toPrecision(6);
}

function applyWindow() {
  const low = +$("window-low").value, high = +$("window-high").value;
  if (!(low < high)) return status("Contrast: low must be below high", true);
  viewer.setWindow({ low, high });
  record("contrast.change", { low, high });
}
$("window-low").addEventListener("change", applyWindow);
$("window-high").addEventListener("change", applyWindow);

function autoContrast() {
  if (!state.defaultWindow) return;
  showWindow(state.defaultWindow);
  viewer.setWindow(null);
  record("contrast.auto", {});
}
$("auto-contrast").addEventListener("click", autoContrast);

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

// ---------- keyboard ----------

addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") { event.preventDefault(); event.shiftKey ? redo() : undo(); return; }
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "y") { event.preventDefault(); redo(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const centre = [canvas.clientWidth / 2, canvas.clientHeight / 2];
  if (key === "v") setTool("pan");
  else if (key === "b") setTool("brush");
  else if (/^[1-4]$/.test(key)) setClass(+key);
  else if (key === "[") setBrushRadius(state.brushRadius / 1.25);
  else if (key === "]") setBrushRadius(state.brushRadius * 1.25);
  else if (key === "0") viewer.fit();
  else if (key === "+" || key === "=") viewer.zoomAt(1.5, ...centre);
  else if (key === "-") viewer.zoomAt(1 / 1.5, ...centre);
  else if (key === "a") autoContrast();
});

// ---------- start ----------

renderClasses();
setBrushRadius(8);
record("session.start", { userAgent: navigator.userAgent.slice(0, 120) });
addEventListener("pagehide", () => { record("session.end", {}); flush(); });
loadProjects().catch((error) => status(error.message, true));
