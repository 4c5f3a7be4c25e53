// The Objects tool: connected regions of one class in the current prediction, measured; click to see, reclassify.
import { api } from "./api.js";
import { $, areaFormatter, areaUnit, fail, focusLayer, hooks, number, runJob, showOverlay, state, status, viewer } from "./shared.js";
import { refreshPrediction } from "./classify.js";

// Columns shown in the table (when the server measures them), in this order.
const SHOWN = ["area", "equivalent_diameter", "solidity", "eccentricity"];
const HEADINGS = { area: "area", equivalent_diameter: "diam.", solidity: "solidity", eccentricity: "eccentr." };

// The table's order and the diameter range it lists; kept while the set is on screen.
const view = { key: "id", descending: false, min: null, max: null };

// Lengths and areas in the image's unit when it has a pixel size (the measurements come in pixels).
function scale() {
  const s = state.image?.spacing;
  if (!s || !(s.x > 0) || !(s.y > 0) || !s.unit) return { length: 1, area: 1, unit: "px", squared: null };
  return { length: Math.sqrt(s.x * s.y), area: s.x * s.y, unit: s.unit, squared: `${s.unit}²` };
}

function sortValue(object, key) {
  if (key === "id") return object.id;
  if (key === "class") return object.class ?? "";
  return object.values[key] ?? -Infinity;
}

function renderClassOptions() {
  const keep = $("objects-class").value;
  const options = state.classes.map((c) => `<option value="${c.value}">${c.name.replace(/[<&]/g, "")}</option>`).join("");
  $("objects-class").innerHTML = options;
  $("reclassify-class").innerHTML = state.classes.map((c) => `<option>${c.name.replace(/[<&]/g, "")}</option>`).join("");
  if (keep) $("objects-class").value = keep;
}
hooks.classesChanged.push(renderClassOptions);

$("objects-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.prediction) return fail("train and predict first: objects are found in a prediction", "Objects", $("objects-summary"));
  const classValue = +$("objects-class").value, image = state.image;
  try {
    const result = await runJob(() => api.findObjects(image.id, state.prediction.id, classValue, +$("objects-min-size").value), "Objects");
    if (!result || state.image !== image) return;
    showObjectSet(await api.objectSet(result.objectSetId));
    focusLayer("objects");
  } catch (error) { fail(error, "Objects", $("objects-summary")); }
});

// Bounding box of an object in image pixels (the set's coordinates are relative to its region).
function box(object) {
  const v = object.values, r = state.objectSet.region || { x: 0, y: 0 };
  const minRow = v.bbox_min_row ?? v.bbox_y, minCol = v.bbox_min_col ?? v.bbox_x;
  const maxRow = v.bbox_max_row ?? (v.bbox_y + v.bbox_height), maxCol = v.bbox_max_col ?? (v.bbox_x + v.bbox_width);
  if ([minRow, minCol, maxRow, maxCol].some((n) => n === undefined || Number.isNaN(n))) {
    const cx = v.centroid_col ?? v.centroid_x, cy = v.centroid_row ?? v.centroid_y;
    return { x: r.x + cx - 2, y: r.y + cy - 2, width: 4, height: 4 };
  }
  return { x: r.x + minCol, y: r.y + minRow, width: maxCol - minCol, height: maxRow - minRow };
}

function showObjectSet(set) {
  state.objectSet = set;
  state.selectedObject = null;
  Object.assign(view, { key: "id", descending: false, min: null, max: null });
  $("objects-min").value = $("objects-max").value = "";
  $("objects-summary").classList.remove("error");
  showObjectsOverlay();
  renderObjects();
  $("reclassify-form").hidden = true;
}

// The table (sorted by the clicked heading, filtered by diameter), the summary and the histogram.
function renderObjects() {
  const set = state.objectSet;
  if (!set) return;
  const name = state.classes.find((c) => c.value === set.class)?.name ?? `class ${set.class}`;
  const { length, area, unit, squared } = scale();
  const columns = SHOWN.filter((c) => set.columns.includes(c));
  // One area unit for the whole column (nm² becomes µm² when the largest object calls for it).
  const areaIn = areaUnit(Math.max(0, ...set.objects.map((o) => (o.values.area ?? 0) * area)), squared);
  const units = { area: areaIn ? areaIn.name : "px", equivalent_diameter: unit };
  // Equivalent diameters in the shown unit, once per render (the filter and the histogram use them).
  const diameters = new Map(set.objects.map((o) => [o, o.values.equivalent_diameter * length]));
  const shown = set.objects.filter((o) => {
    const d = diameters.get(o);
    return (view.min === null || d >= view.min) && (view.max === null || d <= view.max);
  });
  shown.sort((a, b) => {
    const p = sortValue(a, view.key), q = sortValue(b, view.key);
    const order = typeof p === "string" || typeof q === "string" ? String(p).localeCompare(String(q)) : p - q;
    return (view.descending ? -order : order) || a.id - b.id;
  });
  const arrow = (key) => (view.key === key ? (view.descending ? " ▼" : " ▲") : "");
  const heading = (key, text, title) => `<th data-sort="${key}" title="${title}; click to sort">${text}${arrow(key)}</th>`;
  $("objects-table").querySelector("thead").innerHTML = "<tr>" + heading("id", "#", "object label") +
    columns.map((c) => heading(c, `${HEADINGS[c]}${units[c] ? ` ${units[c]}` : ""}`, c)).join("") + heading("class", "class", "class") + "</tr>";
  $("objects-table").querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    const key = th.dataset.sort;
    view.descending = view.key === key ? !view.descending : key !== "id" && key !== "class";
    view.key = key;
    renderObjects();
  }));
  const cell = (o, c) => c === "area" && areaIn ? number(o.values.area * area / areaIn.factor)
    : c === "equivalent_diameter" ? number(o.values[c] * length) : number(o.values[c]);
  $("objects-table").querySelector("tbody").replaceChildren(...shown.map((o) => {
    const tr = document.createElement("tr");
    tr.dataset.object = o.id;
    tr.innerHTML = `<td>${o.id}</td>${columns.map((c) => `<td>${cell(o, c)}</td>`).join("")}<td></td>`;
    tr.lastElementChild.textContent = o.class ?? name;
    tr.classList.toggle("selected", state.selectedObject?.id === o.id);
    tr.addEventListener("click", () => selectObject(o, true));
    return tr;
  }));
  $("objects-table").title = unit === "px" ? "Measurements in pixels (the image has no pixel size), as scikit-image's regionprops; the CSV export has every column"
    : `Areas and diameters in ${unit} from the image's pixel size; shape measures as scikit-image's regionprops; the CSV export has every column (in pixels)`;
  const filtered = shown.length < set.objects.length;
  $("objects-summary").textContent = `${set.count} objects of ${name}` + (set.count > set.objects.length ? ` (first ${set.objects.length} listed)` : "") +
    (filtered ? `; ${shown.length} with a diameter in the range` : "");
  $("objects-filter").hidden = !set.objects.length;
  $("objects-unit").textContent = unit;
  drawHistogram([...diameters.values()].filter(Number.isFinite), unit);
}

// Equivalent diameters in 16 bins from the smallest to the largest (log-spaced when they span more
// than a factor of 10, as particle sizes usually do); the filtered range is drawn brighter.
function drawHistogram(values, unit) {
  const figure = $("objects-histogram-figure");
  figure.hidden = values.length < 2;
  if (figure.hidden) return;
  const canvas = $("objects-histogram"), g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const low = Math.min(...values), high = Math.max(...values), bins = 16;
  const logarithmic = low > 0 && high / low > 10;
  const axis = logarithmic ? Math.log : (v) => v, back = logarithmic ? Math.exp : (v) => v;
  const width = (axis(high) - axis(low)) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((axis(v) - axis(low)) / width)))] += 1;
  const most = Math.max(...counts), pad = 14;
  g.clearRect(0, 0, w, h);
  counts.forEach((count, i) => {
    const from = back(axis(low) + i * width), to = back(axis(low) + (i + 1) * width);
    const inRange = (view.min === null || to >= view.min) && (view.max === null || from <= view.max);
    g.fillStyle = inRange ? "#56b4e9" : "rgba(86, 180, 233, 0.3)";
    const barHeight = (h - pad - 2) * count / most;
    g.fillRect(i * w / bins + 1, h - pad - barHeight, w / bins - 2, barHeight);
  });
  g.fillStyle = "#bbb"; g.font = "10px sans-serif";
  g.textAlign = "left"; g.fillText(number(low), 0, h - 2);
  g.textAlign = "right"; g.fillText(number(high), w, h - 2);
  const sorted = [...values].sort((a, b) => a - b), median = sorted[Math.floor(sorted.length / 2)];
  $("objects-histogram-caption").textContent =
    `Equivalent diameter (${unit}) of ${values.length} objects${logarithmic ? ", log-spaced bins" : ""}: median ${number(median)}, ${number(low)}–${number(high)}; highest bar ${most}`;
  canvas.dataset.counts = counts.join(",");
}

for (const id of ["objects-min", "objects-max"]) {
  $(id).addEventListener("input", () => {
    const value = (field) => ($(field).value.trim() === "" || !Number.isFinite(+$(field).value) ? null : +$(field).value);
    view.min = value("objects-min");
    view.max = value("objects-max");
    renderObjects();
  });
}

// The objects picture of the plane on screen (3D objects of a stack are drawn plane by plane).
function showObjectsOverlay() {
  const set = state.objectSet;
  if (!set) return;
  const region = set.region || { x: 0, y: 0, width: state.image.width, height: state.image.height };
  const first = region.z ?? 0, planes = region.depth ?? 1;
  if (state.image.depth > 1 && (viewer.plane < first || viewer.plane >= first + planes)) return;
  const plane = state.image.depth > 1 ? viewer.plane : undefined;
  showOverlay("objects", api.objectSetURL(set.id, `labels.png?opacity=1${plane !== undefined ? `&plane=${plane}` : ""}`),
              { ...region, opacity: 0.5, plane });
}

function selectObject(object, centre) {
  state.selectedObject = object;
  document.querySelectorAll("#objects-table tbody tr").forEach((tr) => tr.classList.toggle("selected", +tr.dataset.object === object.id));
  document.querySelector(`#objects-table tr[data-object="${object.id}"]`)?.scrollIntoView({ block: "nearest", inline: "nearest" });
  viewer.highlight = box(object);
  if (centre) viewer.centreOn(viewer.highlight); else viewer.draw();
  $("reclassify-form").hidden = false;
  $("reclassify-label").textContent = `Object ${object.id} is`;
  if (object.class) $("reclassify-class").value = object.class;
  const { area, squared, length, unit } = scale();
  status(`Object ${object.id}: area ${squared ? areaFormatter(object.values.area * area, squared)(object.values.area * area) : `${number(object.values.area)} px`}` +
         `, equivalent diameter ${number(object.values.equivalent_diameter * length)} ${unit}`);
}

// A click on the image selects the object whose box holds the point (the smallest one).
export function selectAt(x, y) {
  if (!state.objectSet) return status("Find objects first (Objects panel)");
  const hits = state.objectSet.objects.map((o) => ({ o, b: box(o) }))
    .filter(({ b }) => x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height)
    .sort((p, q) => p.b.width * p.b.height - q.b.width * q.b.height);
  if (!hits.length) { viewer.highlight = null; viewer.draw(); return status("No object here"); }
  selectObject(hits[0].o, false);
}

$("reclassify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const object = state.selectedObject, className = $("reclassify-class").value;
  if (!object) return;
  try {
    const updated = await api.reclassifyObject(state.objectSet.id, object.id, className);
    Object.assign(object, updated);
    document.querySelector(`#objects-table tr[data-object="${object.id}"]`).lastElementChild.textContent = className;
    // A class of the project reaches the labels: the class picture, fractions and exports follow.
    const isClass = state.classes.some((c) => c.name === className);
    if (isClass) await refreshPrediction();
    status(`Object ${object.id} is now ${className}` + (isClass ? " (its pixels too: labels, fractions and exports follow)" : ""));
  } catch (error) { fail(error, "Reclassify"); }
});

// After a reload: the newest object set of the result on screen comes back.
hooks.predictionsLoaded.push(async () => {
  const image = state.image, prediction = state.prediction;
  if (!image || !prediction || state.objectSet) return;
  try {
    const sets = (await api.objectSets(image.id) || []).filter((s) => s.predictionId === prediction.id)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (sets.length && state.image === image && !state.objectSet) showObjectSet(sets[0]);
  } catch { /* older server: no object-set list */ }
});
hooks.planeChanged.push(showObjectsOverlay);
hooks.pixelSizeChanged.push(renderObjects);

hooks.imageCleared.push(() => {
  state.objectSet = null;
  state.selectedObject = null;
  viewer.highlight = null;
  $("objects-summary").textContent = "";
  $("objects-summary").classList.remove("error");
  $("objects-table").querySelector("thead").innerHTML = "";
  $("objects-table").querySelector("tbody").replaceChildren();
  $("reclassify-form").hidden = true;
  $("objects-filter").hidden = true;
  $("objects-histogram-figure").hidden = true;
});
