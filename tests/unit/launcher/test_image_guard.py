"""The image guard: which images it checks, what ECR's answers mean, and its short cache."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.support.botocore_model import validate_request
from yolo_pipeline.aws.image_guard import (
    MISSING_TTL_SECONDS,
    PRESENT_TTL_SECONDS,
    ImageGuard,
    checked_image,
    parse_ecr_image,
)
from yolo_pipeline.launcher.emails import render_no_image

REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/yolo-on-upload-trainingimagerepo-abc"
IMAGE = f"{REPO}:latest"
DIGEST = "sha256:" + "ab" * 32


def test_parse_ecr_image_uris() -> None:
    image = parse_ecr_image(IMAGE)
    assert image is not None
    assert (image.account, image.region, image.tag, image.digest) == (
        "123456789012",
        "eu-west-1",
        "latest",
        None,
    )
    assert image.repository_uri == REPO and image.image_id() == {"imageTag": "latest"}
    pinned = parse_ecr_image(f"{REPO}@{DIGEST}")
    assert pinned is not None and pinned.image_id() == {"imageDigest": DIGEST}
    nested = parse_ecr_image("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/yolo")
    assert nested is not None and nested.repository == "team/yolo"
    assert nested.image_id() == {"imageTag": "latest"}
    for other in ("ultralytics/ultralytics:latest", "public.ecr.aws/x/y:1", ""):
        assert parse_ecr_image(other) is None


def test_only_the_stacks_own_repository_is_checked() -> None:
    assert checked_image(IMAGE, REPO) is not None
    assert checked_image(IMAGE, REPO + "/") is not None
    assert checked_image(f"{REPO}-other:latest", REPO) is None
    other_account = IMAGE.replace("123456789012", "210987654321")
    assert checked_image(other_account, REPO) is None
    assert checked_image(IMAGE, "") is None  # no repository configured: nothing checked


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guard(clock: Clock) -> tuple[ImageGuard, Stubber]:
    ecr = boto3.client("ecr", region_name="eu-west-1")
    stubber = Stubber(ecr)
    stubber.activate()
    return ImageGuard(REPO, clock=clock, ecr=lambda _region: ecr), stubber


EXPECTED: dict[str, Any] = {
    "registryId": "123456789012",
    "repositoryName": "yolo-on-upload-trainingimagerepo-abc",
    "imageIds": [{"imageTag": "latest"}],
}
FOUND = {"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["latest"]}]}


def test_present_is_cached_for_a_minute() -> None:
    validate_request("ecr", "DescribeImages", EXPECTED)
    clock = Clock()
    guard, stubber = _guard(clock)
    stubber.add_response("describe_images", FOUND, EXPECTED)
    assert guard.present(IMAGE)
    clock.now += PRESENT_TTL_SECONDS - 1
    assert guard.present(IMAGE)  # from the cache: no second call was stubbed
    stubber.assert_no_pending_responses()
    clock.now += 2
    stubber.add_response("describe_images", FOUND, EXPECTED)
    assert guard.present(IMAGE)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["ImageNotFoundException", "RepositoryNotFoundException"])
def test_missing_is_remembered_only_briefly(code: str) -> None:
    clock = Clock()
    guard, stubber = _guard(clock)
    stubber.add_client_error("describe_images", code, "not there", expected_params=EXPECTED)
    assert not guard.present(IMAGE)
    assert not guard.present(IMAGE)  # cached
    clock.now += MISSING_TTL_SECONDS + 1
    stubber.add_response("describe_images", FOUND, EXPECTED)
    assert guard.present(IMAGE)  # pushed meanwhile: seen within seconds
    stubber.assert_no_pending_responses()


def test_other_ecr_errors_raise_and_are_not_cached() -> None:
    from botocore.exceptions import ClientError

    clock = Clock()
    guard, stubber = _guard(clock)
    stubber.add_client_error("describe_images", "AccessDeniedException", "no", http_status_code=400)
    with pytest.raises(ClientError):
        guard.present(IMAGE)
    stubber.add_response("describe_images", FOUND, EXPECTED)
    assert guard.present(IMAGE)


def test_images_elsewhere_are_never_looked_up() -> None:
    guard, stubber = _guard(Clock())
    assert guard.present("ultralytics/ultralytics:8.4.0")
    assert guard.present(IMAGE.replace("123456789012", "210987654321"))
    stubber.assert_no_pending_responses()


def test_no_image_email_says_how_to_build_it() -> None:
    email = render_no_image(
        dataset_uri="s3://bucket/datasets/shapes/",
        job_name="yolo-shapes-0123456789ab",
        image_uri=IMAGE,
        region="eu-west-1",
    )
    assert email.subject == "[yolo] Training image missing: shapes"
    assert email.subject.isascii() and len(email.subject) < 100
    body = email.body
    assert "make image AWS_REGION=eu-west-1" in body
    assert IMAGE in body and "yolo-shapes-0123456789ab (not created)" in body
    assert "aws s3 cp ./your-dataset/data.yaml s3://bucket/datasets/shapes/data.yaml" in body
    assert email.attributes["kind"] == "ImageMissing"
    assert all(len(line) <= 100 for line in body.splitlines())
