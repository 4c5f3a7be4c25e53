// The Objects tool: connected regions of one class in the current prediction, measured; click to see, reclassify.
import { api } from "./api.js";
import { $, fail, focusLayer, hooks, number, runJob, showOverlay, state, status, viewer } from "./shared.js";
import { refreshPrediction } from "./classify.js";

// Columns shown in the table (when the server measures them), in this order.
const SHOWN = ["area", "equivalent_diameter", "solidity", "eccentricity"];
const HEADINGS = { area: "area px", equivalent_diameter: "diam. px", solidity: "solidity", eccentricity: "eccentr." };

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
  const name = state.classes.find((c) => c.value === set.class)?.name ?? `class ${set.class}`;
  $("objects-summary").classList.remove("error");
  $("objects-summary").textContent = `${set.count} objects of ${name}` + (set.count > set.objects.length ? ` (first ${set.objects.length} listed)` : "");
  showObjectsOverlay();
  const columns = SHOWN.filter((c) => set.columns.includes(c));
  $("objects-table").querySelector("thead").innerHTML =
    `<tr><th>#</th>${columns.map((c) => `<th title="${c}">${HEADINGS[c]}</th>`).join("")}<th>class</th></tr>`;
  $("objects-table").querySelector("tbody").replaceChildren(...set.objects.map((o) => {
    const tr = document.createElement("tr");
    tr.dataset.object = o.id;
    tr.innerHTML = `<td>${o.id}</td>${columns.map((c) => `<td>${number(o.values[c])}</td>`).join("")}<td></td>`;
    tr.lastElementChild.textContent = o.class ?? name;
    tr.addEventListener("click", () => selectObject(o, true));
    return tr;
  }));
  $("objects-table").title = "Measurements in pixels, as scikit-image's regionprops; the CSV export has every column";
  $("reclassify-form").hidden = true;
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
  status(`Object ${object.id}: area ${number(object.values.area)}`);
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

hooks.imageCleared.push(() => {
  state.objectSet = null;
  state.selectedObject = null;
  viewer.highlight = null;
  $("objects-summary").textContent = "";
  $("objects-summary").classList.remove("error");
  $("objects-table").querySelector("thead").innerHTML = "";
  $("objects-table").querySelector("tbody").replaceChildren();
  $("reclassify-form").hidden = true;
});
