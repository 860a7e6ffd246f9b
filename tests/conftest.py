"""Fixtures shared by every tier: fake AWS credentials, moto, a Lambda context."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.helpers import FakeLambdaContext

# CI must be repeatable: the same examples every run, and no wall-clock deadlines on a
# shared 2-core machine. `HYPOTHESIS_PROFILE=explore` searches with fresh random seeds.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Never reach real AWS from a test, whatever the developer's shell has configured.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "yolo-on-upload-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "YoloOnUploadTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "YOLO_OFFLINE": "1",
        # In-process mock_aws patches botocore only: bulk reads stay on boto3 there; the
        # obstore path is tested against moto's server (tests/integration/test_moto_server.py).
        "YOLO_S3_READER": "boto3",
    }
)


TIERS = ("unit", "integration", "training", "template")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier marker comes from the folder a test lives in (tests/<tier>/...), nowhere else."""
    root = Path(__file__).parent
    for item in items:
        parts = Path(str(item.path)).relative_to(root).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's ``mock_aws`` with the project's cached boto3 clients reset around it."""
    from moto import mock_aws

    from yolo_pipeline.aws.clients import reset_clients

    with mock_aws():
        reset_clients()
        yield
    reset_clients()


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
