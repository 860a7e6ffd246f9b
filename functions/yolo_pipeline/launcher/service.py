"""The launcher: one S3 "Object Created" event in, one validated training job (or one
email saying what to fix) out, exactly once per upload.

Flow: parse the event -> (idempotent on the upload identity) validate the dataset and
its optional training.yaml -> rejection email, or CreateTrainingJob + start email.

Failure policy (DESIGN §5.5): user problems are answered by email and the handler
returns; infrastructure problems raise, so Lambda retries and the on-failure destination
keeps the event. The idempotency record is deleted when the function raises, so a retry
runs again; a successful run is remembered for ``IDEMPOTENCY_TTL_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.email import Email, publish
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics, tracer
from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.findings import Finding, error
from yolo_pipeline.dataset.storage import (
    BoundedReads,
    FileInfo,
    FileTooLargeError,
    S3Storage,
    StorageError,
)
from yolo_pipeline.dataset.validation import validate_dataset
from yolo_pipeline.launcher.emails import render_quota, render_rejection, render_started
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.job_request import build_training_job_request, spot_wait_seconds
from yolo_pipeline.launcher.s3_event import Ignored, Upload, parse_upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.config import parse_training_config

T = TypeVar("T")
# S3 -> EventBridge and EventBridge -> Lambda both deliver at least once, and Lambda
# async retries/redrives can come hours later: remember a finished upload for a week.
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
# A quota failure raises, so Powertools drops its record and Lambda retries the event (2
# retries, for up to MaximumEventAgeInSeconds = 6 h in template.yaml): without a marker
# one upload would send 3 identical quota emails. One email per upload per window; a
# redrive after the window that fails again emails again.
QUOTA_NOTICE_WINDOW_SECONDS = 6 * 3600
QUOTA_NOTICE_PREFIX = "quota#"
# The start email has the same hazard the other way round: an attempt that created the
# job but failed before its email went out (SNS error, timeout) is retried, gets
# ResourceInUse, and must still send it; one that did send it leaves this marker. A job
# name is unique forever, so the marker has no TTL: a replay months later (after the
# idempotency record expired) meets ResourceInUse and the marker, and sends nothing.
STARTED_NOTICE_PREFIX = "started#"
STARTED_NOTICE_WINDOW: int | None = None


class DatasetUnreadableError(RuntimeError):
    """S3 failed while reading the dataset: not the user's fault, so retry the event."""


class _RecordingStorage(BoundedReads):
    """Wraps ``S3Storage`` and remembers S3 failures.

    The validator turns a read error into a finding (right for the CLI); in the Lambda an
    S3 failure (throttling past retries, a permissions slip) must not reach the user as
    "your dataset is invalid", so the launcher checks ``failures`` and raises instead.
    """

    def __init__(self, inner: S3Storage) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.failures: list[str] = []

    def list_files(self) -> list[FileInfo]:
        try:
            return self.inner.list_files()
        except StorageError as exc:
            self.failures.append(str(exc))
            raise

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        try:
            return self.inner.read_bytes(path, max_bytes)
        except FileTooLargeError:
            raise  # the user's file, the user's problem
        except StorageError as exc:
            self.failures.append(str(exc))
            raise


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)


def claim_notice(
    dynamodb: Any, table: str, marker_id: str, now: float, window_seconds: int | None
) -> int | None:
    """Claim the right to send one email (``marker_id``, e.g. ``quota#<upload hash>``).

    Returns the claim's token (for :func:`release_notice`), or ``None`` when a live claim
    exists. A conditional PutItem in the idempotency table. With a window, the TTL
    attribute ``expiration`` cleans the marker up, and the condition also accepts an
    expired item because DynamoDB's TTL deletes lazily (up to days later); with
    ``window_seconds=None`` the marker has no TTL and lasts as long as the job name does
    (forever). If DynamoDB itself fails, the claim is granted: a duplicate email beats a
    silent one.
    """
    token = int(now * 1000)
    item = {"id": {"S": marker_id}, "status": {"S": "EMAIL_SENT"}, "claim": {"N": str(token)}}
    if window_seconds is not None:
        item["expiration"] = {"N": str(int(now) + window_seconds)}
    try:
        dynamodb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(id) OR expiration < :now",
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        )
    except ClientError as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            return None
        logger.warning(
            "Email marker not written; sending anyway",
            extra={"marker": marker_id, "error": str(exc)},
        )
    return token


def release_notice(dynamodb: Any, table: str, marker_id: str, token: int) -> None:
    """Undo our claim (the email did not go out), so the next retry tries again."""
    try:
        dynamodb.delete_item(
            TableName=table,
            Key={"id": {"S": marker_id}},
            # Only our own claim: never a newer one from a concurrent delivery.
            ConditionExpression="claim = :claim",
            ExpressionAttributeValues={":claim": {"N": str(token)}},
        )
    except ClientError as exc:
        # The caller re-raises the publish error; a stuck claim only costs one email.
        logger.warning("Email marker not released", extra={"marker": marker_id, "error": str(exc)})


class Launcher:
    """Holds the settings and the idempotent step; AWS clients come from ``aws.clients``."""

    def __init__(self, settings: LauncherSettings, region: str | None = None) -> None:
        self.settings = settings
        self.region = region or aws.current_region()
        self._idempotency_config: Any = None
        self.clock: Callable[[], float] = time.time  # replaceable in tests (redrive later)
        self._launch_once: Callable[..., dict[str, Any]] | None = None

    def _idempotent_launch(self) -> Callable[..., dict[str, Any]]:
        # Built on first use (not at import) so tests and cold starts create the DynamoDB
        # client inside the right environment; one persistence layer per config.
        if self._launch_once is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            self._idempotency_config = IdempotencyConfig(
                expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
                raise_on_no_idempotency_key=True,
            )
            layer = DynamoDBPersistenceLayer(
                table_name=self.settings.idempotency_table,
                boto3_client=aws.client("dynamodb"),
            )
            self._launch_once = idempotent_function(
                data_keyword_argument="upload",
                persistence_store=layer,
                config=self._idempotency_config,
            )(self._launch)
        return self._launch_once

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Entry point for one event; returns a small JSON-able outcome."""
        parsed = parse_upload(event, self.settings.dataset_prefix)
        if isinstance(parsed, Ignored):
            logger.info("Event ignored", extra={"reason": parsed.reason})
            metrics.add_metric(name="EventIgnored", unit=MetricUnit.Count, value=1)
            return {"status": "ignored", "reason": parsed.reason}
        launch = self._idempotent_launch()
        if context is not None:
            self._idempotency_config.register_lambda_context(context)
        logger.append_keys(dataset=parsed.folder_uri, s3_sequencer=parsed.sequencer)
        return launch(upload=parsed.identity())

    @tracer.capture_method(capture_response=False)
    def _launch(self, upload: dict[str, str]) -> dict[str, Any]:
        """Runs once per upload identity (Powertools idempotency around it)."""
        up = Upload.from_identity(upload)
        settings = self.settings
        dataset_uri = up.folder_uri
        name = job_name(
            settings.job_name_prefix, up.dataset_name(settings.dataset_prefix), up.identity_hash()
        )
        logger.append_keys(dataset=dataset_uri, job_name=name)
        tracer.put_annotation("job_name", name)

        storage = _RecordingStorage(S3Storage(up.bucket, up.folder, client=aws.client("s3")))
        report = validate_dataset(storage, DATA_YAML)
        training_text: bytes | None = None
        training_problems: list[Finding] = []
        if not storage.failures and any(f.path == TRAINING_YAML for f in storage.list_files()):
            try:
                training_text = storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES)
            except FileTooLargeError:
                training_problems.append(
                    error(
                        TRAINING_YAML,
                        f"is larger than {TRAINING_YAML_MAX_BYTES // 1024} KiB",
                        hint="keep only training settings in it",
                    )
                )
            except StorageError:
                pass  # recorded in storage.failures: raised just below
        if storage.failures:
            raise DatasetUnreadableError("; ".join(storage.failures[:3]))
        config = parse_training_config(training_text, settings)
        errors = [*report.errors, *training_problems, *config.errors]
        warnings = [*report.warnings, *config.warnings]
        if errors:
            logger.info("Dataset rejected", extra={"errors": len(errors)})
            self._send(
                render_rejection(
                    dataset_uri=dataset_uri,
                    errors=errors,
                    warnings=warnings,
                    prefix=settings.job_name_prefix,
                )
            )
            metrics.add_metric(name="DatasetRejected", unit=MetricUnit.Count, value=1)
            return {"status": "rejected", "dataset": dataset_uri, "errors": len(errors)}

        options = config.sagemaker
        request = build_training_job_request(
            job_name=name,
            dataset_uri=dataset_uri,
            image_uri=settings.training_image_uri,
            role_arn=settings.sagemaker_role_arn,
            output_s3_uri=settings.output_s3_uri,
            checkpoint_s3_uri=settings.checkpoint_s3_uri,
            options=options,
            train_args=config.train_args,
            data_yaml_etag=up.etag,
            data_yaml_version=up.version_id,
            pipeline_name=settings.pipeline_name,
        )
        started_email = render_started(
            prefix=settings.job_name_prefix,
            dataset_uri=dataset_uri,
            job_name=name,
            region=self.region,
            instance_type=options.instance_type,
            spot=options.spot,
            max_runtime_seconds=request["StoppingCondition"]["MaxRuntimeInSeconds"],
            max_wait_seconds=spot_wait_seconds(options.max_runtime_seconds)
            if options.spot
            else None,
            input_mode=options.input_mode,
            stats=report.stats,
            warnings=warnings,
            train_args=request["HyperParameters"],
        )
        started_marker = STARTED_NOTICE_PREFIX + up.identity_hash()
        try:
            aws.client("sagemaker").create_training_job(**request)
        except ClientError as exc:
            if _error_code(exc) == "ResourceInUse":
                # Same upload, same name: an earlier attempt created the job. Send its
                # start email unless that attempt got as far as sending it.
                logger.info("Training job already exists", extra={"error": _error_message(exc)})
                sent = self._send_once(started_marker, STARTED_NOTICE_WINDOW, started_email)
                return {
                    "status": "already_started",
                    "dataset": dataset_uri,
                    "job_name": name,
                    "email_sent": sent,
                }
            return self._on_create_error(
                exc, up.identity_hash(), dataset_uri, name, options.instance_type, options.spot
            )

        logger.info(
            "Training job created",
            extra={"instance_type": options.instance_type, "spot": options.spot},
        )
        self._send_once(started_marker, STARTED_NOTICE_WINDOW, started_email)
        metrics.add_metric(name="JobStarted", unit=MetricUnit.Count, value=1)
        return {"status": "started", "dataset": dataset_uri, "job_name": name}

    def _on_create_error(
        self,
        exc: ClientError,
        upload_hash: str,
        dataset_uri: str,
        name: str,
        instance_type: str,
        spot: bool,
    ) -> dict[str, Any]:
        code, message = _error_code(exc), _error_message(exc)
        if code == "ResourceLimitExceeded":
            logger.warning("Quota reached", extra={"error": message})
            metrics.add_metric(name="QuotaExceeded", unit=MetricUnit.Count, value=1)
            self._send_once(
                QUOTA_NOTICE_PREFIX + upload_hash,
                QUOTA_NOTICE_WINDOW_SECONDS,
                render_quota(
                    dataset_uri=dataset_uri,
                    job_name=name,
                    region=self.region,
                    instance_type=instance_type,
                    spot=spot,
                    message=message,
                    allowed_instance_types=self.settings.allowed_instance_types,
                    prefix=self.settings.job_name_prefix,
                ),
            )
            raise exc  # to the on-failure destination, to redrive once the quota is raised
        if code == "ValidationException":
            logger.warning("SageMaker refused the request", extra={"error": message})
            finding = error(
                "CreateTrainingJob",
                f"SageMaker said: {message}",
                hint="check the sagemaker: section of training.yaml; if the message names "
                "the role, image or bucket, forward this email to the stack owner",
            )
            self._send(
                render_rejection(
                    dataset_uri=dataset_uri,
                    errors=[finding],
                    refused_by_sagemaker=True,
                    prefix=self.settings.job_name_prefix,
                )
            )
            metrics.add_metric(name="DatasetRejected", unit=MetricUnit.Count, value=1)
            return {"status": "refused", "dataset": dataset_uri, "job_name": name}
        raise exc  # throttling past botocore's retries, 5xx, access: retry the event

    def _send(self, email: Email) -> None:
        publish(aws.client("sns"), self.settings.notification_topic_arn, email)

    def _send_once(self, marker_id: str, window_seconds: int | None, email: Email) -> bool:
        """Send ``email`` unless ``marker_id`` says it went out within the window."""
        dynamodb, table = aws.client("dynamodb"), self.settings.idempotency_table
        token = claim_notice(dynamodb, table, marker_id, self.clock(), window_seconds)
        if token is None:
            logger.info("Email already sent for this upload; not repeating it")
            metrics.add_metric(name="EmailSuppressed", unit=MetricUnit.Count, value=1)
            return False
        try:
            self._send(email)
        except Exception:
            release_notice(dynamodb, table, marker_id, token)
            raise
        return True
