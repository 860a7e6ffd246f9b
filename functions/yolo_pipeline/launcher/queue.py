"""The launch queue: validated uploads start in the order they were accepted, at most
``MAX_CONCURRENT_JOBS`` at a time and while the month's budget allows; the others wait.

A waiting upload is an entry in the uploads table's queue index plus its prepared start
(launcher/pending.py); its S3 event goes back to LaunchQueue every ``recheck_seconds``
(SQS ``DelaySeconds``) with the time it was first queued. Every check (a new upload's or
a waiting one's) counts this stack's jobs in progress and starts the queue's heads into the
free slots, so the order holds across datasets and a lost message never blocks the
uploads behind it. Duplicates are harmless: job names are deterministic (a second
CreateTrainingJob gets ``ResourceInUse``), each email and each re-send is a notice marker.
The rules themselves are pure (launcher/queue_rules.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from yolo_pipeline.aws.email import Email
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics
from yolo_pipeline.aws.pricing import hourly_price
from yolo_pipeline.aws.uploads import UploadsTable, Verdict, upload_id
from yolo_pipeline.launcher import queue_rules as rules
from yolo_pipeline.launcher.estimate import previous_job_seconds
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.notices import IDEMPOTENCY_TTL_SECONDS, NoticeKind, Notices
from yolo_pipeline.launcher.pending import PendingStore, Prepared
from yolo_pipeline.launcher.queue_emails import (
    QueuedFacts,
    render_budget_hold,
    render_budget_warning,
    render_queue_expired,
    render_queued,
)
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.settle import superseded_reason
from yolo_pipeline.launcher.settle_io import head
from yolo_pipeline.launcher.start import JobStarter

_YEAR = 366 * 24 * 3600
QUEUED = NoticeKind("queued", _YEAR)
HELD = NoticeKind("held", _YEAR)
EXPIRED = NoticeKind("expired", _YEAR)
RECHECK = NoticeKind("recheck", IDEMPOTENCY_TTL_SECONDS)
BUDGET_WARNING = NoticeKind("budget80", 62 * 24 * 3600)
WAITING = ("queued", "budget_hold")
MAX_HEADS = 50  # jobs started by one check at most (no cap: the queue drains in rounds)


class LaunchQueue:
    """Admits, holds and re-checks validated uploads (see the module docstring)."""

    def __init__(
        self,
        settings: LauncherSettings,
        queue: rules.QueueSettings,
        *,
        region: str,
        s3: Any,
        sagemaker: Any,
        sqs: Any,
        dynamodb: Any,
        starter: JobStarter,
        send: Callable[[Email], object],
        clock: Callable[[], float],
    ) -> None:
        self.settings, self.rules = settings, queue
        self.region, self.s3, self.sagemaker, self.sqs = region, s3, sagemaker, sqs
        self.starter, self.send, self.clock = starter, send, clock
        self.table = UploadsTable(dynamodb, queue.uploads_table) if queue.enabled else None
        self.pending = PendingStore(dynamodb, queue.uploads_table)
        self.notices = Notices(
            dynamodb,
            settings.idempotency_table,
            (QUEUED, HELD, EXPIRED, RECHECK, BUDGET_WARNING),
        )
        starter.quota_waits = queue.enabled
        if queue.enabled:  # the start email's estimate (ListTrainingJobs is allowed then)
            starter.estimate = lambda request: previous_job_seconds(sagemaker, request)

    def register_lambda_context(self, context: Any) -> None:
        self.notices.register_lambda_context(context)

    # -- a newly validated upload ---------------------------------------------------------

    def submit(self, up: Upload, prepared: Prepared, body: str) -> dict[str, Any]:
        """Start ``prepared`` now if the queue, the cap and the budget allow; else queue it."""
        if self.table is None:
            return self.starter.create(prepared)
        verdict = self._verdict(up, prepared.job_name, "queued")
        replaced = self._supersede_older(verdict)
        self.pending.put(verdict.upload_id, prepared)
        self.table.record(verdict, queued=True)
        return self._check(up, verdict, prepared, body, since=self.clock(), round_=0, new=replaced)

    # -- a waiting upload's re-sent event ---------------------------------------------------

    def recheck(self, up: Upload, attributes: Mapping[str, Any], body: str) -> dict[str, Any]:
        """A waiting upload's periodic check: gone, expired, started, or wait on."""
        since, round_ = _queue_attributes(attributes, self.clock())
        name = self._job_name(up)
        if self.table is None:  # the table was removed: nothing can start it now
            return {"status": "dropped", "dataset": up.dataset_uri, "reason": "no queue"}
        verdict = self._verdict(up, name, "queued")
        current = self.table.get(verdict.dataset, verdict.upload_id)
        if current is None or current.state not in WAITING:
            state = current.state if current else "unknown"
            return {"status": state, "dataset": up.dataset_uri, "job_name": name}
        now = self.clock()
        if rules.expired(since, now, self.rules.max_queue_hours) or round_ > self.rules.max_rounds:
            self._expire(up, verdict)
            return {"status": "expired", "dataset": up.dataset_uri, "job_name": name}
        # Its maximum is the oldest wait: the alarm for a queue that does not drain.
        metrics.add_metric(
            name="QueueWaitSoFarSeconds", unit=MetricUnit.Seconds, value=max(now - since, 0)
        )
        if reason := superseded_reason(up, head(self.s3, up.bucket, up.key)):
            self._leave(verdict, "superseded", reason)
            return {"status": "superseded", "dataset": up.dataset_uri, "reason": reason}
        return self._check(up, verdict, None, body, since=since, round_=round_, now=current)

    def wake(self) -> dict[str, Any]:
        """A job ended (the notifier's message): start the heads into the free slots."""
        if self.table is None:
            return {"status": "ignored", "reason": "no queue"}
        running = self._running_jobs()
        spend = self._spend(running) if self.rules.monthly_budget_usd > 0 else None
        if rules.over_budget(spend, self.rules.monthly_budget_usd):
            return {"status": "budget_hold"}
        free = rules.free_slots(len(running), self.rules.max_concurrent_jobs)
        if free == 0:
            return {"status": "full"}
        self._start_heads(free)
        return {"status": "woken"}

    # -- the check both share -----------------------------------------------------------------

    def _check(
        self,
        up: Upload,
        verdict: Verdict,
        prepared: Prepared | None,
        body: str,
        *,
        since: float,
        round_: int,
        new: int | None = None,
        now: Verdict | None = None,
    ) -> dict[str, Any]:
        """``new``: uploads this one replaced (a new upload); ``now``: its verdict as read."""
        assert self.table is not None
        running = self._running_jobs()
        spend = self._spend(running) if self.rules.monthly_budget_usd > 0 else None
        held = rules.over_budget(spend, self.rules.monthly_budget_usd)
        self._maybe_warn(spend)
        free = rules.free_slots(len(running), self.rules.max_concurrent_jobs)
        quota_message, current = "", now
        if not held and (free is None or free > 0):
            quota_message = self._start_heads(free)
            current = self.table.get(verdict.dataset, verdict.upload_id)
        if current is not None and current.state not in WAITING:
            return {
                "status": current.state,
                "dataset": up.dataset_uri,
                "job_name": verdict.job_name,
            }
        state = "budget_hold" if held else "queued"
        if current is None or current.state != state:  # a full queue's check writes nothing
            self.table.record(replace(verdict, state=state), queued=True)
        if held and spend is not None:
            self._hold_email(up, verdict, spend)
        elif new is not None or quota_message:
            prepared = prepared or self.pending.get(verdict.upload_id)
            if prepared is not None:
                self._queued_email(up, verdict, prepared, running, quota_message, new or 0)
        self._resend(up, body, since, round_)
        metrics.add_metric(name="UploadQueued", unit=MetricUnit.Count, value=1)
        return {"status": state, "dataset": up.dataset_uri, "job_name": verdict.job_name}

    def _start_heads(self, free: int | None) -> str:
        """Start the oldest waiting uploads into the free slots; SageMaker's quota message
        if it refused one (the rest wait)."""
        assert self.table is not None
        heads = self.table.queue(limit=min(free or MAX_HEADS, MAX_HEADS))
        metrics.add_metric(name="QueueHeadsChecked", unit=MetricUnit.Count, value=len(heads))
        now = self.clock()
        for entry in heads:
            queued_at = rules.queued_epoch(entry.queued_at) or now
            prepared = self.pending.get(entry.upload_id)
            if prepared is None:
                self._leave(entry, "expired", "its prepared start was lost")
                continue
            up = Upload.from_identity(prepared.identity)
            if rules.expired(queued_at, now, self.rules.max_queue_hours):
                self._expire(up, entry)
                continue
            try:
                result = self.starter.create(prepared)
            except rules.SlotRefused as refused:
                logger.warning("Quota reached; the upload waits", extra={"error": refused.message})
                metrics.add_metric(name="QuotaExceeded", unit=MetricUnit.Count, value=1)
                return refused.message
            if result.get("status") in {"started", "already_started"}:
                self._leave(entry, "started", "", job_name=prepared.job_name)
                metrics.add_metric(
                    name="QueuedWaitSeconds", unit=MetricUnit.Seconds, value=max(now - queued_at, 0)
                )
            else:  # SageMaker refused the request itself: the rejection email went out
                self._leave(entry, "rejected", str(result.get("status", "")))
        return ""

    # -- pieces ---------------------------------------------------------------------------------

    def _running_jobs(self) -> list[str]:
        """This stack's training jobs in progress (by name prefix; ListTrainingJobs has no
        resource-level permission, so IAM cannot narrow it further)."""
        prefix = f"{self.settings.job_name_prefix}-"
        names: list[str] = []
        paginator = self.sagemaker.get_paginator("list_training_jobs")
        for page in paginator.paginate(
            StatusEquals="InProgress", NameContains=prefix, PaginationConfig={"PageSize": 100}
        ):
            names += [
                s["TrainingJobName"]
                for s in page.get("TrainingJobSummaries", [])
                if s["TrainingJobName"].startswith(prefix)
            ]
        metrics.add_metric(name="JobsInProgress", unit=MetricUnit.Count, value=len(names))
        return names

    def _spend(self, running: list[str]) -> rules.Spend:
        """The month's recorded spend plus each running job's cost so far."""
        assert self.table is not None
        now = self.clock()
        month = rules.month_of(now)
        so_far: dict[str, float] = {}
        for name in running:
            job = self.sagemaker.describe_training_job(TrainingJobName=name)
            started = job.get("TrainingStartTime") or job.get("CreationTime")
            seconds = now - started.timestamp() if isinstance(started, datetime) else 0.0
            config = job.get("ResourceConfig") or {}
            so_far[name] = rules.running_cost(
                hourly_price(str(config.get("InstanceType", ""))),
                seconds,
                int(config.get("InstanceCount", 1)),
            )
        spend = rules.Spend(month, self.table.month_spend(month), so_far)
        metrics.add_metric(name="MonthSpendUSD", unit=MetricUnit.Count, value=spend.total)
        return spend

    def _maybe_warn(self, spend: rules.Spend | None) -> None:
        budget = self.rules.monthly_budget_usd
        if spend is not None and rules.budget_warning_due(spend, budget):
            marker = {"month": spend.month, "budget": f"{budget:.2f}"}
            prefix = self.settings.job_name_prefix
            self.notices.once(
                BUDGET_WARNING,
                marker,
                lambda: self.send(render_budget_warning(spend, budget, prefix=prefix)),
            )

    def _queued_email(
        self,
        up: Upload,
        verdict: Verdict,
        prepared: Prepared,
        running: list[str],
        quota_message: str,
        replaced: int,
    ) -> None:
        assert self.table is not None
        waiting = self.table.queue()
        place = next(
            (i + 1 for i, v in enumerate(waiting) if v.upload_id == verdict.upload_id),
            len(waiting),
        )
        metrics.add_metric(name="QueueDepth", unit=MetricUnit.Count, value=len(waiting))
        config = prepared.request["ResourceConfig"]
        facts = QueuedFacts(
            dataset_uri=up.dataset_uri,
            job_name=verdict.job_name,
            place=place,
            running=running,
            cap=self.rules.max_concurrent_jobs,
            region=self.region,
            instance_type=str(config["InstanceType"]),
            spot=bool(prepared.request.get("EnableManagedSpotTraining")),
            quota_message=quota_message,
            max_queue_hours=self.rules.max_queue_hours,
            replaced=replaced,
        )
        email = render_queued(
            facts, prefix=self.settings.job_name_prefix, dataset_prefix=self.settings.dataset_prefix
        )
        self.notices.once(QUEUED, {"upload": up.identity_hash()}, lambda: self.send(email))

    def _hold_email(self, up: Upload, verdict: Verdict, spend: rules.Spend) -> None:
        email = render_budget_hold(
            spend,
            self.rules.monthly_budget_usd,
            dataset_uri=up.dataset_uri,
            job_name=verdict.job_name,
            prefix=self.settings.job_name_prefix,
            dataset_prefix=self.settings.dataset_prefix,
        )
        self.notices.once(HELD, {"upload": up.identity_hash()}, lambda: self.send(email))

    def _resend(self, up: Upload, body: str, since: float, round_: int) -> None:
        """The event back to LaunchQueue for the next check; once per round."""
        attributes = {
            rules.QUEUED_SINCE_ATTRIBUTE: {"DataType": "Number", "StringValue": f"{since:.3f}"},
            rules.QUEUE_ROUND_ATTRIBUTE: {"DataType": "Number", "StringValue": str(round_ + 1)},
        }

        def send() -> None:
            self.sqs.send_message(
                QueueUrl=self.settings.launch_queue_url,
                MessageBody=body,
                DelaySeconds=self.rules.recheck_seconds,
                MessageAttributes=attributes,
            )

        marker = {"upload": up.identity_hash(), "round": str(round_ + 1)}
        if not self.notices.once(RECHECK, marker, send):
            logger.info("Queue re-check already sent by another delivery")

    def _expire(self, up: Upload, verdict: Verdict) -> None:
        email = render_queue_expired(
            dataset_uri=up.dataset_uri,
            job_name=verdict.job_name,
            hours=self.rules.max_queue_hours,
            prefix=self.settings.job_name_prefix,
            dataset_prefix=self.settings.dataset_prefix,
        )
        self.notices.once(EXPIRED, {"upload": up.identity_hash()}, lambda: self.send(email))
        self._leave(verdict, "expired", f"waited more than {self.rules.max_queue_hours} h")
        metrics.add_metric(name="QueueExpired", unit=MetricUnit.Count, value=1)

    def _supersede_older(self, verdict: Verdict) -> int:
        """A newer upload of a dataset replaces its waiting predecessors."""
        assert self.table is not None
        older = [
            v
            for v in self.table.history(verdict.dataset)
            if v.state in WAITING and v.upload_id != verdict.upload_id
        ]
        for v in older:
            self._leave(v, "superseded", "a newer upload of the dataset replaced it")
            metrics.add_metric(name="UploadSuperseded", unit=MetricUnit.Count, value=1)
        return len(older)

    def _leave(self, verdict: Verdict, state: str, detail: str, job_name: str = "") -> None:
        """The upload leaves the queue in ``state``; its prepared start goes too."""
        assert self.table is not None
        left = Verdict(
            dataset=verdict.dataset,
            upload_id=verdict.upload_id,
            state=state,
            uri=verdict.uri,
            detail=detail,
            job_name=job_name or verdict.job_name,
        )
        self.table.record(left, queued=False)
        self.pending.delete(verdict.upload_id)

    def _job_name(self, up: Upload) -> str:
        return job_name(
            self.settings.job_name_prefix,
            up.dataset_name(self.settings.dataset_prefix),
            up.identity_hash(),
        )

    def _verdict(self, up: Upload, name: str, state: str) -> Verdict:
        return Verdict(
            dataset=up.dataset_name(self.settings.dataset_prefix),
            upload_id=upload_id(up.identity_hash()),
            state=state,
            uri=up.dataset_uri,
            job_name=name,
        )


def _queue_attributes(attributes: Mapping[str, Any], now: float) -> tuple[float, int]:
    """(first queued, round) from a re-sent event's SQS message attributes."""

    def number(name: str) -> float | None:
        raw = (attributes.get(name) or {}).get("stringValue")
        try:
            value = float(raw) if raw is not None else None
        except ValueError:
            return None
        return value if value is not None and math.isfinite(value) else None

    since = number(rules.QUEUED_SINCE_ATTRIBUTE)
    round_ = number(rules.QUEUE_ROUND_ATTRIBUTE)
    return (since if since is not None else now), int(round_ or 0)


def is_queued_message(attributes: Mapping[str, Any]) -> bool:
    return rules.QUEUED_SINCE_ATTRIBUTE in attributes
