"""A `.txt` split list with bare relative lines trains what was validated.

Ultralytics resolves such lines against the working directory (here the repo root, where
no `images/` exists), so before the container wrote resolved copies this job failed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.training_run import FAST_ARGS, run_train, sagemaker_layout
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.validation import validate_dataset


def test_bare_list_lines_train_what_was_validated(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1})
    images = sorted(
        p.relative_to(run.dataset).as_posix() for p in (run.dataset / "images/train").iterdir()
    )
    lines = [*images[:-1], f"./{images[-1]}"]  # bare lines, and one ./ line
    (run.dataset / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_yaml = run.dataset / "data.yaml"
    text = data_yaml.read_text(encoding="utf-8")
    data_yaml.write_text(text.replace("train: images/train", "train: train.txt"), encoding="utf-8")
    assert "train: train.txt" in data_yaml.read_text(encoding="utf-8")

    report = validate_dataset(LocalStorage(run.dataset))
    assert report.valid, report.render_text()
    validated = report.stats.splits["train"].images
    assert validated == len(images)

    run_train(run, timeout=600)
    assert run.returncode == 0, run.log[-3000:]
    metrics = json.loads((run.model / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["dataset"]["images"]["train"] == validated, metrics["dataset"]
    # What Ultralytics itself scanned (its own log line): every validated image, none lost.
    assert f"{validated} images, 0 backgrounds, 0 corrupt" in run.log, run.log[-3000:]
    assert (run.dataset / "train.txt").read_text(encoding="utf-8").splitlines() == lines
