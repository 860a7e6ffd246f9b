"""The launch queue end to end in moto: a burst of uploads against a cap of two jobs,
a quota refusal, a newer upload of a queued dataset, and the monthly budget.

Jobs start InProgress and end when the test says (tests/support/queue_world.py); the
clock that runs SQS delays and the launcher moves by hand.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from tests.support.dataset_factory import detect_dataset, put_s3
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, Clock, LauncherWorld, upload_event
from tests.support.queue_world import (
    UPLOADS,
    emails_of,
    finish_jobs,
    in_progress,
    make_queue_world,
)
from yolo_pipeline.aws import clients
from yolo_pipeline.aws.launch_queue import wake_body
from yolo_pipeline.aws.uploads import UploadsTable
from yolo_pipeline.launcher.queue_rules import RECHECK_SECONDS, month_of

QUOTA_MESSAGE = "The account-level service limit 'ml.g4dn.xlarge for spot training job usage' is 1"


@pytest.fixture
def world(aws: None, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[LauncherWorld]:
    yield make_queue_world(monkeypatch, clock)


def _upload(world: LauncherWorld, name: str, sequencer: str = "0062E99A88DC407460") -> None:
    put_s3(detect_dataset(n_train=1, n_val=1), BUCKET, f"datasets/{name}/", create_bucket=False)
    world.enqueue(upload_event(f"datasets/{name}/data.yaml", sequencer=sequencer))


def _drain(
    world: LauncherWorld, context: FakeLambdaContext, clock: Clock, *, finish: int | None
) -> tuple[int, list[str]]:
    """Deliver until nothing is due; end ``finish`` running jobs (each with the notifier's
    wake-up message), or with none running move the clock one periodic check; until
    LaunchQueue is empty. Returns (most jobs in progress at any time, failed ids)."""
    peak, failed = 0, []
    for _ in range(400):
        while True:
            count, failures = world.deliver(context)
            failed += failures
            peak = max(peak, len(in_progress()))
            if count == 0:
                break
        if world.queue_depth() == 0:
            break
        ended = finish_jobs(finish)
        for name in ended:
            world.enqueue(json.loads(wake_body(name)))
        if not ended:
            clock.advance(RECHECK_SECONDS)
    return peak, failed


def _started_names(world: LauncherWorld) -> list[str]:
    return [r["TrainingJobName"] for r in world.requests]


def test_a_burst_of_100_uploads_runs_two_at_a_time_in_acceptance_order(
    world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    for i in range(100):
        _upload(world, f"set{i:03d}")

    peak, failed = _drain(world, lambda_context, clock, finish=None)

    assert failed == []  # nothing retried, so nothing can reach the DLQ
    assert peak <= 2
    names = _started_names(world)
    assert len(names) == len(set(names)) == 100
    table = UploadsTable(clients.client("dynamodb"), UPLOADS)
    uploads = [v for i in range(100) for v in table.history(f"set{i:03d}")]
    assert {v.state for v in uploads} == {"started"}
    accepted = [v.job_name for v in sorted(uploads, key=lambda v: v.queued_at)]
    assert names == accepted
    queued = emails_of(world, "Queued")
    assert len(queued) == 98  # all but the two that found a free slot
    assert len({e["attributes"]["job_name"]["Value"] for e in queued}) == 98
    assert len(emails_of(world, "JobStarted")) == 100
    first_waiting = next(e for e in queued if "set002" in e["subject"])
    assert "Place:     1 in the queue" in first_waiting["message"]
    assert "MaxConcurrentJobs" in first_waiting["message"]
    assert "Ceiling:" in emails_of(world, "JobStarted")[0]["message"]


def test_duplicate_deliveries_start_each_upload_once(
    world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    for i in range(5):
        _upload(world, f"dup{i}")
    world.deliver(lambda_context, copies=3)
    for _ in range(30):
        world.deliver(lambda_context, copies=2)
        assert len(in_progress()) <= 2
        if world.queue_depth() == 0:
            break
        finish_jobs(1)
        clock.advance(RECHECK_SECONDS)
    assert len(_started_names(world)) == len(set(_started_names(world))) == 5
    assert len(emails_of(world, "Queued")) == 3
    assert len(emails_of(world, "JobStarted")) == 5


def test_a_quota_refusal_waits_instead_of_failing(
    world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    sagemaker = clients.client("sagemaker")
    _upload(world, "quota")
    with Stubber(sagemaker) as stub:
        stub.add_response("list_training_jobs", {"TrainingJobSummaries": []})  # estimate
        stub.add_response("list_training_jobs", {"TrainingJobSummaries": []})  # slots
        stub.add_client_error(
            "create_training_job", "ResourceLimitExceeded", QUOTA_MESSAGE, http_status_code=400
        )
        count, failed = world.deliver(lambda_context)
    assert (count, failed) == (1, [])
    [queued] = emails_of(world, "Queued")
    assert "quota" in queued["message"] and QUOTA_MESSAGE in queued["message"]
    assert emails_of(world, "QuotaExceeded") == []
    clock.advance(RECHECK_SECONDS)
    _peak, failed = _drain(world, lambda_context, clock, finish=None)
    assert failed == []
    assert len(set(_started_names(world))) == 1  # the refused request, then the job
    assert len(emails_of(world, "JobStarted")) == 1


def test_a_newer_upload_replaces_its_queued_predecessor(
    world: LauncherWorld, clock: Clock, lambda_context: FakeLambdaContext
) -> None:
    _upload(world, "busy1")
    _upload(world, "busy2")
    _upload(world, "again", sequencer="0000000000000000000001")
    world.deliver(lambda_context)
    assert len(emails_of(world, "Queued")) == 1
    _upload(world, "again", sequencer="0000000000000000000002")  # a new data.yaml
    world.deliver(lambda_context)

    _drain(world, lambda_context, clock, finish=None)

    names = _started_names(world)
    assert len(names) == 3  # busy1, busy2 and the newer upload only
    table = UploadsTable(clients.client("dynamodb"), UPLOADS)
    states = sorted(v.state for v in table.history("again"))
    assert states == ["started", "superseded"]


def test_the_budget_holds_new_starts_and_lets_them_through_when_raised(
    aws: None, clock: Clock, monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> None:
    world = make_queue_world(monkeypatch, clock, {"MONTHLY_BUDGET_USD": "1"})
    table = UploadsTable(clients.client("dynamodb"), UPLOADS)
    _upload(world, "first")
    world.deliver(lambda_context)
    assert len(_started_names(world)) == 1
    finish_jobs()
    table.record_spend(month_of(clock()), _started_names(world)[0], 1.25)  # as the notifier does

    _upload(world, "second")
    world.deliver(lambda_context)
    [held] = emails_of(world, "BudgetHold")
    assert "$1.25 of $1.00" in held["message"] and _started_names(world)[0] in held["message"]
    assert "MonthlyBudgetUSD" in held["message"]
    clock.advance(RECHECK_SECONDS)
    world.deliver(lambda_context)
    assert len(_started_names(world)) == 1
    assert len(emails_of(world, "BudgetHold")) == 1

    monkeypatch.setenv("MONTHLY_BUDGET_USD", "10")  # sam deploy with a higher budget
    importlib.reload(world.module).launcher.clock = clock  # the new cold start reads it
    clock.advance(RECHECK_SECONDS)
    _drain(world, lambda_context, clock, finish=None)
    assert len(_started_names(world)) == 2
    assert len(emails_of(world, "JobStarted")) == 2
