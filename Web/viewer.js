// Pan/zoom canvas over the server's tile pyramid, with brush strokes drawn in image coordinates.
import { api } from "./api.js";

const TILE = 256;

export class Viewer {
  constructor(canvas, { onViewChange, onCursor }) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.image = null;           // ImageDTO
    this.plane = 0;              // the plane of a stack on screen
    this.window = null;          // {low, high} when the user overrides the default
    this.composite = null;       // "channel:low:high:rrggbb,…" of a multi-channel image ("none": every channel off)
    this.scale = 1;              // screen pixels per image pixel
    this.originX = 0;            // image coordinate at the canvas's left edge
    this.originY = 0;
    this.tiles = new Map();      // url → HTMLImageElement
    this.strokes = [];           // StrokeDTO
    this.liveStroke = null;      // {class, radius, points} while painting
    this.colourOf = () => "#ff00ff";   // class value → "#rrggbb"

    this.strokeOpacity = 0.8;
    this.strokesVisible = true;
    this.filter = "none";        // CSS filter for brightness/contrast of the image itself
    // Overlays drawn over the image: {key, url, x, y, width, height, opacity, visible, smooth, img}
    this.overlays = new Map();
    this.highlight = null;       // {x, y, width, height} in image pixels (a selected object)
    this.roi = null;             // {polygon: [[x, y]…] | null, draft: [[x, y]…]}: the region of interest
    this.onViewChange = onViewChange;
    this.onCursor = onCursor;
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  resize() {
    const ratio = devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    this.canvas.height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    this.draw();
  }

  open(image) {
    this.image = image;
    this.plane = 0;
    this.window = null;
    this.composite = null;
    this.tiles.clear();
    this.strokes = [];
    this.overlays.clear();
    this.highlight = null;
    this.fit();
  }

  fit() {
    if (!this.image) { this.draw(); return; }
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    this.scale = Math.min(w / this.image.width, h / this.image.height) * 0.95;
    this.originX = (this.image.width - w / this.scale) / 2;
    this.originY = (this.image.height - h / this.scale) / 2;
    this.changed();
  }

  zoomAt(factor, screenX, screenY) {
    const [ix, iy] = this.toImage(screenX, screenY);
    this.scale = Math.min(64, Math.max(1 / 256, this.scale * factor));
    this.originX = ix - screenX / this.scale;
    this.originY = iy - screenY / this.scale;
    this.changed();
  }

  panBy(dx, dy) {
    this.originX -= dx / this.scale;
    this.originY -= dy / this.scale;
    this.changed();
  }

  changed() {
    this.draw();
    this.onViewChange?.();
  }

  toImage(screenX, screenY) {
    return [this.originX + screenX / this.scale, this.originY + screenY / this.scale];
  }

  // Brightness and contrast as multipliers (1 = unchanged), applied in the browser.
  setAdjustments(brightness, contrast) {
    this.filter = brightness === 1 && contrast === 1 ? "none" : `brightness(${brightness}) contrast(${contrast})`;
    this.draw();
  }

  // The visible part of the image, clipped to it, in whole image pixels (null when nothing shows).
  visibleRegion() {
    if (!this.image) return null;
    const [x0, y0] = this.toImage(0, 0);
    const [x1, y1] = this.toImage(this.canvas.clientWidth, this.canvas.clientHeight);
    const x = Math.max(0, Math.floor(x0)), y = Math.max(0, Math.floor(y0));
    const width = Math.min(this.image.width, Math.ceil(x1)) - x, height = Math.min(this.image.height, Math.ceil(y1)) - y;
    return width > 0 && height > 0 ? { x, y, width, height } : null;
  }

  // Centres the view on an image region.
  centreOn(region, zoom = true) {
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (zoom) this.scale = Math.min(8, Math.max(this.scale, Math.min(w / (region.width * 6), h / (region.height * 6))));
    this.originX = region.x + region.width / 2 - w / 2 / this.scale;
    this.originY = region.y + region.height / 2 - h / 2 / this.scale;
    this.changed();
  }

  // Shows plane `plane` of a stack.
  setPlane(plane) {
    if (!this.image) return;
    this.plane = Math.min(this.image.depth - 1, Math.max(0, plane));
    this.changed();
  }

  setWindow(window) {
    this.window = window;
    this.draw();
  }

  setComposite(spec) {
    this.composite = spec;
    this.draw();
  }

  // Level whose pixels are closest to (but not coarser than) screen pixels.
  level() {
    const ideal = Math.floor(Math.log2(1 / (this.scale * (devicePixelRatio || 1))));
    return Math.min(this.image.levelCount - 1, Math.max(0, ideal));
  }

  tile(level, x, y) {
    if (this.composite === "none") return null;
    const url = api.tileURL(this.image.id, level, x, y, this.window, this.plane, this.composite);
    let img = this.tiles.get(url);
    if (!img) {
      img = new Image();
      img.onload = () => this.draw();
      img.src = url;
      this.tiles.set(url, img);
      if (this.tiles.size > 800) this.tiles.delete(this.tiles.keys().next().value);
    }
    return img.complete && img.naturalWidth > 0 ? img : null;
  }

  draw() {
    const ctx = this.context, ratio = devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.image) return;
    ctx.setTransform(ratio * this.scale, 0, 0, ratio * this.scale, -this.originX * ratio * this.scale, -this.originY * ratio * this.scale);
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.filter = this.filter;
    // The coarsest level (one tile) is always drawn first, so panning never shows holes.
    const top = this.image.levelCount - 1;
    const overview = this.tile(top, 0, 0);
    if (overview) ctx.drawImage(overview, 0, 0, this.image.width, this.image.height);
    const level = this.level();
    if (level !== top) {
      const span = TILE << level;
      const [x0, y0] = this.toImage(0, 0);
      const [x1, y1] = this.toImage(this.canvas.clientWidth, this.canvas.clientHeight);
      const columns = Math.ceil(this.image.width / span), rows = Math.ceil(this.image.height / span);
      for (let ty = Math.max(0, Math.floor(y0 / span)); ty <= Math.min(rows - 1, Math.floor(y1 / span)); ty++) {
        for (let tx = Math.max(0, Math.floor(x0 / span)); tx <= Math.min(columns - 1, Math.floor(x1 / span)); tx++) {
          const img = this.tile(level, tx, ty);
          if (img) ctx.drawImage(img, tx * span, ty * span, img.naturalWidth << level, img.naturalHeight << level);
        }
      }
    }
    ctx.filter = "none";
    for (const overlay of this.overlays.values()) {
      const shown = overlay.current;
      // An overlay of one plane of a stack shows on that plane only.
      if (!overlay.visible || !shown || (shown.plane !== undefined && shown.plane !== this.plane)) continue;
      ctx.globalAlpha = overlay.opacity;
      ctx.imageSmoothingEnabled = !!overlay.smooth;
      ctx.drawImage(shown.img, shown.x, shown.y, shown.width, shown.height);
    }
    ctx.globalAlpha = this.strokesVisible ? this.strokeOpacity : 0;
    if (this.strokesVisible) for (const stroke of this.strokes) if ((stroke.plane ?? 0) === this.plane) this.drawStroke(stroke);
    ctx.globalAlpha = Math.max(this.strokeOpacity, 0.4);
    if (this.liveStroke) this.drawStroke(this.liveStroke);
    ctx.globalAlpha = 1;
    if (this.roi) this.drawRegionOfInterest();
    if (this.highlight) {
      const h = this.highlight, pad = 3 / this.scale;
      ctx.lineWidth = 2 / this.scale;
      ctx.strokeStyle = "#ffffff";
      ctx.setLineDash([6 / this.scale, 4 / this.scale]);
      ctx.strokeRect(h.x - pad, h.y - pad, h.width + 2 * pad, h.height + 2 * pad);
      ctx.setLineDash([]);
    }
  }

  // Adds or replaces an overlay image stretched over an image region (full image by default). Until
  // a new picture has loaded, the previous one stays on screen (no flicker while re-clustering).
  setOverlay(key, url, { x = 0, y = 0, width = this.image.width, height = this.image.height, opacity, visible, smooth = false, label = key,
                         plane } = {}) {
    const previous = this.overlays.get(key);
    const overlay = previous || { key, current: null };
    Object.assign(overlay, { label, url, smooth, plane, opacity: opacity ?? previous?.opacity ?? 0.5,
                             visible: visible ?? previous?.visible ?? true, loaded: previous?.current?.url === url, failed: false });
    if (!overlay.loaded) {
      const img = new Image();
      img.onload = () => {
        if (overlay.url !== url) return;   // a newer picture was asked for meanwhile
        overlay.current = { img, url, x, y, width, height, plane };
        overlay.loaded = true;
        this.draw();
      };
      img.onerror = () => { if (overlay.url === url) { overlay.failed = true; this.onOverlayError?.(overlay); } };
      img.src = url;
    }
    this.overlays.set(key, overlay);
    this.draw();
    return overlay;
  }

  removeOverlay(key) {
    this.overlays.delete(key);
    this.draw();
  }

  // Outside the polygon is dimmed (even-odd fill of the image rectangle with the polygon as a
  // hole); the outline is dashed; a polygon being drawn shows its points.
  drawRegionOfInterest() {
    const ctx = this.context, { polygon, draft } = this.roi, line = 1 / this.scale;
    if (polygon?.length >= 3) {
      ctx.beginPath();
      ctx.rect(0, 0, this.image.width, this.image.height);
      ctx.moveTo(polygon[0][0], polygon[0][1]);
      for (const [x, y] of polygon.slice(1)) ctx.lineTo(x, y);
      ctx.closePath();
      ctx.fillStyle = "rgba(0, 0, 0, 0.45)";
      ctx.fill("evenodd");
      ctx.beginPath();
      ctx.moveTo(polygon[0][0], polygon[0][1]);
      for (const [x, y] of polygon.slice(1)) ctx.lineTo(x, y);
      ctx.closePath();
      ctx.lineWidth = 2 * line;
      ctx.strokeStyle = "#ffd84d";
      ctx.setLineDash([8 * line, 5 * line]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (draft?.length) {
      ctx.beginPath();
      ctx.moveTo(draft[0][0], draft[0][1]);
      for (const [x, y] of draft.slice(1)) ctx.lineTo(x, y);
      ctx.lineWidth = 2 * line;
      ctx.strokeStyle = "#ffd84d";
      ctx.stroke();
      ctx.fillStyle = "#ffd84d";
      for (const [x, y] of draft) { ctx.beginPath(); ctx.arc(x, y, 4 * line, 0, 2 * Math.PI); ctx.fill(); }
    }
  }

  drawStroke(stroke) {
    const ctx = this.context;
    // Erase strokes (class 0) are drawn as a dark veil; class colours come from the page.
    ctx.strokeStyle = ctx.fillStyle = stroke.class === 0 ? "#000000" : this.colourOf(stroke.class);
    ctx.lineWidth = 2 * stroke.radius;
    ctx.lineCap = ctx.lineJoin = "round";
    const [first, ...rest] = stroke.points;
    ctx.beginPath();
    if (rest.length === 0) {
      ctx.arc(first[0], first[1], stroke.radius, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.moveTo(first[0], first[1]);
    for (const [x, y] of rest) ctx.lineTo(x, y);
    ctx.stroke();
  }

  // A scale bar about 120 screen pixels long with a round physical length, or null without spacing.
  scaleBar() {
    const spacing = this.image?.spacing;
    if (!spacing) return null;
    const perScreenPixel = spacing.x / this.scale;
    const target = 120 * perScreenPixel;
    const magnitude = 10 ** Math.floor(Math.log10(target));
    const nice = [1, 2, 5, 10].map((m) => m * magnitude).filter((v) => v <= target).pop() || magnitude;
    return { pixels: nice / perScreenPixel, label: `${+nice.toPrecision(3)} ${spacing.unit}` };
  }
}
