"""The launcher: one S3 "Object Created" event in, one validated training job (or one
email saying what to fix) out, exactly once per upload.

Flow: the event arrives through LaunchQueue (SQS) -> parse it -> the settle rule
(launcher/settle_io.py): superseded? drop; not settled? the same event goes back to the
queue with a delay -> (idempotent on the upload identity) the dataset check
(launcher/check.py) -> rejection email; else the job start (launcher/start.py).

Every upload gets an answer within the Lambda's limits: the check runs on a budget taken
from the invocation's remaining time (``CHECK_RESERVE_SECONDS`` kept for the digest, the
job request and the email), so a dataset too costly to check is rejected by email rather
than timed out. The event source mapping hands the function one record per invocation
(BatchSize 1 in template.yaml), so one slow upload never shares an invocation with
another; should a batch still arrive, a record that finds too little time left goes back
to the queue at once instead of starting a check it cannot finish. Every outcome is
recorded in the uploads table (launcher/verdicts.py) for `status` and `upload --wait`.

Failure policy (docs/architecture.md): user problems are answered by email and the record
succeeds; infrastructure problems raise, so the record is reported as a batch item
failure, SQS redelivers it after the visibility timeout and the redrive policy parks it
in the DLQ after maxReceiveCount. The idempotency record is deleted when the function
raises, so a retry runs again; a successful run is remembered for
``IDEMPOTENCY_TTL_SECONDS``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.email import Email, publish
from yolo_pipeline.aws.image_guard import ImageGuard
from yolo_pipeline.aws.launch_queue import is_wake
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics, tracer
from yolo_pipeline.aws.uploads import UploadsTable
from yolo_pipeline.dataset.budget import CheckBudget
from yolo_pipeline.launcher.check import check_upload
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.model_source import choose_model
from yolo_pipeline.launcher.notices import (
    IDEMPOTENCY_TTL_SECONDS,
    QUOTA,
    SETTLE,
    STARTED,
    Notices,
)
from yolo_pipeline.launcher.pinning import UploadSuperseded
from yolo_pipeline.launcher.queue import LaunchQueue, is_queued_message
from yolo_pipeline.launcher.queue_rules import QueueSettings
from yolo_pipeline.launcher.s3_event import Ignored, Upload, parse_upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.settle import Attempt, Decision, defer_seconds
from yolo_pipeline.launcher.settle_io import settle
from yolo_pipeline.launcher.start import JobStarter, SettleNotes
from yolo_pipeline.launcher.verdicts import Verdicts

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

_RECORD_LOG_KEYS = ("dataset", "s3_sequencer", "settle_attempt", "job_name")
# Kept back from the check's budget: the folder digest's last reads, the model choice,
# the image guard, CreateTrainingJob, the uploads table and the email.
CHECK_RESERVE_SECONDS = 60
# A record that finds less than this left (a batch-mate used the time) is re-queued.
MIN_CHECK_SECONDS = 120


def check_budget(context: Any) -> CheckBudget:
    """The check's budget: the invocation's remaining time less the reserve; no deadline
    without a Lambda context (tests, local runs)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return CheckBudget()
    return CheckBudget.within(remaining() / 1000 - CHECK_RESERVE_SECONDS)


class Launcher:
    """Holds the settings, the clients and the idempotent step; build once per cold start."""

    def __init__(
        self,
        settings: LauncherSettings,
        *,
        region: str | None = None,
        s3: Any = None,
        sagemaker: Any = None,
        sns: Any = None,
        sqs: Any = None,
        dynamodb: Any = None,
    ) -> None:
        self.settings = settings
        self.region = region or aws.current_region()
        self.s3 = s3 or aws.client("s3")
        self.sagemaker = sagemaker or aws.client("sagemaker")
        self.sns = sns or aws.client("sns")
        self.sqs = sqs or aws.client("sqs")
        dynamodb = dynamodb or aws.client("dynamodb")
        self.clock: Callable[[], float] = time.time  # replaceable in tests (redrive later)
        self.notices = Notices(dynamodb, settings.idempotency_table, (QUOTA, STARTED, SETTLE))
        table = UploadsTable(dynamodb, settings.uploads_table) if settings.uploads_table else None
        self.verdicts = Verdicts(table, settings.dataset_prefix)
        self.starter = JobStarter(
            settings,
            region=self.region,
            sagemaker=self.sagemaker,
            notices=self.notices,
            send=self.send,
            verdicts=self.verdicts,
        )
        self.queue = LaunchQueue(
            settings,
            QueueSettings.from_env(),
            region=self.region,
            s3=self.s3,
            sagemaker=self.sagemaker,
            sqs=self.sqs,
            dynamodb=dynamodb,
            starter=self.starter,
            send=self.send,
            clock=lambda: self.clock(),
        )
        self.idempotency_config = IdempotencyConfig(
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        self._launch_once = idempotent_function(
            data_keyword_argument="upload",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table, boto3_client=dynamodb
            ),
            config=self.idempotency_config,
        )(self._launch)

    @property
    def image_guard(self) -> ImageGuard:
        return self.starter.image_guard

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """An SQS batch from LaunchQueue (production): a partial batch response. A bare
        EventBridge event (``sam local invoke -e``, tests): that event's outcome."""
        if isinstance(event, dict) and "Records" in event:
            return self._handle_batch(event, context)
        return self.handle_event(event, context)

    def _handle_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A record that raises becomes a batchItemFailure: SQS redelivers it after the
        # visibility timeout and moves it to the DLQ after maxReceiveCount (template.yaml).
        handled = [0]

        def record_handler(record: SQSRecord) -> dict[str, Any]:
            handled[0] += 1
            return self.handle_record(record, context, first=handled[0] == 1)

        processor = BatchProcessor(event_type=EventType.SQS)
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    def handle_record(
        self, record: SQSRecord, context: Any = None, *, first: bool = True
    ) -> dict[str, Any]:
        """One queue message: its body is the S3 event, its attributes the settle attempt.
        ``first``: the invocation's first record (the only one that never waits its turn)."""
        try:
            event = json.loads(record.body)
        except ValueError:
            logger.warning("Queue message is not JSON; dropped", extra={"id": record.message_id})
            metrics.add_metric(name="EventIgnored", unit=MetricUnit.Count, value=1)
            return {"status": "ignored", "reason": "message body is not JSON"}
        if is_wake(event):  # a job ended: start what waits for its slot (launcher/queue.py)
            return self.queue.wake()
        attributes = record.raw_event.get("messageAttributes") or {}
        if is_queued_message(attributes):  # a waiting upload's re-check (launcher/queue.py)
            return self.recheck_queued(event, attributes, record.body, context)
        attempt = Attempt.from_message_attributes(attributes)
        return self.handle_event(event, context, attempt=attempt, body=record.body, first=first)

    def recheck_queued(
        self, event: dict[str, Any], attributes: dict[str, Any], body: str, context: Any = None
    ) -> dict[str, Any]:
        parsed = parse_upload(event, self.settings.dataset_prefix)
        if isinstance(parsed, Ignored):
            return {"status": "ignored", "reason": parsed.reason}
        if context is not None:
            self.queue.register_lambda_context(context)
            self.notices.register_lambda_context(context)
        logger.remove_keys(list(_RECORD_LOG_KEYS))
        logger.append_keys(dataset=parsed.dataset_uri, s3_sequencer=parsed.sequencer)
        return self.queue.recheck(parsed, attributes, body)

    def handle_event(
        self,
        event: dict[str, Any],
        context: Any = None,
        *,
        attempt: Attempt | None = None,
        body: str | None = None,
        first: bool = True,
    ) -> dict[str, Any]:
        """One S3 event: drop it, check it again later, or launch (once per upload)."""
        logger.remove_keys(list(_RECORD_LOG_KEYS))  # the previous record's, in a batch
        parsed = parse_upload(event, self.settings.dataset_prefix)
        if isinstance(parsed, Ignored):
            logger.info("Event ignored", extra={"reason": parsed.reason})
            metrics.add_metric(name="EventIgnored", unit=MetricUnit.Count, value=1)
            return {"status": "ignored", "reason": parsed.reason}
        attempt = attempt or Attempt()
        if context is not None:
            self.notices.register_lambda_context(context)
            self.queue.register_lambda_context(context)
        logger.append_keys(
            dataset=parsed.dataset_uri, s3_sequencer=parsed.sequencer, settle_attempt=attempt.number
        )
        decision = settle(self.s3, parsed, attempt, self.settings, self.clock())
        if decision.action == "drop":
            return self._superseded(parsed, decision.reason)
        if decision.action == "defer":
            self.verdicts.record(parsed, "settling", detail=decision.reason)
            sent = self._defer(parsed, attempt, decision, body or json.dumps(event))
            return {
                "status": "deferred",
                "dataset": parsed.dataset_uri,
                "reason": decision.reason,
                "delay_seconds": decision.delay_seconds,
                "sent": sent,
            }
        logger.info("Upload settled", extra={"reason": decision.reason})
        budget = check_budget(context)
        left = budget.seconds_left()
        if not first and left is not None and left < MIN_CHECK_SECONDS:
            return self._requeue(parsed, attempt, body or json.dumps(event))
        if context is not None:
            self.idempotency_config.register_lambda_context(context)
        # The key is the upload alone; the body is what a queued upload sends back.
        result: dict[str, Any] = self._launch_once(
            upload=parsed.identity(),
            still_changing=decision.still_changing,
            stale=[[u.key, u.upload_id] for u in decision.stale_uploads],
            budget=budget,
            body=body or json.dumps(event),
        )
        return result

    def _superseded(self, up: Upload, reason: str) -> dict[str, Any]:
        logger.info("Event superseded; dropped", extra={"reason": reason})
        metrics.add_metric(name="UploadSuperseded", unit=MetricUnit.Count, value=1)
        self.verdicts.record(up, "superseded", detail=reason)
        return {"status": "superseded", "dataset": up.dataset_uri, "reason": reason}

    def _requeue(self, upload: Upload, attempt: Attempt, body: str) -> dict[str, Any]:
        """Too little time left after a batch-mate: the same message back on the queue now
        (its check is idempotent, so a duplicate costs nothing)."""
        self.sqs.send_message(
            QueueUrl=self.settings.launch_queue_url,
            MessageBody=body,
            MessageAttributes=attempt.to_message_attributes(),
        )
        logger.info("Too little time left in this invocation; check re-queued")
        metrics.add_metric(name="CheckRequeued", unit=MetricUnit.Count, value=1)
        return {"status": "requeued", "dataset": upload.dataset_uri}

    def _defer(self, upload: Upload, attempt: Attempt, decision: Decision, body: str) -> bool:
        """Send the same event back to LaunchQueue with a delay; once per attempt.

        Duplicate deliveries of one message would otherwise double the deferred messages
        at every round: the first copy marks ``settle#`` (upload, attempt) and sends, the
        others stop here. No mark stays if the send fails, so the retry sends.
        """
        now = self.clock()
        following = attempt.next(now)
        # Counted from now, not from before the listing: a busy folder's listing takes a while.
        delay = defer_seconds(decision.quiet_at, now, self.settings.settle_seconds)
        marker = {"upload": upload.identity_hash(), "attempt": str(following.number)}

        def send() -> None:
            self.sqs.send_message(
                QueueUrl=self.settings.launch_queue_url,
                MessageBody=body,
                DelaySeconds=delay,
                MessageAttributes=following.to_message_attributes(),
            )

        if not self.notices.once(SETTLE, marker, send):
            logger.info("Deferred check already sent by another delivery")
            metrics.add_metric(name="DeferralSuppressed", unit=MetricUnit.Count, value=1)
            return False
        logger.info(
            "Upload not settled; checking again later",
            extra={
                "reason": decision.reason,
                "delay_seconds": delay,
                "waited_seconds": round(following.elapsed(now)),
            },
        )
        metrics.add_metric(name="UploadDeferred", unit=MetricUnit.Count, value=1)
        return True

    @tracer.capture_method(capture_response=False)
    def _launch(
        self,
        upload: dict[str, str],
        still_changing: bool = False,
        stale: list[list[str]] | None = None,
        budget: CheckBudget | None = None,
        body: str = "",
    ) -> dict[str, Any]:
        """Runs once per upload identity (Powertools idempotency around it)."""
        up = Upload.from_identity(upload)
        settings = self.settings
        name = job_name(
            settings.job_name_prefix, up.dataset_name(settings.dataset_prefix), up.identity_hash()
        )
        logger.append_keys(dataset=up.dataset_uri, job_name=name)
        tracer.put_annotation("job_name", name)
        notes = SettleNotes(
            settings.max_settle_seconds if still_changing else None,
            [(key, upload_id) for key, upload_id in stale or []],
        )
        try:
            checked = check_upload(up, self.s3, settings, budget)
        except UploadSuperseded as exc:
            return self._superseded(up, str(exc))
        if checked.errors:
            return self.starter.reject(up, checked.errors, checked.warnings, notes)
        # The model and task, and the user's own weights as a channel (launcher/model_source.py).
        choice = choose_model(
            checked.config.train_args,
            checked.report.stats.task or "detect",
            weights_s3_uri=settings.weights_s3_uri,
            job_name_prefix=settings.job_name_prefix,
            s3=self.s3,
            sagemaker=self.sagemaker,
        )
        if choice.problems:
            return self.starter.reject(up, choice.problems, checked.warnings, notes)
        prepared = self.starter.prepare(up, name, checked, choice, notes)
        if isinstance(prepared, dict):
            return prepared
        return self.queue.submit(up, prepared, body or json.dumps({}))

    def send(self, email: Email) -> None:
        publish(self.sns, self.settings.notification_topic_arn, email)
