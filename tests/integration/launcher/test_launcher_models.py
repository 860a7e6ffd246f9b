"""The launcher picks the task and the model, and finds the user's weights."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.dataset_factory import put_s3, task_dataset
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, LauncherWorld, upload_event
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.training.metric_line import metric_names


def _start(
    world: LauncherWorld, context: FakeLambdaContext, files: dict[str, bytes], name: str
) -> dict[str, Any]:
    put_s3(files, BUCKET, f"datasets/{name}/", create_bucket=False)
    return world.invoke(upload_event(f"datasets/{name}/data.yaml"), context)


@pytest.mark.parametrize(
    ("task", "model"),
    [
        ("detect", "yolo26n.pt"),
        ("segment", "yolo26n-seg.pt"),
        ("pose", "yolo26n-pose.pt"),
        ("obb", "yolo26n-obb.pt"),
    ],
)
def test_one_job_per_task_with_the_right_model_and_metrics(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, task: str, model: str
) -> None:
    result = _start(launcher_world, lambda_context, task_dataset(task), task)
    assert result["status"] == "started", launcher_world.emails()
    (request,) = launcher_world.requests
    assert request["HyperParameters"]["model"] == model
    assert request["HyperParameters"]["task"] == task
    names = [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]]
    assert names == list(metric_names(task)) and len(names) <= 40  # type: ignore[arg-type]
    assert [c["ChannelName"] for c in request["InputDataConfig"]] == ["dataset"]


def test_a_baked_bigger_model_is_accepted(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = task_dataset("detect")
    files["training.yaml"] = b"model: yolo11m.pt\n"
    assert _start(launcher_world, lambda_context, files, "m")["status"] == "started"
    (request,) = launcher_world.requests
    assert request["HyperParameters"]["model"] == "yolo11m.pt"
    assert len(request["InputDataConfig"]) == 1  # baked: no weights channel


def test_a_missing_model_is_refused_by_email_with_the_fix(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = task_dataset("segment")
    files["training.yaml"] = b"model: my-seg.pt\n"
    result = _start(launcher_world, lambda_context, files, "missing")
    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    (email,) = launcher_world.emails()
    assert f"aws s3 cp my-seg.pt s3://{BUCKET}/weights/my-seg.pt" in email["message"]


def test_a_model_under_weights_becomes_the_weights_channel(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key="weights/my-seg.pt", Body=b"weights")
    files = task_dataset("segment")
    files["training.yaml"] = b"model: my-seg.pt\n"
    assert _start(launcher_world, lambda_context, files, "own")["status"] == "started"
    (request,) = launcher_world.requests
    _dataset, weights = request["InputDataConfig"]
    assert weights["ChannelName"] == "weights" and weights["InputMode"] == "File"
    assert weights["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/weights/my-seg.pt"
    assert request["HyperParameters"]["model"] == "my-seg.pt"
    assert request["HyperParameters"]["task"] == "segment"  # from the polygons


def test_a_model_path_into_the_dataset_is_refused(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = task_dataset("detect")
    files["weights/evil.pt"] = b"not a checkpoint"
    files["training.yaml"] = b"model: weights/evil.pt\n"
    assert _start(launcher_world, lambda_context, files, "evil")["status"] == "rejected"
    assert launcher_world.requests == []


def _earlier_job(name: str, task: str, status_completed: bool = True) -> str:
    sagemaker = aws.client("sagemaker")
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/yolo-on-upload-sagemaker",
        HyperParameters={"task": task, "model": "yolo11n-seg.pt"},
        OutputDataConfig={"S3OutputPath": "s3://yolo-artifacts-123456789012/models/"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    described = sagemaker.describe_training_job(TrainingJobName=name)
    return str(described["ModelArtifacts"]["S3ModelArtifacts"])


def test_fine_tuning_from_an_earlier_job(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    artefact = _earlier_job("yolo-earlier-0123456789", "segment")
    launcher_world.requests.clear()
    files = task_dataset("segment")
    files["training.yaml"] = b"model: job:yolo-earlier-0123456789\n"
    result = _start(launcher_world, lambda_context, files, "again")
    assert result["status"] == "started", launcher_world.emails()
    (request,) = launcher_world.requests
    assert request["HyperParameters"]["model"] == "job:yolo-earlier-0123456789"
    assert request["HyperParameters"]["task"] == "segment"
    weights = request["InputDataConfig"][1]
    assert weights["DataSource"]["S3DataSource"]["S3Uri"] == artefact


def test_fine_tuning_from_an_unknown_job_is_refused(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = task_dataset("detect")
    files["training.yaml"] = b"model: job:yolo-nope-0123456789\n"
    assert _start(launcher_world, lambda_context, files, "nope")["status"] == "rejected"
    assert "no training job named yolo-nope-0123456789" in launcher_world.emails()[0]["message"]
