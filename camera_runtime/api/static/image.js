// The "Image" part of a channel's settings panel: one form per image stage the channel has
// (status.image: kind -> {enabled, options, error}), built from the status (image-fields.js),
// saved with PUT /api/channels/{id}/image/{kind}. A refusal (422 invalid_config, one line per
// problem with its key path) is shown next to the field it names and changes nothing else; the
// fields keep what was typed until it is saved or undone. "Preview" shows the picture with the
// form as it is, saving nothing (preview.js).

import { hasStatus, putForm } from "./api.js";
import { OptionField, fieldType, stageLabel } from "./image-fields.js";
import { AreasField } from "./mask.js";
import { closePreview, previewStage } from "./preview.js";
import { $, capitalised } from "./util.js";

const KIND = /^[a-z][a-z0-9_]*$/;

const section = {
  channelId: null,
  forms: new Map(), // stage kind -> StageForm
  readOnly: false,
  onStatus: () => {}, // (status) the API answered a save with: the whole panel follows it
  pictureSize: null, // [width, height] of the channel's picture (after the stages)
};

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function isStage(stage) {
  return (
    stage !== null &&
    typeof stage === "object" &&
    stage.options !== null &&
    typeof stage.options === "object" &&
    !Array.isArray(stage.options)
  );
}

/** What a form is built from: the option names and their inputs. */
function shape(kind, stage) {
  return JSON.stringify(
    Object.entries(stage.options).map(([name, value]) => [name, fieldType(kind, name, value)]),
  );
}

class StageForm {
  constructor(channelId, kind, stage) {
    this.channelId = channelId;
    this.kind = kind;
    this.shape = shape(kind, stage);
    this.fields = new Map();
    this.busy = false;
    this.enabledValue = stage.enabled === true;
    this.enabledDirty = false;

    const form = element("form", "image-stage");
    form.noValidate = true;
    form.dataset.kind = kind;
    const title = element("h4", "image-stage-title", stageLabel(kind));
    title.id = `img-${kind}-title`;
    form.setAttribute("aria-labelledby", title.id);
    const head = element("div", "control-head image-stage-head");
    this.enabled = element("input", "toggle");
    this.enabled.type = "checkbox";
    this.enabled.id = `img-${kind}-enabled`;
    this.enabled.setAttribute("role", "switch");
    this.enabled.setAttribute("aria-label", `${stageLabel(kind)} enabled`);
    this.enabled.checked = this.enabledValue;
    this.enabled.addEventListener("change", () => {
      this.enabledDirty = true;
      this.edited();
    });
    head.append(title, this.enabled);
    this.stageError = element("p", "notice image-stage-error");
    this.stageError.hidden = true;
    this.error = element("p", "control-error image-form-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    const body = element("div", "image-fields");
    const handlers = {
      channelId,
      onEdit: () => this.edited(),
      pictureSize: () => section.pictureSize,
    };
    for (const [name, value] of Object.entries(stage.options)) {
      const field =
        fieldType(kind, name, value) === "areas"
          ? new AreasField(kind, name, value, handlers)
          : new OptionField(kind, name, value, handlers);
      this.fields.set(name, field);
      body.append(field.el);
    }
    this.save = element("button", "primary image-save", "Save");
    this.save.type = "submit";
    this.undo = element("button", "ghost image-undo", "Undo changes");
    this.undo.type = "button";
    this.undo.addEventListener("click", () => this.revert());
    this.preview = element("button", "ghost image-preview", "Preview");
    this.preview.type = "button";
    this.preview.addEventListener("click", () => this.showPreview());
    const actions = element("div", "image-actions");
    actions.append(this.save, this.undo, this.preview);
    this.actions = actions;
    form.append(head, this.stageError, body, this.error, actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.el = form;
    this.showStageError(stage.error);
    this.setReadOnly(section.readOnly);
    this.edited(false);
  }

  fits(stage) {
    return shape(this.kind, stage) === this.shape;
  }

  /** A newer status of the stage: fields the user has not edited follow it. */
  update(stage) {
    this.enabledValue = stage.enabled === true;
    if (!this.enabledDirty) this.enabled.checked = this.enabledValue;
    for (const [name, field] of this.fields) field.update(stage.options[name]);
    this.showStageError(stage.error);
    this.edited(false);
  }

  showStageError(text) {
    this.stageError.textContent = typeof text === "string" && text ? capitalised(text) : "";
    this.stageError.hidden = !this.stageError.textContent;
  }

  /** Whether anything differs from the stage's saved state. */
  changed() {
    if (this.enabled.checked !== this.enabledValue) return true;
    return [...this.fields.values()].some((field) => field.dirty && field.changed());
  }

  edited(byUser = true) {
    if (byUser) this.clearFormError();
    this.el.dataset.changed = String(this.changed());
    this.undo.disabled = this.readOnly || !this.changed();
  }

  revert() {
    this.enabledDirty = false;
    this.enabled.checked = this.enabledValue;
    for (const field of this.fields.values()) {
      field.clearError();
      field.set(field.value);
    }
    this.clearFormError();
    this.edited(false);
  }

  clearFormError() {
    this.error.textContent = "";
    this.error.hidden = true;
  }

  showFormError(lines) {
    this.error.textContent = lines.join("\n");
    this.error.hidden = lines.length === 0;
  }

  /** The options the user changed, or null (each field that cannot be read says why). */
  changedOptions() {
    this.clearFormError();
    const options = {};
    let refused = false;
    for (const [name, field] of this.fields) {
      field.clearError();
      if (!field.dirty || !field.changed()) continue;
      const read = field.read();
      if (read.error !== undefined) {
        field.showError(read.error);
        refused = true;
      } else {
        options[name] = read.value;
      }
    }
    return refused ? null : options;
  }

  /** The picture with the stage as the form shows it (on or off, options changed or not). */
  async showPreview() {
    if (this.readOnly || this.busy) return;
    const options = this.changedOptions();
    if (options === null) return;
    const body = { enabled: this.enabled.checked };
    if (Object.keys(options).length > 0) body.options = options;
    this.busy = true;
    this.preview.disabled = true;
    try {
      await previewStage(this.channelId, this.kind, body, this.actions);
    } catch (err) {
      if (!hasStatus(err, 401)) this.showRefusal(err);
    } finally {
      this.busy = false;
      this.preview.disabled = this.readOnly;
    }
  }

  async submit() {
    if (this.readOnly || this.busy) return;
    const options = this.changedOptions();
    if (options === null) return;
    // Only what changed is sent: a switch or option changed elsewhere meanwhile (the mask's
    // control, Home Assistant) is not put back by a save of something else.
    const body = {};
    if (this.enabled.checked !== this.enabledValue) body.enabled = this.enabled.checked;
    if (Object.keys(options).length > 0) body.options = options;
    if (Object.keys(body).length === 0) {
      this.revert();
      return;
    }
    const url =
      `/api/channels/${encodeURIComponent(this.channelId)}` +
      `/image/${encodeURIComponent(this.kind)}`;
    const status = await putForm(this, url, body);
    if (status === null) return;
    // Saved: the fields are the stage's again, and show what the API answered.
    this.enabledDirty = false;
    for (const field of this.fields.values()) field.dirty = false;
    // The panel may have closed, or moved to another channel, while the request was out.
    const current = section.channelId === this.channelId && section.forms.get(this.kind) === this;
    if (current && status && typeof status === "object") section.onStatus(status);
  }

  /** The API's refusal: each line next to the field its key path names, the rest above the
   * buttons. "channels.front.image.osd.x: expected a number from 0 to 1" names `x`. */
  showRefusal(err) {
    const lines = Array.isArray(err.errors) && err.errors.length > 0 ? err.errors : [];
    const marker = `.image.${this.kind}.`;
    const unplaced = [];
    for (const line of lines) {
      const colon = line.indexOf(": ");
      const path = colon >= 0 ? line.slice(0, colon) : "";
      const message = colon >= 0 ? line.slice(colon + 2) : line;
      const at = path.indexOf(marker);
      const below = at >= 0 ? path.slice(at + marker.length) : "";
      const name = /^[^.[]+/.exec(below);
      const field = name ? this.fields.get(name[0]) : undefined;
      if (field) field.showError(field.errorText(below.slice(name[0].length), message));
      else unplaced.push(capitalised(message));
    }
    if (lines.length === 0) unplaced.push(err.message);
    this.showFormError(unplaced);
  }

  /** A save is answered: the buttons as the session's level allows. */
  idle() {
    this.save.disabled = this.readOnly;
    this.preview.disabled = this.readOnly;
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this.enabled.disabled = readOnly;
    this.save.disabled = readOnly || this.busy;
    this.preview.disabled = readOnly || this.busy;
    this.undo.disabled = readOnly || !this.changed();
    for (const field of this.fields.values()) field.setReadOnly(readOnly);
  }

  /** Redraw what depends on the page around (the areas over the live picture). */
  redraw() {
    for (const field of this.fields.values()) if (field.refresh) field.refresh();
  }

  remove() {
    for (const field of this.fields.values()) field.remove();
    this.el.remove();
  }
}

/** Show a channel's image stages (a status from the API or a push). `onStatus(status)` is
 * given the API's answer to a save. */
export function renderImage(channelId, status, { onStatus }) {
  if (section.channelId !== channelId) clearImage();
  section.channelId = channelId;
  section.onStatus = onStatus;
  if (Number(status.width) > 0 && Number(status.height) > 0) {
    section.pictureSize = [Number(status.width), Number(status.height)];
  }
  const image = status.image && typeof status.image === "object" ? status.image : {};
  const kinds = Object.keys(image).filter((kind) => KIND.test(kind) && isStage(image[kind]));
  for (const [kind, form] of section.forms) {
    if (!kinds.includes(kind)) {
      form.remove();
      section.forms.delete(kind);
    }
  }
  const list = $("image-forms");
  kinds.forEach((kind, index) => {
    let form = section.forms.get(kind);
    if (form && !form.fits(image[kind])) {
      form.remove();
      form = null;
    }
    if (form) {
      form.update(image[kind]);
    } else {
      form = new StageForm(channelId, kind, image[kind]);
      section.forms.set(kind, form);
    }
    if (list.children[index] !== form.el) list.insertBefore(form.el, list.children[index] || null);
    form.redraw();
  });
  $("image-group").hidden = kinds.length === 0;
}

/** The panel closed or shows another channel. */
export function clearImage() {
  closePreview();
  for (const form of section.forms.values()) form.remove();
  section.forms.clear();
  section.channelId = null;
  section.pictureSize = null;
  $("image-group").hidden = true;
}

/** The session's user level may not change settings: every form is read-only. */
export function setImageReadOnly(readOnly) {
  section.readOnly = readOnly;
  for (const form of section.forms.values()) form.setReadOnly(readOnly);
}
