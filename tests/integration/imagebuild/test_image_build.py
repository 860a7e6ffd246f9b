"""`yolo-pipeline image` against moto: upload the context, start and follow the build.

moto's CodeBuild ignores the source override and finishes a build at the first
BatchGetBuilds, with no log stream: the first test runs the whole command on moto; the
phase-by-phase follow, the log tail and a failed build use botocore's Stubber for
CodeBuild (responses checked against the service model) with moto for S3, CloudWatch
Logs and ECR. Every request is checked with validate_request.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tests.support.botocore_model import validate_request
from tests.support.helpers import ROOT
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.main import main
from yolo_pipeline.contract import BUILD_PREFIX
from yolo_pipeline.imagebuild.context import BUILDSPEC, DOCKERFILE

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "yolo-on-upload"
BUCKET = "yolo-on-upload-datasetbucket-abc"
REPO_NAME = "yolo-on-upload-trainingimagerepository-abc"
REPO_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO_NAME}"
PROJECT = f"{STACK}-training-image"
LOG_GROUP = f"/aws/codebuild/{PROJECT}"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + "b5" * 32,
        },
        "layers": [],
    }
)
STACK_TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "DatasetBucketName": {"Value": BUCKET},
        "TrainingImageRepositoryUri": {"Value": REPO_URI},
        "ImageBuildProjectName": {"Value": PROJECT},
    },
}


class Calls:
    """Every request the command makes, checked against botocore's model."""

    def __init__(self) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        validate_request(service, model.name, params)
        self.made.append((model.name, dict(params)))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.made if name == operation]


@pytest.fixture
def world(aws: None) -> Iterator[Calls]:
    calls = Calls()
    for service in ("cloudformation", "s3", "codebuild", "logs", "ecr"):
        aws_client = aws_client_for(service)
        aws_client.meta.events.register(f"provide-client-params.{service}", calls)
    s3 = aws_client_for("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    aws_client_for("ecr").create_repository(repositoryName=REPO_NAME)
    aws_client_for("cloudformation").create_stack(
        StackName=STACK, TemplateBody=json.dumps(STACK_TEMPLATE)
    )
    yield calls


def aws_client_for(service: str) -> Any:
    return aws.client(service, REGION)  # the same cached client the command uses


def push_image(tag: str = "latest") -> str:
    image = aws_client_for("ecr").put_image(
        repositoryName=REPO_NAME, imageManifest=MANIFEST, imageTag=tag
    )["image"]
    return str(image["imageId"]["imageDigest"])


def run_image(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(
        ["image", "--region", REGION, "--context", str(ROOT), "--poll-seconds", "0", *extra]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_builds_from_the_uploaded_context_and_ends_with_uri_and_digest(
    world: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_client_for("codebuild").create_project(
        name=PROJECT,
        source={"type": "S3", "location": f"{BUCKET}/{BUILD_PREFIX}training-image.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_MEDIUM",
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT}:role/{STACK}-build",
    )
    digest = push_image()  # moto's build pushes nothing: the image CodeBuild would push

    code, out, err = run_image(capsys)

    assert code == 0, err
    (start,) = world.of("StartBuild")
    (put,) = world.of("PutObject")
    key = put["Key"]
    assert key.startswith(BUILD_PREFIX) and key.endswith(".zip")
    assert start["projectName"] == PROJECT
    assert start["sourceTypeOverride"] == "S3"
    assert start["sourceLocationOverride"] == f"{BUCKET}/{key}"
    head = aws_client_for("s3").head_object(Bucket=BUCKET, Key=key)
    assert start["sourceVersion"] == head["VersionId"]  # pinned to this very upload
    assert start["environmentVariablesOverride"] == [
        {"name": "IMAGE_TAG", "value": "latest", "type": "PLAINTEXT"}
    ]
    body = aws_client_for("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert {DOCKERFILE, BUILDSPEC, "training_image/requirements.lock"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", ".venv"))]
    assert world.of("BatchGetBuilds") and world.of("DescribeStacks")
    assert f"Image:  {REPO_URI}:latest" in out
    assert f"Digest: {digest}" in out
    assert f"Pinned: {REPO_URI}@{digest}" in out
    assert "COMPLETED" in out  # the phase moto reports


def _build(phase: str, status: str = "IN_PROGRESS", **extra: Any) -> dict[str, Any]:
    build: dict[str, Any] = {
        "id": f"{PROJECT}:0b6f1e0a-1111-2222-3333-444455556666",
        "projectName": PROJECT,
        "currentPhase": phase,
        "buildStatus": status,
        "buildComplete": status != "IN_PROGRESS",
        "logs": {"groupName": LOG_GROUP, "streamName": "0b6f1e0a-1111-2222-3333-444455556666"},
    }
    build.update(extra)
    return build


def _stub_codebuild(builds: list[dict[str, Any]]) -> Stubber:
    stubber = Stubber(aws_client_for("codebuild"))
    stubber.add_response(
        "start_build",
        {"build": builds[0]},
        {
            "projectName": PROJECT,
            "sourceTypeOverride": "S3",
            "sourceLocationOverride": ANY,
            "sourceVersion": ANY,
            "environmentVariablesOverride": ANY,
        },
    )
    for build in builds:
        stubber.add_response("batch_get_builds", {"builds": [build]}, {"ids": [build["id"]]})
    stubber.activate()
    return stubber


def _write_log(lines: list[str]) -> None:
    now = int(time.time() * 1000)
    logs = aws_client_for("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(
        logGroupName=LOG_GROUP, logStreamName="0b6f1e0a-1111-2222-3333-444455556666"
    )
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName="0b6f1e0a-1111-2222-3333-444455556666",
        # CloudWatch Logs (and moto) drop events older than 14 days: stamp them now.
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )


def test_follows_each_phase_then_prints_the_log_tail(
    world: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = push_image("v2")
    _write_log([f"line {i}" for i in range(60)] + [f"IMAGE_URI={REPO_URI}:v2"])
    stubber = _stub_codebuild(
        [
            _build("QUEUED"),
            _build("QUEUED"),
            _build("PROVISIONING"),
            _build("BUILD"),
            _build("BUILD"),
            _build("COMPLETED", "SUCCEEDED"),
        ]
    )

    code, out, err = run_image(capsys, "--tag", "v2", "--tail", "5")

    assert code == 0, err
    stubber.assert_no_pending_responses()
    phases = [line.split("] ", 1)[1] for line in out.splitlines() if line.startswith("  [")]
    assert phases == ["QUEUED", "PROVISIONING", "BUILD", "COMPLETED"]  # each change once
    assert "--- last 5 log lines ---" in out
    assert "  line 59" in out and f"  IMAGE_URI={REPO_URI}:v2" in out and "line 55" not in out
    assert f"Digest: {digest}" in out
    (tail,) = world.of("GetLogEvents")
    assert tail["logGroupName"] == LOG_GROUP and tail["limit"] == 5
    (describe,) = world.of("DescribeImages")
    assert describe["imageIds"] == [{"imageTag": "v2"}]


def test_a_failed_build_says_which_phase_and_why(
    world: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_log(["Step 5/9 : RUN pip install -r requirements.txt", "ERROR: No space left"])
    failed_phase = {
        "phaseType": "BUILD",
        "phaseStatus": "FAILED",
        "contexts": [
            {
                "statusCode": "COMMAND_EXECUTION_ERROR",
                "message": "Error while executing command: docker buildx build. Reason: exit 1",
            }
        ],
    }
    stubber = _stub_codebuild(
        [_build("BUILD"), _build("COMPLETED", "FAILED", phases=[failed_phase])]
    )

    code, out, _ = run_image(capsys)

    assert code == 1
    stubber.assert_no_pending_responses()
    assert "ERROR: No space left" in out
    assert "ended FAILED" in out
    assert "phase BUILD FAILED (COMMAND_EXECUTION_ERROR: Error while executing" in out
    assert "When the image build fails" in out
    assert not world.of("DescribeImages")  # no digest for an image that was not pushed


def test_without_the_stack_or_its_build_output_it_says_what_to_do(
    world: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_image(capsys, "--stack-name", "not-deployed")
    assert code == 1 and "make deploy" in err
    old = {
        "Resources": STACK_TEMPLATE["Resources"],
        "Outputs": {"DatasetBucketName": {"Value": BUCKET}},
    }
    aws_client_for("cloudformation").create_stack(StackName="old", TemplateBody=json.dumps(old))
    code, _, err = run_image(capsys, "--stack-name", "old")
    assert code == 1 and "ImageBuildProjectName" in err and "make deploy" in err
    assert not world.of("PutObject") and not world.of("StartBuild")
    assert main(["image", "--context", str(ROOT), "--tag", "no/slashes"]) == 2
