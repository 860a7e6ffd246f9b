"""The uploads table against moto: verdicts move forward only, the queue keeps first come
first served, spend counts each job once."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.uploads_table import create_uploads_table
from yolo_pipeline.aws.uploads import UploadsTable, Verdict

pytestmark = pytest.mark.integration


@pytest.fixture
def table() -> Iterator[UploadsTable]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        yield UploadsTable(client, create_uploads_table(client))


def test_a_verdict_never_moves_back(table: UploadsTable) -> None:
    assert table.record(Verdict("cats", "u1", "settling", uri="s3://b/datasets/cats/"))
    assert table.record(Verdict("cats", "u1", "started", job_name="yolo-cats-1"))
    assert not table.record(Verdict("cats", "u1", "settling"))  # a late redelivery
    got = table.get("cats", "u1")
    assert got is not None
    assert (got.state, got.job_name, got.uri) == ("started", "yolo-cats-1", "")


def test_problems_are_kept_bounded_and_inert(table: UploadsTable) -> None:
    problems = [f"labels/{i}.txt:1: class 7 out of range\x1b[2J" for i in range(500)]
    table.record(Verdict("dogs", "u2", "rejected", problems=problems))
    got = table.get("dogs", "u2")
    assert got is not None and len(got.problems) == 200
    assert "\x1b" not in got.problems[0] and "class 7" in got.problems[0]


def test_the_queue_is_first_come_first_served_and_sparse(table: UploadsTable) -> None:
    for n, name in enumerate(["a", "b", "c"]):
        table.record(
            Verdict(name, f"u{n}", "queued", updated_at=f"2020-01-02T10:0{n}:00Z"), queued=True
        )
    # A repeat keeps its place; a start leaves the queue.
    table.record(Verdict("a", "u0", "queued", updated_at="2020-01-02T11:00:00Z"), queued=True)
    assert [v.dataset for v in table.queue()] == ["a", "b", "c"]
    table.record(Verdict("a", "u0", "started", job_name="j"), queued=False)
    assert [v.dataset for v in table.queue()] == ["b", "c"]
    assert [v.dataset for v in table.recent(limit=2)] == ["a", "c"]
    assert [v.upload_id for v in table.history("b")] == ["u1"]


def test_spend_counts_each_job_once(table: UploadsTable) -> None:
    table.record_spend("2026-12", "yolo-a-1", 1.25)
    table.record_spend("2026-12", "yolo-a-1", 1.25)  # the notification again
    table.record_spend("2026-12", "yolo-b-1", 0.5)
    table.record_spend("2026-11", "yolo-c-1", 9.0)
    assert table.month_spend("2026-12") == {"yolo-a-1": 1.25, "yolo-b-1": 0.5}
