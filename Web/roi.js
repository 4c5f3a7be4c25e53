// Region of interest: a polygon drawn on the image and/or a class that lies outside the sample.
// Class fractions, objects and the label export then count only what is inside (the server does
// the counting; this module draws, edits and sends the region).
import { api } from "./api.js";
import { record } from "./events.js";
import { $, fail, hooks, state, status, viewer } from "./shared.js";
import { refreshPrediction } from "./classify.js";

let draft = [];   // vertices [x, y] of a polygon being drawn

function show(roi) {
  state.roi = roi;
  viewer.roi = { polygon: roi?.polygon || null, draft };
  $("roi-outside").value = roi?.outsideClass ? String(roi.outsideClass) : "";
  $("roi-clear").disabled = !roi?.polygon;
  renderStatus();
  viewer.draw();
}

// What the fractions count, in one line.
export function renderStatus() {
  const roi = state.roi, p = state.prediction;
  const parts = [];
  if (draft.length) parts.push(`Drawing: ${draft.length} point${draft.length === 1 ? "" : "s"} — click the first point or press Enter to close, Backspace removes the last, Esc cancels`);
  if (!roi?.polygon && !roi?.outsideClass) parts.push("No region of interest: fractions and objects count the whole image.");
  else {
    const what = [roi.polygon ? `inside the polygon (${roi.polygon.length} points)` : null,
                  roi.outsideClass ? `without class ${state.classes.find((c) => c.value === roi.outsideClass)?.name ?? roi.outsideClass}` : null]
      .filter(Boolean).join(", ");
    const counted = p?.roi ? `: ${p.roi.insidePixels.toLocaleString()} of ${p.roi.totalPixels.toLocaleString()} px (${(100 * p.roi.insidePixels / Math.max(1, p.roi.totalPixels)).toFixed(1)} %)` : "";
    parts.push(`Fractions and objects count pixels ${what}${counted}.`);
  }
  $("roi-status").textContent = parts.join(" ");
}

async function save(body, what) {
  if (!state.image) return;
  const image = state.image;
  try {
    const roi = await api.setRegionOfInterest(image.id, body);
    if (state.image !== image) return;
    show(roi);
    record("roi.change", { what, vertices: roi.polygon?.length ?? 0, outsideClass: roi.outsideClass ?? null });
    await refreshPrediction();
    renderStatus();
    status(what === "clear" ? "Region of interest cleared: results count the whole image"
                            : "Region of interest set: fractions, objects and the label export count only what is inside");
  } catch (error) { fail(error, "Region of interest", $("roi-status")); }
}

function polygonBody(polygon) {
  const outside = $("roi-outside").value;
  return { polygon, outsideClass: outside ? +outside : null };
}

function close() {
  if (draft.length < 3) { status("A region needs at least 3 points", true); return; }
  const polygon = draft.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]);
  draft = [];
  save(polygonBody(polygon), "polygon");
}

// A click with the ROI tool adds a vertex; a click on the first vertex closes the polygon.
export function clickAt(x, y) {
  if (!state.image) return;
  if (draft.length >= 3) {
    const [fx, fy] = draft[0];
    if (Math.hypot(x - fx, y - fy) * viewer.scale <= 10) { close(); return; }
  }
  draft.push([Math.min(state.image.width, Math.max(0, x)), Math.min(state.image.height, Math.max(0, y))]);
  viewer.roi = { polygon: state.roi?.polygon || null, draft };
  renderStatus();
  viewer.draw();
}

// Keys while drawing: Enter closes, Backspace removes the last point, Escape cancels.
export function key(name) {
  if (!draft.length) return false;
  if (name === "Enter") close();
  else if (name === "Backspace") draft.pop();
  else if (name === "Escape") draft = [];
  else return false;
  viewer.roi = { polygon: state.roi?.polygon || null, draft };
  renderStatus();
  viewer.draw();
  return true;
}

$("roi-clear").addEventListener("click", () => save(polygonBody(null), $("roi-outside").value ? "polygon-cleared" : "clear"));
$("roi-outside").addEventListener("change", () => save(polygonBody(state.roi?.polygon || null), "outside-class"));

function renderClassOptions() {
  const select = $("roi-outside"), chosen = select.value || (state.roi?.outsideClass ? String(state.roi.outsideClass) : "");
  const none = new Option("none", "");
  select.replaceChildren(none, ...state.classes.map((c) => new Option(c.name, String(c.value))));
  select.value = state.classes.some((c) => String(c.value) === chosen) ? chosen : "";
}
hooks.classesChanged.push(renderClassOptions);
hooks.predictionShown.push(renderStatus);
hooks.imageCleared.push(() => { draft = []; show(null); });
hooks.imageOpened.push(async (image) => {
  draft = [];
  show(null);
  try {
    const roi = await api.regionOfInterest(image.id);
    if (state.image?.id === image.id) show(roi);
  } catch (error) { fail(error, "Region of interest", $("roi-status")); }
});
