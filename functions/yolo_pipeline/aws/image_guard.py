"""The image guard: never start a training job, or an endpoint, on an image that is not there.

Without it, a stack deployed without `make image` accepts every upload, sends "Training
started", and every job then fails at start pulling the image (and an approved model gets
an endpoint that never turns healthy). Before CreateTrainingJob the launcher asks ECR
(DescribeImages) whether ``TRAINING_IMAGE_URI`` exists; before CreateModel the deployer
asks the same of ``INFERENCE_IMAGE_URI``.

Only images in the stack's own repository (``TRAINING_IMAGE_REPOSITORY_URI``) are
checked: describing an image in another repository, or another account's registry, needs
permissions (an IAM grant there, a repository policy for cross-account) that this stack
can neither grant nor expect, so for a user-supplied ``TrainingImageUri`` the job is
started as before and SageMaker reports a missing image itself.

Answers are remembered per process for a short time: a burst of
uploads costs one DescribeImages call, not one per upload. "Present" is kept longer
than "missing", so an image pushed a moment ago is seen almost at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.aws.observability import logger

PRESENT_TTL_SECONDS = 60.0
MISSING_TTL_SECONDS = 10.0
MISSING_CODES = {"ImageNotFoundException", "RepositoryNotFoundException"}
# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag | @sha256:...]
_ECR_IMAGE = re.compile(
    r"^(?P<registry>(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.amazonaws\.com(?:\.cn)?)/(?P<repository>[a-z0-9][a-z0-9._/-]*?)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class EcrImage:
    registry: str
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def repository_uri(self) -> str:
        return f"{self.registry}/{self.repository}"

    def image_id(self) -> dict[str, str]:
        """DescribeImages' ``imageIds`` entry; no tag and no digest means ``latest``."""
        if self.digest:
            return {"imageDigest": self.digest}
        return {"imageTag": self.tag or "latest"}


def parse_ecr_image(uri: str) -> EcrImage | None:
    """An ECR image URI split into parts, or None for anything else (Docker Hub, ...)."""
    match = _ECR_IMAGE.match(uri.strip())
    if match is None:
        return None
    return EcrImage(
        registry=match["registry"],
        account=match["account"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


def checked_image(image_uri: str, own_repository_uri: str) -> EcrImage | None:
    """The image to check, or None when it is not in the stack's own repository."""
    image = parse_ecr_image(image_uri)
    if image is None or not own_repository_uri:
        return None
    if image.repository_uri != own_repository_uri.strip().rstrip("/"):
        return None
    return image


class ImageGuard:
    """``present(uri)`` with a small per-process TTL cache in front of DescribeImages."""

    def __init__(
        self,
        own_repository_uri: str,
        clock: Callable[[], float] = time.monotonic,
        ecr: Callable[[str], Any] | None = None,
    ) -> None:
        self.own_repository_uri = own_repository_uri
        self.clock = clock
        self._ecr = ecr or (lambda region: aws.client("ecr", region))
        self._cache: dict[str, tuple[bool, float]] = {}

    def present(self, image_uri: str) -> bool:
        """False only when ECR says the image (or its repository) does not exist.

        Other ECR errors (throttling past retries, access denied) raise: the launcher
        retries the event rather than telling the user something untrue.
        """
        image = checked_image(image_uri, self.own_repository_uri)
        if image is None:
            return True  # another repository: not ours to check (module docstring)
        now = self.clock()
        cached = self._cache.get(image_uri)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = self._describe(image)
        ttl = PRESENT_TTL_SECONDS if found else MISSING_TTL_SECONDS
        self._cache[image_uri] = (found, now + ttl)
        return found

    def _describe(self, image: EcrImage) -> bool:
        try:
            self._ecr(image.region).describe_images(
                registryId=image.account,
                repositoryName=image.repository,
                imageIds=[image.image_id()],
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in MISSING_CODES:
                logger.warning("Image missing", extra={"error_code": code})
                return False
            raise
        return True
