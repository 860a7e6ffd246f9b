"""The notifier: one email per finished training job of this pipeline.

Flow: parse the state change -> skip what is not ours or not terminal (log, no email, no
exception: a poison event must not cause a retry storm) -> once per (job name, status),
via Powertools idempotency on DynamoDB -> DescribeTrainingJob -> render -> SNS -> metric.

Transient AWS failures (throttling after the client's own retries, network errors, a
failed publish) raise, so Lambda retries the async event and the idempotency record of
the failed attempt is released; permanent describe errors degrade to an email built from
the event alone, because a late or thinner email beats none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from botocore.exceptions import ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.clients import RETRYABLE_CODES
from yolo_pipeline.aws.email import (
    Email,
    body_text,
    publish,
    subject_line,
    training_job_console_url,
    training_job_logs_url,
)
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics, tracer
from yolo_pipeline.contract import TAG_DATASET_URI
from yolo_pipeline.notifier.completed import completed_extras
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.notifier.job_ended import JobEnded
from yolo_pipeline.notifier.sagemaker_event import (
    MalformedEvent,
    StateChange,
    parse_state_change,
    skip_reason,
)
from yolo_pipeline.notifier.settings import NotifierSettings
from yolo_pipeline.text import lines

METRIC_BY_STATUS = {"Completed": "JobsCompleted", "Failed": "JobsFailed", "Stopped": "JobsStopped"}
# EventBridge retries for up to 24 h and Lambda async for 6 h: a week covers every redelivery.
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


@tracer.capture_method
def describe_job(sagemaker: Any, change: StateChange) -> dict[str, Any] | None:
    """DescribeTrainingJob (plus ListTags when the event had none), or ``None`` when the
    job cannot be described for a reason a retry will not fix."""
    try:
        described: dict[str, Any] = dict(
            sagemaker.describe_training_job(TrainingJobName=change.job_name)
        )
    except ClientError as exc:
        if error_code(exc) in RETRYABLE_CODES:
            raise
        logger.warning(
            "DescribeTrainingJob failed; the email uses the event alone",
            extra={"job_name": change.job_name, "error_code": error_code(exc)},
        )
        return None
    described.pop("ResponseMetadata", None)
    # DescribeTrainingJob has no Tags; the event normally has them, ListTags is the fallback.
    # The dataset URI comes from InputDataConfig; the tag is only a fallback.
    fallback_needed = not described.get("InputDataConfig")
    if fallback_needed and TAG_DATASET_URI not in change.tags and described.get("TrainingJobArn"):
        try:
            tags = sagemaker.list_tags(ResourceArn=described["TrainingJobArn"]).get("Tags", [])
            described["Tags"] = tags
        except ClientError as exc:
            logger.warning(
                "ListTags failed; the dataset name falls back to the input channel",
                extra={"job_name": change.job_name, "error_code": error_code(exc)},
            )
    return described


def fallback_email(change: StateChange, region: str, prefix: str) -> Email:
    """A minimal email for when rendering the full one failed (a bug must not eat it)."""
    body = body_text(
        [
            f"Training job {change.job_name}: {change.status}"
            + (f" ({change.secondary_status})" if change.secondary_status else ""),
            *lines(str(change.detail.get("FailureReason") or "")[:4096]),
            "",
            "The full report could not be rendered; see the job in the console:",
            f"  Console: {training_job_console_url(region, change.job_name)}",
            f"  Logs:    {training_job_logs_url(region, change.job_name)}",
            "",
        ]
    )
    return Email(
        subject=subject_line(prefix, change.status, change.job_name),
        body=body,
        attributes={"status": change.status, "dataset": change.job_name, "job": change.job_name},
    )


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """Idempotency response hook: a replayed result says it was a duplicate."""
    if isinstance(response, Mapping):
        return {**response, "action": "duplicate"}
    return response


class Notifier:
    """Holds the clients and the idempotency wrapper; build once per cold start."""

    def __init__(
        self,
        settings: NotifierSettings,
        *,
        sagemaker: Any = None,
        sns: Any = None,
        dynamodb: Any = None,
        s3: Any = None,
    ) -> None:
        self.settings = settings
        self.sagemaker = sagemaker or aws.client("sagemaker")
        self.sns = sns or aws.client("sns")
        self.s3 = s3 or aws.client("s3")
        # The job's cost for the budget, and a wake-up for the launch queue.
        self.job_ended = JobEnded(dynamodb or aws.client("dynamodb"), aws.client("sqs"))
        self.config = IdempotencyConfig(
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS, response_hook=_mark_duplicate
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table,
            boto3_client=dynamodb or aws.client("dynamodb"),
        )
        self._notify_once = idempotent_function(
            self._notify,
            data_keyword_argument="job",
            persistence_store=persistence,
            config=self.config,
        )

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Process one EventBridge event; returns what was done (for logs and tests)."""
        if context is not None:
            self.config.register_lambda_context(context)
        try:
            change = parse_state_change(event)
        except MalformedEvent as exc:
            logger.warning("Ignoring malformed event", extra={"reason": str(exc)})
            return {"action": "ignored", "reason": str(exc)}
        logger.append_keys(job_name=change.job_name, job_status=change.status)
        reason = skip_reason(change, self.settings.job_name_prefix)
        if reason:
            logger.info("No email for this event", extra={"reason": reason})
            return {"action": "skipped", "reason": reason}
        job = {"job_name": change.job_name, "status": change.status}
        result: dict[str, Any] = self._notify_once(job=job, change=change)
        if result.get("action") == "duplicate":
            logger.info("Duplicate delivery: the email was already sent")
        return result

    def _notify(self, job: dict[str, str], change: StateChange) -> dict[str, Any]:
        region = change.region or aws.current_region()
        prefix = self.settings.job_name_prefix
        described = describe_job(self.sagemaker, change)
        extras: dict[str, Any] = {}
        if change.status == "Completed":  # metrics.json, registration, previous model
            try:
                extras = completed_extras(
                    self.sagemaker,
                    self.s3,
                    change.detail,
                    described,
                    prefix,
                    inference_image=self.settings.inference_image_uri,
                )
            except Exception:  # the extras are a bonus: a bug there must not eat the email
                logger.exception("Gathering the Completed extras failed; emailing without them")
        try:
            email = render_job_email(
                change.detail, described, region=region, prefix=prefix, **extras
            )
        except Exception:  # a renderer bug must still let the user know the outcome
            logger.exception("Rendering the email failed; sending the minimal one")
            email = fallback_email(change, region, prefix)
        self.job_ended(change.job_name, described)  # before the email: a failure retries both
        message_id = publish(self.sns, self.settings.notification_topic_arn, email)
        metrics.add_metric(name=METRIC_BY_STATUS[change.status], unit=MetricUnit.Count, value=1)
        logger.info("Email sent", extra={"subject": email.subject, "message_id": message_id})
        return {**job, "action": "sent", "subject": email.subject, "message_id": message_id}
