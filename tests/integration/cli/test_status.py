"""``yolo-pipeline status`` against moto's SageMaker."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from yolo_pipeline.cli.status import job_row, show_status
from yolo_pipeline.text import duration_column

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def create_job(sm: Any, name: str, dataset: str | None, **state: Any) -> None:
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo:latest",
            "TrainingInputMode": "File",
        },
        "RoleArn": "arn:aws:iam::123456789012:role/yolo-training",
        "InputDataConfig": [
            {
                "ChannelName": "dataset",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bucket/datasets/from-channel/",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/models/"},
        "ResourceConfig": {
            "InstanceType": "ml.g4dn.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 50,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    if dataset:
        request["Tags"] = [{"Key": "yolo:dataset-uri", "Value": dataset}]
    sm.create_training_job(**request)
    # moto completes every job at once; give each the state a real job would have.
    job = sagemaker_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].training_jobs[name]
    for attribute, value in state.items():
        setattr(job, attribute, value)


def metrics(map50_95: float, map50: float) -> list[dict[str, Any]]:
    return [
        {"MetricName": "val:mAP50-95", "Value": map50_95, "Timestamp": T0},
        {"MetricName": "val:mAP50", "Value": map50, "Timestamp": T0},
    ]


@pytest.fixture
def sm(aws: None) -> Any:
    client = boto3.client("sagemaker", region_name="us-east-1")
    create_job(
        client,
        "yolo-cats-1a2b3c4d5e",
        "s3://bucket/datasets/cats/",
        creation_time=T0,
        training_start_time=T0 + timedelta(minutes=2),
        training_end_time=T0 + timedelta(minutes=14, seconds=5),
        final_metric_data_list=metrics(0.8123, 0.9541),
    )
    create_job(
        client,
        "yolo-dogs-ffffeeee00",
        "s3://bucket/datasets/dogs/",
        creation_time=T0 + timedelta(hours=1),
        training_start_time=T0 + timedelta(hours=1, minutes=1),
        training_end_time=T0 + timedelta(hours=1, minutes=3),
        training_job_status="Failed",
        secondary_status="Failed",
        failure_reason="AlgorithmError: CUDA out of memory",
        final_metric_data_list=[],
    )
    create_job(
        client,
        "yolo-birds-0123456789",
        None,
        creation_time=T0 + timedelta(hours=2),
        training_start_time=T0 + timedelta(hours=2, minutes=1),
        training_end_time=None,
        training_job_status="InProgress",
        secondary_status="Training",
        final_metric_data_list=[],
    )
    create_job(client, "other-team-job", "s3://x/y/", creation_time=T0)
    create_job(client, "myyolo-not-ours", "s3://x/z/", creation_time=T0)
    return client


def status_output(**kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    return show_status(out=out, **kwargs), out.getvalue()


def test_lists_only_this_pipelines_jobs_newest_first(sm: Any) -> None:
    code, out = status_output()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["JOB", "STATUS", "SECONDARY"]
    jobs = [line.split()[0] for line in lines if line.startswith("yolo-")]
    assert jobs == ["yolo-birds-0123456789", "yolo-dogs-ffffeeee00", "yolo-cats-1a2b3c4d5e"]
    assert "other-team-job" not in out and "myyolo-not-ours" not in out


def test_shows_status_duration_map_and_dataset(sm: Any) -> None:
    _, out = status_output()
    cats = next(line for line in out.splitlines() if line.startswith("yolo-cats"))
    assert cats.split()[1:3] == ["Completed", "Completed"]
    assert "12m05s" in cats and "0.812" in cats and "0.954" in cats
    assert "dataset: s3://bucket/datasets/cats/" in out
    assert "reason:  AlgorithmError: CUDA out of memory" in out
    birds = next(line for line in out.splitlines() if line.startswith("yolo-birds"))
    assert birds.split()[1:3] == ["InProgress", "Training"]
    # no yolo:dataset-uri tag: the input channel's S3 URI stands in
    assert "dataset: s3://bucket/datasets/from-channel/" in out


def test_limit_and_prefix(sm: Any) -> None:
    _, out = status_output(limit=1)
    assert [line.split()[0] for line in out.splitlines() if line.startswith("yolo-")] == [
        "yolo-birds-0123456789"
    ]
    code, out = status_output(prefix="other")
    assert code == 0 and "other-team-job" in out and "yolo-cats" not in out


def test_no_jobs_says_what_to_do(aws: None) -> None:
    code, out = status_output()
    assert code == 0
    assert "No training jobs named yolo-*" in out and "yolo-pipeline upload" in out


def test_job_row_is_pure_and_handles_running_jobs() -> None:
    now = T0 + timedelta(minutes=30)
    row = job_row(
        {
            "TrainingJobName": "yolo-a-1",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Downloading",
            "CreationTime": T0,
            "TrainingStartTime": T0 + timedelta(minutes=5),
        },
        [],
        now=now,
    )
    assert row.duration_s == 25 * 60
    assert row.map50_95 is None and row.dataset == "-"
    assert duration_column(3725) == "1h02m"
    assert duration_column(None) == "-"


def test_cli_status(sm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from yolo_pipeline.cli.main import main

    assert main(["status", "--limit", "2", "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert "yolo-birds-0123456789" in out and "yolo-cats" not in out
    with pytest.raises(SystemExit) as exc:  # argparse: a usage error
        main(["status", "--limit", "0"])
    assert exc.value.code == 2
