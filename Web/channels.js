// Multi-channel images: each channel's display window, colour and on/off, shown together as a
// composite (the channels' windowed values times their colours, added: Fiji's composite mode).
// Auto contrast sets each channel that is on to its 0.5–99.5 percentiles of the plane on screen.
import { api } from "./api.js";
import { record } from "./events.js";
import { $, fail, hooks, state, status, viewer } from "./shared.js";

// Two channels green and magenta (readable by colour-blind eyes), three red, green and blue.
const COLOURS = { 2: ["#00ff00", "#ff00ff"], 3: ["#ff0000", "#00ff00", "#0000ff"] };
const MORE = ["#ff0000", "#00ff00", "#0000ff", "#00ffff", "#ff00ff", "#ffff00", "#ffffff"];

function colourOf(index, count) {
  return (COLOURS[count] || MORE)[index % (COLOURS[count] || MORE).length];
}

// The composite as the tile route takes it: channel:low:high:rrggbb of every channel that is on.
export function compositeSpec(channels) {
  return channels.filter((c) => c.on).map((c) => `${c.channel}:${c.low}:${c.high}:${c.colour.slice(1)}`).join(",");
}

function apply(what) {
  const spec = compositeSpec(state.channels);
  viewer.setComposite(spec || "none");
  if (what) record("channels.change", { what, channels: state.channels.map(({ channel, on, colour, low, high }) => ({ channel, on, colour, low, high })) });
}

function render() {
  const rows = state.channels.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.channel = c.channel;
    const on = Object.assign(document.createElement("input"), { type: "checkbox", checked: c.on, className: "channel-on", title: `Show channel ${c.channel + 1}` });
    on.addEventListener("change", () => { c.on = on.checked; apply("on"); });
    const colour = Object.assign(document.createElement("input"), { type: "color", value: c.colour, className: "channel-colour", title: "Colour" });
    colour.addEventListener("change", () => { c.colour = colour.value; apply("colour"); });
    const field = (key) => {
      const input = Object.assign(document.createElement("input"), { type: "number", step: "any", value: +c[key].toPrecision(6), className: `channel-${key}` });
      input.setAttribute("aria-label", `Channel ${c.channel + 1} ${key}`);
      input.addEventListener("change", () => {
        const value = Number(input.value), other = key === "low" ? c.high : c.low;
        if (!Number.isFinite(value) || (key === "low" ? value >= other : value <= other)) {
          input.value = +c[key].toPrecision(6);
          return status(`Channel ${c.channel + 1}: Low must be below High`, true);
        }
        c[key] = value;
        apply("window");
      });
      return input;
    };
    const auto = Object.assign(document.createElement("button"), { type: "button", textContent: "Auto", className: "channel-auto",
                                                                     title: "0.5–99.5 percentiles of this channel (plane on screen)" });
    auto.addEventListener("click", () => autoContrast([c]));
    const label = Object.assign(document.createElement("span"), { textContent: `${c.channel + 1}` });
    const cells = [[on, label], [colour], [field("low"), " – ", field("high")], [auto]];
    tr.append(...cells.map((parts) => { const td = document.createElement("td"); td.append(...parts); return td; }));
    return tr;
  });
  $("channels").replaceChildren(...rows);
}

// Auto contrast of `channels` (default: every channel that is on).
export async function autoContrast(channels = state.channels.filter((c) => c.on)) {
  const image = state.image, plane = viewer.plane;
  try {
    const windows = await Promise.all(channels.map((c) => api.window(image.id, plane, c.channel)));
    if (state.image !== image) return;
    channels.forEach((c, i) => { const auto = windows[i].auto || windows[i]; c.low = auto.low; c.high = auto.high; });
  } catch (error) { return fail(error, "Auto contrast"); }
  render();
  apply("auto");
  status(`Auto contrast: channel${channels.length === 1 ? "" : "s"} ${channels.map((c) => c.channel + 1).join(", ")} at their 0.5–99.5 percentiles` +
         (image.depth > 1 ? ` of plane ${plane + 1}` : ""));
}

export const isComposite = () => state.channels.length > 1;

hooks.imageOpened.push(async (image) => {
  state.channels = [];
  $("channels-section").hidden = true;
  $("window-fields").hidden = false;
  if (!image || image.channels <= 1) return;
  try {
    const windows = await Promise.all(Array.from({ length: image.channels }, (_, c) => api.window(image.id, 0, c)));
    if (state.image !== image) return;
    state.channels = windows.map((w, c) => ({ channel: c, on: c < 3, colour: colourOf(c, image.channels), low: w.low, high: w.high }));
  } catch (error) { return fail(error, "Channels"); }
  $("channels-section").hidden = false;
  $("window-fields").hidden = true;
  render();
  apply(null);
});
hooks.imageCleared.push(() => {
  state.channels = [];
  $("channels-section").hidden = true;
  $("window-fields").hidden = false;
});
