"""The launch queue's rules, pure: may an upload start now, must it wait, has it waited
too long, and what the month has spent against the budget.

A validated upload starts when a slot is free (fewer of this stack's jobs in progress than
``MAX_CONCURRENT_JOBS``), no upload accepted before it still waits, and the month's spend
is under ``MONTHLY_BUDGET_USD``. Otherwise it waits in the uploads table's queue index and
its S3 event goes back to LaunchQueue with a delay; each check may start the queue's heads,
so a lost message never blocks the uploads behind it. A wait longer than
``MAX_QUEUE_HOURS`` ends the upload with one email and no job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from yolo_pipeline.aws.env import SettingsError, integer
from yolo_pipeline.errors import PipelineError

DEFAULT_MAX_CONCURRENT_JOBS = 2
DEFAULT_MAX_QUEUE_HOURS = 72
# How often a waiting upload checks the queue by itself (SQS's longest delay): the
# notifier's wake-up starts the next upload as soon as a job ends, so this only bounds the
# wait after a lost wake-up, a quota raised, a budget raised or a new month, and it sets
# what a wait costs: 3600 / this many SQS messages and Lambda records an hour per upload.
RECHECK_SECONDS = 900
BUDGET_WARNING_FRACTION = 0.8

# SQS message attributes of a queued upload's re-sent event (the body stays the S3 event).
QUEUED_SINCE_ATTRIBUTE = "yolo-queued-since"
QUEUE_ROUND_ATTRIBUTE = "yolo-queue-round"

Outcome = Literal["start", "wait", "hold"]


class SlotRefused(PipelineError):
    """SageMaker refused the job for an account quota: the upload waits for a slot."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class QueueSettings:
    """The queue's and the budget's settings (launcher env)."""

    uploads_table: str = ""  # "" = no table: no queue, jobs start at once
    max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS  # 0 = no cap
    max_queue_hours: int = DEFAULT_MAX_QUEUE_HOURS
    monthly_budget_usd: float = 0.0  # 0 = no budget
    recheck_seconds: int = RECHECK_SECONDS

    @property
    def enabled(self) -> bool:
        return bool(self.uploads_table)

    @property
    def max_rounds(self) -> int:
        """A hard bound on re-sends, past the wait limit, should clocks disagree."""
        return self.max_queue_hours * 3600 // self.recheck_seconds + 10

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> QueueSettings:
        env = os.environ if env is None else env
        raw_budget = env.get("MONTHLY_BUDGET_USD", "").strip() or "0"
        try:
            budget = float(raw_budget)
        except ValueError:
            raise SettingsError(
                f"MONTHLY_BUDGET_USD={raw_budget!r} must be a number of dollars"
            ) from None
        if not 0 <= budget < 10**9:
            raise SettingsError(f"MONTHLY_BUDGET_USD={raw_budget!r} must be 0 or more")
        return cls(
            uploads_table=env.get("UPLOADS_TABLE", "").strip(),
            max_concurrent_jobs=integer(
                env, "MAX_CONCURRENT_JOBS", DEFAULT_MAX_CONCURRENT_JOBS, 0, 10_000
            ),
            max_queue_hours=integer(env, "MAX_QUEUE_HOURS", DEFAULT_MAX_QUEUE_HOURS, 1, 24 * 365),
            monthly_budget_usd=budget,
            recheck_seconds=integer(env, "QUEUE_RECHECK_SECONDS", RECHECK_SECONDS, 1, 900),
        )


@dataclass(frozen=True)
class Spend:
    """The month's spend: finished jobs as recorded, running jobs so far."""

    month: str
    finished: Mapping[str, float]
    running: Mapping[str, float]

    @property
    def total(self) -> float:
        return sum(self.finished.values()) + sum(self.running.values())

    def by_job(self) -> list[tuple[str, float]]:
        """Every job's cost, the dearest first."""
        jobs = {**self.finished, **self.running}
        return sorted(jobs.items(), key=lambda item: (-item[1], item[0]))


def month_of(epoch_seconds: float) -> str:
    """``YYYY-MM`` in UTC: the budget's month."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m")


def free_slots(running: int, cap: int) -> int | None:
    """Slots free under the cap; ``None`` = no cap."""
    return None if cap <= 0 else max(cap - running, 0)


def over_budget(spend: Spend | None, budget: float) -> bool:
    return budget > 0 and spend is not None and spend.total >= budget


def budget_warning_due(spend: Spend | None, budget: float) -> bool:
    """At 80% of the budget (and under 100%), one warning per month."""
    return (
        budget > 0
        and spend is not None
        and BUDGET_WARNING_FRACTION * budget <= spend.total < budget
    )


def decide(place: int, free: int | None, held: bool) -> Outcome:
    """``place``: uploads accepted before this one that still wait; ``free``: free slots
    (``None`` = no cap); ``held``: the budget is spent."""
    if held:
        return "hold"
    if free is None or place < free:
        return "start"
    return "wait"


def expired(queued_since: float, now: float, max_queue_hours: int) -> bool:
    return now - queued_since > max_queue_hours * 3600


def queued_epoch(queued_at: str) -> float | None:
    """The epoch of a queue entry's ``queued_at`` (``<ISO time>#<upload id>``)."""
    stamp = queued_at.split("#", 1)[0]
    try:
        parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return parsed.timestamp()


def running_cost(price_per_hour: float | None, seconds: float, count: int) -> float:
    """A running job's cost so far at the on-demand price (spot bills at most that)."""
    if price_per_hour is None or seconds <= 0:
        return 0.0
    return price_per_hour * seconds / 3600.0 * max(count, 1)
