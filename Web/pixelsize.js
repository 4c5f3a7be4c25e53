// The open image's pixel size, shown and set by hand (files without one, or a wrong one): the
// server recomputes the areas of the image's results; the scale bar, fractions and objects follow.
import { api } from "./api.js";
import { $, emit, fail, hooks, state, status, viewer } from "./shared.js";
import { refreshPrediction } from "./classify.js";

function showPixelSize(image) {
  $("pixel-size-form").hidden = !image;
  if (!image) return;
  $("pixel-size").value = image.spacing ? +image.spacing.x.toPrecision(6) : "";
  if (image.spacing) $("pixel-size-unit").value = image.spacing.unit;
  $("pixel-size-form").title = image.spacing ? `${image.name}: ${image.spacing.x} × ${image.spacing.y} ${image.spacing.unit} per pixel`
    : `${image.name} has no pixel size: areas are in pixels until you set one`;
}
hooks.imageOpened.push(showPixelSize);
hooks.imageCleared.push(() => { $("pixel-size-form").hidden = true; });

$("pixel-size-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const image = state.image;
  if (!image) return;
  const text = $("pixel-size").value.trim(), unit = $("pixel-size-unit").value;
  const size = text === "" ? {} : { x: Number(text), unit };
  try {
    const updated = await api.setPixelSize(image.id, size);
    if (state.image !== image) return;
    Object.assign(image, { spacing: updated.spacing ?? null });
    const listed = state.images.find((i) => i.id === image.id);
    if (listed) listed.spacing = image.spacing;
    viewer.draw();
    showPixelSize(image);
    await refreshPrediction();
    emit("pixelSizeChanged", image);
    status(image.spacing ? `${image.name}: pixel size ${image.spacing.x} ${image.spacing.unit}; areas recomputed` : `${image.name}: pixel size cleared; areas in pixels`);
  } catch (error) { fail(error, "Pixel size", $("upload-status")); }
});
