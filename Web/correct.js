// Correcting a result by hand: a brush, a lasso (a closed freehand outline) or a fill (the
// connected region of one predicted class under the click) gives the pixels the chosen class.
// The labels, fractions and exports follow at once; the corrected pixels become strong reference
// labels of their own provenance and training labels of the next model (Train & predict).
import { api } from "./api.js";
import { record } from "./events.js";
import { $, classByValue, fail, state, status, viewer } from "./shared.js";
import { refreshPrediction } from "./classify.js";

export const mode = () => $("correct-mode").value;

// Why a correction cannot be made now, or null.
export function blocked() {
  if (!state.prediction) return "Train & predict first: corrections are painted on the whole-image result";
  if (state.classValue === null) return "Choose the class the pixels should become (Classify panel)";
  if (state.prediction.state === "rejected") return "This result was rejected; predict again to correct it";
  return null;
}

export async function apply(body) {
  const problem = blocked();
  if (problem) { status(problem, true); return; }
  const prediction = state.prediction, image = state.image;
  const input = { class: state.classValue, plane: image.depth > 1 ? viewer.plane : undefined, ...body };
  input.points = input.points.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]);
  try {
    const result = await api.correctPrediction(prediction.id, input);
    if (state.image !== image) return;
    record("correction.apply", { mode: input.mode, changedPixels: result.changedPixels });
    await refreshPrediction();
    const name = classByValue(input.class)?.name ?? `class ${input.class}`;
    status(`Corrected ${result.correctedPixels.toLocaleString()} px to ${name} (${result.changedPixels.toLocaleString()} changed): ` +
           "labels and fractions follow; they teach the next model (Train & predict)");
  } catch (error) { fail(error, "Correction"); }
}
