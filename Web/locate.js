// The Locate tool: cluster patches of the image, show the clusters as a heatmap, pick, name and merge them.
import { api } from "./api.js";
import { $, classByValue, fail, focusLayer, hooks, number, runJob, setDecision, showOverlay, state, status, viewer } from "./shared.js";

let overlayVersion = 0;
// The last clustering whose Pick taught a model ({ id, name }): new images can be classified with it.
let pickModel = null;

// The sliding window computes only these statistics (per pixel, from running sums).
const WINDOW_FEATURES = new Set(["mean", "std", "relstd", "skewness", "kurtosis"]);

$("cluster-mode").addEventListener("change", syncMode);
function syncMode() {
  const grid = $("cluster-mode").value === "grid";
  document.querySelectorAll(".mode-grid").forEach((e) => { e.hidden = !grid; });
  document.querySelectorAll(".mode-window").forEach((e) => { e.hidden = grid; });
  document.querySelectorAll("#cluster-features input").forEach((box) => {
    const available = grid || WINDOW_FEATURES.has(box.value);
    box.disabled = !available;
    box.parentElement.title = available ? "" : "not available with the sliding window";
    if (!available) box.checked = false;
  });
}

function parameters() {
  const mode = $("cluster-mode").value;
  const features = [...document.querySelectorAll("#cluster-features input:checked")].map((i) => i.value);
  const params = { mode, clusterCount: +$("cluster-count").value, features, excludeDark: $("exclude-dark").checked, seed: 0 };
  if (state.image?.depth > 1) params.plane = viewer.plane;
  if (state.image?.channels > 1 && $("cluster-channel").value !== "") params.channel = +$("cluster-channel").value;
  if (mode === "grid") Object.assign(params, { gridRows: +$("grid-rows").value, gridColumns: +$("grid-columns").value });
  else Object.assign(params, { windowSize: +$("window-size").value, windowStride: +$("window-stride").value });
  if (pickModel && $("cluster-use-picks").checked) params.pickModelFrom = pickModel.id;
  return params;
}

$("cluster-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.image) return status("Open an image first", true);
  const params = parameters();
  if (params.features.length === 0) return fail("choose at least one feature", "Clustering");
  const image = state.image, started = performance.now();
  $("cluster-run").disabled = true;
  try {
    const result = await runJob(() => api.cluster(image.id, params), "Clustering");
    if (!result || state.image !== image) return;
    const clustering = await api.clustering(result.clusteringId);
    const seconds = (performance.now() - started) / 1000;
    showClustering(clustering, seconds);
    focusLayer("clusters");
  } catch (error) {
    // Only the message shows: no legend, Pick or Merge of an earlier result (or of another image).
    if (state.image === image) {
      clearClustering();
      $("cluster-result").hidden = false;
      fail(error, "Clustering", $("cluster-summary"));
    }
  } finally {
    $("cluster-run").disabled = false;
  }
});

// No clustering: the legend, Pick and Merge are hidden and the overlay removed.
function clearClustering() {
  state.clustering = null;
  state.selectedCluster = null;
  $("cluster-legend").querySelector("tbody").replaceChildren();
  $("cluster-summary").textContent = "";
  $("cluster-summary").classList.remove("error");
  for (const id of ["cluster-legend", "pick-form", "merge-form", "cluster-help", "pick-model"]) $(id).hidden = true;
  viewer.removeOverlay("clusters");
  if (state.decision?.kind === "clustering") setDecision(null);
}

// The form shows the settings of the clustering on screen (also one restored after a reload).
function showParameters(params = {}) {
  if (params.mode) { $("cluster-mode").value = params.mode; syncMode(); }
  if (params.clusterCount) $("cluster-count").value = params.clusterCount;
  if (params.gridRows) $("grid-rows").value = params.gridRows;
  if (params.gridColumns) $("grid-columns").value = params.gridColumns;
  if (params.windowSize) $("window-size").value = params.windowSize;
  if (params.windowStride) $("window-stride").value = params.windowStride;
  if (Array.isArray(params.features)) {
    document.querySelectorAll("#cluster-features input").forEach((box) => { box.checked = params.features.includes(box.value); });
  }
  if (params.excludeDark !== undefined) $("exclude-dark").checked = !!params.excludeDark;
  $("cluster-channel").value = params.channel ?? "";
}

function showClustering(clustering, seconds = null) {
  state.clustering = clustering;
  $("cluster-result").hidden = false;
  for (const id of ["cluster-legend", "pick-form", "merge-form", "cluster-help"]) $(id).hidden = false;
  overlayVersion += 1;
  showParameters(clustering.params);
  const plane = state.image.depth > 1 ? clustering.plane ?? 0 : undefined;
  showOverlay("clusters", api.clusterOverlayURL(clustering.id, overlayVersion), { opacity: 0.45, plane });
  const summary = $("cluster-summary");
  summary.classList.remove("error");
  const live = clustering.clusters.filter((c) => c.mergedInto === null || c.mergedInto === undefined).length;
  summary.textContent = `${live} clusters` + (plane !== undefined ? ` of plane ${plane + 1}` : "") +
    (clustering.featuresCached ? ", features from cache" : "") +
    (seconds !== null ? `, ${seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`}` : "") +
    (clustering.silhouette !== null && clustering.silhouette !== undefined ? `, silhouette ${number(clustering.silhouette, 2)}` : "") +
    (clustering.route === "classifier" ? ", classified by the picks of an earlier clustering" : "");
  showPickModel(clustering);
  if (state.selectedCluster === null || !clustering.clusters.some((c) => c.index === state.selectedCluster)) {
    state.selectedCluster = clustering.suggestedPick ?? clustering.clusters[0]?.index ?? null;
  }
  renderLegend();
  setDecision({ kind: "clustering", id: clustering.id, state: clustering.state,
                label: `Clustering, k = ${clustering.clusterCount}` });
}

// What the last Pick taught: a model to classify other images with (and to download for `cleave locate --model`).
function showPickModel(clustering) {
  const learned = clustering.pickModel, line = $("pick-model");
  line.hidden = !learned;
  if (!learned) return;
  if (learned.trainingPatches) {
    pickModel = { id: clustering.id, name: learned.name || "the picked cluster" };
    line.innerHTML = `Picks learned from ${learned.trainingPatches} patches. <a href="/api/clusterings/${clustering.id}/model.json" download>Model file</a> for <code>cleave locate --model</code>.`;
    $("cluster-picks-source").textContent = `“${pickModel.name}”`;
    $("cluster-use-picks-row").hidden = false;
  } else {
    line.textContent = `No model learned from the picks: ${learned.error || "unknown reason"}`;
  }
}

function renderLegend() {
  const clustering = state.clustering;
  const rows = clustering.clusters.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.cluster = c.index;
    const merged = c.mergedInto !== null && c.mergedInto !== undefined;
    tr.classList.toggle("merged", merged);
    tr.classList.toggle("selected", c.index === state.selectedCluster);
    const tags = [c.picked ? "★ picked" : "", c.index === clustering.suggestedPick && !c.picked ? "suggested" : "",
                  c.index === clustering.darkGroup ? "dark" : "", merged ? `→ ${c.mergedInto}` : ""].filter(Boolean).join(", ");
    tr.innerHTML = `<td><span class="dot"></span></td><td>${c.index}</td><td></td><td>${(100 * c.fraction).toFixed(1)}%</td>`;
    tr.querySelector(".dot").style.background = c.colour;
    tr.children[2].textContent = (c.name || "") + (tags ? ` (${tags})` : "");
    if (c.picked) tr.children[2].classList.add("picked");
    tr.addEventListener("click", () => selectCluster(c.index));
    return tr;
  });
  $("cluster-legend").querySelector("tbody").replaceChildren(...rows);
  const options = clustering.clusters.filter((c) => c.mergedInto === null || c.mergedInto === undefined)
    .map((c) => `<option value="${c.index}">${c.index}${c.name ? ` ${c.name.replace(/[<&]/g, "")}` : ""}</option>`).join("");
  const [a, b] = [$("merge-a").value, $("merge-b").value];
  $("merge-a").innerHTML = options;
  $("merge-b").innerHTML = options;
  if (a) $("merge-a").value = a;
  if (b) $("merge-b").value = b;
  if (!$("merge-a").value) $("merge-a").selectedIndex = 0;
  if ((!$("merge-b").value || $("merge-b").value === $("merge-a").value) && $("merge-b").options.length > 1) {
    $("merge-b").selectedIndex = $("merge-a").selectedIndex === 0 ? 1 : 0;
  }
  const selected = clustering.clusters.find((c) => c.index === state.selectedCluster);
  $("pick-name").value = selected?.name || "";
  $("pick-name").placeholder = selected ? `Name for cluster ${selected.index}, e.g. crystal` : "Select a cluster first";
}

function selectCluster(index) {
  state.selectedCluster = index;
  renderLegend();
  status(`Cluster ${index} selected: name it and press Pick`);
}

// A click on the image selects the cluster under it.
export async function pickAt(x, y) {
  if (!state.clustering) return status("Run the clustering first (Cluster button)");
  try {
    const cluster = await api.clusterAt(state.clustering.id, x, y);
    if (cluster === null || cluster === undefined) return status("No cluster here (outside the sampled patches)");
    selectCluster(cluster);
    $("pick-name").focus();
  } catch (error) { fail(error, "Cluster under the cursor"); }
}

function renderClassOptions() {
  const keep = $("pick-class").value;
  $("pick-class").innerHTML = '<option value="">no class</option>' +
    state.classes.map((c) => `<option value="${c.value}">class: ${c.name.replace(/[<&]/g, "")}</option>`).join("");
  $("pick-class").value = keep;
}
hooks.classesChanged.push(renderClassOptions);

$("pick-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.clustering || state.selectedCluster === null) return status("Select a cluster first", true);
  const name = $("pick-name").value.trim();
  if (!name) return status("Give the cluster a name first", true);
  const classValue = $("pick-class").value ? +$("pick-class").value : null;
  try {
    const clustering = await api.pickCluster(state.clustering.id, state.selectedCluster, name, classValue);
    showClustering(clustering);
    status(`Cluster ${state.selectedCluster} picked as “${name}”` + (classValue ? ` (class ${classByValue(classValue)?.name})` : ""));
  } catch (error) { fail(error, "Pick"); }
});

$("merge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const a = +$("merge-a").value, b = +$("merge-b").value;
  if (a === b) return status("Choose two different clusters to merge", true);
  try {
    const clustering = await api.mergeClusters(state.clustering.id, a, b);
    state.selectedCluster = a;
    showClustering(clustering);
    status(`Cluster ${b} merged into ${a}`);
  } catch (error) { fail(error, "Merge"); }
});

hooks.imageCleared.push(() => {
  clearClustering();
  $("cluster-result").hidden = true;
});
hooks.imageOpened.push(async (image) => {
  $("cluster-channel-row").hidden = !(image.channels > 1);
  try {
    const list = await api.clusterings(image.id);
    const newest = (list || []).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (newest && state.image === image) showClustering(newest);
  } catch { /* older server: no clusterings */ }
});
