"""``yolo-pipeline approve`` and ``predict`` against moto, as a new user runs them: approve
leads to one endpoint request and one email with the predict command; predict prints the
objects the endpoint answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends

from tests.support.botocore_model import validate_request
from tests.support.deployer_world import (  # the deployer's moto world, reused
    GROUP,
    World,
    approval_event,
    endpoint_event,
    handler,
)
from tests.support.helpers import FakeLambdaContext
from yolo_pipeline.aws import clients as aws
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

    aws.client("sagemaker-runtime").meta.events.register(
        "provide-client-params.sagemaker-runtime.InvokeEndpoint", record
    )
    assert main(["predict", "pets", str(image), "conf=0.5"]) == 0
    out = capsys.readouterr().out
    assert "2 object(s)" in out and "square" in out and "0.910" in out
    assert "[10.0, 12.0, 50.0, 60.0]" in out
    (request,) = requests
    assert request["EndpointName"] == GROUP and request["ContentType"] == "image/jpeg"
    assert request["CustomAttributes"] == "conf=0.5"

    assert main(["predict", GROUP, str(image), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["image"] == str(image) and line["objects"][0]["name"] == "square"


def test_predict_refuses_bad_options_and_missing_images(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["predict", "pets", str(image), "conf=2"]) == 2
    assert main(["predict", "pets", str(tmp_path / "missing.jpg")]) == 2
    assert main(["predict", "--local", "http://127.0.0.1:9", str(image)]) == 2  # nothing there
