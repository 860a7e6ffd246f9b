"""The job start: image guard, CreateTrainingJob, and the start email exactly once
(across retries); SageMaker's refusals become the user's email or a retry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws.email import Email
from yolo_pipeline.aws.errors import error_code, error_message
from yolo_pipeline.aws.image_guard import ImageGuard
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.launcher.check import Checked
from yolo_pipeline.launcher.emails import (
    render_no_image,
    render_quota,
    render_rejection,
    render_started,
    with_stale_uploads_note,
    with_still_changing_note,
)
from yolo_pipeline.launcher.job_request import (
    build_training_job_request,
    spot_wait_seconds,
    with_dataset_name,
)
from yolo_pipeline.launcher.model_source import ModelChoice
from yolo_pipeline.launcher.notices import QUOTA, STARTED, NoticeKind, Notices
from yolo_pipeline.launcher.pending import Prepared
from yolo_pipeline.launcher.queue_emails import cost_lines, with_cost_lines
from yolo_pipeline.launcher.queue_rules import SlotRefused
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.verdicts import Verdicts


@dataclass(frozen=True)
class SettleNotes:
    """What the settle rule adds to the upload's email: the wait given up after
    ``waited`` seconds (None: it settled), and abandoned multipart uploads (key, upload id)."""

    waited: int | None = None
    stale: Sequence[tuple[str, str]] = ()

    def apply(self, email: Email, bucket: str) -> Email:
        if self.waited is not None:
            email = with_still_changing_note(email, self.waited)
        return with_stale_uploads_note(email, bucket, self.stale)


class JobStarter:
    """Starts one validated upload's job; ``send`` publishes an email."""

    def __init__(
        self,
        settings: LauncherSettings,
        *,
        region: str,
        sagemaker: Any,
        notices: Notices,
        send: Callable[[Email], object],
        verdicts: Verdicts | None = None,
    ) -> None:
        self.settings = settings
        self.verdicts = verdicts or Verdicts(None, settings.dataset_prefix)
        self.region = region
        self.sagemaker = sagemaker
        self.notices = notices
        self.send = send
        self.image_guard = ImageGuard(settings.training_image_repository_uri)
        self.quota_waits = False  # True with the launch queue: a quota refusal waits
        # (job name, seconds) of the dataset's previous job for the start email's estimate.
        self.estimate: Callable[[dict[str, Any]], tuple[str, float] | None] | None = None

    def start(
        self, up: Upload, name: str, checked: Checked, choice: ModelChoice, notes: SettleNotes
    ) -> dict[str, Any]:
        """CreateTrainingJob, then the start email (exactly once, across retries)."""
        prepared = self.prepare(up, name, checked, choice, notes)
        return prepared if isinstance(prepared, dict) else self.create(prepared)

    def prepare(
        self, up: Upload, name: str, checked: Checked, choice: ModelChoice, notes: SettleNotes
    ) -> Prepared | dict[str, Any]:
        """The request and the start email; a result instead when the image is missing."""
        settings, options, dataset_uri = self.settings, checked.config.sagemaker, up.dataset_uri
        if not self.image_guard.present(settings.training_image_uri):
            return self._no_image(up, name)
        request = self._request(up, name, checked, choice)
        runtime = request["StoppingCondition"]["MaxRuntimeInSeconds"]
        started_email = render_started(
            prefix=settings.job_name_prefix,
            dataset_prefix=settings.dataset_prefix,
            dataset_uri=dataset_uri,
            job_name=name,
            region=self.region,
            instance_type=options.instance_type,
            spot=options.spot,
            max_runtime_seconds=runtime,
            max_wait_seconds=spot_wait_seconds(options.max_runtime_seconds)
            if options.spot
            else None,
            input_mode=options.input_mode,
            stats=checked.report.stats,
            warnings=checked.warnings,
            train_args=request["HyperParameters"],
        )
        count = int(request["ResourceConfig"].get("InstanceCount", 1))
        started_email = with_cost_lines(
            started_email,
            cost_lines(
                options.instance_type,
                count,
                runtime,
                options.spot,
                self.estimate(request) if self.estimate else None,
            ),
        )
        started_email = notes.apply(started_email, up.bucket)
        return Prepared(up.identity(), request, started_email)

    def create(self, prepared: Prepared) -> dict[str, Any]:
        """CreateTrainingJob from a prepared start, then its email (once per upload)."""
        up, request, started_email = (
            Upload.from_identity(prepared.identity),
            prepared.request,
            prepared.email,
        )
        name, dataset_uri = prepared.job_name, up.dataset_uri
        instance_type = request["ResourceConfig"]["InstanceType"]
        spot = bool(request.get("EnableManagedSpotTraining"))
        try:
            self.sagemaker.create_training_job(**request)
        except ClientError as exc:
            if error_code(exc) != "ResourceInUse":
                return self._on_create_error(exc, up, name, instance_type, spot)
            # Same upload, same name: an earlier attempt created the job. Send its start
            # email unless that attempt got as far as sending it.
            logger.info("Training job already exists", extra={"error": error_message(exc)})
            self.verdicts.record(up, "started", job_name=name)
            sent = self._send_once(STARTED, up, started_email)
            return {
                "status": "already_started",
                "dataset": dataset_uri,
                "job_name": name,
                "email_sent": sent,
            }
        logger.info("Training job created", extra={"instance_type": instance_type, "spot": spot})
        self.verdicts.record(up, "started", job_name=name)
        self._send_once(STARTED, up, started_email)
        metrics.add_metric(name="JobStarted", unit=MetricUnit.Count, value=1)
        return {"status": "started", "dataset": dataset_uri, "job_name": name}

    def _request(
        self, up: Upload, name: str, checked: Checked, choice: ModelChoice
    ) -> dict[str, Any]:
        settings = self.settings
        request = build_training_job_request(
            job_name=name,
            dataset_uri=up.dataset_uri,
            image_uri=settings.training_image_uri,
            role_arn=settings.sagemaker_role_arn,
            output_s3_uri=settings.output_s3_uri,
            checkpoint_s3_uri=settings.checkpoint_s3_uri,
            options=checked.config.sagemaker,
            train_args={**checked.config.train_args, "model": choice.model, "task": choice.task},
            data_yaml_etag=up.etag,
            data_yaml_version=up.version_id,
            pipeline_name=settings.pipeline_name,
            weights_uri=choice.weights_uri,
            dataset_digest=checked.digest,
        )
        return with_dataset_name(request, up.dataset_name(settings.dataset_prefix))

    def _on_create_error(
        self, exc: ClientError, up: Upload, name: str, instance_type: str, spot: bool
    ) -> dict[str, Any]:
        code, message, dataset_uri = error_code(exc), error_message(exc), up.dataset_uri
        if code == "ResourceLimitExceeded" and self.quota_waits:
            raise SlotRefused(message)  # the launch queue waits for a slot instead
        if code == "ResourceLimitExceeded":
            logger.warning("Quota reached", extra={"error": message})
            metrics.add_metric(name="QuotaExceeded", unit=MetricUnit.Count, value=1)
            self._send_once(
                QUOTA,
                up,
                render_quota(
                    dataset_uri=dataset_uri,
                    job_name=name,
                    region=self.region,
                    instance_type=instance_type,
                    spot=spot,
                    message=message,
                    allowed_instance_types=self.settings.allowed_instance_types,
                    prefix=self.settings.job_name_prefix,
                    dataset_prefix=self.settings.dataset_prefix,
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
            self.reject(up, [finding], [], refused_by_sagemaker=True)
            return {"status": "refused", "dataset": dataset_uri, "job_name": name}
        raise exc  # throttling past botocore's retries, 5xx, access: retry the event

    def reject(
        self,
        up: Upload,
        errors: list[Finding],
        warnings: list[Finding],
        notes: SettleNotes | None = None,
        *,
        refused_by_sagemaker: bool = False,
    ) -> dict[str, Any]:
        """The rejection email (every problem), no job."""
        logger.info("Dataset rejected", extra={"errors": len(errors)})
        # Recorded before the email: a failed send retries both, and the state stays.
        self.verdicts.record(up, "rejected", detail=f"{len(errors)} problem(s)", problems=errors)
        email = render_rejection(
            dataset_uri=up.dataset_uri,
            errors=errors,
            warnings=warnings,
            refused_by_sagemaker=refused_by_sagemaker,
            prefix=self.settings.job_name_prefix,
            dataset_prefix=self.settings.dataset_prefix,
        )
        self.send((notes or SettleNotes()).apply(email, up.bucket))
        metrics.add_metric(name="DatasetRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "dataset": up.dataset_uri, "errors": len(errors)}

    def _no_image(self, up: Upload, name: str) -> dict[str, Any]:
        """The training image is missing: one email on how to build it, and no job."""
        dataset_uri = up.dataset_uri
        self.verdicts.record(up, "image_missing", detail=self.settings.training_image_uri)
        self.send(
            render_no_image(
                dataset_uri=dataset_uri,
                job_name=name,
                image_uri=self.settings.training_image_uri,
                region=self.region,
                prefix=self.settings.job_name_prefix,
                dataset_prefix=self.settings.dataset_prefix,
            )
        )
        metrics.add_metric(name="ImageMissing", unit=MetricUnit.Count, value=1)
        return {"status": "no_image", "dataset": dataset_uri, "job_name": name}

    def _send_once(self, kind: NoticeKind, up: Upload, email: Email) -> bool:
        """Send ``email`` unless this upload's notice of ``kind`` went out already."""
        marker = {"upload": up.identity_hash()}
        sent = self.notices.once(kind, marker, lambda: self.send(email))
        if not sent:
            logger.info("Email already sent for this upload; not repeating it")
            metrics.add_metric(name="EmailSuppressed", unit=MetricUnit.Count, value=1)
        return sent
