// Accept / reject the current result, exports, and "my data" (see, export and delete my own events).
import { api, download, userId } from "./api.js";
import { flush, record } from "./events.js";
import { $, fail, hooks, setDecision, state, status } from "./shared.js";

// ---------- accept / reject ----------

async function decide(decision) {
  const target = state.decision;
  if (!target) return;
  try {
    const updated = target.kind === "clustering" ? await api.decideClustering(target.id, decision)
                                                 : await api.decidePrediction(target.id, decision);
    setDecision({ ...target, state: updated.state });
    if (target.kind === "prediction") state.prediction = updated;
    else state.clustering = updated;
    status(decision === "accept" ? `${target.label}: accepted — its labels now count as (weak) reference data`
                                 : `${target.label}: rejected`);
  } catch (error) { fail(error, decision === "accept" ? "Accept" : "Reject"); }
}
$("accept").addEventListener("click", () => decide("accept"));
$("reject").addEventListener("click", () => decide("reject"));

// ---------- exports ----------

function stem() {
  return (state.image?.name || "image").replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9_.-]+/g, "_");
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// What each export button fetches: [method, path, file name, body?]; alternatives are tried in order
// when the server does not offer the first.
const exports = {
  labels: () => [["GET", api.predictionURL(state.prediction.id, "labels.tif"), `${stem()}-labels.tif`]],
  probabilities: () => [["GET", api.predictionURL(state.prediction.id, "probabilities.tif"), `${stem()}-probabilities.tif`]],
  overlay: () => [["GET", api.predictionURL(state.prediction.id, "overlay.png"), `${stem()}-overlay.png`],
                  ["GET", api.predictionURL(state.prediction.id, "labels.png?opacity=0.6"), `${stem()}-overlay.png`]],
  "objects-csv": () => [["GET", api.objectSetURL(state.objectSet.id, "objects.csv"), `${stem()}-objects.csv`]],
  geojson: () => [["GET", api.objectSetURL(state.objectSet.id, "objects.geojson"), `${stem()}-objects.geojson`]],
  "project-fractions": () => [["GET", `/api/projects/${state.project.id}/fractions.csv`, `${state.project.name.replace(/[^A-Za-z0-9_.-]+/g, "_")}-class-fractions.csv`]],
  reference: () => [["POST", `/api/projects/${state.project.id}/export`, `${state.project.name.replace(/[^A-Za-z0-9_.-]+/g, "_")}-reference-data.zip`]],
};

async function runExport(kind) {
  const line = $("export-status");
  line.classList.remove("error");
  line.textContent = "Preparing…";
  let lastError = null;
  for (const [method, path, name] of exports[kind]()) {
    try {
      const blob = kind === "reference" ? await api.exportProject(state.project.id, false) : await download(method, path);
      save(blob, name);
      line.textContent = `Saved ${name} (${(blob.size / 1024).toFixed(1)} KiB)`;
      record("export.download", { what: kind, bytes: blob.size });
      return;
    } catch (error) {
      lastError = error;
      if (!error.missing && error.status !== 404) break;
    }
  }
  fail(lastError, "Export", line);
}
document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => runExport(b.dataset.export)));

// Exports this server cannot make (from its OpenAPI document) stay disabled and say so.
const exportRoutes = { labels: ["/api/predictions/{predictionId}/labels.tif"],
                       probabilities: ["/api/predictions/{predictionId}/probabilities.tif"],
                       overlay: ["/api/predictions/{predictionId}/overlay.png", "/api/predictions/{predictionId}/labels.png"],
                       "objects-csv": ["/api/objectsets/{objectSetId}/objects.csv"],
                       geojson: ["/api/objectsets/{objectSetId}/objects.geojson"],
                       "project-fractions": ["/api/projects/{projectId}/fractions.csv"],
                       reference: ["/api/projects/{projectId}/export"] };
const unsupported = new Set();
fetch("/api/openapi.json").then((r) => (r.ok ? r.json() : null)).then((doc) => {
  if (!doc?.paths) return;
  for (const [kind, paths] of Object.entries(exportRoutes)) {
    if (!paths.some((p) => p in doc.paths)) unsupported.add(kind);
  }
  enableExports();
}).catch(() => {});

function enableExports() {
  const on = { labels: !!state.prediction, probabilities: !!state.prediction, overlay: !!state.prediction,
               "objects-csv": !!state.objectSet, geojson: !!state.objectSet, reference: !!state.project,
               "project-fractions": !!state.project };
  document.querySelectorAll("[data-export]").forEach((b) => {
    const missing = unsupported.has(b.dataset.export);
    b.disabled = missing || !on[b.dataset.export];
    b.title = missing ? "This Cleave server cannot export this yet" : "";
  });
}
for (const hook of ["predictionShown", "projectOpened", "imageOpened", "toolChanged"]) hooks[hook].push(() => setTimeout(enableExports));
new MutationObserver(enableExports).observe($("objects-summary"), { childList: true, characterData: true, subtree: true });
hooks.imageCleared.push(() => { setDecision(null); $("export-status").textContent = ""; $("export-status").classList.remove("error"); enableExports(); });

// ---------- my data ----------

async function showMyData() {
  // Signed in, events carry the account's pseudonym (never its name) instead of the browser's id.
  $("my-user-id").textContent = state.account?.pseudonym || userId;
  $("my-data-status").textContent = "";
  if (!$("my-data").open) $("my-data").showModal();
  await flush();
  try {
    const events = await api.myEvents();
    const types = {};
    for (const e of events) types[e.type] = (types[e.type] || 0) + 1;
    $("my-data-summary").textContent = events.length === 0 ? "No events recorded for you."
      : `${events.length} events: ` + Object.entries(types).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(", ");
    $("my-events").querySelector("tbody").replaceChildren(...events.slice(-200).reverse().map((e) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td><td></td>";
      tr.children[0].textContent = e.serverTime.replace("T", " ").replace(/\.\d+Z?$/, "");
      tr.children[1].textContent = e.type;
      tr.children[2].textContent = state.images.find((i) => i.id === e.imageId)?.name || (e.imageId ? e.imageId.slice(0, 8) : "");
      return tr;
    }));
  } catch (error) { fail(error, "My events", $("my-data-status")); }
}
$("my-data-button").addEventListener("click", showMyData);
$("my-data-close").addEventListener("click", () => $("my-data").close());
$("my-data-export").addEventListener("click", async () => {
  try {
    save(await api.myEventsCSV(), "my-cleave-events.csv");
    $("my-data-status").textContent = "Saved my-cleave-events.csv";
  } catch (error) { fail(error, "Export my events", $("my-data-status")); }
});
$("my-data-delete").addEventListener("click", async () => {
  if (!confirm("Delete every event recorded under your id? Strokes, classes and results stay; the record of what you did goes.")) return;
  try {
    const { deleted } = await api.deleteMyEvents();
    await showMyData();
    $("my-data-status").textContent = `Deleted ${deleted} events.`;
  } catch (error) { fail(error, "Delete my events", $("my-data-status")); }
});
