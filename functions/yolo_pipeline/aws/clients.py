"""boto3 clients with the retry policy every AWS call in the project uses.

Adaptive retries cover throttling and 5xx (the launcher must not fail a dataset on a
transient SageMaker throttle). Clients are created lazily and cached per process, which
is what a Lambda cold start wants; tests call ``reset_clients()`` inside ``mock_aws``.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=60,
    max_pool_connections=64,  # the validator reads label files with a thread pool
)

# Error codes worth another try (Lambda's retry, or a registry call's backoff); any other
# error will not get better by itself.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    }
)


@functools.cache
def client(service: str, region: str | None = None) -> Any:
    """A cached boto3 client for ``service`` with the project's retry policy."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client(service, region_name=region, config=RETRY_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests: after ``mock_aws`` starts or the region changes)."""
    client.cache_clear()


def current_region(default: str = "us-east-1") -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or default
