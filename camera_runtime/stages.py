"""A channel's image stages: built once from its config, run in their fixed ``ORDER`` on each
decoded frame before anything is shown, stored or detected, and changed while running.

``process`` runs on the channel's worker thread; ``set`` and the read-only views may be called
from any thread (a lock guards the configs they share). A change is applied by the worker
before the next frame. A channel without stages pays nothing: its frames pass unchanged, not
copied.

A stage that cannot be built (its picture file went missing) stops the picture rather than
letting it pass unchanged: the channel reports the error and retries, as for a source that
fails. A privacy mask is never bypassed.

``preview`` shows what a change would look like (the web page's OSD preview) on stage objects
of its own: nothing live is used or changed, and a stage that hides pixels (``PRIVACY``) stays
in force with its live settings whatever the preview proposes for it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from .capabilities import Control
from .config import StageConfig
from .exceptions import NotFoundError
from .interfaces import ImageStage, StageContext
from .model import Frame, StageStatus
from .registry import PluginRegistry


class Step(Protocol):
    """A step of the channel's own among its stages (the ePTZ window): it runs at ``ORDER``
    among the stages' when ``active``, and its frames have its ``output_size`` (the stages
    after it are built for that). It hides nothing, so it does not count in the chain's
    ``active`` (the channel's streams ask it themselves)."""

    ORDER: ClassVar[int]

    @property
    def active(self) -> bool: ...

    def output_size(self, width: int, height: int) -> tuple[int, int]: ...

    def process(self, frame: Frame) -> Frame: ...


class StageChain:
    """The image stages of one channel.

    ``fps`` tells the frame rate the stages are built for (the source's); ``notify`` is called
    when what the status shows changed. ``steps`` run among the stages by their ``ORDER``.
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
        steps: Sequence[Step] = (),
    ) -> None:
        self._steps = sorted(steps, key=lambda step: step.ORDER)
        self._channel_id = channel_id
        self._channel_name = channel_name
        self._registry = registry
        self._fps = fps
        self._notify = notify
        self._configs: dict[str, StageConfig] = dict(configs)
        #: ``active``, kept up to date under the lock: it is asked for every packet of every
        #: passed-through stream, where a scan of the configs (a lock, a generator) adds up.
        self._active = any(c.enabled for c in self._configs.values())
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
        return self._active

    def ordered(self) -> list[StageConfig]:
        """The enabled stages' configs in the order they run: ``ORDER``, then kind."""
        with self._lock:
            configs = [c for c in self._configs.values() if c.enabled]
        return sorted(configs, key=self._order)

    def _order(self, config: StageConfig) -> tuple[int, str]:
        return self._registry.image_stage(config.kind).ORDER, config.kind

    def _changed_config(
        self, kind: str, enabled: bool | None, options: Mapping[str, Any] | None
    ) -> tuple[StageConfig, StageConfig]:
        """``(current, changed)`` config of ``kind``; the caller holds the lock."""
        current = self._configs.get(kind)
        if current is None:
            raise NotFoundError(
                f"channel {self._channel_id!r} has no image stage {kind!r}",
                "image_stage_not_found",
            )
        changed = dataclasses.replace(
            current,
            enabled=current.enabled if enabled is None else enabled,
            options=current.options if options is None else options,
        )
        return current, changed

    def set(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change a stage's enabled flag and/or options (already validated by its schema);
        applied by the worker before the next frame."""
        with self._lock:
            current, updated = self._changed_config(kind, enabled, options)
            if updated == current:
                return
            self._configs[kind] = updated
            self._active = any(c.enabled for c in self._configs.values())
            self._changed.add(kind)
            self._dirty = True
        self._notify()

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size of the frames the chain returns for frames of ``width`` x ``height``."""
        steps = [step for step in self._steps if step.active]
        for cfg in self.ordered():
            cls = self._registry.image_stage(cfg.kind)
            while steps and steps[0].ORDER < cls.ORDER:
                width, height = steps.pop(0).output_size(width, height)
            width, height = cls.output_size(cfg.options, width, height)
        for step in steps:
            width, height = step.output_size(width, height)
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

    def preview(
        self,
        frame: Frame,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Frame:
        """``frame`` (as decoded, before any stage) through the stages as they would be with
        ``kind`` changed (options already validated), on new stage objects: the live chain
        is neither used nor changed. A stage that hides pixels (``PRIVACY``) and is on now
        stays in the chain with its live settings, the proposed ones after it: a preview
        never shows what the live picture hides. Blocking (runs the stages)."""
        with self._lock:
            current, proposed = self._changed_config(kind, enabled, options)
            others = [c for c in self._configs.values() if c.enabled and c.kind != kind]
        chain = [(self._order(c), 0, c) for c in others]
        if proposed.enabled:
            chain.append((self._order(proposed), 1, proposed))
        if current.enabled and self._registry.image_stage(kind).PRIVACY:
            chain.append((self._order(current), 0, current))
        configs = [config for *_, config in sorted(chain, key=lambda entry: entry[:2])]
        for _, stage in self._instances(configs, frame.width, frame.height, {}, ()):
            frame = stage.process(frame)
        return frame

    def _instances(
        self,
        configs: list[StageConfig],
        width: int,
        height: int,
        built: Mapping[str, ImageStage],
        changed: Collection[str],
        steps: Sequence[Step] = (),
    ) -> list[tuple[str, ImageStage]]:
        """Stage objects for ``configs`` in that order, for frames of ``width`` x ``height``:
        one of ``built`` is kept when its config (not in ``changed``) and the size of the
        frames it receives are the same (its state goes on), else a new one is made.
        ``steps`` run among them (their sizes count)."""
        stages: list[tuple[str, ImageStage]] = []
        w, h = width, height
        fps = self._fps()
        steps = list(steps)
        for cfg in configs:
            cls = self._registry.image_stage(cfg.kind)
            while steps and steps[0].ORDER < cls.ORDER:
                w, h = steps.pop(0).output_size(w, h)
            context = StageContext(self._channel_id, self._channel_name, w, h, fps)
            stage = built.get(cfg.kind)
            if stage is None or cfg.kind in changed or stage.context != context:
                stage = cls(cfg.options, context)
            stages.append((cfg.kind, stage))
            w, h = cls.output_size(cfg.options, w, h)
        return stages

    # ----------------------------------------------------------------- worker thread

    def process(self, frame: Frame) -> Frame:
        """Run every enabled stage on ``frame``, in order."""
        if self._dirty or (frame.width, frame.height) != self._input:
            self._build(frame.width, frame.height)
        steps = [step for step in self._steps if step.active]
        for _, stage in self._stages:
            while steps and steps[0].ORDER < stage.ORDER:
                frame = steps.pop(0).process(frame)
            frame = stage.process(frame)
        for step in steps:
            frame = step.process(frame)
        return frame

    def _build(self, width: int, height: int) -> None:
        """(Re)build the stages for frames of this size (``_instances``)."""
        with self._lock:
            changed, self._changed = self._changed, set()
            self._dirty = False
        try:
            steps = [step for step in self._steps if step.active]
            built = dict(self._stages)
            stages = self._instances(self.ordered(), width, height, built, changed, steps)
        except BaseException:
            # Nothing passes with the old stages: the next frame tries the change again.
            with self._lock:
                self._changed |= changed
                self._dirty = True
            raise
        self._stages = stages
        self._input = (width, height)


__all__ = ["StageChain", "Step"]
