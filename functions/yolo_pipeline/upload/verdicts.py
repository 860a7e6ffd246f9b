"""``upload --wait``: the launcher's verdict on this upload, read from the uploads table.

The launcher records every upload it sees (settling, rejected with its problems, queued,
started as job X, ...). The newest record of the dataset first seen after the upload began
is this upload's; the wait ends at the first state that is not "settling".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from yolo_pipeline.aws.uploads import UploadsTable, Verdict

WAITING = frozenset({"settling"})
# S3's and this machine's clocks may differ a little; the launcher stamps with its own.
CLOCK_SKEW = timedelta(seconds=30)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def latest_since(table: UploadsTable, dataset: str, since: datetime) -> Verdict | None:
    """The dataset's newest upload first seen at or after ``since`` (minus the skew)."""
    floor = stamp(since - CLOCK_SKEW)
    for verdict in table.history(dataset, limit=10):
        if verdict.first_seen >= floor:
            return verdict
    return None


def wait_for_verdict(
    table: UploadsTable,
    dataset: str,
    since: datetime,
    timeout_s: float,
    *,
    on_change: Callable[[Verdict], None] = lambda _v: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll_s: float = 3.0,
) -> Verdict | None:
    """Poll until the upload has a verdict beyond "settling"; None when none came in time."""
    deadline = clock() + timeout_s
    seen = ""
    while True:
        verdict = latest_since(table, dataset, since)
        if verdict is not None and verdict.state != seen:
            seen = verdict.state
            on_change(verdict)
        if verdict is not None and verdict.state not in WAITING:
            return verdict
        if clock() >= deadline:
            return verdict
        sleep(poll_s)
