"""Build the training image in the stack's CodeBuild project, from this machine's files.

Steps (``yolo-pipeline image``, ``make image``): read the stack's outputs
(DescribeStacks), upload the zipped build context under ``builds/`` of the dataset bucket,
StartBuild with that object (and its version) as the source, follow the build with
BatchGetBuilds (each phase as it starts), print the end of its CloudWatch log, and read
the pushed image's digest from ECR (DescribeImages).

Every function takes its boto3 client, so the CLI and the tests choose the endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

from botocore.exceptions import ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.contract import (
    BUILD_PREFIX,
    OUTPUT_BUCKET,
    OUTPUT_BUILD_PROJECT,
    OUTPUT_REPOSITORY_URI,
)
from yolo_pipeline.errors import PipelineError
from yolo_pipeline.imagebuild.context import BuildContext

SOURCE_KEY_STEM = "training-image"
TERMINAL = {"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"}


class ImageBuildError(PipelineError):
    """The stack is not ready for a build, or the build did not push an image."""


@dataclass(frozen=True)
class BuildTargets:
    """What the stack's outputs say: where to upload, what to start, where it pushes."""

    bucket: str
    repository_uri: str
    project: str


def build_targets(cloudformation: Any, stack_name: str) -> BuildTargets:
    """The bucket, repository and CodeBuild project from the stack's outputs."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError":  # CloudFormation's code for "does not exist"
            raise ImageBuildError(
                f"stack {stack_name!r} not found in this region: deploy it first "
                "(make deploy), or pass STACK_NAME=... AWS_REGION=..."
            ) from exc
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
    missing = [
        k for k in (OUTPUT_BUCKET, OUTPUT_REPOSITORY_URI, OUTPUT_BUILD_PROJECT) if k not in outputs
    ]
    if missing:
        raise ImageBuildError(
            f"stack {stack_name!r} has no output {', '.join(missing)}: it predates the "
            "CodeBuild image build; update it with `make deploy` (or build locally with "
            "`make image LOCAL=1`)"
        )
    return BuildTargets(
        bucket=outputs[OUTPUT_BUCKET],
        repository_uri=outputs[OUTPUT_REPOSITORY_URI],
        project=outputs[OUTPUT_BUILD_PROJECT],
    )


def source_key(context: BuildContext) -> str:
    """Content-addressed: the same tree uploads to the same key."""
    return f"{BUILD_PREFIX}{SOURCE_KEY_STEM}-{context.sha256[:16]}.zip"


def upload_context(s3: Any, bucket: str, context: BuildContext) -> tuple[str, str | None]:
    """PUT the zip under the build prefix; returns (key, version id or None)."""
    key = source_key(context)
    response = s3.put_object(
        Bucket=bucket, Key=key, Body=context.data, ContentType="application/zip"
    )
    return key, response.get("VersionId")


def start_build_request(
    targets: BuildTargets, key: str, version_id: str | None, tag: str
) -> dict[str, Any]:
    """StartBuild's parameters: this upload (pinned to its version) as the S3 source."""
    request: dict[str, Any] = {
        "projectName": targets.project,
        "sourceTypeOverride": "S3",
        "sourceLocationOverride": f"{targets.bucket}/{key}",
        "environmentVariablesOverride": [
            {"name": "IMAGE_TAG", "value": tag, "type": "PLAINTEXT"},
        ],
    }
    if version_id:
        request["sourceVersion"] = version_id
    return request


def console_url(region: str, project: str, build_id: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/"
        f"{quote(project, safe='')}/build/{quote(build_id, safe='')}/?region={region}"
    )


def _phase_problem(build: dict[str, Any]) -> str:
    """The first failed phase with CodeBuild's own message (e.g. CLIENT_ERROR: ...)."""
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") not in (None, "SUCCEEDED"):
            messages = [
                f"{c.get('statusCode', '')}: {c.get('message', '')}".strip(": ")
                for c in phase.get("contexts") or []
                if c.get("message") or c.get("statusCode")
            ]
            detail = f" ({'; '.join(messages)})" if messages else ""
            return f"phase {phase.get('phaseType')} {phase.get('phaseStatus')}{detail}"
    return ""


def follow_build(
    codebuild: Any,
    build_id: str,
    out: TextIO,
    *,
    poll_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the build completes, printing each phase as it begins; returns the build."""
    started = clock()
    seen = ""
    while True:
        builds = codebuild.batch_get_builds(ids=[build_id]).get("builds") or []
        if not builds:
            raise ImageBuildError(f"build {build_id} not found")
        build: dict[str, Any] = builds[0]
        phase = str(build.get("currentPhase", ""))
        if phase and phase != seen:
            elapsed = int(clock() - started)
            print(f"  [{elapsed // 60:02d}:{elapsed % 60:02d}] {phase}", file=out, flush=True)
            seen = phase
        if build.get("buildComplete") or build.get("buildStatus") in TERMINAL:
            return build
        sleep(poll_seconds)


def log_tail(
    logs: Any,
    build: dict[str, Any],
    lines: int = 40,
    *,
    attempts: int = 3,
    wait_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """The last ``lines`` lines of the build's CloudWatch log (empty if it has none).

    The last lines can reach CloudWatch Logs a moment after the build reports completion,
    so an empty answer is asked again a couple of times.
    """
    where = build.get("logs") or {}
    group, stream = where.get("groupName"), where.get("streamName")
    if not group or not stream:
        return []
    for attempt in range(attempts):
        try:
            events = logs.get_log_events(
                logGroupName=group, logStreamName=stream, startFromHead=False, limit=lines
            ).get("events", [])
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            events = []
        if events:
            return [str(e.get("message", "")).rstrip("\n") for e in events][-lines:]
        if attempt + 1 < attempts:
            sleep(wait_seconds)
    return []


def image_digest(ecr: Any, repository_uri: str, tag: str) -> str:
    """The digest ECR holds for ``<repository>:<tag>`` (what SageMaker will pull)."""
    registry, _, repository = repository_uri.partition("/")
    details = ecr.describe_images(
        registryId=registry.split(".", 1)[0],
        repositoryName=repository,
        imageIds=[{"imageTag": tag}],
    )["imageDetails"]
    if not details:
        raise ImageBuildError(f"{repository_uri}:{tag} is not in ECR after the build")
    return str(details[0]["imageDigest"])


def failure_summary(build: dict[str, Any]) -> Iterator[str]:
    """Lines that say why a build did not succeed."""
    yield f"build {build.get('id')} ended {build.get('buildStatus')}"
    problem = _phase_problem(build)
    if problem:
        yield problem
