"""The CLI as a user runs it: a separate process against moto's server, finding the bucket,
the uploads table and the job settings from the stack's outputs and parameters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.cli_stack import (
    BUCKET,
    STACK,
    TABLE,
    cli_env,
    deploy_test_stack,
    run_cli,
    start_cli,
)
from tests.support.dataset_factory import detect_dataset, write_local
from tests.support.moto_eventbridge import eventbridge_reported
from yolo_pipeline.aws.uploads import UploadsTable, Verdict


@pytest.fixture
def stack(moto_server: str) -> Iterator[dict[str, str]]:
    clients = {s: boto3.client(s, region_name="us-east-1") for s in ("s3", "dynamodb")}
    deploy_test_stack(boto3.client("cloudformation", region_name="us-east-1"), **clients)
    with eventbridge_reported():
        yield cli_env(moto_server, YOLO_STACK_NAME=STACK)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_local(tmp_path / "shapes", detect_dataset())


def keys(prefix: str = "") -> set[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])}


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.out + result.err


def test_validate_judges_training_yaml_with_the_stacks_settings(
    stack: dict[str, str], dataset: Path
) -> None:
    # ml.g4dn.xlarge is in the template's defaults but not in this stack's allowed list.
    (dataset / "training.yaml").write_text("sagemaker:\n  instance_type: ml.g4dn.xlarge\n")
    result = run_cli(["validate", str(dataset)], stack)
    assert result.code == 1, result.err
    assert "not allowed by this stack" in result.out and "ml.g5.xlarge, ml.m5.xlarge" in result.out
    assert f"stack '{STACK}'" in result.out
    offline = run_cli(["validate", str(dataset), "--no-stack"], stack)
    assert offline.code == 0, offline.out


def test_upload_finds_the_bucket_and_writes_the_overrides(
    stack: dict[str, str], dataset: Path
) -> None:
    result = run_cli(["upload", str(dataset), "epochs=7", "--no-progress"], stack)
    assert result.code == 0, result.err
    assert "datasets/shapes/data.yaml" in keys("datasets/shapes/")
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key="datasets/shapes/training.yaml")
    assert body["Body"].read().decode() == "epochs: 7\n"
    assert not (dataset / "training.yaml").exists()  # the local folder is not touched


def test_upload_refuses_a_bucket_without_eventbridge(stack: dict[str, str], dataset: Path) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="someone-elses")
    result = run_cli(["upload", str(dataset), "s3://someone-elses/datasets/shapes/"], stack)
    assert result.code == 1
    assert "sends no events to EventBridge" in result.err and BUCKET in result.err
    no_traceback(result)


def test_upload_wait_prints_the_rejection_and_status_keeps_it(
    stack: dict[str, str], dataset: Path
) -> None:
    """While the CLI waits, the launcher records its verdict; the CLI prints the problems."""
    waiting = start_cli(["upload", str(dataset), "--wait", "--no-progress"], stack)
    table = UploadsTable(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
    deadline = time.monotonic() + 120
    while "datasets/shapes/data.yaml" not in keys() and time.monotonic() < deadline:
        time.sleep(0.5)
    problem = "labels/train/train_00001.txt:1: class 5 is out of range \x1b[2J"
    table.record(Verdict("shapes", "u1", "rejected", problems=(problem,)))
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 1, err
    assert "REJECTED" in out and "class 5 is out of range" in out
    assert "\x1b" not in out and "\\x1b[2J" in out  # made inert
    status = run_cli(["status"], stack)
    assert status.code == 0 and "class 5 is out of range" in status.out
    assert "of the $50.00 budget" in status.out
    history = run_cli(["status", "shapes", "--json"], stack)
    assert '"state": "rejected"' in history.out


def test_retrain_writes_the_overrides_and_data_yaml_again(
    stack: dict[str, str], dataset: Path
) -> None:
    assert run_cli(["upload", str(dataset), "--no-progress"], stack).code == 0
    result = run_cli(["retrain", "shapes", "epochs=9"], stack)
    assert result.code == 0, result.err
    s3 = boto3.client("s3", region_name="us-east-1")
    text = s3.get_object(Bucket=BUCKET, Key="datasets/shapes/training.yaml")["Body"].read()
    assert text == b"epochs: 9\n"
    head = s3.head_object(Bucket=BUCKET, Key="datasets/shapes/data.yaml")
    assert head["Metadata"].get("yolo-upload") == "complete"
    bad = run_cli(["retrain", "shapes", "sagemaker.instance_type=ml.p5.48xlarge"], stack)
    assert bad.code == 1 and "not allowed by this stack" in bad.err
    missing = run_cli(["retrain", "nope"], stack)
    assert missing.code == 1 and "no dataset 'nope'" in missing.err


def test_logs_and_stop_of_a_finished_job(stack: dict[str, str]) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    group, stream = "/aws/sagemaker/TrainingJobs", "yolo-shapes-1/algo-1-1700000000"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now_ms = int(time.time() * 1000)  # CloudWatch drops events older than 14 days
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": now_ms, "message": "YOLO_METRICS epoch=1 val:mAP50=0.1"},
            {"timestamp": now_ms + 1, "message": "name \x1b]0;owned\x07 ok"},
        ],
    )
    _create_job("yolo-shapes-1")
    result = run_cli(["logs", "yolo-shapes-1", "--follow"], stack)
    assert result.code == 0, result.err
    assert "YOLO_METRICS epoch=1" in result.out and "\x1b" not in result.out
    assert "yolo-shapes-1: Completed" in result.out
    stopped = run_cli(["stop", "yolo-shapes-1"], stack)
    assert stopped.code == 0 and "nothing to stop" in stopped.out
    unknown = run_cli(["logs", "yolo-nope-2"], stack)
    assert unknown.code == 1 and "no training job named 'yolo-nope-2'" in unknown.err
    no_traceback(unknown)


def test_setup_problems_exit_2_without_a_traceback(stack: dict[str, str], dataset: Path) -> None:
    no_region = {k: v for k, v in stack.items() if k not in ("AWS_REGION",)}
    for args in (["models"], ["status"], ["approve", "pets"], ["predict", "pets", "x.jpg"]):
        result = run_cli(args, no_region)
        assert result.code == 2 and "no AWS region" in result.err, result.err
        no_traceback(result)
    no_credentials = {
        k: v for k, v in stack.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    no_credentials["AWS_SHARED_CREDENTIALS_FILE"] = no_credentials["AWS_CONFIG_FILE"] = "/dev/null"
    result = run_cli(["validate", f"s3://{BUCKET}/datasets/shapes/"], no_credentials)
    assert result.code == 2, result.out + result.err
    no_traceback(result)
    models = run_cli(["models", "--json"], stack)
    assert models.code == 0 and '"groups"' in models.out


def _create_job(name: str) -> None:
    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "x.dkr.ecr.us-east-1.amazonaws.com/y:latest",
            "TrainingInputMode": "File",
        },
        RoleArn="arn:aws:iam::123456789012:role/yolo-training",
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
