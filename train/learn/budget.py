"""Training to a deadline: ``train()`` in a few resumable chunks sized from the measured speed.

A learn job has a wall-time budget, but ``train()`` takes a step count. So each network trains in
chunks that continue one checkpoint (``--resume`` semantics, bit-exact). A short calibration chunk
measures seconds per step and the fixed cost of a chunk on this machine as it is loaded now. Then
main chunks run until only a final stretch is left (15 % of the phase, at least a minute): each
is sized from the latest speed. The final chunk, sized from the freshest measurement, ends at the
deadline and carries the learning-rate decay (``lr_decay`` may change on resume).

When the machine slows down during a chunk (other jobs start), the chunk would overrun: so the
step hook ends it at the first checkpointed step (``save_every``) past its time limit, by raising
out of ``train()`` right after ``train()`` saved that step; the next chunk resumes there. A Ctrl-C
or a crash loses at most the steps since the last checkpoint.
"""

from __future__ import annotations

import itertools
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from stylecam.train.config import DEFAULT_SAVE_EVERY, RunOptions
from stylecam.train.loop.engine import TrainState
from stylecam.train.loop.runner import train
from stylecam.train.losses.criterion import LossTerms

log = logging.getLogger(__name__)

StepHook = Callable[[str, TrainState, LossTerms, int], None]  # (phase name, state, terms, planned total steps)
# The final chunk gets this share of the phase (at least FINAL_MIN_SECONDS): short enough that a
# change of speed during it costs little, long enough for the decay. Every chunk costs a fixed
# ~5-15 s on a busy 2-core CPU (setup, the end-of-run sample, saving), so chunks are few.
FINAL_SHARE = 0.15
FINAL_MIN_SECONDS = 60.0
MAIN_AT_LEAST = 2.5  # another main chunk only when it would be longer than the final one (each costs a setup)
MARGIN = 0.97  # of the time left: speed varies on a shared machine, and overrunning is worse than ending early
RECENT_STEPS = 8  # the speed is the median of the last few step times (the load changes)


class _TimeUp(Exception):
    """Raised by the step hook at a checkpointed step past the chunk's time limit: the chunk ends there."""


class Clock:
    """Seconds the job has run: earlier sessions (an interrupted job) plus this one."""

    def __init__(self, spent_before: float = 0.0) -> None:
        self.before = spent_before
        self.start = time.monotonic()

    def now(self) -> float:
        return self.before + time.monotonic() - self.start


@dataclass(frozen=True)
class Phase:
    """One training (a network, or one stage of it): the run options and settings of its first chunk, and its
    step limits."""

    name: str  # "reference", "lite-pixel", "lite-style": the on_step hook and the logs name it
    options: RunOptions  # ``init`` is used only while no checkpoint exists
    settings: dict[str, Any]  # TrainConfig fields (steps and lr_decay are set per chunk)
    lr_decay: float
    calibration_steps: int
    min_steps: int
    max_steps: int | None = None


@dataclass
class Speed:
    """What the chunks measured: seconds per step and the fixed cost of one chunk."""

    step_seconds: float = 0.0
    overhead_seconds: float = 0.0


class PhaseRunner:
    """Trains one :class:`Phase` until a deadline on the job's :class:`Clock` (see the module doc)."""

    def __init__(self, phase: Phase, clock: Clock, *, step: int, on_step: StepHook | None = None) -> None:
        self.phase, self.clock, self.step = phase, clock, step
        self.on_step = on_step
        self.speed = Speed()
        self.chunks = 0
        self._planned = step

    def _hook(self, stamps: list[float], stop_at: float) -> Callable[[TrainState, LossTerms], None]:
        save_every = self.phase.options.save_every
        save_every = DEFAULT_SAVE_EVERY if save_every is None else save_every  # the job always sets it

        def hook(state: TrainState, terms: LossTerms) -> None:
            stamps.append(time.monotonic())
            self.step = state.step
            if self.on_step is not None:
                self.on_step(self.phase.name, state, terms, self._planned)
            # train() saved this step's checkpoint before calling us: stopping here loses nothing.
            saved = save_every > 0 and state.step % save_every == 0 and state.step < self._planned
            if saved and self.clock.now() >= stop_at:
                raise _TimeUp

        return hook

    def _chunk(self, total: int, lr_decay: float, stop_at: float) -> None:
        """Train from the current step to ``total`` (or to a checkpoint past ``stop_at``); measure the speed."""
        phase = self.phase
        output = phase.options.output
        assert output is not None
        if self.step > 0:
            options = replace(phase.options, init=None, resume=output)
            settings: dict[str, Any] = {"steps": total, "lr_decay": lr_decay}
        else:
            options = replace(phase.options, resume=None)
            settings = {**phase.settings, "steps": total, "lr_decay": lr_decay}
        self._planned = total
        stamps: list[float] = []
        started = time.monotonic()
        try:
            train(options, settings, on_step=self._hook(stamps, stop_at))
        except _TimeUp:
            log.debug("%s: the chunk to step %d ran out of time; it ends at step %d", phase.name, total, self.step)
        ended = time.monotonic()
        self.chunks += 1
        gaps = [b - a for a, b in itertools.pairwise(stamps)][-RECENT_STEPS:]
        if gaps:
            self.speed.step_seconds = statistics.median(gaps)
        elif stamps:  # a one-step chunk: all we know is its whole duration
            self.speed.step_seconds = self.speed.step_seconds or (stamps[0] - started)
        # The fixed cost is the time outside the steps (setup before the first, sample and save after
        # the last): taken from the whole chunk minus steps x speed, a chunk whose steps got faster
        # would count its slow early steps as overhead and leave the final chunk no time at all.
        if stamps:
            before = max(0.0, stamps[0] - started - self.speed.step_seconds)
            self.speed.overhead_seconds = before + (ended - stamps[-1])
        else:
            self.speed.overhead_seconds = ended - started
        log.debug(
            "%s: chunk to step %d took %.1f s (%.2f s/step, %.1f s fixed)",
            phase.name,
            total,
            ended - started,
            self.speed.step_seconds,
            self.speed.overhead_seconds,
        )

    def _affordable(self, seconds: float) -> int:
        """The step count that ``seconds`` from now pays for (one chunk's fixed cost included)."""
        left = MARGIN * seconds - self.speed.overhead_seconds
        per_step = max(self.speed.step_seconds, 1e-3)
        return self.step + max(0, math.floor(left / per_step))

    def _capped(self, total: int) -> int:
        phase = self.phase
        total = max(total, phase.min_steps)
        return min(total, phase.max_steps) if phase.max_steps is not None else total

    def run(self, deadline: float) -> int:
        """Train until ``deadline`` (job-clock seconds); returns the last step. KeyboardInterrupt passes through
        after ``train()`` saved its checkpoint."""
        phase = self.phase
        final_stretch = max(FINAL_MIN_SECONDS, FINAL_SHARE * (deadline - self.clock.now()))
        calibration = self.step + phase.calibration_steps
        if phase.max_steps is not None:
            calibration = min(calibration, phase.max_steps)
        if calibration > self.step:
            self._chunk(calibration, 0.0, deadline - final_stretch)
        while deadline - self.clock.now() > MAIN_AT_LEAST * final_stretch:
            target = self._capped(self._affordable(deadline - self.clock.now() - final_stretch))
            if target <= self.step or (phase.max_steps is not None and target >= phase.max_steps):
                break
            self._chunk(target, 0.0, deadline - final_stretch)
        target = self._capped(self._affordable(deadline - self.clock.now()))
        if target > self.step:  # at least min_steps, even when the budget is spent
            left = target - self.step
            minimum_left = self.step < phase.min_steps  # a job past its budget still gets its minimum
            stop_at = float("inf") if minimum_left else deadline
            self._chunk(target, min(phase.lr_decay, left / target) if phase.lr_decay else 0.0, stop_at)
        return self.step
