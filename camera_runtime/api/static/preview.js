// An image stage's preview: the JPEG POST /api/channels/{id}/image/{kind}/preview answers (the
// channel's picture with the stage as the form shows it, nothing saved), shown over the live
// picture of the channel's tile, or in the panel when the channel is not in the live view,
// until "Close preview" (or the panel closes). One preview at a time.

import { authed } from "./api.js";
import { stageLabel } from "./image-fields.js";

const shown = { figure: null, url: null };

function tileOf(channelId) {
  return document.querySelector(`#live-grid .tile[data-channel-id="${CSS.escape(channelId)}"]`);
}

/** Ask for a preview of `kind` with `body` ({enabled, options}); shows it, or throws the API's
 * refusal (HttpError, its `errors` naming the fields) for the form to show. */
export async function previewStage(channelId, kind, body, fallback) {
  const url =
    `/api/channels/${encodeURIComponent(channelId)}` +
    `/image/${encodeURIComponent(kind)}/preview`;
  const picture = await authed("POST", url, body, { binary: true });
  showPreview(channelId, kind, picture, fallback);
}

function showPreview(channelId, kind, picture, fallback) {
  closePreview();
  const figure = document.createElement("figure");
  figure.className = "stage-preview";
  figure.dataset.kind = kind;
  const img = document.createElement("img");
  img.alt = `Preview of ${stageLabel(kind)}`;
  shown.url = URL.createObjectURL(picture);
  img.src = shown.url;
  const caption = document.createElement("figcaption");
  caption.textContent = `${stageLabel(kind)} preview · not saved`;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "ghost image-button stage-preview-close";
  close.textContent = "Close preview";
  close.addEventListener("click", () => closePreview());
  caption.append(close);
  figure.append(img, caption);
  const tile = tileOf(channelId);
  if (tile) tile.insertBefore(figure, tile.querySelector(".tile-settings"));
  else fallback.after(figure);
  figure.classList.toggle("in-panel", !tile);
  shown.figure = figure;
}

/** Take the preview away (the panel closed, another preview replaces it). */
export function closePreview() {
  if (shown.figure) shown.figure.remove();
  if (shown.url) URL.revokeObjectURL(shown.url);
  shown.figure = null;
  shown.url = null;
}
