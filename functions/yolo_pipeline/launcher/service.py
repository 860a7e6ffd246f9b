"""The launcher: one S3 "Object Created" event in, one validated training job (or one
email saying what to fix) out, exactly once per upload.

Flow: the event arrives through LaunchQueue (SQS) -> parse it -> the settle rule
(launcher/settle.py): superseded? drop; not settled? the same event goes back to the
queue with a delay -> (idempotent on the upload identity) validate the dataset and its
optional training.yaml -> rejection email; else the image guard (launcher/image_guard.py)
-> image-missing email; else CreateTrainingJob + start email.

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
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.email import Email, publish
from yolo_pipeline.aws.errors import error_code, error_message
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics, tracer
from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.storage.base import (
    BoundedReads,
    FileInfo,
    FileTooLargeError,
    StorageError,
)
from yolo_pipeline.dataset.storage.s3 import S3Storage, S3ZipObject
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError
from yolo_pipeline.dataset.storage.zip_storage import ZipStorage
from yolo_pipeline.dataset.validation import validate_dataset
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.launcher.emails import (
    render_no_image,
    render_quota,
    render_rejection,
    render_started,
    with_still_changing_note,
)
from yolo_pipeline.launcher.image_guard import ImageGuard
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.job_request import (
    build_training_job_request,
    spot_wait_seconds,
    with_dataset_name,
)
from yolo_pipeline.launcher.limits import folder_too_big
from yolo_pipeline.launcher.model_source import ModelChoice, choose_model
from yolo_pipeline.launcher.s3_event import Ignored, Upload, parse_upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.settle import Attempt, Decision, Head, Stamp, decide, defer_seconds
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.config import parse_training_config

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

T = TypeVar("T")
# S3 -> EventBridge -> SQS deliver at least once, and SQS retries and DLQ redrives can
# come hours or days later: remember a finished upload for a week.
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
# A quota failure raises, so Powertools drops its record and SQS redelivers the message
# (maxReceiveCount 3, 1.5 h apart, in template.yaml): without a marker one upload would
# send 3 identical quota emails. One email per upload per window; a
# redrive after the window that fails again emails again.
QUOTA_NOTICE_WINDOW_SECONDS = 6 * 3600
QUOTA_NOTICE_PREFIX = "quota#"
# The start email has the same hazard the other way round: an attempt that created the
# job but failed before its email went out (SNS error, timeout) is retried, gets
# ResourceInUse, and must still send it; one that did send it leaves this marker. A job
# name is unique forever, so the marker has no TTL: a replay months later (after the
# idempotency record expired) meets ResourceInUse and the marker, and sends nothing.
STARTED_NOTICE_PREFIX = "started#"
# One deferred check per upload and attempt, however often SQS delivers the message.
SETTLE_MARKER_PREFIX = "settle#"
_RECORD_LOG_KEYS = ("dataset", "s3_sequencer", "settle_attempt", "job_name")
STARTED_NOTICE_WINDOW: int | None = None


class DatasetUnreadableError(RuntimeError):
    """S3 failed while reading the dataset: not the user's fault, so retry the event."""


class _RecordingStorage(BoundedReads):
    """Wraps ``S3Storage`` and remembers S3 failures.

    The validator turns a read error into a finding (right for the CLI); in the Lambda an
    S3 failure (throttling past retries, a permissions slip) must not reach the user as
    "your dataset is invalid", so the launcher checks ``failures`` and raises instead.
    """

    def __init__(self, inner: S3Storage | ZipStorage) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.failures: list[str] = []
        self.archive_refused = False  # a zip refused as unsafe: reported once, never read again

    @property
    def archive_root(self) -> str:
        return getattr(self.inner, "archive_root", "")

    def list_files(self) -> list[FileInfo]:
        try:
            return self.inner.list_files()
        except ArchiveError:
            self.archive_refused = True
            raise  # a refused zip is the user's to fix
        except StorageError as exc:
            self.failures.append(str(exc))
            raise

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        try:
            return self.inner.read_bytes(path, max_bytes)
        except (FileTooLargeError, ArchiveError):
            raise  # the user's file, the user's problem
        except StorageError as exc:
            self.failures.append(str(exc))
            raise

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        # The inner storage's own bulk reads (a zip's coalesced spans), failures recorded.
        try:
            yield from self.inner.map_read(paths, fn, max_workers)
        except (FileTooLargeError, ArchiveError):
            raise
        except StorageError as exc:
            self.failures.append(str(exc))
            raise


def _folder_too_big(storage: _RecordingStorage) -> Any:
    try:
        return folder_too_big(storage)
    except StorageError:
        return None  # recorded; validate_dataset reports it and the launch raises below


def _head(s3: Any, bucket: str, key: str) -> Head | None:
    """data.yaml as it is now; ``None`` when it is gone. Other S3 errors raise (retry)."""
    try:
        response = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return Head(
        etag=str(response.get("ETag", "")),
        version_id=response.get("VersionId"),
        metadata=response.get("Metadata") or {},
    )


def _stamps(s3: Any, bucket: str, folder: str) -> Iterator[Stamp]:
    """The folder's objects, page by page, as the settle rule consumes them (lazily)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for obj in page.get("Contents", []):
            yield Stamp(obj["Key"], obj["LastModified"])


def _uploads_in_progress(s3: Any, bucket: str, folder: str) -> Iterator[str]:
    """Keys with a multipart upload in progress under the folder (only the first needed)."""
    response = s3.list_multipart_uploads(Bucket=bucket, Prefix=folder, MaxUploads=1)
    for upload in response.get("Uploads", []):
        yield str(upload["Key"])


def claim_notice(
    dynamodb: Any,
    table: str,
    marker_id: str,
    now: float,
    window_seconds: int | None,
    status: str = "EMAIL_SENT",
) -> int | None:
    """Claim the right to send one email (``marker_id``, e.g. ``quota#<upload hash>``) or
    one deferred check (``settle#<upload hash>#<attempt>``).

    Returns the claim's token (for :func:`release_notice`), or ``None`` when a live claim
    exists. A conditional PutItem in the idempotency table. With a window, the TTL
    attribute ``expiration`` cleans the marker up, and the condition also accepts an
    expired item because DynamoDB's TTL deletes lazily (up to days later); with
    ``window_seconds=None`` the marker has no TTL and lasts as long as the job name does
    (forever). If DynamoDB itself fails, the claim is granted: a duplicate email beats a
    silent one.
    """
    token = int(now * 1000)
    item = {"id": {"S": marker_id}, "status": {"S": status}, "claim": {"N": str(token)}}
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
        if error_code(exc) == "ConditionalCheckFailedException":
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
        self.image_guard = ImageGuard(settings.training_image_repository_uri)

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
        """An SQS batch from LaunchQueue (production): a partial batch response. A bare
        EventBridge event (``sam local invoke -e``, tests): that event's outcome."""
        if isinstance(event, dict) and "Records" in event:
            return self._handle_batch(event, context)
        return self.handle_event(event, context)

    def _handle_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # A record that raises becomes a batchItemFailure: SQS redelivers it after the
        # visibility timeout and moves it to the DLQ after maxReceiveCount (template.yaml).
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        def record_handler(record: SQSRecord) -> dict[str, Any]:
            return self.handle_record(record, context)

        processor = BatchProcessor(event_type=EventType.SQS)
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    def handle_record(self, record: SQSRecord, context: Any = None) -> dict[str, Any]:
        """One queue message: its body is the S3 event, its attributes the settle attempt."""
        try:
            event = json.loads(record.body)
        except ValueError:
            logger.warning("Queue message is not JSON; dropped", extra={"id": record.message_id})
            metrics.add_metric(name="EventIgnored", unit=MetricUnit.Count, value=1)
            return {"status": "ignored", "reason": "message body is not JSON"}
        attempt = Attempt.from_message_attributes(record.raw_event.get("messageAttributes") or {})
        return self.handle_event(event, context, attempt=attempt, body=record.body)

    def handle_event(
        self,
        event: dict[str, Any],
        context: Any = None,
        *,
        attempt: Attempt | None = None,
        body: str | None = None,
    ) -> dict[str, Any]:
        """One S3 event: drop it, check it again later, or launch (once per upload)."""
        logger.remove_keys(list(_RECORD_LOG_KEYS))  # the previous record's, in a batch
        parsed = parse_upload(event, self.settings.dataset_prefix)
        if isinstance(parsed, Ignored):
            logger.info("Event ignored", extra={"reason": parsed.reason})
            metrics.add_metric(name="EventIgnored", unit=MetricUnit.Count, value=1)
            return {"status": "ignored", "reason": parsed.reason}
        attempt = attempt or Attempt()
        logger.append_keys(
            dataset=parsed.dataset_uri, s3_sequencer=parsed.sequencer, settle_attempt=attempt.number
        )
        decision = self._settle(parsed, attempt)
        if decision.action == "drop":
            logger.info("Event superseded; dropped", extra={"reason": decision.reason})
            metrics.add_metric(name="UploadSuperseded", unit=MetricUnit.Count, value=1)
            return {
                "status": "superseded",
                "dataset": parsed.dataset_uri,
                "reason": decision.reason,
            }
        if decision.action == "defer":
            sent = self._defer(parsed, attempt, decision, body or json.dumps(event))
            return {
                "status": "deferred",
                "dataset": parsed.dataset_uri,
                "reason": decision.reason,
                "delay_seconds": decision.delay_seconds,
                "sent": sent,
            }
        logger.info("Upload settled", extra={"reason": decision.reason})
        launch = self._idempotent_launch()
        if context is not None:
            self._idempotency_config.register_lambda_context(context)
        return launch(upload=parsed.identity(), still_changing=decision.still_changing)

    # The settle rule's I/O: what S3 says goes into the pure decision (launcher/settle.py).

    def _settle(self, upload: Upload, attempt: Attempt) -> Decision:
        s3 = aws.client("s3")
        head = _head(s3, upload.bucket, upload.key)
        settings = self.settings
        return decide(
            upload,
            head,
            _stamps(s3, upload.bucket, upload.folder),
            _uploads_in_progress(s3, upload.bucket, upload.folder),
            now=self.clock(),
            attempt=attempt,
            settle_seconds=settings.settle_seconds,
            max_settle_seconds=settings.max_settle_seconds,
        )

    def _defer(self, upload: Upload, attempt: Attempt, decision: Decision, body: str) -> bool:
        """Send the same event back to LaunchQueue with a delay; once per attempt.

        Duplicate deliveries of one message would otherwise double the deferred messages
        at every round: the first copy claims ``settle#<upload>#<attempt>`` and sends, the
        others stop here. The claim is released if the send fails, so the retry sends.
        """
        now = self.clock()
        following = attempt.next(now)
        # Counted from now, not from before the listing: a busy folder's listing takes a while.
        delay = defer_seconds(decision.quiet_at, now, self.settings.settle_seconds)
        dynamodb, table = aws.client("dynamodb"), self.settings.idempotency_table
        marker = f"{SETTLE_MARKER_PREFIX}{upload.identity_hash()}#{following.number}"
        window = self.settings.max_settle_seconds + IDEMPOTENCY_TTL_SECONDS
        expiration = claim_notice(dynamodb, table, marker, now, window, status="DEFERRED")
        if expiration is None:
            logger.info("Deferred check already sent by another delivery")
            metrics.add_metric(name="DeferralSuppressed", unit=MetricUnit.Count, value=1)
            return False
        try:
            aws.client("sqs").send_message(
                QueueUrl=self.settings.launch_queue_url,
                MessageBody=body,
                DelaySeconds=delay,
                MessageAttributes=following.to_message_attributes(),
            )
        except Exception:
            release_notice(dynamodb, table, marker, expiration)
            raise
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
    def _launch(self, upload: dict[str, str], still_changing: bool = False) -> dict[str, Any]:
        """Runs once per upload identity (Powertools idempotency around it)."""
        up = Upload.from_identity(upload)
        settings = self.settings
        name = job_name(
            settings.job_name_prefix, up.dataset_name(settings.dataset_prefix), up.identity_hash()
        )
        logger.append_keys(dataset=up.dataset_uri, job_name=name)
        tracer.put_annotation("job_name", name)
        waited = settings.max_settle_seconds if still_changing else None

        report, config, training_problems = self._check(up)
        errors = [*report.errors, *training_problems, *config.errors]
        warnings = [*report.warnings, *config.warnings]
        if errors:
            return self._reject(up, errors, warnings, waited)
        # The model and task, and the user's own weights as a channel (launcher/model_source.py).
        choice = choose_model(
            config.train_args,
            report.stats.task or "detect",
            weights_s3_uri=settings.weights_s3_uri,
            job_name_prefix=settings.job_name_prefix,
            s3=aws.client("s3"),
            sagemaker=aws.client("sagemaker"),
        )
        if choice.problems:
            return self._reject(up, choice.problems, warnings, waited)
        return self._start(up, name, report, config, choice, warnings, waited)

    def _reject(
        self, up: Upload, errors: list[Finding], warnings: list[Finding], waited: int | None
    ) -> dict[str, Any]:
        logger.info("Dataset rejected", extra={"errors": len(errors)})
        email = render_rejection(
            dataset_uri=up.dataset_uri,
            errors=errors,
            warnings=warnings,
            prefix=self.settings.job_name_prefix,
        )
        self._send(email if waited is None else with_still_changing_note(email, waited))
        metrics.add_metric(name="DatasetRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "dataset": up.dataset_uri, "errors": len(errors)}

    def _check(self, up: Upload) -> tuple[Any, Any, list[Finding]]:
        """Validate the folder (or zip) and parse its training.yaml; S3 failures raise."""
        inner = (
            ZipStorage(S3ZipObject(up.bucket, up.key, client=aws.client("s3")))
            if up.is_zip
            else S3Storage(up.bucket, up.folder, client=aws.client("s3"))
        )
        storage = _RecordingStorage(inner)
        report = (None if up.is_zip else _folder_too_big(storage)) or validate_dataset(
            storage, DATA_YAML
        )
        training_text: bytes | None = report.training_yaml  # the validator read it already
        training_problems: list[Finding] = []
        listed = not storage.failures and not storage.archive_refused
        unread = training_text is None
        if unread and listed and any(f.path == TRAINING_YAML for f in storage.list_files()):
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
        config = parse_training_config(training_text, self.settings.sagemaker_defaults)
        return report, config, training_problems

    def _start(
        self,
        up: Upload,
        name: str,
        report: Any,
        config: Any,
        choice: ModelChoice,
        warnings: list[Finding],
        waited: int | None,
    ) -> dict[str, Any]:
        """CreateTrainingJob, then the start email (exactly once, across retries)."""
        settings, options, dataset_uri = self.settings, config.sagemaker, up.dataset_uri
        if not self.image_guard.present(settings.training_image_uri):
            return self._no_image(dataset_uri, name)
        train_args = {**config.train_args, "model": choice.model, "task": choice.task}
        request = build_training_job_request(
            job_name=name,
            dataset_uri=dataset_uri,
            image_uri=settings.training_image_uri,
            role_arn=settings.sagemaker_role_arn,
            output_s3_uri=settings.output_s3_uri,
            checkpoint_s3_uri=settings.checkpoint_s3_uri,
            options=options,
            train_args=train_args,
            data_yaml_etag=up.etag,
            data_yaml_version=up.version_id,
            pipeline_name=settings.pipeline_name,
            weights_uri=choice.weights_uri,
        )
        request = with_dataset_name(request, up.dataset_name(settings.dataset_prefix))
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
        if waited is not None:
            started_email = with_still_changing_note(started_email, waited)
        started_marker = STARTED_NOTICE_PREFIX + up.identity_hash()
        try:
            aws.client("sagemaker").create_training_job(**request)
        except ClientError as exc:
            if error_code(exc) == "ResourceInUse":
                # Same upload, same name: an earlier attempt created the job. Send its
                # start email unless that attempt got as far as sending it.
                logger.info("Training job already exists", extra={"error": error_message(exc)})
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
        code, message = error_code(exc), error_message(exc)
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
            raise exc  # retried, then parked in the DLQ: redrive it once the quota is raised
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

    def _no_image(self, dataset_uri: str, name: str) -> dict[str, Any]:
        """The training image is missing: one email on how to build it, and no job."""
        self._send(
            render_no_image(
                dataset_uri=dataset_uri,
                job_name=name,
                image_uri=self.settings.training_image_uri,
                region=self.region,
                prefix=self.settings.job_name_prefix,
            )
        )
        metrics.add_metric(name="ImageMissing", unit=MetricUnit.Count, value=1)
        return {"status": "no_image", "dataset": dataset_uri, "job_name": name}

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
