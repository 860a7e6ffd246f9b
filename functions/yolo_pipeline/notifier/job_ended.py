"""What the notifier does for the budget and the launch queue when a job ends: record the
job's cost in the uploads table (the month's spend) and wake the launch queue, whose
waiting uploads can then take the freed slot at once.

Both are repeat-safe (the spend is a put per job; an extra wake starts nothing that
should not start) and run before the email, so a failure here is retried with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from yolo_pipeline.aws.launch_queue import send_wake
from yolo_pipeline.aws.pricing import approximate_cost
from yolo_pipeline.aws.uploads import UploadsTable
from yolo_pipeline.text import finite_number


def job_cost(described: Mapping[str, Any] | None) -> float | None:
    """Billable time x the instance's list price x count, as the Completed email says."""
    if not described:
        return None
    config = described.get("ResourceConfig") or {}
    billable = finite_number(described.get("BillableTimeInSeconds"))
    if billable is None:
        billable = finite_number(described.get("TrainingTimeInSeconds"))
    if billable is None:
        return None
    return approximate_cost(
        str(config.get("InstanceType", "")), billable, int(config.get("InstanceCount", 1))
    )


def spend_month(described: Mapping[str, Any] | None) -> str:
    """The month a job's cost counts in: the month it ended (UTC)."""
    ended = (described or {}).get("TrainingEndTime")
    moment = ended if isinstance(ended, datetime) else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m")


class JobEnded:
    """Env ``UPLOADS_TABLE`` and ``LAUNCH_QUEUE_URL``; either may be absent (then skipped)."""

    def __init__(self, dynamodb: Any, sqs: Any, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        table = env.get("UPLOADS_TABLE", "").strip()
        self.table = UploadsTable(dynamodb, table) if table else None
        self.queue_url = env.get("LAUNCH_QUEUE_URL", "").strip()
        self.sqs = sqs

    def __call__(self, job_name: str, described: Mapping[str, Any] | None) -> float | None:
        cost = job_cost(described)
        if self.table is not None and cost is not None:
            self.table.record_spend(spend_month(described), job_name, cost)
        if self.queue_url:
            send_wake(self.sqs, self.queue_url, job_name)
        return cost
