"""The trainer's own logic around Ultralytics: SIGTERM safe points, the metric line, resume."""

from __future__ import annotations

import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from yolo_pipeline.container.errors import Terminated
from yolo_pipeline.container.layout import Layout
from yolo_pipeline.container.trainer import (
    FINISHED,
    StopFlag,
    checkpoint_state,
    metric_callbacks,
    prepare_resume,
    select_device,
)
from yolo_pipeline.training.metric_line import parse_metric_lines


def test_sigterm_outside_training_raises_at_once_inside_waits_for_a_safe_point() -> None:
    stop = StopFlag()
    stop.check()  # nothing requested: no-op
    with pytest.raises(Terminated, match=f"signal {int(signal.SIGTERM)}"):
        stop.handler(signal.SIGTERM, None)
    stop = StopFlag()
    stop.in_training = True
    stop.handler(signal.SIGTERM, None)  # inside training: only flagged
    assert stop.requested
    with pytest.raises(Terminated, match="SIGTERM"):
        metric_callbacks(stop)["on_train_batch_end"](None)


def _trainer(epoch: int) -> SimpleNamespace:
    return SimpleNamespace(
        epoch=epoch,
        tloss=[0.5, 0.25],
        label_loss_items=lambda loss, prefix: {
            f"{prefix}/box_loss": loss[0],
            f"{prefix}/cls_loss": loss[1],
        },
        metrics={"metrics/mAP50(B)": 0.75, "metrics/mAP50-95(B)": 0.5},
        lr={"lr/pg0": 0.01},
    )


def test_one_metric_line_per_trained_epoch_none_for_the_final_eval(
    capsys: pytest.CaptureFixture[str],
) -> None:
    callbacks = metric_callbacks(StopFlag())
    for epoch in (0, 1):
        callbacks["on_train_epoch_end"](_trainer(epoch))
        callbacks["on_fit_epoch_end"](_trainer(epoch))
    callbacks["on_fit_epoch_end"](_trainer(1))  # final_eval of best.pt: no training epoch
    rows = parse_metric_lines(capsys.readouterr().out)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert rows[0]["val:mAP50"] == pytest.approx(0.75)


def test_an_explicit_device_is_kept() -> None:
    assert select_device({"device": "cpu"}) == "cpu"
    assert select_device({"device": [0, 1]}) == [0, 1]


def _save(path: Path, **ckpt: object) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)


def test_checkpoint_states(tmp_path: Path) -> None:
    last = tmp_path / "last.pt"
    _save(last, epoch=2, optimizer={"x": 1}, train_args={"epochs": 5})
    assert checkpoint_state(last) == ("resumable", 2)
    _save(last, epoch=4, optimizer={"x": 1}, train_args={"epochs": 5})
    assert checkpoint_state(last) == ("finished", 4)
    _save(last, epoch=2, optimizer=None, train_args={"epochs": 5})  # stripped by final_eval
    assert checkpoint_state(last) == ("finished", 2)
    last.write_bytes(b"half a file")
    assert checkpoint_state(last) == ("corrupt", -1)


def test_prepare_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = Layout(tmp_path, tmp_path)
    weights = layout.run_dir / "weights"
    assert prepare_resume(layout) is None  # nothing there: train from scratch
    _save(weights / "last.pt", epoch=2, optimizer={"x": 1}, train_args={"epochs": 5})
    (weights / "best.pt.tmp").write_bytes(b"interrupted save")
    assert prepare_resume(layout) == 3
    assert not list(weights.glob("*.tmp"))
    assert f"Resuming from {weights / 'last.pt'} after epoch 3" in capsys.readouterr().out
    _save(weights / "last.pt", epoch=4, optimizer={"x": 1}, train_args={"epochs": 5})
    assert prepare_resume(layout) == FINISHED
    (weights / "last.pt").write_bytes(b"garbage")
    assert prepare_resume(layout) is None
    assert not (weights / "last.pt").exists()
    # A file that does not load weights-only is set aside before anything reads it.
    assert [p.name.startswith("last.unsafe-") for p in weights.iterdir()] == [True]
