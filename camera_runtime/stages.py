"""A channel's image stages: built once from its config, run in their fixed ``ORDER`` on each
decoded frame before anything is shown, stored or detected, and changed while running.

``process`` runs on the channel's worker thread; ``set`` and the read-only views may be called
from any thread (a lock guards the configs they share). A change is applied by the worker
before the next frame. A channel without stages pays nothing: its frames pass unchanged, not
copied.

A stage that cannot be built (its picture file went missing) stops the picture rather than
letting it pass unchanged: the channel reports the error and retries, as for a source that
fails. A privacy mask is never bypassed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .capabilities import Control
from .config import StageConfig
from .exceptions import NotFoundError
from .interfaces import ImageStage, StageContext
from .model import Frame, StageStatus
from .registry import PluginRegistry


class StageChain:
    """The image stages of one channel.

    ``fps`` tells the frame rate the stages are built for (the source's); ``notify`` is called
    when what the status shows changed.
    """

    def __init__(
        self,
        channel_id: str,
        channel_name: str,
        configs: Mapping[str, StageConfig],
        registry: PluginRegistry,
        *,
        fps: Callable[[], float] = lambda: 0.0,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._channel_id = channel_id
        self._channel_name = channel_name
        self._registry = registry
        self._fps = fps
        self._notify = notify
        self._configs: dict[str, StageConfig] = dict(configs)
        self._lock = threading.Lock()
        self._changed: set[str] = set(configs)
        self._dirty = bool(configs)
        self._stages: list[tuple[str, ImageStage]] = []
        self._input: tuple[int, int] = (0, 0)
        for kind in configs:
            registry.image_stage(kind)  # an unknown kind fails here, not at the first frame

    # ----------------------------------------------------------------- any thread

    @property
    def configs(self) -> Mapping[str, StageConfig]:
        return self._configs

    @property
    def active(self) -> bool:
        """Whether any stage is on: then the source's packets must not leave the channel
        unchanged (a stream or recording re-encodes the staged frames instead), or a privacy
        mask would be bypassed."""
        with self._lock:
            return any(c.enabled for c in self._configs.values())

    def ordered(self) -> list[StageConfig]:
        """The enabled stages' configs in the order they run: ``ORDER``, then kind."""
        with self._lock:
            configs = [c for c in self._configs.values() if c.enabled]
        return sorted(configs, key=lambda c: (self._registry.image_stage(c.kind).ORDER, c.kind))

    def set(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change a stage's enabled flag and/or options (already validated by its schema);
        applied by the worker before the next frame."""
        with self._lock:
            current = self._configs.get(kind)
            if current is None:
                raise NotFoundError(
                    f"channel {self._channel_id!r} has no image stage {kind!r}",
                    "image_stage_not_found",
                )
            updated = dataclasses.replace(
                current,
                enabled=current.enabled if enabled is None else enabled,
                options=current.options if options is None else options,
            )
            if updated == current:
                return
            self._configs[kind] = updated
            self._changed.add(kind)
            self._dirty = True
        self._notify()

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size of the frames the chain returns for frames of ``width`` x ``height``."""
        for cfg in self.ordered():
            cls = self._registry.image_stage(cfg.kind)
            width, height = cls.output_size(cfg.options, width, height)
        return width, height

    def status(self) -> dict[str, StageStatus]:
        with self._lock:
            configs = dict(self._configs)
        return {
            kind: {"enabled": c.enabled, "options": dict(c.options)} for kind, c in configs.items()
        }

    def controls(self) -> list[tuple[str, Control, Any]]:
        """``(stage kind, control, current value)`` for every stage's controls."""
        with self._lock:
            configs = dict(self._configs)
        out = []
        for kind, cfg in configs.items():
            for control in self._registry.image_stage(kind).controls(cfg.options):
                value = cfg.enabled if control.sets == "enabled" else cfg.options.get(control.sets)
                out.append((kind, control, value))
        return out

    # ----------------------------------------------------------------- worker thread

    def process(self, frame: Frame) -> Frame:
        """Run every enabled stage on ``frame``, in order."""
        if self._dirty or (frame.width, frame.height) != self._input:
            self._build(frame.width, frame.height)
        for _, stage in self._stages:
            frame = stage.process(frame)
        return frame

    def _build(self, width: int, height: int) -> None:
        """(Re)build the stages for frames of this size: a stage is kept when its config and
        the size of the frames it receives are unchanged (its state goes on), else rebuilt."""
        with self._lock:
            changed, self._changed = self._changed, set()
            self._dirty = False
        built = dict(self._stages)
        stages: list[tuple[str, ImageStage]] = []
        w, h = width, height
        fps = self._fps()
        try:
            for cfg in self.ordered():
                cls = self._registry.image_stage(cfg.kind)
                context = StageContext(self._channel_id, self._channel_name, w, h, fps)
                stage = built.get(cfg.kind)
                if stage is None or cfg.kind in changed or stage.context != context:
                    stage = cls(cfg.options, context)
                stages.append((cfg.kind, stage))
                w, h = cls.output_size(cfg.options, w, h)
        except BaseException:
            # Nothing passes with the old stages: the next frame tries the change again.
            with self._lock:
                self._changed |= changed
                self._dirty = True
            raise
        self._stages = stages
        self._input = (width, height)


__all__ = ["StageChain"]
