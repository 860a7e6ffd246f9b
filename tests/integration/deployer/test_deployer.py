"""The deployer Lambda against moto: an approval creates the dataset's endpoint (then updates
it), one email per outcome, duplicates absorbed, rejected versions never deployed. Every
SageMaker request is checked against botocore's model as it is made."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from tests.support.deployer_world import (
    GROUP,
    INFERENCE,
    World,
    approval_event,
    endpoint_event,
    handler,
)
from tests.support.helpers import FakeLambdaContext

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]


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


def test_a_missing_inference_image_deploys_nothing_and_says_make_image(world: World) -> None:
    """The image guard: an approval before `make image` pushed the inference image gets one
    email with the fix, and no model that could never start."""
    import boto3

    boto3.client("ecr", region_name="us-east-1").batch_delete_image(
        repositoryName="yolo-inference", imageIds=[{"imageTag": "latest"}]
    )
    arn, version = world.register("Approved")
    result = handler()(approval_event(arn, version), FakeLambdaContext())
    assert result["action"] == "no-image"
    assert world.writes() == []
    ((_subject, message),) = world.sent()
    assert "make image" in message and "yolo-pipeline approve" in message
