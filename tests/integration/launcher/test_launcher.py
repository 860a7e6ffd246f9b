"""The launcher handler end to end against moto: one job per upload, emails, idempotency."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.dataset_factory import detect_dataset, put_s3, with_changes
from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.launcher_world import (
    BUCKET,
    LauncherWorld,
    upload_event,
)
from yolo_pipeline.launcher.job_name import PATTERN


def _upload(files: dict[str, bytes], name: str = "shapes") -> None:
    put_s3(files, BUCKET, f"datasets/{name}/", create_bucket=False)


def test_valid_dataset_starts_one_job_and_redeliveries_do_nothing(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    _upload(detect_dataset(n_train=6, n_val=3))
    event = upload_event("datasets/shapes/data.yaml")

    result = launcher_world.invoke(event, lambda_context)

    assert result["status"] == "started"
    assert len(launcher_world.requests) == 1
    request = launcher_world.requests[0]
    name = request["TrainingJobName"]
    assert result["job_name"] == name
    assert name.startswith("yolo-shapes-") and PATTERN.match(name) and len(name) <= 63
    channel = request["InputDataConfig"][0]
    assert channel["ChannelName"] == "dataset"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/datasets/shapes/"
    assert request["EnableManagedSpotTraining"] is True
    stop = request["StoppingCondition"]
    assert stop["MaxWaitTimeInSeconds"] >= stop["MaxRuntimeInSeconds"] == 24 * 3600
    assert request["CheckpointConfig"]["S3Uri"] == (
        f"s3://yolo-artifacts-123456789012/checkpoints/{name}/"
    )
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["yolo:dataset-uri"] == f"s3://{BUCKET}/datasets/shapes/"
    assert tags["yolo:data-yaml-etag"] == event["detail"]["object"]["etag"]
    assert request["Environment"]["YOLO_OFFLINE"] == "1"

    emails = launcher_world.emails()
    assert len(emails) == 1
    assert emails[0]["subject"] == "[yolo] Training started: shapes"
    body = emails[0]["message"]
    assert name in body and "ml.g4dn.xlarge" in body and "Spot:         on" in body
    assert "train" in body and "circle, square, triangle" in body
    assert f"#/jobs/{name}" in body

    # The same event twice more (at-least-once delivery): no call, no email.
    for _ in range(2):
        again = launcher_world.invoke(event, lambda_context)
        assert again == result
    assert len(launcher_world.requests) == 1
    assert len(launcher_world.emails()) == 1

    # A new write of the same key (new sequencer) is a new upload: a second job.
    second = launcher_world.invoke(
        upload_event("datasets/shapes/data.yaml", sequencer="0062E99A88DC407999"), lambda_context
    )
    assert second["status"] == "started"
    assert len(launcher_world.requests) == 2
    assert launcher_world.requests[1]["TrainingJobName"] != name
    assert len(launcher_world.emails()) == 2


def test_versioned_unicode_dataset_name_is_slugged(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    from yolo_pipeline.aws import clients as aws

    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    _upload(detect_dataset(), name="Café été 2026")
    event = load_event("dataset_uploaded_versioned")
    event["detail"]["bucket"]["name"] = BUCKET
    # The object S3 holds now (the launcher drops an event whose version was replaced).
    head = s3.head_object(Bucket=BUCKET, Key="datasets/Café été 2026/data.yaml")
    event["detail"]["object"].update(
        {"version-id": head["VersionId"], "etag": head["ETag"].strip('"')}
    )

    result = launcher_world.invoke(event, lambda_context)

    assert result["status"] == "started", result
    request = launcher_world.requests[0]
    assert request["TrainingJobName"].startswith("yolo-cafe-ete-2026-")
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["yolo:dataset-uri"] == f"s3://{BUCKET}/datasets/Café été 2026/"
    assert tags["yolo:data-yaml-version"] == event["detail"]["object"]["version-id"]
    assert launcher_world.emails()[0]["subject"] == "[yolo] Training started: Cafe ete 2026"


def test_broken_dataset_gets_one_rejection_email_and_no_job(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = with_changes(
        detect_dataset(), **{"labels/train/train_00001.txt": "7 0.5 0.5 0.2 0.2\n"}
    )
    _upload(files)
    event = upload_event("datasets/shapes/data.yaml")

    result = launcher_world.invoke(event, lambda_context)
    launcher_world.invoke(event, lambda_context)  # redelivered: still one email

    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    emails = launcher_world.emails()
    assert len(emails) == 1
    assert emails[0]["subject"] == "[yolo] Dataset rejected: shapes"
    body = emails[0]["message"]
    assert f"s3://{BUCKET}/datasets/shapes/" in body
    assert "labels/train/train_00001.txt" in body and "line 1" in body
    assert "data.yaml last" in body
    assert "What to do next" in body


@pytest.mark.parametrize(
    "event_change",
    [
        {"key": "datasets/shapes/images/train/train_00000.jpg"},
        {"key": "other/shapes/data.yaml"},
        {"key": "datasets/data.yaml"},
        {"key": "datasets/shapes/data.yaml.bak"},
    ],
)
def test_foreign_keys_are_ignored(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    event_change: dict[str, Any],
) -> None:
    _upload(detect_dataset())
    result = launcher_world.invoke(upload_event(event_change["key"]), lambda_context)
    assert result["status"] == "ignored"
    assert launcher_world.requests == [] and launcher_world.emails() == []


def test_not_an_s3_event_is_ignored(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    event = upload_event("datasets/shapes/data.yaml")
    event["source"] = "aws.sagemaker"
    assert launcher_world.invoke(event, lambda_context)["status"] == "ignored"
    assert launcher_world.requests == []


def test_moto_shaped_event_with_eTag_works(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    _upload(detect_dataset())
    event = upload_event("datasets/shapes/data.yaml")
    obj = event["detail"]["object"]
    obj["eTag"] = obj.pop("etag")
    assert launcher_world.invoke(event, lambda_context)["status"] == "started"
    tags = {t["Key"]: t["Value"] for t in launcher_world.requests[0]["Tags"]}
    assert tags["yolo:data-yaml-etag"] == obj["eTag"]


TRAINING_YAML_OK = """\
epochs: 40
imgsz: 320
sagemaker:
  instance_type: ml.g5.xlarge
  spot: false
  max_runtime_hours: 6
  volume_size_gb: 80
  input_mode: FastFile
"""


def test_training_yaml_override_shapes_the_request(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    _upload(with_changes(detect_dataset(), **{"training.yaml": TRAINING_YAML_OK}))
    result = launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)

    assert result["status"] == "started", launcher_world.emails()
    request = launcher_world.requests[0]
    assert request["HyperParameters"] == {
        "epochs": "40",
        "imgsz": "320",
        "model": "yolo26n.pt",
        "task": "detect",
    }
    assert request["ResourceConfig"] == {
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 80,
    }
    assert request["EnableManagedSpotTraining"] is False
    assert request["CheckpointConfig"]["S3Uri"].endswith(f"/{request['TrainingJobName']}/")
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 6 * 3600}
    assert request["AlgorithmSpecification"]["TrainingInputMode"] == "FastFile"
    assert request["InputDataConfig"][0]["InputMode"] == "FastFile"
    body = launcher_world.emails()[0]["message"]
    assert "epochs=40, imgsz=320" in body and "Spot:         off" in body


@pytest.mark.parametrize(
    ("training_yaml", "expected"),
    [
        ("epochs: 10\nepoch_count: 3\n", ["training.yaml, line 2, epoch_count", "not an"]),
        (
            "sagemaker:\n  instance_type: ml.p4d.24xlarge\n",
            ["training.yaml, line 2, sagemaker.instance_type", "ml.p4d.24xlarge", "ml.g4dn.xlarge"],
        ),
        ("sagemaker:\n  instance_count: 4\n", ["multi-node"]),
        ("data: /etc/passwd\n", ["training.yaml, line 1, data", "set by the training image"]),
    ],
)
def test_bad_training_yaml_is_rejected(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    training_yaml: str,
    expected: list[str],
) -> None:
    _upload(with_changes(detect_dataset(), **{"training.yaml": training_yaml}))
    result = launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)

    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    (email,) = launcher_world.emails()
    for text in expected:
        assert text in email["message"]


def test_missing_dataset_files_are_rejected_not_crashed(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    # data.yaml arrived but the images never did (an interrupted upload).
    _upload({"data.yaml": detect_dataset()["data.yaml"]})
    result = launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    assert "images/train" in launcher_world.emails()[0]["message"]


def test_a_stack_with_its_own_prefix_names_jobs_and_tags_emails_with_it(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JOB_NAME_PREFIX is the tag of every email, the launcher's as well as the notifier's."""
    import importlib

    monkeypatch.setenv("JOB_NAME_PREFIX", "acme")
    launcher_world.module = importlib.reload(launcher_world.module)  # cold start, new env
    _upload(detect_dataset(n_train=6, n_val=3))
    _upload(with_changes(detect_dataset(n_train=6, n_val=3), **{"data.yaml": "train: x\n"}), "bad")

    launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    launcher_world.invoke(
        upload_event("datasets/bad/data.yaml", "0062E99A88DC407499"), lambda_context
    )

    assert launcher_world.requests[0]["TrainingJobName"].startswith("acme-shapes-")
    assert [e["subject"] for e in launcher_world.emails()] == [
        "[acme] Training started: shapes",
        "[acme] Dataset rejected: bad",
    ]


def test_training_yaml_is_read_once_per_launch(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    from yolo_pipeline.aws import clients as aws_clients

    _upload(with_changes(detect_dataset(), **{"training.yaml": TRAINING_YAML_OK}))
    keys: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        keys.append(params["Key"])

    aws_clients.client("s3").meta.events.register("provide-client-params.s3.GetObject", count)
    result = launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    assert result["status"] == "started", launcher_world.emails()
    # The validator reads it for the task; the launcher's own parse reuses those bytes.
    assert keys.count("datasets/shapes/training.yaml") == 1
