"""A new user's upload, for real: the AWS CLI's `aws s3 cp --recursive` against moto_server.

The CLI writes the folder in its own order (data.yaml first: it sorts before images/ and
labels/) with its own concurrency, through HTTP. moto's S3 sends each write to EventBridge,
whose rule (the template's pattern) puts data.yaml's event on LaunchQueue; a poller thread
plays the event source mapping while the upload is still running. Real time throughout,
with a short SETTLE_SECONDS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dataset_factory import detect_dataset, write_local
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import ACCOUNT, BUCKET, REGION, LauncherWorld, make_launcher_world
from tests.support.moto_s3_events import with_aws_reasons

SETTLE_SECONDS = 2
PREFIX = "datasets/shapes/"


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto as a real endpoint on a free port; every boto3 client in the test uses it."""
    import requests
    from moto.server import ThreadedMotoServer

    from yolo_pipeline.aws.clients import reset_clients

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # honoured by boto3 >= 1.28
    reset_clients()
    try:
        yield endpoint
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()
        reset_clients()


def _route_uploads_to_the_queue(world: LauncherWorld) -> None:
    """What template.yaml sets up: S3 -> EventBridge, and DatasetUploadedRule -> LaunchQueue."""
    import json

    from yolo_pipeline.aws import clients as aws

    aws.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events = aws.client("events")
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [BUCKET]},
            "object": {"key": [{"wildcard": "datasets/*/data.yaml"}]},
        },
    }
    events.put_rule(Name="dataset-uploaded", EventPattern=json.dumps(pattern))
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:yolo-launch"
    events.put_targets(Rule="dataset-uploaded", Targets=[{"Id": "q", "Arn": queue_arn}])


class _Poller(threading.Thread):
    """The event source mapping: polls LaunchQueue and invokes the handler with batches."""

    def __init__(self, world: LauncherWorld) -> None:
        super().__init__(daemon=True)
        self.world = world
        self.stop = threading.Event()
        self.first_record_at: float | None = None
        self.objects_at_first_record = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                handled, _failed = self.world.deliver(FakeLambdaContext())
            except BaseException as exc:  # surfaced by the test, not lost in the thread
                self.errors.append(exc)
                return
            if handled and self.first_record_at is None:
                self.first_record_at = time.monotonic()
                self.objects_at_first_record = len(_keys())
            if not handled:
                time.sleep(0.2)


def _cli_env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def _wait_for_jobs(world: LauncherWorld, poller: _Poller, jobs: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(world.requests) < jobs and time.monotonic() < deadline and not poller.errors:
        time.sleep(0.2)
    time.sleep(2 * SETTLE_SECONDS)  # any straggling deferred check comes back and ends


def test_aws_s3_cp_between_prefixes_is_one_job_and_no_rejection(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy keeps data.yaml's completion metadata and writes data.yaml first: the copy
    settles like any other tool instead of being checked half-copied."""
    from yolo_pipeline.aws import clients as aws

    with_aws_reasons(monkeypatch)
    world = make_launcher_world(monkeypatch, {"SETTLE_SECONDS": str(SETTLE_SECONDS)})
    _route_uploads_to_the_queue(world)
    poller = _Poller(world)
    poller.start()
    # pets/ as `yolo-pipeline upload` leaves it: data.yaml last, marked complete.
    files = detect_dataset(n_train=150, n_val=40)
    s3 = aws.client("s3")
    for rel in sorted(files, key=lambda p: p == "data.yaml"):
        extra = {"Metadata": {"yolo-upload": "complete"}} if rel == "data.yaml" else {}
        s3.put_object(Bucket=BUCKET, Key=f"datasets/pets/{rel}", Body=files[rel], **extra)
    _wait_for_jobs(world, poller, 1, 30)
    assert len(world.requests) == 1

    source, target = f"s3://{BUCKET}/datasets/pets/", f"s3://{BUCKET}/datasets/pets-v2/"
    cli = subprocess.run(
        [sys.executable, "-m", "awscli", "s3", "cp", source, target, "--recursive",
         "--endpoint-url", moto_endpoint],
        env=_cli_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr[-2000:]
    _wait_for_jobs(world, poller, 2, 10 * SETTLE_SECONDS + 30)
    poller.stop.set()
    poller.join(timeout=30)
    assert not poller.errors, poller.errors

    kinds = [e["attributes"]["kind"]["Value"] for e in world.emails()]
    assert kinds == ["JobStarted", "JobStarted"], [e["message"][:400] for e in world.emails()]
    uris = [r["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] for r in world.requests]
    assert uris == [source, target]
    # The copy's data.yaml event carried the marker, and the launcher waited all the same.
    assert any("pets-v2" in sent["MessageBody"] for sent in world.sent)


def test_aws_s3_cp_recursive_starts_exactly_one_job_and_one_email(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = make_launcher_world(monkeypatch, {"SETTLE_SECONDS": str(SETTLE_SECONDS)})
    _route_uploads_to_the_queue(world)
    root = write_local(tmp_path / "shapes", detect_dataset(n_train=200, n_val=50))
    objects = sum(1 for p in root.rglob("*") if p.is_file())
    poller = _Poller(world)
    poller.start()

    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    # The CLI's own output: one "upload:" line per object, in the order it wrote them.
    started = time.monotonic()
    command = ["s3", "cp", str(root), f"s3://{BUCKET}/{PREFIX}", "--recursive"]
    cli = subprocess.run(
        [sys.executable, "-m", "awscli", *command, "--endpoint-url", moto_endpoint],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    finished = time.monotonic()
    assert cli.returncode == 0, cli.stderr[-2000:]
    written = [
        line.split(" to s3://", 1)[1] for line in cli.stdout.splitlines() if " to s3://" in line
    ]
    assert len(written) == objects
    assert written.index(f"{BUCKET}/{PREFIX}data.yaml") < 10  # among the first in flight

    deadline = finished + 10 * SETTLE_SECONDS + 30
    while not world.requests and time.monotonic() < deadline and not poller.errors:
        time.sleep(0.2)
    time.sleep(2 * SETTLE_SECONDS)  # any straggling deferred check comes back and ends
    poller.stop.set()
    poller.join(timeout=30)
    assert not poller.errors, poller.errors

    assert len(_keys()) == objects
    # data.yaml came first: its event reached the launcher while the CLI was still writing
    # most of the folder, and the launcher waited for it.
    assert poller.first_record_at is not None and started < poller.first_record_at < finished
    assert poller.objects_at_first_record < objects // 2
    assert world.sent, "the data.yaml event was never deferred"
    assert len(world.requests) == 1
    kinds = [e["attributes"]["kind"]["Value"] for e in world.emails()]
    assert kinds == ["JobStarted"], [e["message"][:400] for e in world.emails()]
    assert world.requests[0]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://{BUCKET}/{PREFIX}"
    )


def _keys() -> list[Any]:
    from yolo_pipeline.aws import clients as aws

    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]
