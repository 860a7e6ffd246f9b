"""``upload --wait`` against the real launcher: the CLI runs as a process against moto's
server while, in the test process, S3's events reach LaunchQueue through the stack's
EventBridge rule and the cold-started launcher handler is fed from that queue. What the CLI
prints is the verdict the launcher recorded, and ``status`` shows the same one afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support import launcher_world as launcher
from tests.support.cli_stack import (
    ALLOWED,
    BUCKET,
    STACK,
    TABLE,
    CliResult,
    cli_env,
    deploy_test_stack,
    run_cli,
)
from tests.support.dataset_factory import detect_dataset, with_changes, write_local
from tests.support.launcher_feed import launcher_fed, route_uploads
from tests.support.launcher_world import LauncherWorld, make_launcher_world
from tests.support.moto_eventbridge import eventbridge_reported
from tests.support.moto_s3_events import with_aws_reasons

LABEL = "labels/train/train_00001.txt"
# The launcher answers within a second or two; the bound only ends a broken run.
WAIT = ["--wait", "--wait-timeout", "60", "--no-progress"]


@dataclass(frozen=True)
class Deployed:
    env: dict[str, str]
    launcher: LauncherWorld


@pytest.fixture
def deployed(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """The stack as deployed: outputs for the CLI, and its launcher on the uploads table
    with the default settle rule (the CLI's completion marker makes it check at once)."""
    region = launcher.REGION
    deploy_test_stack(
        boto3.client("cloudformation", region_name=region),
        boto3.client("s3", region_name=region),
        boto3.client("dynamodb", region_name=region),
    )
    with_aws_reasons(monkeypatch)  # PutObject, as AWS says: the marker counts only then
    world = make_launcher_world(
        monkeypatch,
        {
            "UPLOADS_TABLE": TABLE,
            "SETTLE_SECONDS": "60",
            "INSTANCE_TYPE": "ml.g5.xlarge",
            "ALLOWED_INSTANCE_TYPES": ALLOWED,
        },
    )
    route_uploads(boto3.client("events", region_name=region), BUCKET)
    with eventbridge_reported():
        yield Deployed(cli_env(moto_server, YOLO_STACK_NAME=STACK), world)


def upload_and_wait(deployed: Deployed, root: Path, *extra: str) -> CliResult:
    """The user's ``upload --wait``, with the launcher serving its queue meanwhile."""
    with launcher_fed(deployed.launcher) as feed:
        result = run_cli(["upload", str(root), *WAIT, *extra], deployed.env, timeout=120)
    assert feed.records >= 1, result.out + result.err
    assert "Traceback" not in result.out + result.err
    return result


def uploads_of(deployed: Deployed, name: str) -> list[dict[str, Any]]:
    history = run_cli(["status", name, "--json"], deployed.env)
    assert history.code == 0, history.err
    uploads: list[dict[str, Any]] = json.loads(history.out)["uploads"]
    return uploads


def test_a_rejected_upload_shows_the_launchers_problems_and_exits_1(
    deployed: Deployed, tmp_path: Path
) -> None:
    files = with_changes(detect_dataset(), **{LABEL: "5 0.5 0.5 0.1 0.1\n"})
    root = write_local(tmp_path / "shapes", files)

    result = upload_and_wait(deployed, root, "--force")  # past the CLI's own check

    assert result.code == 1, result.out + result.err
    assert "REJECTED" in result.out
    problem = next(line for line in result.out.splitlines() if LABEL in line)
    assert "class 5" in problem, result.out
    assert "did not start a job for 'shapes' (rejected)" in result.err
    assert deployed.launcher.requests == []
    (email,) = deployed.launcher.emails()
    assert email["attributes"]["kind"]["Value"] == "DatasetRejected"

    status = run_cli(["status"], deployed.env)
    assert status.code == 0 and problem.strip() in status.out, status.out
    (upload,) = uploads_of(deployed, "shapes")
    assert upload["state"] == "rejected" and upload["job_name"] is None
    assert problem.strip().removeprefix("- ") in upload["problems"]


def test_a_valid_upload_prints_the_started_job_and_exits_0(
    deployed: Deployed, tmp_path: Path
) -> None:
    root = write_local(tmp_path / "shapes", detect_dataset())

    result = upload_and_wait(deployed, root, "epochs=3")

    assert result.code == 0, result.out + result.err
    (request,) = deployed.launcher.requests
    job = request["TrainingJobName"]
    assert "STARTED" in result.out and f"job:     {job}" in result.out, result.out
    assert request["HyperParameters"]["epochs"] == "3"  # the override reached the job
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    kinds = [e["attributes"]["kind"]["Value"] for e in deployed.launcher.emails()]
    assert kinds == ["JobStarted"]

    status = run_cli(["status"], deployed.env)
    assert status.code == 0 and job in status.out, status.out
    (upload,) = uploads_of(deployed, "shapes")
    assert upload["state"] == "started" and upload["job_name"] == job
    assert upload["uri"] == f"s3://{BUCKET}/datasets/shapes/"
