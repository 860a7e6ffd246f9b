"""The deployer's AWS side: approval events deploy, endpoint events email.

Approval ("SageMaker Model Package State Change", Approved, one of this stack's groups):
look at the group's newest approved version and at what the dataset's endpoint runs, take
the row of ``decisions.decide`` that applies, and create the model and endpoint config of the
version (each once: a repeat finds them) and create or update the endpoint. A busy endpoint
raises, so Lambda retries the event later (then the DLQ). Requests SageMaker refuses for good
(an image that does not exist, a quota) are answered by the failure email at once.

Outcome ("SageMaker Endpoint State Change", InService or Failed, one of this stack's
endpoints): one email, once per (endpoint, config, status) through Powertools idempotency.
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
from yolo_pipeline.aws.email import Email, publish
from yolo_pipeline.aws.errors import error_code, error_message
from yolo_pipeline.aws.image_guard import ImageGuard
from yolo_pipeline.aws.observability import MetricUnit, logger, metrics
from yolo_pipeline.deployer import requests
from yolo_pipeline.deployer.decisions import Serving, decide, skip_reason
from yolo_pipeline.deployer.emails import Deployment, failed_email, serving_email
from yolo_pipeline.deployer.events import (
    EndpointChange,
    MalformedEvent,
    PackageChange,
    endpoint_status,
    parse_event,
)
from yolo_pipeline.deployer.settings import DeployerSettings
from yolo_pipeline.errors import PipelineError

IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600  # EventBridge and Lambda retries end well before
OUTCOMES = ("InService", "Failed")


class EndpointBusy(PipelineError):
    """The endpoint is changing; raised so that Lambda retries the approval later."""


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    if isinstance(response, Mapping):
        return {**response, "action": "duplicate"}
    return response


def _missing(exc: ClientError) -> bool:
    """SageMaker's "does not exist" is a ValidationException saying so."""
    text = error_message(exc).lower()
    return error_code(exc) == "ValidationException" and (
        "could not find" in text or "not found" in text
    )


def _exists(exc: ClientError) -> bool:
    text = error_message(exc).lower()
    return error_code(exc) == "ValidationException" and "already exist" in text


class Deployer:
    """Holds the clients and the idempotency wrappers; build once per cold start."""

    def __init__(
        self,
        settings: DeployerSettings,
        *,
        sagemaker: Any = None,
        sns: Any = None,
        dynamodb: Any = None,
    ) -> None:
        self.settings = settings
        self.sagemaker = sagemaker or aws.client("sagemaker")
        self.sns = sns or aws.client("sns")
        # The inference image is the stack's own (INFERENCE_IMAGE_URI): its repository is ours.
        self.image_guard = ImageGuard(requests.repository(settings.inference_image_uri))
        self.config = IdempotencyConfig(
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS, response_hook=_mark_duplicate
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table,
            boto3_client=dynamodb or aws.client("dynamodb"),
        )
        self._deploy_once = idempotent_function(
            self._deploy,
            data_keyword_argument="package",
            persistence_store=persistence,
            config=self.config,
        )
        self._notify_once = idempotent_function(
            self._notify,
            data_keyword_argument="outcome",
            persistence_store=persistence,
            config=self.config,
        )

    def ours(self, name: str) -> bool:
        return name.startswith(f"{self.settings.job_name_prefix}-")

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Process one EventBridge event; returns what was done (for logs and tests)."""
        if context is not None:
            self.config.register_lambda_context(context)
        try:
            change = parse_event(event)
        except MalformedEvent as exc:
            logger.warning(
                "Ignoring an event the deployer does not handle", extra={"reason": str(exc)}
            )
            return {"action": "ignored", "reason": str(exc)}
        if isinstance(change, PackageChange):
            return self.on_package(change)
        return self.on_endpoint(change)

    # -- approvals ---------------------------------------------------------------------------

    def on_package(self, change: PackageChange) -> dict[str, Any]:
        logger.append_keys(model_package=change.arn, approval=change.approval)
        reason = skip_reason(
            change,
            ours=self.ours(change.group),
            deploy_on_approval=self.settings.deploy_on_approval,
            newest_approved=None,
        )
        if reason or change.version is None:
            reason = reason or "the event names no version"
            logger.info("Nothing to deploy", extra={"reason": reason})
            return {"action": "none", "reason": reason}
        package = {"arn": change.arn, "approval": change.approval, "modified": change.modified}
        result: dict[str, Any] = self._deploy_once(package=package, change=change)
        return result

    def newest_approved(self, group: str) -> int | None:
        page = self.sagemaker.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
        summaries = page.get("ModelPackageSummaryList", [])
        version = summaries[0].get("ModelPackageVersion") if summaries else None
        return version if isinstance(version, int) else None

    def serving(self, endpoint: str) -> Serving | None:
        try:
            described = self.sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        config = str(described.get("EndpointConfigName") or "")
        return Serving(
            endpoint_status(str(described["EndpointStatus"])), requests.version_of(config)
        )

    def _deploy(self, package: dict[str, str], change: PackageChange) -> dict[str, Any]:
        assert change.version is not None  # on_package returned before otherwise
        endpoint = requests.endpoint_name(change.group)
        decision = decide(
            change,
            ours=True,
            deploy_on_approval=self.settings.deploy_on_approval,
            endpoint=self.serving(endpoint),
            newest_approved=self.newest_approved(change.group),
        )
        logger.info(
            "Deployment decision", extra={"action": decision.action, "reason": decision.reason}
        )
        if decision.action == "none":
            return {"action": "none", "reason": decision.reason, "endpoint": endpoint}
        if decision.action == "replace":
            self.sagemaker.delete_endpoint(EndpointName=endpoint)
        if decision.action in ("wait", "replace"):
            raise EndpointBusy(decision.reason)
        if not self.image_guard.present(self.settings.inference_image_uri):
            return self._no_image(change, endpoint)
        try:
            config_name = self._model_and_config(change, endpoint)
            if decision.action == "create":
                self.sagemaker.create_endpoint(
                    **requests.create_endpoint_request(
                        endpoint=endpoint,
                        config_name=config_name,
                        group=change.group,
                        version=change.version,
                    )
                )
            else:
                self.sagemaker.update_endpoint(
                    **requests.update_endpoint_request(endpoint=endpoint, config_name=config_name)
                )
        except ClientError as exc:
            if error_code(exc) in RETRYABLE_CODES:
                raise
            return self._refused(change, endpoint, exc)
        metrics.add_metric(name="DeploymentsStarted", unit=MetricUnit.Count, value=1)
        return {
            "action": decision.action,
            "endpoint": endpoint,
            "config": config_name,
            "version": change.version,
        }

    def _model_and_config(self, change: PackageChange, endpoint: str) -> str:
        assert change.version is not None
        name = requests.versioned_name(endpoint, change.version)
        described = self.sagemaker.describe_model_package(ModelPackageName=change.arn)
        container = described["InferenceSpecification"]["Containers"][0]
        group, version = change.group, change.version
        model = requests.model_request(
            name=name,
            settings=self.settings,
            package_arn=change.arn,
            package_container=container,
            group=group,
            version=version,
        )
        config = requests.endpoint_config_request(
            name=name, model_name=name, settings=self.settings, group=group, version=version
        )
        calls = (
            (self.sagemaker.create_model, model),
            (self.sagemaker.create_endpoint_config, config),
        )
        for create, request in calls:
            try:
                create(**request)
            except ClientError as exc:  # a retried delivery made it already
                if not _exists(exc):
                    raise
        return name

    def _no_image(self, change: PackageChange, endpoint: str) -> dict[str, Any]:
        reason = (
            f"the inference image {self.settings.inference_image_uri} is not in its repository "
            "yet: run `make image` (it builds and pushes both images), then approve the "
            "version again (yolo-pipeline approve DATASET --version N)"
        )
        logger.warning("Inference image missing", extra={"endpoint": endpoint})
        deployment = self._deployment(endpoint, change.group, change.version, change.region)
        self._send(failed_email(deployment, reason, self.settings.job_name_prefix), "DeployFailed")
        return {"action": "no-image", "endpoint": endpoint, "reason": reason}

    def _refused(self, change: PackageChange, endpoint: str, exc: ClientError) -> dict[str, Any]:
        reason = f"{error_code(exc)}: {error_message(exc)}"
        logger.warning("SageMaker refused the deployment", extra={"reason": reason})
        deployment = self._deployment(endpoint, change.group, change.version, change.region)
        self._send(failed_email(deployment, reason, self.settings.job_name_prefix), "DeployFailed")
        return {"action": "refused", "endpoint": endpoint, "reason": reason}

    # -- outcomes ----------------------------------------------------------------------------

    def on_endpoint(self, change: EndpointChange) -> dict[str, Any]:
        logger.append_keys(endpoint=change.name, endpoint_status=change.status)
        if not self.ours(change.name) or change.status not in OUTCOMES:
            reason = f"endpoint {change.name} is {change.status}: no email"
            logger.info("No email for this event", extra={"reason": reason})
            return {"action": "none", "reason": reason}
        outcome = {"endpoint": change.name, "status": change.status, "config": change.config_name}
        result: dict[str, Any] = self._notify_once(outcome=outcome, change=change)
        return result

    def _notify(self, outcome: dict[str, str], change: EndpointChange) -> dict[str, Any]:
        try:
            described = self.sagemaker.describe_endpoint(EndpointName=change.name)
        except ClientError as exc:
            if not _missing(exc):
                raise
            described = {}
        config = change.config_name or str(described.get("EndpointConfigName") or "")
        group = change.name  # the endpoint is named after its group
        deployment = self._deployment(
            change.name, group, requests.version_of(config), change.region
        )
        prefix = self.settings.job_name_prefix
        if change.status == "InService":
            email, metric = serving_email(deployment, prefix), "EndpointsInService"
        else:
            reason = str(described.get("FailureReason") or "")
            email, metric = failed_email(deployment, reason, prefix), "DeployFailed"
        message_id = self._send(email, metric)
        return {**outcome, "action": "sent", "subject": email.subject, "message_id": message_id}

    def _deployment(
        self, endpoint: str, group: str, version: int | None, region: str
    ) -> Deployment:
        metadata: dict[str, str] = {}
        try:
            page = self.sagemaker.list_model_packages(
                ModelPackageGroupName=group,
                SortBy="CreationTime",
                SortOrder="Descending",
                MaxResults=100,
            )
            arn = next(
                (
                    s["ModelPackageArn"]
                    for s in page.get("ModelPackageSummaryList", [])
                    if s.get("ModelPackageVersion") == version
                ),
                None,
            )
            if arn:
                described = self.sagemaker.describe_model_package(ModelPackageName=arn)
                metadata = dict(described.get("CustomerMetadataProperties") or {})
        except ClientError as exc:  # the email goes out without the model's figures
            if error_code(exc) in RETRYABLE_CODES:
                raise
            logger.warning("The model package could not be read", extra={"error": error_code(exc)})
        return Deployment(
            endpoint, group, version, region or aws.current_region(), self.capacity(), metadata
        )

    def capacity(self) -> str:
        s = self.settings
        if s.instance_type:
            return f"real-time, one {s.instance_type}"
        return (
            f"serverless, {s.serverless_memory_mb} MB, up to {s.serverless_max_concurrency} at once"
        )

    def _send(self, email: Email, metric: str) -> str:
        message_id = publish(self.sns, self.settings.notification_topic_arn, email)
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        logger.info("Email sent", extra={"subject": email.subject, "message_id": message_id})
        return message_id
