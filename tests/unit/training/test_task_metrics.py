"""Metrics per task, defined once (training.metric_line), and the headline each email and
`status` leads with."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.helpers import load_event
from tests.support.notifier_world import described_for
from yolo_pipeline.cli.status import format_table, job_row
from yolo_pipeline.launcher.job_request import build_training_job_request
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.training.config import SageMakerOptions
from yolo_pipeline.training.metric_line import (
    format_metric_line,
    from_ultralytics,
    headline_metric,
    higher_is_better,
    metric_definitions,
    metric_names,
    second_metric,
)
from yolo_pipeline.training.tasks import TASKS, Task

BOX = ["val:precision", "val:recall", "val:mAP50", "val:mAP50-95"]


@pytest.mark.parametrize("task", ["detect", "segment", "pose", "obb"])
def test_definitions_follow_the_task_and_fit_sagemaker(task: Task) -> None:
    names = metric_names(task)
    assert set(BOX) <= set(names) and len(metric_definitions(task)) <= 40
    mask = {n for n in names if n.startswith("val:mask_")}
    pose = {n for n in names if n.startswith("val:pose_") and not n.endswith("_loss")}
    assert bool(mask) == (task == "segment") and bool(pose) == (task == "pose")
    if mask:
        assert mask == {f"val:mask_{q}" for q in ("precision", "recall", "mAP50", "mAP50-95")}
    if pose:
        assert pose == {f"val:pose_{q}" for q in ("precision", "recall", "mAP50", "mAP50-95")}


# What Ultralytics' segment and pose trainers report (trainer.metrics, label_loss_items).
SEGMENT = {
    "train/box_loss": 1.2,
    "train/seg_loss": 2.5,
    "train/cls_loss": 3.0,
    "train/dfl_loss": 1.1,
    "metrics/precision(B)": 0.5,
    "metrics/mAP50-95(B)": 0.3,
    "metrics/precision(M)": 0.4,
    "metrics/mAP50(M)": 0.45,
    "metrics/mAP50-95(M)": 0.25,
}
POSE = {
    "train/pose_loss": 4.0,
    "train/kobj_loss": 0.7,
    "metrics/mAP50-95(B)": 0.3,
    "metrics/mAP50-95(P)": 0.2,
    "metrics/recall(P)": 0.6,
}


@pytest.mark.parametrize(("task", "values"), [("segment", SEGMENT), ("pose", POSE)])
def test_every_reported_value_is_scraped_by_its_definition(
    task: Task, values: dict[str, float]
) -> None:
    ours = from_ultralytics(values)
    line = "2026-12-01 train: " + format_metric_line(3, ours)
    definitions = {d["Name"]: re.compile(d["Regex"]) for d in metric_definitions(task)}
    for name, value in ours.items():
        match = definitions[name].search(line)
        assert match and float(match.group(1)) == pytest.approx(value), name
    assert headline_metric(task) in ours


@pytest.mark.parametrize(
    ("task", "headline"),
    [
        ("detect", "val:mAP50-95"),
        ("obb", "val:mAP50-95"),
        ("segment", "val:mask_mAP50-95"),
        ("pose", "val:pose_mAP50-95"),
    ],
)
def test_request_definitions_and_headline(task: Task, headline: str) -> None:
    request = build_training_job_request(
        job_name="yolo-x-1",
        dataset_uri="s3://b/datasets/x/",
        image_uri="i",
        role_arn="arn:aws:iam::123456789012:role/r",
        output_s3_uri="s3://b/models/",
        checkpoint_s3_uri="s3://b/checkpoints/",
        options=SageMakerOptions("ml.g4dn.xlarge", False, 3600, 50, "File"),
        train_args={"task": task, "model": "yolo11n.pt"},
    )
    names = [d["Name"] for d in request["AlgorithmSpecification"]["MetricDefinitions"]]
    assert headline in names and names == list(metric_names(task))
    assert headline_metric(task) == headline


def _described(task: str) -> dict[str, Any]:
    described = described_for("training_completed")
    described["HyperParameters"] = {**described.get("HyperParameters", {}), "task": task}
    described["FinalMetricDataList"] = [
        {"MetricName": n, "Value": v}
        for n, v in {
            "val:mAP50-95": 0.5,
            "val:mAP50": 0.7,
            "val:mask_mAP50-95": 0.4,
            "val:mask_mAP50": 0.6,
            "val:pose_mAP50-95": 0.3,
            "val:pose_mAP50": 0.55,
        }.items()
    ]
    return described


@pytest.mark.parametrize(
    ("task", "subject", "row"),
    [
        ("detect", "mAP50-95 0.500", r"  mAP50-95 +0\.500"),
        ("segment", "mask mAP50-95 0.400", r"  mask mAP50-95 +0\.400"),
        ("pose", "pose mAP50-95 0.300", r"  pose mAP50-95 +0\.300"),
    ],
)
def test_email_and_status_lead_with_the_task_headline(task: str, subject: str, row: str) -> None:
    described = _described(task)
    email = render_job_email(
        load_event("training_completed")["detail"], described, region="us-east-1"
    )
    assert email.subject.endswith(subject)
    found = re.search(row, email.body)
    assert found
    if task != "detect":
        assert found.start() < email.body.index("  mAP50-95 ")  # mask/pose first
    table_row = job_row(described, [])
    expected = {"detect": 0.5, "segment": 0.4, "pose": 0.3}[task]
    assert table_row.map50_95 == expected and table_row.task == task
    assert f"{expected:.3f}" in format_table([table_row])


# What Ultralytics' classify, semantic and depth trainers report (trainer.metrics and
# label_loss_items, from real one-epoch runs of the YOLO26 architectures).
PLAIN = {
    "classify": {"train/loss": 1.1, "metrics/accuracy_top1": 0.33, "metrics/accuracy_top5": 1.0},
    "semantic": {
        "train/ce_loss": 0.69,
        "train/dice_loss": 0.56,
        "train/aux_loss": 0.26,
        "metrics/mIoU": 0.43,
        "metrics/pixel_acc": 0.86,
    },
    "depth": {
        "train/dlog_loss": 0.43,
        "train/dgrad_loss": 0.34,
        "metrics/delta1": 0.33,
        "metrics/delta2": 0.67,
        "metrics/delta3": 0.86,
        "metrics/abs_rel": 0.45,
        "metrics/rmse": 1.17,
        "metrics/silog": 44.6,
    },
}
CONTRACT = {
    "classify": {"val:top1", "val:top5"},
    "semantic": {"val:mIoU", "val:pixel_acc"},
    "depth": {f"val:{n}" for n in ("delta1", "delta2", "delta3", "abs_rel", "rmse", "silog")},
}


@pytest.mark.parametrize("task", ["classify", "semantic", "depth"])
def test_tasks_without_boxes_log_their_own_metrics(task: Task) -> None:
    names = set(metric_names(task))
    assert CONTRACT[task] <= names and not set(BOX) & names
    assert len(metric_definitions(task)) <= 40
    ours = from_ultralytics(PLAIN[task])
    assert set(ours) >= CONTRACT[task] and all(n in names for n in ours)
    line = "2026-12-01 train: " + format_metric_line(3, ours)
    definitions = {d["Name"]: re.compile(d["Regex"]) for d in metric_definitions(task)}
    for name, value in ours.items():
        match = definitions[name].search(line)
        assert match and float(match.group(1)) == pytest.approx(value), name
    assert headline_metric(task) in ours


def test_headline_per_task_and_direction() -> None:
    assert {t: headline_metric(t) for t in TASKS} == {
        "detect": "val:mAP50-95",
        "segment": "val:mask_mAP50-95",
        "semantic": "val:mIoU",
        "depth": "val:delta1",
        "classify": "val:top1",
        "pose": "val:pose_mAP50-95",
        "obb": "val:mAP50-95",
    }
    lower = {n for t in TASKS for n in metric_names(t) if not higher_is_better(n)}
    assert lower == {"val:abs_rel", "val:rmse", "val:silog"}
    assert second_metric("depth") == "val:abs_rel" and second_metric("classify") == "val:top5"
    assert second_metric("segment") == "val:mask_mAP50"
