"""`yolo-pipeline stop JOB` on a running job. moto 5.2 has no StopTrainingJob (and creates
every job Completed), so the calls are stubbed with botocore's Stubber against the real
service model: the request is checked exactly as AWS would check it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.stop import stop_job
from yolo_pipeline.errors import AwsProblem, exit_code


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.reset_clients()
    client = aws.client("sagemaker")
    with Stubber(client) as stub:
        yield stub
    aws.reset_clients()


def _described(status: str) -> dict[str, Any]:
    return {
        "TrainingJobName": "yolo-shapes-1",
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/yolo-shapes-1",
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "TrainingJobStatus": status,
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"VolumeSizeInGB": 5},
        "StoppingCondition": {},
        "CreationTime": "2030-01-01T00:00:00Z",
    }


def test_stop_a_running_job(sagemaker: Any) -> None:
    name = {"TrainingJobName": "yolo-shapes-1"}
    sagemaker.add_response("describe_training_job", _described("InProgress"), name)
    sagemaker.add_response("stop_training_job", {}, name)
    out = io.StringIO()
    assert stop_job("yolo-shapes-1", out=out) == 0
    assert "Stopping yolo-shapes-1" in out.getvalue()
    sagemaker.assert_no_pending_responses()


def test_stop_refused_by_iam_is_an_access_error(sagemaker: Any) -> None:
    name = {"TrainingJobName": "yolo-shapes-1"}
    sagemaker.add_response("describe_training_job", _described("InProgress"), name)
    sagemaker.add_client_error("stop_training_job", "AccessDeniedException", "not allowed")
    with pytest.raises(AwsProblem, match="cannot stop yolo-shapes-1: AccessDenied") as caught:
        stop_job("yolo-shapes-1", out=io.StringIO())
    assert exit_code(caught.value) == 2
