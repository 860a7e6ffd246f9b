"""Segment and pose datasets train their own model and log their own metrics;
a pickle planted as a checkpoint or a label cache never runs."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import pytest

from tests.support.training_run import FAST_ARGS, retask_shapes, run_train, sagemaker_layout
from yolo_pipeline.cli.local import run_local
from yolo_pipeline.dataset.sample import make_shapes_dataset
from yolo_pipeline.dataset.validation import validate_location
from yolo_pipeline.training.metric_line import metric_names, parse_metric_lines

TINY = {**FAST_ARGS, "imgsz": 96, "epochs": 1}


@pytest.mark.parametrize(
    ("task", "model"), [("segment", "yolo11n-seg.yaml"), ("pose", "yolo11n-pose.yaml")]
)
def test_segment_and_pose_train_and_log_their_metrics(
    tmp_path: Path, task: str, model: str
) -> None:
    run = sagemaker_layout(
        tmp_path / "opt-ml", {**TINY, "model": model, "task": task}, dataset=False
    )
    make_shapes_dataset(run.dataset, n_train=16, n_val=4, imgsz=96)
    retask_shapes(run.dataset, task)
    report = validate_location(str(run.dataset))
    assert report.valid and report.stats.task == task, [str(e) for e in report.errors]
    run_train(run)
    assert run.returncode == 0, run.log[-4000:]
    rows = parse_metric_lines(run.log)
    kind = "mask" if task == "segment" else "pose"
    expected = {n for n in metric_names(task) if n.startswith(f"val:{kind}_")}
    # The epoch lines carry every metric; the last line is best.pt's final validation, which
    # has the quality metrics (no losses).
    assert expected and expected <= set(rows[-2]), rows[-2]
    assert {n for n in expected if not n.endswith("_loss")} <= set(rows[-1]), rows[-1]
    final = json.loads((run.model / "metrics.json").read_text())["final"]
    assert f"val:{kind}_mAP50-95" in final


def test_local_segment_without_weights_trains_the_architecture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = tmp_path / "shapes-seg"
    make_shapes_dataset(dataset, n_train=16, n_val=4, imgsz=96)
    retask_shapes(dataset, "segment")
    (dataset / "training.yaml").write_text(
        "imgsz: 96\nbatch: 8\nnbs: 8\nmosaic: 0.0\nwarmup_epochs: 1\namp: false\nplots: false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("YOLO_WEIGHTS_DIR", str(tmp_path / "no-weights-here"))
    out = io.StringIO()
    code = run_local(dataset, epochs=1, workdir=tmp_path / "run", out=out)
    text = out.getvalue()
    assert code == 0, text[-4000:]
    assert "WARNING: pretrained weights yolo26n-seg.pt are not in" in text
    hyper = json.loads((tmp_path / "run" / "input" / "config" / "hyperparameters.json").read_text())
    assert hyper["model"] == "yolo26n-seg.yaml" and hyper["task"] == "segment"
    email = (tmp_path / "run" / "email.txt").read_text()
    assert "Completed: shapes-seg mask mAP50-95 " in email.splitlines()[0]
    assert "mask mAP50-95" in email and "trains yolo26n-seg.yaml from scratch" in email


class _Planted:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_checkpoint_does_not_run(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**TINY, "model": "yolo11n.yaml"}, dataset=False)
    make_shapes_dataset(run.dataset, n_train=8, n_val=4, imgsz=96)
    weights = run.checkpoints / "run" / "weights"
    weights.mkdir(parents=True)
    marker = tmp_path / "pwned"
    for name in ("last.pt", "best.pt"):
        (weights / name).write_bytes(pickle.dumps({"epoch": 0, "model": _Planted(str(marker))}))
    # A label cache is a pickle too (np.load(allow_pickle=True)): never read from the channel.
    (run.dataset / "labels" / "train.cache").write_bytes(pickle.dumps(_Planted(str(marker))))
    run_train(run)
    assert not marker.exists(), "the planted checkpoint was unpickled"
    assert run.returncode == 0, run.log[-4000:]
    assert "does not load safely" in run.log
