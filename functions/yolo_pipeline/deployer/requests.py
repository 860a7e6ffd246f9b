"""The SageMaker requests of a deployment, as pure functions (checked against botocore's
model in the tests): a model from the package, an endpoint config, the endpoint.

Names: the endpoint is the group's name, ``<prefix>-<dataset slug>``, stable across versions;
the model and the endpoint config of version N are ``<endpoint>-v<N>``, so the config an
endpoint runs names its version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from yolo_pipeline.contract import TAG_PIPELINE
from yolo_pipeline.deployer.settings import DeployerSettings

NAME_MAX = 63
VARIANT = "AllTraffic"
TAG_PACKAGE_GROUP = "yolo:model-package-group"
TAG_MODEL_VERSION = "yolo:model-version"
_VERSION_SUFFIX = re.compile(r"-v(\d+)$")


def endpoint_name(group: str) -> str:
    """The dataset's endpoint: the same name as its model package group."""
    return group


def versioned_name(endpoint: str, version: int) -> str:
    """``<endpoint>-v<N>`` within 63 characters (a cut name gets a hash, so two long
    names cut alike stay apart)."""
    suffix = f"-v{version}"
    if len(endpoint) + len(suffix) <= NAME_MAX:
        return endpoint + suffix
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:6]
    head = endpoint[: NAME_MAX - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


def version_of(config_name: str) -> int | None:
    match = _VERSION_SUFFIX.search(config_name)
    return int(match.group(1)) if match else None


def repository(image_uri: str) -> str:
    """An image URI without its tag or digest."""
    name = image_uri.split("@", 1)[0]
    head, _, tail = name.rpartition(":")
    return head if head and "/" not in tail else name


def tags(group: str, version: int) -> list[dict[str, str]]:
    return [
        {"Key": TAG_PIPELINE, "Value": "yolo-on-upload"},
        {"Key": TAG_PACKAGE_GROUP, "Value": group},
        {"Key": TAG_MODEL_VERSION, "Value": str(version)},
    ]


def model_request(
    *,
    name: str,
    settings: DeployerSettings,
    package_arn: str,
    package_container: Mapping[str, Any],
    group: str,
    version: int,
) -> dict[str, Any]:
    """CreateModel from the package when it names our inference image; a package registered
    before packages named it (its image is the training image) gets the inference image and
    the package's model archive instead."""
    image = str(package_container.get("Image") or "")
    if image and repository(image) == repository(settings.inference_image_uri):
        container: dict[str, Any] = {"ModelPackageName": package_arn}
    else:
        container = {
            "Image": settings.inference_image_uri,
            "ModelDataUrl": str(package_container["ModelDataUrl"]),
        }
    return {
        "ModelName": name,
        "ExecutionRoleArn": settings.role_arn,
        "PrimaryContainer": container,
        "Tags": tags(group, version),
    }


def endpoint_config_request(
    *, name: str, model_name: str, settings: DeployerSettings, group: str, version: int
) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": model_name}
    if settings.instance_type:
        variant |= {"InstanceType": settings.instance_type, "InitialInstanceCount": 1}
    else:
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": settings.serverless_memory_mb,
            "MaxConcurrency": settings.serverless_max_concurrency,
        }
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [variant],
        "Tags": tags(group, version),
    }


def create_endpoint_request(
    *, endpoint: str, config_name: str, group: str, version: int
) -> dict[str, Any]:
    return {
        "EndpointName": endpoint,
        "EndpointConfigName": config_name,
        "Tags": tags(group, version),
    }


def update_endpoint_request(*, endpoint: str, config_name: str) -> dict[str, Any]:
    """In place: the old version serves until the new one is healthy."""
    return {"EndpointName": endpoint, "EndpointConfigName": config_name}
