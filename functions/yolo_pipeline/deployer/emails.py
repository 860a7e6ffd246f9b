"""The deployer's two emails: the endpoint serves (with the predict command), or it failed
(why, and what to do). Pure: every value from AWS reaches the body through body_text."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from yolo_pipeline.aws.email import Email, body_text, subject_line
from yolo_pipeline.contract import META_DATASET_URI, META_JOB_NAME, META_TASK, META_TRAINED_AT
from yolo_pipeline.names import dataset_name
from yolo_pipeline.text import quote

HEADLINE_METRICS = ("val:mAP50-95", "val:mAP50", "val:precision", "val:recall")


@dataclass(frozen=True)
class Deployment:
    """What the emails tell: the endpoint, the version and the package's metadata."""

    endpoint: str
    group: str
    version: int | None
    region: str
    capacity: str  # "serverless, 3072 MB, up to 5 concurrent" or "ml.m5.large x1"
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def dataset(self) -> str:
        uri = self.metadata.get(META_DATASET_URI, "")
        return dataset_name(uri) if uri else self.group

    @property
    def label(self) -> str:
        return f"v{self.version}" if self.version is not None else ""


def endpoint_console_url(region: str, endpoint: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/endpoints/{urllib.parse.quote(endpoint)}"
    )


def predict_command(endpoint: str, region: str) -> str:
    return f"yolo-pipeline predict {endpoint} IMAGE.jpg --region {region}"


def _metric_lines(metadata: Mapping[str, str]) -> list[str]:
    names = [n for n in HEADLINE_METRICS if n in metadata]
    names += sorted(n for n in metadata if n.startswith("val:") and n not in names)
    return [f"  {name:<22} {quote(metadata[name], 20)}" for name in names]


def _model_lines(deployment: Deployment) -> list[str]:
    meta = deployment.metadata
    out = [f"Model: version {deployment.version} of model package group {deployment.group}"]
    if meta.get(META_JOB_NAME):
        out.append(f"  trained by job {meta[META_JOB_NAME]} ({meta.get(META_TRAINED_AT, '')})")
    if meta.get(META_TASK):
        out.append(f"  task {meta[META_TASK]}")
    return out + _metric_lines(meta)


def serving_email(deployment: Deployment, prefix: str) -> Email:
    endpoint, region = deployment.endpoint, deployment.region
    lines = [
        f"Version {deployment.version} of the {deployment.dataset} model serves on endpoint "
        f"{endpoint} ({deployment.capacity}).",
        "",
        *_model_lines(deployment),
        "",
        "Predict from a terminal:",
        f"  {predict_command(endpoint, region)}",
        "or with the AWS CLI (the answer is JSON, see docs/serving.md):",
        f"  aws sagemaker-runtime invoke-endpoint --endpoint-name {endpoint} --region {region}"
        " --content-type image/jpeg --body fileb://IMAGE.jpg answer.json",
        "",
        f"Console: {endpoint_console_url(region, endpoint)}",
    ]
    return Email(
        subject=subject_line(prefix, "Serving", deployment.dataset, deployment.label),
        body=body_text(lines),
        attributes={"status": "Serving", "dataset": deployment.dataset, "endpoint": endpoint},
    )


def failed_email(deployment: Deployment, reason: str, prefix: str) -> Email:
    endpoint, region = deployment.endpoint, deployment.region
    lines = [
        f"Endpoint {endpoint} could not serve version {deployment.version} of the "
        f"{deployment.dataset} model.",
        "",
        f"Reason: {reason or 'SageMaker gave none; see the endpoint in the console.'}",
        "",
        *_model_lines(deployment),
        "",
        "What to do:",
        f"  - The container's log is in CloudWatch, log group /aws/sagemaker/Endpoints/{endpoint}.",
        "  - An image that is missing or too large: run `make image` (it builds the inference "
        "image too) and approve the version again.",
        "  - Not enough memory: raise the stack's ServerlessMemoryMB (at most 6144) or set "
        "EndpointInstanceType, deploy, and approve again.",
        "  - A version that did not replace the one serving leaves the previous one serving.",
        "",
        f"Console: {endpoint_console_url(region, endpoint)}",
    ]
    return Email(
        subject=subject_line(prefix, "Deploy failed", deployment.dataset, deployment.label),
        body=body_text(lines),
        attributes={"status": "DeployFailed", "dataset": deployment.dataset, "endpoint": endpoint},
    )
