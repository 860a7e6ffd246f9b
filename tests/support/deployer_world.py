"""The deployer's moto world: its env, the handler cold-started, a registered package."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns import sns_backends

from tests.support.botocore_model import validate_request
from tests.support.helpers import load_event
from tests.support.moto_hosting import patch_moto_hosting
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.notifier.registry import create_package_request

TABLE = "yolo-idempotency"
GROUP = "yolo-pets"
INFERENCE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-inference:latest"
DEPLOY_OPERATIONS = {
    "CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"
}  # fmt: skip
ROLE = "arn:aws:iam::123456789012:role/yolo-SageMakerRole"


class World:
    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # On the session, so the clients the CLI makes anew (after choosing its region) record too.
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("provide-client-params.sagemaker.*", self._record)
        aws.reset_clients()
        self.sagemaker = aws.client("sagemaker")
        self.jobs = 0

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        validate_request("sagemaker", model.name, copy.deepcopy(params))
        self.calls.append((model.name, copy.deepcopy(params)))

    def writes(self) -> list[str]:
        """The deployment requests made (not the tests' own registry calls)."""
        return [name for name, _ in self.calls if name in DEPLOY_OPERATIONS]

    def register(self, approval: str = "PendingManualApproval") -> tuple[str, int]:
        self.jobs += 1
        job = f"yolo-pets-{self.jobs:010d}"
        if self.jobs == 1:
            self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        request = create_package_request(
            group=GROUP,
            job_name=job,
            model_uri=f"s3://b/models/{job}/output/model.tar.gz",
            image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
            metadata={"yolo:dataset-uri": "s3://b/datasets/pets/", "yolo:job-name": job,
                      "yolo:task": "detect", "val:mAP50-95": "0.61"},
            task="detect",
            inference_image_uri=INFERENCE,
        )  # fmt: skip
        arn = self.sagemaker.create_model_package(**request)["ModelPackageArn"]
        version = self.sagemaker.describe_model_package(ModelPackageName=arn)["ModelPackageVersion"]
        if approval != "PendingManualApproval":
            self.set_approval(arn, approval)
        return arn, version

    def set_approval(self, arn: str, approval: str) -> None:
        self.sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=approval)

    def sent(self) -> list[tuple[str, str]]:
        topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[self.topic_arn]
        return [(str(subject), message) for _id, message, subject, *_ in topic.sent_notifications]

    def endpoint(self) -> dict[str, Any]:
        described: dict[str, Any] = self.sagemaker.describe_endpoint(EndpointName=GROUP)
        return described


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    patch_moto_hosting(monkeypatch)
    arn = boto3.client("sns").create_topic(Name="yolo-notifications")["TopicArn"]
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    push_inference_image()
    for name, value in {
        "NOTIFICATION_TOPIC_ARN": arn,
        "IDEMPOTENCY_TABLE": TABLE,
        "JOB_NAME_PREFIX": "yolo",
        "INFERENCE_IMAGE_URI": INFERENCE,
        "SAGEMAKER_ROLE_ARN": ROLE,
    }.items():
        monkeypatch.setenv(name, value)
    from yolo_pipeline.aws.observability import metrics

    metrics.clear_metrics()
    yield World(arn)
    boto3.DEFAULT_SESSION = None  # its recording hook ends with the test


def push_inference_image() -> None:
    """What `make image` leaves: the inference image in the stack's repository."""
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="yolo-inference")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "0" * 64},
        "layers": [],
    }
    ecr.put_image(
        repositoryName="yolo-inference", imageManifest=json.dumps(manifest), imageTag="latest"
    )


def handler() -> Any:
    """A cold start of the handler (settings from this env)."""
    import deploy_model

    return importlib.reload(deploy_model).lambda_handler


def approval_event(arn: str, version: int, approval: str = "Approved") -> dict[str, Any]:
    event = load_event("model_package_approved")
    event["detail"].update(
        ModelPackageArn=arn, ModelPackageVersion=version, ModelApprovalStatus=approval
    )
    event["detail"]["LastModifiedTime"] = 1773489600000 + version
    return event


def endpoint_event(config: str, status: str = "IN_SERVICE") -> dict[str, Any]:
    event = load_event("endpoint_in_service")
    event["detail"].update(EndpointConfigName=config, EndpointStatus=status)
    return event
