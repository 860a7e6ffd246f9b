"""``yolo-pipeline approve`` and ``predict`` against moto, as a new user runs them: approve
leads to one endpoint request and one email with the predict command; predict prints the
objects the endpoint answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends

from tests.support.botocore_model import validate_request
from tests.support.deployer_world import (  # the deployer's moto world, reused
    GROUP,
    INFERENCE,
    ROLE,
    World,
    approval_event,
    endpoint_event,
    handler,
)
from tests.support.helpers import FakeLambdaContext
from yolo_pipeline.cli.main import main

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

ANSWER = {
    "predictions": [
        {
            "task": "detect",
            "names": ["circle", "square", "triangle"],
            "width": 160,
            "height": 160,
            "objects": [
                {"class_id": 1, "name": "square", "confidence": 0.91, "box": [10, 12, 50, 60]},
                {"class_id": 0, "name": "circle", "confidence": 0.55, "box": [80, 8, 120, 40]},
            ],
        }
    ]
}


def test_approve_leads_to_one_endpoint_request_and_one_email(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.register()
    arn, version = world.register()
    assert main(["approve", "pets"]) == 0
    out = capsys.readouterr().out
    assert f"Approved version {version} of {GROUP}" in out
    assert f"creates endpoint {GROUP}" in out and "yolo-pipeline predict pets IMAGE.jpg" in out
    described = world.sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    # EventBridge delivers the approval to the deployer, then the endpoint's outcome
    handle = handler()
    handle(approval_event(arn, version), FakeLambdaContext())
    assert world.writes().count("CreateEndpoint") == 1
    handle(endpoint_event(f"{GROUP}-v{version}"), FakeLambdaContext())
    [(subject, body)] = world.sent()
    assert subject == f"[yolo] Serving: pets v{version}"
    assert f"yolo-pipeline predict {GROUP} IMAGE.jpg" in body

    assert main(["approve", "pets", "--version", str(version)]) == 0
    assert "already approved" in capsys.readouterr().out
    assert main(["approve", "pets", "--version", "99"]) == 1
    assert main(["approve", "cats"]) == 1


def test_approve_names_the_group_as_the_notifier_does_with_the_stacks_prefix(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.register()
    capsys.readouterr()
    assert main(["approve", "s3://b/datasets/pets.zip"]) == 0  # a zip's group: no .zip
    assert f"of {GROUP}" in capsys.readouterr().out
    assert main(["approve", "pets.zip"]) == 0
    assert f"of {GROUP} is already approved" in capsys.readouterr().out
    deploy_stack("prefixed", job_prefix="team")
    assert main(["approve", "pets", "--stack-name", "prefixed"]) == 1
    assert "team-pets has no any version" in capsys.readouterr().out
    assert main(["approve", "pets", "--stack-name", "prefixed", "--prefix", "yolo"]) == 0


def test_predict_prints_the_objects_of_the_endpoint(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "shapes.jpg"
    image.write_bytes(b"JPEG bytes")  # moto decodes InvokeEndpoint bodies as UTF-8
    runtime = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    for _ in range(2):  # one answer per distinct request
        runtime.results_queue.append((json.dumps(ANSWER), "application/json", "AllTraffic", ""))
    requests: list[dict[str, object]] = []

    def record(params: dict[str, object], **_: object) -> None:
        validate_request("sagemaker-runtime", "InvokeEndpoint", dict(params))
        requests.append(dict(params))

    session_events().register("provide-client-params.sagemaker-runtime.InvokeEndpoint", record)
    assert main(["predict", "pets", str(image), "conf=0.5"]) == 0
    out = capsys.readouterr().out
    assert "2 object(s)" in out and "square" in out and "0.910" in out
    assert "[10.0, 12.0, 50.0, 60.0]" in out
    (request,) = requests
    assert request["EndpointName"] == GROUP and request["ContentType"] == "image/jpeg"
    assert request["CustomAttributes"] == "conf=0.5"

    world.register()  # the dataset's group exists from now on
    assert main(["predict", "pets.zip", str(image), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["image"] == str(image) and line["objects"][0]["name"] == "square"
    assert requests[-1]["EndpointName"] == GROUP


def test_predict_takes_an_endpoint_name_only_when_no_dataset_has_it(
    world: World, tmp_path: Path
) -> None:
    image = tmp_path / "shapes.jpg"
    image.write_bytes(b"JPEG bytes")
    runtime = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    for _ in range(3):
        runtime.results_queue.append((json.dumps(ANSWER), "application/json", "AllTraffic", ""))
    endpoints: list[object] = []
    session_events().register(
        "provide-client-params.sagemaker-runtime.InvokeEndpoint",
        lambda params, **_: endpoints.append(params["EndpointName"]),
    )
    create_endpoint(world, "shapes-endpoint")
    create_endpoint(world, GROUP)
    assert main(["predict", "shapes-endpoint", str(image)]) == 0  # no dataset of that name
    assert main(["predict", GROUP, str(image), "conf=0.4"]) == 0  # no dataset yolo-pets either
    world.sagemaker.create_model_package_group(ModelPackageGroupName=f"yolo-{GROUP}")
    assert main(["predict", GROUP, str(image), "conf=0.3"]) == 0  # the dataset yolo-pets wins
    assert endpoints == ["shapes-endpoint", GROUP, f"yolo-{GROUP}"]


def session_events() -> Any:
    """The default session's hooks (the world's session, reset after each test): every client
    the CLI makes comes from it, also those it makes anew once it has chosen the region."""
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION.events


def create_endpoint(world: World, name: str) -> None:
    world.sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": INFERENCE, "ModelDataUrl": "s3://b/model.tar.gz"},
        ExecutionRoleArn=ROLE,
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name,
                             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1}}],
    )  # fmt: skip
    world.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def deploy_stack(name: str, *, job_prefix: str) -> None:
    template = {
        "Parameters": {"JobNamePrefix": {"Type": "String"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "JobNamePrefix", "ParameterValue": job_prefix}],
    )


def test_predict_refuses_bad_options_and_missing_images(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["predict", "pets", str(image), "conf=2"]) == 2
    assert main(["predict", "pets", str(tmp_path / "missing.jpg")]) == 2
    assert main(["predict", "--local", "http://127.0.0.1:9", str(image)]) == 2  # nothing there
