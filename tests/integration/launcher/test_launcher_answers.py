"""Every upload gets its answer within the Lambda's limits, and every outcome is recorded in
the uploads table for `status` and `upload --wait`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.dataset_factory import detect_dataset, put_s3, with_changes
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import (
    BUCKET,
    LauncherWorld,
    make_launcher_world,
    upload_event,
)
from tests.support.uploads_table import create_uploads_table
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws_clients
from yolo_pipeline.aws.uploads import UploadsTable, Verdict
from yolo_pipeline.dataset.budget import CheckBudget
from yolo_pipeline.launcher import service
from yolo_pipeline.launcher.service import CHECK_RESERVE_SECONDS, MIN_CHECK_SECONDS

TABLE = "uploads"


@dataclass
class ShortContext(FakeLambdaContext):
    """A Lambda context with ``left_ms`` of the invocation left."""

    left_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return self.left_ms


@pytest.fixture
def recorded_world(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LauncherWorld]:
    create_uploads_table(aws_clients.client("dynamodb"), TABLE)
    yield make_launcher_world(monkeypatch, {"UPLOADS_TABLE": TABLE})


def _verdicts(dataset: str = "shapes") -> list[Verdict]:
    return UploadsTable(aws_clients.client("dynamodb"), TABLE).history(dataset)


def test_a_check_out_of_time_is_one_rejection_email_not_a_timeout(
    recorded_world: LauncherWorld,
) -> None:
    put_s3(detect_dataset(n_train=6, n_val=3), BUCKET, "datasets/shapes/", create_bucket=False)
    context = ShortContext(left_ms=CHECK_RESERVE_SECONDS * 1000)  # no time left to check
    result = recorded_world.invoke(upload_event("datasets/shapes/data.yaml"), context)

    assert result["status"] == "rejected" and recorded_world.requests == []
    (email,) = recorded_world.emails()
    assert "too costly to check" in email["message"] and "zip" in email["message"]
    (verdict,) = _verdicts()
    assert verdict.state == "rejected" and "too costly to check" in verdict.problems[0]


def test_a_record_left_too_little_time_by_a_batch_mate_goes_back_to_the_queue(
    recorded_world: LauncherWorld,
) -> None:
    for name in ("one", "two"):
        put_s3(detect_dataset(n_train=4, n_val=2), BUCKET, f"datasets/{name}/", create_bucket=False)
        recorded_world.enqueue(upload_event(f"datasets/{name}/data.yaml", sequencer=name))
    # Enough for one check, not for a second one after it.
    context = ShortContext(left_ms=(CHECK_RESERVE_SECONDS + MIN_CHECK_SECONDS - 1) * 1000)
    handled, failed = recorded_world.deliver(context)

    assert handled == 2 and failed == []
    assert len(recorded_world.requests) == 1
    (requeued,) = recorded_world.sent
    assert "datasets/two/data.yaml" in requeued["MessageBody"]
    # The next invocation (a fresh 15 minutes) answers it.
    recorded_world.deliver(FakeLambdaContext())
    assert len(recorded_world.requests) == 2


def test_every_outcome_is_recorded_for_the_cli(recorded_world: LauncherWorld) -> None:
    files = detect_dataset(n_train=4, n_val=2)
    put_s3(files, BUCKET, "datasets/shapes/", create_bucket=False)
    started = recorded_world.invoke(upload_event("datasets/shapes/data.yaml"), FakeLambdaContext())
    (verdict,) = _verdicts()
    assert verdict.state == "started" and verdict.job_name == started["job_name"]
    assert verdict.uri == f"s3://{BUCKET}/datasets/shapes/"

    bad = with_changes(files, **{"labels/train/train_00001.txt": b"7 0.5 0.5 0.1 0.1\n"})
    put_s3(bad, BUCKET, "datasets/broken/", create_bucket=False)
    recorded_world.invoke(upload_event("datasets/broken/data.yaml"), FakeLambdaContext())
    (rejected,) = _verdicts("broken")
    assert rejected.state == "rejected" and any("7" in p for p in rejected.problems)

    # An event whose data.yaml was replaced since: superseded, recorded, no email.
    emails = len(recorded_world.emails())
    stale = upload_event("datasets/shapes/data.yaml", sequencer="0001", etag="0" * 32)
    assert recorded_world.invoke(stale, FakeLambdaContext())["status"] == "superseded"
    assert len(recorded_world.emails()) == emails
    assert {v.state for v in _verdicts()} == {"started", "superseded"}


def test_a_zip_whose_labels_outlast_the_budget_is_answered_mid_check(
    recorded_world: LauncherWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget runs out while the label pass reads (a clock that ticks once per look):
    the reads stop there and the upload gets its one rejection, naming what to do."""
    ticks = iter(range(10_000))
    looks: list[int] = []

    def tick() -> float:
        looks.append(1)
        return float(next(ticks))

    monkeypatch.setattr(service, "check_budget", lambda _ctx: CheckBudget(deadline=6, clock=tick))
    files = detect_dataset(n_train=40, n_val=10)
    aws_clients.client("s3").put_object(
        Bucket=BUCKET, Key="datasets/huge.zip", Body=zip_files(files)
    )
    result = recorded_world.invoke(upload_event("datasets/huge.zip"), FakeLambdaContext())

    assert result["status"] == "rejected" and recorded_world.requests == []
    (email,) = recorded_world.emails()
    assert "too costly to check" in email["message"]
    assert "split the label files" in email["message"]  # the zip's remedy, not "upload a zip"
    assert 6 < len(looks) < 50  # it stopped within a read of the deadline, not at the end
    (verdict,) = _verdicts("huge")
    assert verdict.state == "rejected"
