"""The deployer Lambda against moto: an approval creates the dataset's endpoint (then updates
it), one email per outcome, duplicates absorbed, rejected versions never deployed. Every
SageMaker request is checked against botocore's model as it is made."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends
from moto.sns import sns_backends

from tests.support.botocore_model import validate_request
from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.moto_hosting import patch_moto_hosting
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.notifier.registry import create_package_request

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

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
        self.sagemaker = aws.client("sagemaker")
        self.sagemaker.meta.events.register("provide-client-params.sagemaker.*", self._record)
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


def test_an_approval_creates_the_endpoint_and_in_service_sends_one_email(world: World) -> None:
    arn, version = world.register("Approved")
    handle = handler()
    result = handle(approval_event(arn, version), FakeLambdaContext())
    assert result["action"] == "create"
    assert world.writes() == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]
    model = dict(world.calls)["CreateModel"]
    assert model["PrimaryContainer"] == {"ModelPackageName": arn}
    config = dict(world.calls)["CreateEndpointConfig"]["ProductionVariants"][0]
    assert config["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert world.endpoint()["EndpointConfigName"] == f"{GROUP}-v{version}"
    assert world.sent() == []  # the email waits for the outcome

    # a duplicate delivery of the approval changes nothing
    assert handle(approval_event(arn, version), FakeLambdaContext())["action"] == "duplicate"
    assert world.writes() == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]

    served = endpoint_event(f"{GROUP}-v{version}")
    assert handle(served, FakeLambdaContext())["action"] == "sent"
    assert handle(served, FakeLambdaContext())["action"] == "duplicate"
    [(subject, body)] = world.sent()
    assert subject == f"[yolo] Serving: pets v{version}"
    assert f"yolo-pipeline predict {GROUP} IMAGE.jpg --region us-east-1" in body
    assert "val:mAP50-95" in body and "0.61" in body


def test_a_later_approval_updates_the_same_endpoint_in_place(world: World) -> None:
    first, v1 = world.register("Approved")
    handle = handler()
    handle(approval_event(first, v1), FakeLambdaContext())
    second, v2 = world.register("Approved")
    result = handle(approval_event(second, v2), FakeLambdaContext())
    assert result["action"] == "update"
    assert world.writes()[-3:] == ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint"]
    assert world.endpoint()["EndpointConfigName"] == f"{GROUP}-v{v2}"
    handle(endpoint_event(f"{GROUP}-v{v2}"), FakeLambdaContext())
    [(subject, _)] = world.sent()
    assert subject.endswith(f"v{v2}")


def test_rejected_and_pending_versions_never_touch_the_endpoint(world: World) -> None:
    serving, v1 = world.register("Approved")
    handle = handler()
    handle(approval_event(serving, v1), FakeLambdaContext())
    rejected, v2 = world.register("Rejected")
    before = world.writes()
    for status in ("Rejected", "PendingManualApproval"):
        result = handle(approval_event(rejected, v2, status), FakeLambdaContext())
        assert result["action"] == "none" and status in result["reason"]
    assert world.writes() == before
    assert world.endpoint()["EndpointConfigName"] == f"{GROUP}-v{v1}"
    assert world.sent() == []


def test_an_older_approval_arriving_after_a_newer_one_is_ignored(world: World) -> None:
    older, v1 = world.register("Approved")
    newer, v2 = world.register("Approved")
    handle = handler()
    assert handle(approval_event(newer, v2), FakeLambdaContext())["action"] == "create"
    result = handle(approval_event(older, v1), FakeLambdaContext())
    assert result["action"] == "none" and f"version {v2}" in result["reason"]
    assert world.endpoint()["EndpointConfigName"] == f"{GROUP}-v{v2}"


def test_an_older_package_naming_the_training_image_deploys_on_the_inference_image(
    world: World,
) -> None:
    world.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    world.jobs = 1
    arn = world.sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "1.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
                            "ModelDataUrl": "s3://b/models/old/output/model.tar.gz"}],
            "SupportedContentTypes": ["image/jpeg"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]  # fmt: skip
    handler()(approval_event(arn, 1), FakeLambdaContext())
    model = dict(world.calls)["CreateModel"]
    assert model["PrimaryContainer"] == {
        "Image": INFERENCE,
        "ModelDataUrl": "s3://b/models/old/output/model.tar.gz",
    }


def test_a_busy_endpoint_makes_the_approval_retry(world: World) -> None:
    first, v1 = world.register("Approved")
    handle = handler()
    handle(approval_event(first, v1), FakeLambdaContext())
    sagemaker_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].endpoints[
        GROUP
    ].endpoint_status = "Updating"
    second, v2 = world.register("Approved")
    from yolo_pipeline.deployer.service import EndpointBusy

    with pytest.raises(EndpointBusy, match="Updating"):
        handle(approval_event(second, v2), FakeLambdaContext())
    assert "UpdateEndpoint" not in world.writes()


def test_a_refused_deployment_and_a_failed_endpoint_each_send_the_failure_email(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn, version = world.register("Approved")
    handle = handler()
    import deploy_model

    def refuse(**_: Any) -> None:
        error = {"Code": "ValidationException", "Message": "Image size 11 GB exceeds 10 GB"}
        raise ClientError({"Error": error}, "CreateEndpoint")

    monkeypatch.setattr(deploy_model.deployer.sagemaker, "create_endpoint", refuse)
    assert handle(approval_event(arn, version), FakeLambdaContext())["action"] == "refused"
    monkeypatch.undo()
    [(subject, body)] = world.sent()
    assert subject == f"[yolo] Deploy failed: pets v{version}"
    assert "Image size 11 GB exceeds 10 GB" in body and "What to do" in body

    failed = endpoint_event(f"{GROUP}-v{version}", "FAILED")
    assert handle(failed, FakeLambdaContext())["action"] == "sent"
    assert len(world.sent()) == 2 and "Deploy failed" in world.sent()[1][0]


def test_other_endpoints_and_transitional_states_send_nothing(world: World) -> None:
    handle = handler()
    for event in (endpoint_event(f"{GROUP}-v1", "CREATING"), endpoint_event("other-v1")):
        if event["detail"]["EndpointConfigName"] == "other-v1":
            event["detail"]["EndpointName"] = "someone-else"
        assert handle(event, FakeLambdaContext())["action"] == "none"
    assert handle({"source": "aws.s3"}, FakeLambdaContext())["action"] == "ignored"
    assert world.sent() == []


def test_deploy_on_approval_off_deploys_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_ON_APPROVAL", "false")
    arn, version = world.register("Approved")
    result = handler()(approval_event(arn, version), FakeLambdaContext())
    assert result["action"] == "none" and "DeployOnApproval" in result["reason"]
    assert "CreateEndpoint" not in world.writes()


def test_the_moto_patch_keeps_package_metadata_as_sagemaker_does(world: World) -> None:
    arn, _ = world.register()
    world.set_approval(arn, "Approved")
    described = world.sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"]["yolo:job-name"] == "yolo-pets-0000000001"
