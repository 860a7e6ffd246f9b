"""The task a job trains and the model it starts from (training.tasks, training.models)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dataset_factory import task_dataset, write_local
from tests.support.helpers import ROOT
from yolo_pipeline.dataset.validation import validate_location
from yolo_pipeline.training.models import BAKED, is_builtin_architecture, read_model
from yolo_pipeline.training.tasks import (
    DEFAULT_MODELS,
    TASKS,
    architecture_for,
    resolve_task,
    task_from_model,
)


@pytest.mark.parametrize(
    ("model", "task"),
    [
        ("yolo11n.pt", "detect"),
        ("yolo11m-seg.pt", "segment"),
        ("yolo11s-pose.yaml", "pose"),
        ("yolo26n-obb.pt", "obb"),
        ("yolov8x-seg-p6.yaml", "segment"),
        ("yolov9c.yaml", "detect"),
        ("best.pt", None),
        ("my-detector.pt", None),
        ("yolo11n-cls.pt", "classify"),
        ("yolo26s-sem.pt", "semantic"),
        ("yolo26m-depth.yaml", "depth"),
        ("yolo26n-cls.yaml", "classify"),
    ],
)
def test_task_from_model_name(model: str, task: str | None) -> None:
    assert task_from_model(model) == task


def test_explicit_task_wins_then_model_then_dataset() -> None:
    assert resolve_task("obb", "yolo11n-seg.pt", "segment") == "obb"
    assert resolve_task(None, "yolo11n-pose.pt", "detect") == "pose"
    assert resolve_task(None, "best.pt", "segment") == "segment"
    assert resolve_task(None, "best.pt", "detect", model_task="pose") == "pose"
    assert resolve_task(None, None, "detect") == "detect"


def test_one_default_model_per_task_all_baked() -> None:
    # Ultralytics' TASK2MODEL: every task defaults to its YOLO26 n weight.
    tasks_cfg = pytest.importorskip("ultralytics.cfg")
    assert tasks_cfg.TASK2MODEL == DEFAULT_MODELS
    assert tuple(tasks_cfg.TASKS) == TASKS
    assert set(DEFAULT_MODELS.values()) <= set(BAKED)
    for size in "nsm":
        for suffix in ("", "-seg", "-sem", "-depth", "-cls", "-pose", "-obb"):
            assert f"yolo26{size}{suffix}.pt" in BAKED
        for suffix in ("", "-seg", "-pose", "-obb"):  # kept for existing training.yaml files
            assert f"yolo11{size}{suffix}.pt" in BAKED
    assert "yolo26n.pt" in BAKED  # the CUDA AMP check's model
    assert len(BAKED) == len(set(BAKED)) == 33
    assert architecture_for("yolo26n-sem.pt") == "yolo26n-sem.yaml"


def test_the_dockerfile_reads_the_baked_list_from_the_package() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "yolo_pipeline.training.models", "--baked"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tuple(out) == BAKED
    dockerfile = (ROOT / "training_image" / "Dockerfile").read_text(encoding="utf-8")
    assert "yolo_pipeline.training.models --baked" in dockerfile


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("yolo11m.pt", "baked"),
        ("yolo11n-seg.yaml", "architecture"),
        ("yolo12s-pose.yaml", "architecture"),
        ("job:yolo-shapes-abc123", "job"),
        ("my-run.pt", "weights"),
        ("weights/my-run.pt", "invalid"),
        ("../best.pt", "invalid"),
        ("/opt/ml/input/data/dataset/best.pt", "invalid"),
        ("s3://bucket/x.pt", "invalid"),
        ("custom.yaml", "invalid"),
        ("job:bad name", "invalid"),
        ("yolo11n", "invalid"),
    ],
)
def test_read_model(value: str, kind: str) -> None:
    ref = read_model(value)
    assert ref.kind == kind
    assert bool(ref.problem) == (kind == "invalid")


def test_builtin_architectures_are_ultralytics_own() -> None:
    tasks = pytest.importorskip("ultralytics.nn.tasks")
    for name in (
        "yolo11n.yaml",
        "yolo11s-seg.yaml",
        "yolo11m-pose.yaml",
        "yolo11n-cls.yaml",
        "yolo26n-obb.yaml",
        "yolo26n-sem.yaml",
        "yolo26s-depth.yaml",
        "yolo26n-cls.yaml",
    ):
        assert is_builtin_architecture(name)
        assert tasks.yaml_model_load(name)["backbone"]  # resolves inside the package
    assert not is_builtin_architecture("yolo11n-sem.yaml")  # YOLO26 only


@pytest.mark.parametrize(
    ("task", "extra", "expected"),
    [
        ("detect", {}, "detect"),
        ("segment", {}, "segment"),
        ("pose", {}, "pose"),  # kpt_shape in data.yaml
        ("obb", {}, "obb"),  # task: obb in training.yaml
        ("segment", {"training.yaml": "model: yolo11s-seg.pt\n"}, "segment"),
        ("detect", {"training.yaml": "task: detect\n"}, "detect"),
        ("pose", {"training.yaml": "model: yolo11n.pt\n"}, "detect"),  # the model decides
    ],
)
def test_validate_reports_the_task(
    tmp_path: Path, task: str, extra: dict[str, str], expected: str
) -> None:
    files = task_dataset(task)
    files.update({k: v.encode() for k, v in extra.items()})
    report = validate_location(str(write_local(tmp_path, files)))
    assert report.valid, [str(e) for e in report.errors]
    assert report.stats.task == expected
