"""Classify, semantic and depth uploads: one job each with the task, its YOLO26 model and its
MetricDefinitions; a broken dataset of each is rejected by email with its finding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.dataset_factory import put_s3
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, LauncherWorld, upload_event
from tests.support.task_files import (
    classify_files,
    depth_files,
    npy_bytes,
    png_bytes,
    semantic_files,
)
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.training.metric_line import metric_names

Maker = Callable[[], dict[str, bytes]]
NEW_TASKS: dict[str, tuple[Maker, str, set[str]]] = {
    "classify": (classify_files, "yolo26n-cls.pt", {"val:top1", "val:top5"}),
    "semantic": (semantic_files, "yolo26n-sem.pt", {"val:mIoU", "val:pixel_acc"}),
    "depth": (depth_files, "yolo26n-depth.pt", {"val:delta1", "val:abs_rel", "val:rmse"}),
}


def _start(
    world: LauncherWorld, context: FakeLambdaContext, files: dict[str, bytes], name: str
) -> dict[str, Any]:
    put_s3(files, BUCKET, f"datasets/{name}/", create_bucket=False)
    return world.invoke(upload_event(f"datasets/{name}/data.yaml"), context)


@pytest.mark.parametrize("task", sorted(NEW_TASKS))
def test_one_job_per_new_task(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, task: str
) -> None:
    make, model, metrics = NEW_TASKS[task]
    result = _start(launcher_world, lambda_context, make(), task)
    assert result["status"] == "started", launcher_world.emails()
    (request,) = launcher_world.requests
    assert request["HyperParameters"]["model"] == model
    assert request["HyperParameters"]["task"] == task
    names = [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]]
    assert names == list(metric_names(task)) and metrics <= set(names)  # type: ignore[arg-type]
    (email,) = launcher_world.emails()
    assert f"Task:     {task}" in email["message"]


def test_a_classification_zip_needs_no_data_yaml(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = classify_files()
    del files["data.yaml"]
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="datasets/pets.zip", Body=zip_files(files, top="pets/"))
    head = s3.head_object(Bucket=BUCKET, Key="datasets/pets.zip")
    event = upload_event("datasets/pets.zip", size=head["ContentLength"], etag=head["ETag"])
    assert launcher_world.invoke(event, lambda_context)["status"] == "started"
    (request,) = launcher_world.requests
    assert request["HyperParameters"]["task"] == "classify"


BROKEN: dict[str, tuple[Maker, str, bytes, str]] = {
    "classify": (classify_files, "val/eel/0.png", png_bytes(16, 16), "classes the model lacks"),
    "semantic": (
        semantic_files,
        "masks/train/0.png",
        png_bytes(16, 16, lambda x, y: 9),
        "are not dataset class ids or 255 ignore",
    ),
    "depth": (
        lambda: depth_files(npy=True),
        "depth/val/0.npy",
        npy_bytes((16, 16), "|O", b"\x80\x04N."),
        "holds Python objects (a pickle)",
    ),
}


@pytest.mark.parametrize("task", sorted(BROKEN))
def test_a_broken_dataset_of_each_new_task_is_rejected_with_its_finding(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, task: str
) -> None:
    make, path, content, expected = BROKEN[task]
    files = {**make(), path: content}
    result = _start(launcher_world, lambda_context, files, f"broken-{task}")
    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    (email,) = launcher_world.emails()
    message = " ".join(email["message"].split())
    assert expected in message and path.rsplit("/", 1)[0] in message
