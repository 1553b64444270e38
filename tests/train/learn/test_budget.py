"""Training to a deadline in resumable chunks (``budget.PhaseRunner``), with a simulated train() and clock."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stylecam.train.config import RunOptions
from stylecam.train.learn import budget
from stylecam.train.learn.budget import Clock, Phase, PhaseRunner


class FakeTrain:
    """train() that 'takes' ``per_step`` seconds a step and ``fixed`` seconds a call, on a fake clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, per_step: float, fixed: float) -> None:
        self.now, self.per_step, self.fixed = 0.0, per_step, fixed
        self.step = 0
        self.calls: list[tuple[RunOptions, dict[str, Any]]] = []
        monkeypatch.setattr(budget.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(budget, "train", self)

    def __call__(self, options: RunOptions, settings: dict[str, Any], on_step: Any) -> None:
        self.calls.append((options, settings))
        self.now += self.fixed / 2
        for step in range(self.step + 1, settings["steps"] + 1):
            self.now += self.per_step
            self.step = step
            on_step(SimpleNamespace(step=step), SimpleNamespace())
        self.now += self.fixed / 2


def _phase(save_every: int = 0, **limits: Any) -> Phase:
    options = RunOptions(
        style="p.png", data=Path("photos"), output=Path("net.pt"), init=Path("init.pt"), save_every=save_every
    )
    values = {"calibration_steps": 3, "min_steps": 5, "max_steps": None, **limits}
    return Phase("reference", options, {"size": 128, "batch_size": 2}, 0.3, **values)


def test_chunks_end_at_the_deadline_with_the_decay_last(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=2.0, fixed=10.0)
    runner = PhaseRunner(_phase(), Clock(), step=0)
    assert runner.run(deadline=900.0) == fake.step
    assert 850 <= fake.now <= 900  # used the budget, did not overrun it
    (first, first_settings), *rest = fake.calls
    assert first.init == Path("init.pt") and first.resume is None and first_settings["size"] == 128
    assert first_settings["steps"] == 3  # the calibration chunk
    assert len(fake.calls) == 3  # calibration, main (over five minutes left), final
    for options, settings in rest:  # resumed: only the step count and the decay may change
        assert options.resume == Path("net.pt") and options.init is None
        assert set(settings) == {"steps", "lr_decay"}
    decays = [settings["lr_decay"] for _, settings in fake.calls]
    assert decays[:-1] == [0.0, 0.0] and 0 < decays[-1] <= 0.3
    final_chunk = fake.calls[-1][1]["steps"] - fake.calls[-2][1]["steps"]
    assert decays[-1] <= final_chunk / fake.calls[-1][1]["steps"]  # the decay happens inside the final chunk


def test_a_short_phase_has_no_main_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=1.0, fixed=5.0)
    PhaseRunner(_phase(), Clock(), step=0).run(deadline=80.0)
    assert len(fake.calls) == 2 and 70 <= fake.now <= 80.0


def test_a_machine_that_gets_faster_still_uses_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=4.0, fixed=10.0)
    original = fake.__call__

    def speeding_up(options: RunOptions, settings: dict[str, Any], on_step: Any) -> None:
        original(options, settings, on_step)
        fake.per_step = max(1.0, fake.per_step / 2)  # the other jobs on the machine end

    monkeypatch.setattr(budget, "train", speeding_up)
    PhaseRunner(_phase(), Clock(), step=0).run(deadline=900.0)
    assert len(fake.calls) >= 4  # calibration, main chunks re-sized to the new speed, final
    assert 840 <= fake.now <= 900


def test_the_minimum_is_trained_even_past_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=10.0, fixed=5.0)
    assert PhaseRunner(_phase(min_steps=8), Clock(spent_before=1000.0), step=0).run(deadline=900.0) == 8
    assert [settings["steps"] for _, settings in fake.calls] == [3, 8]


def test_the_cap_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=0.1, fixed=1.0)
    assert PhaseRunner(_phase(min_steps=2, max_steps=4), Clock(), step=0).run(deadline=600.0) == 4
    assert [settings["steps"] for _, settings in fake.calls] == [3, 4]


def test_a_resumed_phase_continues_from_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=1.0, fixed=2.0)
    fake.step = 40
    runner = PhaseRunner(_phase(), Clock(spent_before=100.0), step=40)
    runner.run(deadline=160.0)
    options, settings = fake.calls[0]
    assert options.resume == Path("net.pt") and settings["steps"] == 43
    assert fake.step > 43 and fake.now <= 60.0


def test_the_time_spent_before_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTrain(monkeypatch, per_step=1.0, fixed=0.0)
    clock = Clock(spent_before=30.0)
    assert clock.now() == 30.0


def test_a_machine_that_slows_down_stops_at_a_checkpoint_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=1.0, fixed=4.0)
    original = fake.__call__

    cut_at: list[int] = []

    def slowing_down(options: RunOptions, settings: dict[str, Any], on_step: Any) -> None:
        try:
            original(options, settings, on_step)
        finally:
            cut_at.append(fake.step)
            fake.per_step = 3.0  # the calibration was fast; then other jobs start
            if fake.step < settings["steps"] and fake.step % 5:  # cut short: only where train() saved
                raise AssertionError(f"stopped at step {fake.step}, between checkpoints")

    monkeypatch.setattr(budget, "train", slowing_down)
    steps = PhaseRunner(_phase(save_every=5), Clock(), step=0).run(deadline=600.0)
    assert fake.now <= 600.0 + 5 * 3.0 + 4.0  # at most one checkpoint interval and a chunk's setup late
    assert steps == fake.step
    assert any(settings["steps"] > fake_step for (_, settings), fake_step in zip(fake.calls, cut_at))


def test_a_chunk_out_of_time_really_stops_at_its_checkpoint_and_resumes(tmp_path: Path, one_thread: None) -> None:
    """The real train(): ended from the step hook right after a checkpoint, then resumed from it."""
    pytest.importorskip("torch")
    import cv2

    from stylecam.train.loop.checkpoint import load_checkpoint

    from ...conftest import make_painting
    from ..conftest import write_photos

    write_photos(tmp_path / "photos", 4)
    cv2.imwrite(str(tmp_path / "painting.png"), make_painting(64, 64))
    options = RunOptions(
        style=str(tmp_path / "painting.png"), data=tmp_path / "photos", output=tmp_path / "net.pt",
        sample_every=0, save_every=1, progress=False,
    )  # fmt: skip
    phase = Phase("reference", options, {"size": 32, "batch_size": 2, "steps": 1}, 0.0, 3, min_steps=2)
    seen: list[int] = []
    runner = PhaseRunner(phase, Clock(spent_before=1e6), step=0, on_step=lambda a, s, t, p: seen.append(s.step))
    assert runner.run(deadline=10.0) == 2  # past the deadline: the calibration stops at its first checkpoint
    assert seen == [1, 2] and runner.chunks == 2
    assert load_checkpoint(tmp_path / "net.pt")["step"] == 2


def test_steps_that_got_faster_are_not_counted_as_fixed_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTrain(monkeypatch, per_step=1.0, fixed=4.0)
    original = fake.__call__

    def faster_within_the_chunk(options: RunOptions, settings: dict[str, Any], on_step: Any) -> None:
        def step(state: Any, terms: Any) -> None:
            on_step(state, terms)
            fake.per_step = max(0.5, fake.per_step * 0.9)  # each step faster than the last

        original(options, settings, step)

    monkeypatch.setattr(budget, "train", faster_within_the_chunk)
    runner = PhaseRunner(_phase(), Clock(), step=0)
    runner.run(deadline=600.0)
    assert runner.speed.overhead_seconds == pytest.approx(4.0, abs=1.0)
    assert fake.calls[-1][1]["lr_decay"] > 0  # the final chunk ran
    assert 560 <= fake.now <= 600
