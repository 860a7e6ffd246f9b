"""Classify, semantic and depth train for real on tiny generated sets (CPU, the task's YOLO26
architecture, a few epochs) through `yolo-pipeline local`, whose email leads with the task's
headline metric; figures are printed for the record (pytest -s)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from yolo_pipeline.cli.local import run_local
from yolo_pipeline.dataset.task_samples import WRITERS, write_training_yaml
from yolo_pipeline.training.metric_line import headline_label, headline_metric, quality_names
from yolo_pipeline.training.tasks import Task

EPOCHS = {"classify": 10, "semantic": 3, "depth": 3}  # classify reaches top-1 1.0 at 10
SUBJECT = {"classify": "top-1 accuracy", "semantic": "mIoU", "depth": "delta1"}


@pytest.mark.parametrize("task", ["classify", "semantic", "depth"])
def test_local_trains_the_task_and_leads_with_its_headline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task: Task
) -> None:
    dataset = WRITERS[task](tmp_path / f"tiny-{task}")
    write_training_yaml(dataset, task, EPOCHS[task])  # no model: the task's default
    monkeypatch.setenv("YOLO_WEIGHTS_DIR", str(tmp_path / "no-weights-here"))
    out = io.StringIO()
    code = run_local(dataset, epochs=EPOCHS[task], workdir=tmp_path / "run", out=out)
    text = out.getvalue()
    assert code == 0, text[-4000:]
    default = {"classify": "yolo26n-cls", "semantic": "yolo26n-sem", "depth": "yolo26n-depth"}
    assert f"WARNING: pretrained weights {default[task]}.pt are not in" in text
    run = tmp_path / "run"
    hyper = json.loads((run / "input" / "config" / "hyperparameters.json").read_text())
    assert hyper["model"] == f"{default[task]}.yaml" and hyper["task"] == task
    metrics = json.loads((run / "model" / "metrics.json").read_text())
    assert metrics["task"] == task and metrics["epochs_run"] == EPOCHS[task]
    assert {metric for _, metric in quality_names(task)} <= set(metrics["final"])
    email = (run / "email.txt").read_text()
    headline = headline_metric(task)
    assert headline_label(headline) == SUBJECT[task]
    assert f"Completed: tiny-{task} {SUBJECT[task]} " in email.splitlines()[0]
    if task == "semantic":
        assert "IoU" in email and "rectangle" in email
    else:
        assert "Per class: none" in email
    if task == "classify":  # solid colours: learnt, not guessed
        assert metrics["final"]["val:top1"] >= 0.9
    print(f"\n{task}: {json.dumps(metrics['final'])}")
