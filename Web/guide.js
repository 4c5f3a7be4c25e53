// The step guide: where the user is in classes → paint → train → check → accept → export for the
// image on screen, and one sentence on what to do next. It reads the page's state and what the
// user did (recorded events); it never acts by itself.
import { recorded } from "./events.js";
import { $, hooks, state, viewer } from "./shared.js";

// Per image: results the user has looked at closely, and whether anything was exported.
const checked = new Set(), exported = new Set();

const accepted = () => state.prediction?.state === "accepted" || (state.decision?.kind === "prediction" && state.decision.state === "accepted");

const STEPS = [
  { key: "classes", label: "Classes", done: () => state.classes.length >= 2,
    hint: "Add two or more classes (e.g. particle, film) under Classify pixels." },
  { key: "paint", label: "Paint", done: () => new Set(viewer.strokes.filter((s) => s.state !== "undone" && s.id !== undefined).map((s) => s.class)).size >= 2,
    hint: "Choose the Brush (B) and paint a few short strokes of each class; 1–9 choose the class." },
  { key: "train", label: "Train", done: () => !!state.prediction, hint: "Press Train & predict: every pixel gets a class." },
  { key: "check", label: "Check", done: () => !!state.prediction && (checked.has(state.prediction.id) || accepted()),
    hint: "Check the result: U shows where the classifier is unsure; fix mistakes with Correct (C), or paint more and train again." },
  { key: "accept", label: "Accept", done: accepted,
    hint: "Accept the result when it is right (Result › Accept): it becomes reference data." },
  { key: "export", label: "Export", done: () => !!state.image && exported.has(state.image.id),
    hint: "Export what you need: the label TIFF for Fiji or napari, the fractions, the objects (Export)." },
];

function render() {
  const list = $("guide-steps"), hint = $("guide-hint");
  $("guide").hidden = !state.project || !state.image;
  if (!state.image) return;
  const states = STEPS.map((step) => step.done());
  const next = states.indexOf(false);
  list.replaceChildren(...STEPS.map((step, i) => {
    const item = Object.assign(document.createElement("li"), { textContent: step.label, title: step.hint });
    item.dataset.step = step.key;
    item.classList.toggle("done", states[i]);
    item.classList.toggle("next", i === next);
    return item;
  }));
  hint.textContent = next < 0 ? "Every step is done for this image: open another one, or Predict all images." : `Next: ${STEPS[next].hint}`;
}

recorded.push((type) => {
  const prediction = state.prediction?.id;
  if (prediction && ["uncertainty.toggle", "correction.apply", "roi.change"].includes(type)) {
    checked.add(prediction);
  }
  if (type === "export.download" && state.image) exported.add(state.image.id);
  setTimeout(render);
});
for (const hook of ["projectOpened", "imageOpened", "imageCleared", "classesChanged", "strokeSaved", "predictionShown", "predictionsLoaded", "toolChanged"]) {
  hooks[hook].push(() => setTimeout(render));
}
new MutationObserver(() => render()).observe($("decision-target"), { childList: true, characterData: true, subtree: true });
render();
