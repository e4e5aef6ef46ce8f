// The areas of a stage (a privacy mask's polygons), drawn over the channel's live picture:
// the saved areas are shown on its tile; "Draw an area" turns the picture into a canvas where
// each click adds a corner (normalised 0..1 of the picture's width and height), "Close the area"
// (or a click on the first corner) ends it. The list in the panel deletes one. Nothing is sent
// until the stage's form is saved; the API checks the polygons (a crossed one is refused).
//
// The overlay is an SVG over the tile whose viewBox is the picture's size: with "meet" it is
// scaled and centred exactly like the picture (object-fit: contain), so a click maps to the
// picture's pixels through the SVG's own transform.

import { OptionField } from "./image-fields.js";
import { tilePictureSize } from "./live.js";
import { svgElement } from "./util.js";

const MAX_AREAS = 4;
const MIN_POINTS = 3;
const MAX_POINTS = 10;
const CLOSE_DISTANCE_PX = 10; // a click this near the first corner closes the area
const DIGITS = 10000; // points are kept to 4 decimals (a tenth of a pixel at 1920)

function button(text, onClick) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = "ghost image-button";
  el.textContent = text;
  el.addEventListener("click", onClick);
  return el;
}

function clone(areas) {
  return Array.isArray(areas) ? areas.map((poly) => poly.map(([x, y]) => [x, y])) : [];
}

function round(value) {
  return Math.round(Math.min(Math.max(value, 0), 1) * DIGITS) / DIGITS;
}

/** The areas option: a list in the panel and the polygons over the live picture. */
export class AreasField extends OptionField {
  build() {
    super.build();
    this.areas = []; // the areas as edited (the saved ones until the user changes them)
    this.drawing = null; // the corners of the area being drawn, or null
    this.readOnly = false;
    this.list = document.createElement("ol");
    this.list.className = "mask-list";
    this.status = document.createElement("p");
    this.status.className = "image-hint";
    this.status.setAttribute("role", "status");
    this.drawButton = button("Draw an area", () => this.startDrawing());
    this.closeButton = button("Close the area", () => this.closeArea());
    this.cancelButton = button("Cancel drawing", () => this.cancelDrawing());
    const actions = document.createElement("div");
    actions.className = "image-actions";
    actions.append(this.drawButton, this.closeButton, this.cancelButton);
    this.input.append(this.list, actions, this.status);

    this.overlay = svgElement("svg", { class: "mask-overlay", "aria-hidden": "true" });
    this.overlay.dataset.channelId = this.handlers.channelId || "";
    this.overlay.addEventListener("click", (event) => this.onPictureClick(event));
    // A click on the picture leaves the keyboard where it was (on "Close the area").
    this.overlay.addEventListener("mousedown", (event) => {
      if (this.drawing) event.preventDefault();
    });
    // Escape while drawing drops the area being drawn (and leaves the panel open).
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.drawing) {
        event.preventDefault();
        event.stopPropagation();
        this.cancelDrawing();
      }
    });
    // The live grid is laid out again when the division or page changes: follow the tile.
    this.observer = new MutationObserver(() => this.refresh());
    const grid = document.getElementById("live-grid");
    if (grid) this.observer.observe(grid, { childList: true });
  }

  set(value) {
    this.value = value;
    this.dirty = false;
    this.areas = clone(value);
    this.drawing = null;
    this.refresh();
  }

  read() {
    if (this.drawing) return { error: "Close the area being drawn, or cancel it." };
    return { value: clone(this.areas) };
  }

  errorText(rest, message) {
    const index = /^\[(\d+)\]/.exec(rest || "");
    if (!index) return super.errorText(rest, message);
    return `Area ${Number(index[1]) + 1}: ${message}`;
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    if (readOnly) this.drawing = null;
    this.refresh();
  }

  remove() {
    this.observer.disconnect();
    this.overlay.remove();
    super.remove();
  }

  edited() {
    this.dirty = true;
    this.clearError();
    if (this.handlers.onEdit) this.handlers.onEdit(this);
    this.refresh();
  }

  startDrawing() {
    if (this.readOnly || this.areas.length >= MAX_AREAS) return;
    this.drawing = [];
    this.edited();
    this.cancelButton.focus(); // "Draw an area" is hidden while drawing
  }

  cancelDrawing() {
    const focused = this.input.contains(document.activeElement);
    this.drawing = null;
    this.refresh();
    if (focused) this.drawButton.focus();
  }

  closeArea() {
    if (!this.drawing || this.drawing.length < MIN_POINTS) return;
    const focused = this.input.contains(document.activeElement);
    this.areas.push(this.drawing);
    this.drawing = null;
    this.edited();
    if (focused) this.drawButton.focus();
  }

  deleteArea(index) {
    if (this.readOnly) return;
    this.areas.splice(index, 1);
    this.edited();
  }

  /** The tile showing this channel, if it is in the live view. */
  tile() {
    const id = this.handlers.channelId || "";
    return document.querySelector(`#live-grid .tile[data-channel-id="${CSS.escape(id)}"]`);
  }

  /** The picture's size in pixels: the decoded picture's, else the channel's status. */
  pictureSize(tile) {
    return tilePictureSize(tile, this.handlers.pictureSize);
  }

  onPictureClick(event) {
    if (!this.drawing || this.readOnly) return;
    event.preventDefault();
    event.stopPropagation();
    const matrix = this.overlay.getScreenCTM();
    if (!matrix) return;
    const [width, height] = this.size;
    const first = this.drawing[0];
    if (first && this.drawing.length >= MIN_POINTS) {
      const corner = new DOMPoint(first[0] * width, first[1] * height).matrixTransform(matrix);
      if (Math.hypot(corner.x - event.clientX, corner.y - event.clientY) <= CLOSE_DISTANCE_PX) {
        this.closeArea();
        return;
      }
    }
    if (this.drawing.length >= MAX_POINTS) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const x = point.x / width;
    const y = point.y / height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return; // on the black bars beside the picture
    this.drawing.push([round(x), round(y)]);
    this.refresh();
    if (this.drawing.length === MIN_POINTS && this.input.contains(document.activeElement)) {
      this.closeButton.focus(); // Enter now closes the area
    }
  }

  /** The panel's list, buttons and hint, and the overlay. */
  refresh() {
    if (!this.list) return; // still being built
    const items = this.areas.map((poly, index) => {
      const item = document.createElement("li");
      item.className = "mask-item";
      item.dataset.index = String(index);
      const text = document.createElement("span");
      text.textContent = `Area ${index + 1} · ${poly.length} corners`;
      const remove = button("Delete", () => this.deleteArea(index));
      remove.setAttribute("aria-label", `Delete area ${index + 1}`);
      remove.disabled = this.readOnly || this.drawing !== null;
      item.append(text, remove);
      return item;
    });
    this.list.replaceChildren(...items);
    const drawing = this.drawing !== null;
    const visible = this.tile() !== null;
    this.drawButton.hidden = drawing;
    this.drawButton.disabled = this.readOnly || this.areas.length >= MAX_AREAS || !visible;
    this.closeButton.hidden = !drawing;
    this.closeButton.disabled = !drawing || this.drawing.length < MIN_POINTS;
    this.cancelButton.hidden = !drawing;
    this.cancelButton.disabled = this.readOnly;
    let hint = "";
    if (drawing) {
      const count = this.drawing.length;
      hint =
        count >= MAX_POINTS
          ? `${count} corners, the most an area has: close it.`
          : `${count} corners. Click on the picture to add one (${MIN_POINTS} to ${MAX_POINTS}).`;
    } else if (!visible && !this.readOnly) {
      hint = "Show this channel in the live view to draw on its picture.";
    } else if (this.areas.length >= MAX_AREAS) {
      hint = `${MAX_AREAS} areas, the most a mask has.`;
    } else if (this.areas.length === 0) {
      hint = "No area: draw one.";
    }
    this.status.textContent = hint;
    this.status.hidden = !hint;
    this.draw();
  }

  /** Draw the areas (and the one being drawn) over the channel's tile. */
  draw() {
    const tile = this.tile();
    if (!tile || !this.el.isConnected) {
      this.overlay.remove();
      return;
    }
    if (this.overlay.parentNode !== tile) {
      tile.insertBefore(this.overlay, tile.querySelector(".tile-settings"));
    }
    const [width, height] = this.pictureSize(tile);
    this.size = [width, height];
    this.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.overlay.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.overlay.classList.toggle("drawing", this.drawing !== null);
    const scaled = (poly) => poly.map(([x, y]) => `${x * width},${y * height}`).join(" ");
    const shapes = this.areas.map((poly, index) =>
      svgElement("polygon", {
        class: this.dirty ? "mask-area unsaved" : "mask-area",
        points: scaled(poly),
        "data-index": index,
      }),
    );
    if (this.drawing) {
      shapes.push(svgElement("polyline", { class: "mask-drawing", points: scaled(this.drawing) }));
      const radius = Math.max(width, height) / 160;
      for (const [x, y] of this.drawing) {
        shapes.push(
          svgElement("circle", { class: "mask-corner", cx: x * width, cy: y * height, r: radius }),
        );
      }
    }
    this.overlay.replaceChildren(...shapes);
  }
}
