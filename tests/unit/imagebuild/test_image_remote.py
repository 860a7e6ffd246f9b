"""Pure pieces of the remote image build: the StartBuild request, keys, the log tail."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from tests.support.botocore_model import validate_request
from yolo_pipeline.imagebuild.context import BuildContext
from yolo_pipeline.imagebuild.remote import (
    BuildTargets,
    console_url,
    failure_summary,
    log_tail,
    source_key,
    start_build_request,
)

TARGETS = BuildTargets(
    bucket="stack-datasetbucket-abc",
    repository_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/stack-repo",
    project="stack-training-image",
)


def test_start_build_request_pins_the_uploaded_object_and_the_tag() -> None:
    request = start_build_request(TARGETS, "builds/training-image-0123.zip", "v-1", "v2")
    validate_request("codebuild", "StartBuild", request)
    assert (
        request["sourceLocationOverride"]
        == "stack-datasetbucket-abc/builds/training-image-0123.zip"
    )
    assert request["sourceVersion"] == "v-1"
    assert request["environmentVariablesOverride"] == [
        {"name": "IMAGE_TAG", "value": "v2", "type": "PLAINTEXT"}
    ]
    unversioned = start_build_request(TARGETS, "builds/x.zip", None, "latest")
    assert "sourceVersion" not in unversioned


def test_source_key_is_content_addressed_under_the_build_prefix() -> None:
    a, b = BuildContext(b"one", ("x",)), BuildContext(b"two", ("x",))
    assert source_key(a) == source_key(BuildContext(b"one", ("y",)))
    assert source_key(a) != source_key(b)
    assert source_key(a).startswith("builds/training-image-") and source_key(a).endswith(".zip")


def test_console_url_escapes_the_build_id() -> None:
    url = console_url("eu-west-1", "p", "p:1234")
    assert url.endswith("/projects/p/build/p%3A1234/?region=eu-west-1")


def test_failure_summary_names_the_failed_phase() -> None:
    build = {
        "id": "p:1",
        "buildStatus": "FAILED",
        "phases": [
            {"phaseType": "DOWNLOAD_SOURCE", "phaseStatus": "SUCCEEDED"},
            {
                "phaseType": "PRE_BUILD",
                "phaseStatus": "FAILED",
                "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "login"}],
            },
        ],
    }
    assert list(failure_summary(build)) == [
        "build p:1 ended FAILED",
        "phase PRE_BUILD FAILED (COMMAND_EXECUTION_ERROR: login)",
    ]


def test_log_tail_asks_again_while_the_last_lines_arrive() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    expected = {"logGroupName": "g", "logStreamName": "s", "startFromHead": False, "limit": 2}
    with Stubber(logs) as stubber:
        stubber.add_response("get_log_events", {"events": []}, expected)
        stubber.add_response(
            "get_log_events",
            {"events": [{"timestamp": 1, "message": "a\n"}, {"timestamp": 2, "message": "b"}]},
            expected,
        )
        waits: list[float] = []
        build = {"logs": {"groupName": "g", "streamName": "s"}}
        assert log_tail(logs, build, 2, wait_seconds=1.5, sleep=waits.append) == ["a", "b"]
        assert waits == [1.5]
    assert log_tail(logs, {"logs": {}}, 2) == []  # a build without a log stream
