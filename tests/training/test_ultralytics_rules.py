"""A rule where the validator follows Ultralytics' training rather than the format's letter,
confirmed by a real (1 epoch, tiny) training: polygon rows under OBB train, as their
minimum-area rectangle."""

from __future__ import annotations

from pathlib import Path

from tests.support.training_run import FAST_ARGS, run_train, sagemaker_layout
from yolo_pipeline.dataset.sample import make_shapes_dataset
from yolo_pipeline.dataset.validation import validate_location

TINY = {**FAST_ARGS, "imgsz": 96, "epochs": 1}


def _hexagons(root: Path) -> None:
    """Each box row becomes a 6-point polygon inside the box (not the 4 corners OBB names)."""
    for label in (root / "labels").rglob("*.txt"):
        rows = []
        for line in label.read_text(encoding="utf-8").splitlines():
            c, x, y, w, h = line.split()
            cx, cy, bw, bh = float(x), float(y), float(w), float(h)
            x0, x1, y0, y1 = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
            points = [(x0, cy), (cx - bw / 4, y0), (cx + bw / 4, y0), (x1, cy)]
            points += [(cx + bw / 4, y1), (cx - bw / 4, y1)]
            rows.append(c + "".join(f" {px:.6f} {py:.6f}" for px, py in points))
        label.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_polygon_rows_under_obb_are_valid_and_train(tmp_path: Path) -> None:
    run = sagemaker_layout(
        tmp_path / "opt-ml", {**TINY, "model": "yolo11n-obb.yaml", "task": "obb"}, dataset=False
    )
    make_shapes_dataset(run.dataset, n_train=16, n_val=4, imgsz=96)
    _hexagons(run.dataset)
    (run.dataset / "training.yaml").write_text("task: obb\n", encoding="utf-8")
    report = validate_location(str(run.dataset))
    assert report.valid and report.stats.task == "obb", [str(e) for e in report.errors]
    run_train(run)
    assert run.returncode == 0, run.log[-4000:]
    assert "ignoring corrupt" not in run.log, run.log[-4000:]  # every image trained
    assert " 0 corrupt" in run.log


def test_plain_box_rows_under_obb_are_refused_and_do_not_train(tmp_path: Path) -> None:
    """The validator's word for such files is "fails the training", not "drops the image"."""
    run = sagemaker_layout(
        tmp_path / "opt-ml", {**TINY, "model": "yolo11n-obb.yaml", "task": "obb"}, dataset=False
    )
    make_shapes_dataset(run.dataset, n_train=16, n_val=4, imgsz=96)
    (run.dataset / "training.yaml").write_text("task: obb\n", encoding="utf-8")
    report = validate_location(str(run.dataset))
    assert not report.valid
    assert "would stop the whole training" in "\n".join(map(str, report.errors))
    run_train(run)
    assert run.returncode != 0, run.log[-4000:]
