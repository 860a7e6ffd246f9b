"""The two EventBridge events the deployer takes: "SageMaker Model Package State Change" and
"SageMaker Endpoint State Change". Anything else, or a malformed one, is ``MalformedEvent``
(logged and dropped by the service: a poison event must not be retried forever)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yolo_pipeline.errors import PipelineError

PACKAGE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_CHANGE = "SageMaker Endpoint State Change"


class MalformedEvent(PipelineError):
    """Not an event the deployer handles."""


@dataclass(frozen=True)
class PackageChange:
    group: str
    arn: str
    version: int | None
    approval: str  # Approved | Rejected | PendingManualApproval
    modified: str  # when the package changed (tells a later re-approval from a duplicate)
    region: str


@dataclass(frozen=True)
class EndpointChange:
    name: str
    status: str  # normalised: InService, Failed, Creating, Updating, ...
    config_name: str
    region: str


# Endpoint events spell statuses IN_SERVICE; the API spells them InService.
_STATUSES = {
    "INSERVICE": "InService",
    "FAILED": "Failed",
    "CREATING": "Creating",
    "UPDATING": "Updating",
    "SYSTEMUPDATING": "SystemUpdating",
    "ROLLINGBACK": "RollingBack",
    "DELETING": "Deleting",
    "OUTOFSERVICE": "OutOfService",
}


def endpoint_status(raw: str) -> str:
    return _STATUSES.get(raw.replace("_", "").upper(), raw)


def _detail(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, Mapping) or event.get("source") != "aws.sagemaker":
        raise MalformedEvent("not a SageMaker event")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedEvent("the event has no detail")
    return detail


def _text(detail: Mapping[str, Any], key: str) -> str:
    value = detail.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"detail.{key} is missing")
    return value


def _version(detail: Mapping[str, Any], arn: str) -> int | None:
    raw = detail.get("ModelPackageVersion")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    tail = arn.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def parse_event(event: Any) -> PackageChange | EndpointChange:
    """The event as one of the two changes, or MalformedEvent."""
    detail = _detail(event)
    region = str(event.get("region") or "")
    kind = event.get("detail-type")
    if kind == PACKAGE_CHANGE:
        arn = _text(detail, "ModelPackageArn")
        return PackageChange(
            group=_text(detail, "ModelPackageGroupName"),
            arn=arn,
            version=_version(detail, arn),
            approval=_text(detail, "ModelApprovalStatus"),
            modified=str(detail.get("LastModifiedTime") or event.get("time") or ""),
            region=region,
        )
    if kind == ENDPOINT_CHANGE:
        return EndpointChange(
            name=_text(detail, "EndpointName"),
            status=endpoint_status(_text(detail, "EndpointStatus")),
            config_name=str(detail.get("EndpointConfigName") or ""),
            region=region,
        )
    raise MalformedEvent(f"detail-type {str(kind)[:80]!r} is not handled")
