// Orthogonal views of a stack (Fiji's Orthogonal Views): XZ through one row below the image's
// width, YZ through one column, rendered by the server through the display window; a line marks
// the plane on screen. Alt-click the image to move them to that row and column.
import { api } from "./api.js";
import { record } from "./events.js";
import { $, hooks, state, status, viewer } from "./shared.js";

const position = { row: 0, column: 0 };
let shownFor = null;

const on = () => $("ortho-toggle").checked && state.image && state.image.depth > 1;

function windowQuery() {
  const w = viewer.window;
  return w ? `&low=${w.low}&high=${w.high}` : "";
}

// Draws a slice (its long side 240 pixels, magnified at most 2×, each plane at least 4 pixels thick) with a
// line at the current plane (horizontal in XZ, vertical in YZ).
function drawSlice(canvas, img, axis) {
  const image = state.image, plane = viewer.plane;
  const long = axis === "xz" ? image.width : image.height, scale = Math.min(2, 240 / long);
  const across = Math.round(image.depth * Math.max(4, scale));
  canvas.width = axis === "xz" ? Math.round(long * scale) : across;
  canvas.height = axis === "xz" ? across : Math.round(long * scale);
  const g = canvas.getContext("2d");
  g.imageSmoothingEnabled = false;
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  g.strokeStyle = "#ffd54f";
  g.lineWidth = 1;
  const step = (axis === "xz" ? canvas.height : canvas.width) / image.depth;
  const at = Math.floor((plane + 0.5) * step) + 0.5;   // a whole pixel row or column: a crisp line
  g.beginPath();
  if (axis === "xz") { g.moveTo(0, at); g.lineTo(canvas.width, at); } else { g.moveTo(at, 0); g.lineTo(at, canvas.height); }
  g.stroke();
}

function load(axis) {
  const image = state.image, at = axis === "xz" ? position.row : position.column;
  const img = new Image();
  img.onload = () => {
    if (state.image !== image) return;
    const canvas = $(`ortho-${axis}`);
    canvas.dataset.src = img.src;
    canvas.dataset.naturalWidth = img.naturalWidth;
    canvas.dataset.naturalHeight = img.naturalHeight;
    canvas.slice = img;
    drawSlice(canvas, img, axis);
  };
  img.onerror = () => status(`Orthogonal view ${axis.toUpperCase()} could not be drawn`, true);
  img.src = `/api/images/${image.id}/orthogonal/${axis}.png?at=${at}${windowQuery()}`;
}

function update() {
  $("ortho").hidden = !on();
  if (!on()) return;
  const image = state.image;
  if (shownFor !== image) {
    shownFor = image;
    position.row = Math.floor(image.height / 2);
    position.column = Math.floor(image.width / 2);
  }
  $("ortho-caption").textContent = `XZ at row ${position.row}, YZ at column ${position.column} (Alt-click the image to move them)`;
  load("xz");
  load("yz");
}

function redrawLines() {
  if (!on()) return;
  for (const axis of ["xz", "yz"]) {
    const canvas = $(`ortho-${axis}`);
    if (canvas.slice) drawSlice(canvas, canvas.slice, axis);
  }
}

$("ortho-toggle").addEventListener("change", () => { record("ortho.toggle", { on: $("ortho-toggle").checked }); update(); });
// Alt-click moves the views, whatever the tool (and paints nothing).
$("canvas").addEventListener("pointerdown", (event) => {
  if (!event.altKey || !on()) return;
  event.stopImmediatePropagation();
  event.preventDefault();
  const [x, y] = viewer.toImage(event.offsetX, event.offsetY);
  const image = state.image;
  position.column = Math.min(image.width - 1, Math.max(0, Math.floor(x)));
  position.row = Math.min(image.height - 1, Math.max(0, Math.floor(y)));
  record("ortho.move", { row: position.row, column: position.column });
  update();
}, { capture: true });

hooks.imageOpened.push(() => { shownFor = null; update(); });
hooks.imageCleared.push(() => { $("ortho").hidden = true; });
hooks.planeChanged.push(redrawLines);
hooks.windowChanged.push(update);
