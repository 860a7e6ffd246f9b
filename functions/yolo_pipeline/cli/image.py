"""``yolo-pipeline image``: build the training and inference images in the stack's CodeBuild
project.

No local Docker engine: the build context (what ``.dockerignore`` lets through) is zipped
and uploaded under ``builds/`` of the dataset bucket, and CodeBuild builds it for
linux/amd64 inside the region and pushes each to its ECR repository of the stack. The
command follows the build (phase by phase), prints the end of its log (which names the
inference image), and ends with the training image's URI and digest. ``make image LOCAL=1``
builds both with a local Docker instead.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.stack import add_aws_options, stack_name
from yolo_pipeline.errors import EXIT_OK, AwsProblem, PipelineError, UsageError, exit_code
from yolo_pipeline.imagebuild import remote
from yolo_pipeline.imagebuild.context import DOCKERFILE, zip_context

DEFAULT_TAIL = 40
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # Docker's (and ECR's) tag grammar


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "image",
        help="build the training and inference images in AWS CodeBuild and push them (no Docker "
        "needed)",
        description="Zip the build context (honouring .dockerignore), upload it to the "
        "stack's bucket, build training_image/Dockerfile and inference_image/Dockerfile in "
        "the stack's CodeBuild project and push each to its ECR repository of the stack. "
        "Ends with the training image's URI and digest.",
    )
    add_aws_options(p)
    p.add_argument("--tag", default="latest", help="image tag to push (default latest)")
    p.add_argument(
        "--context", type=Path, default=Path(), help="repository root (default: current dir)"
    )
    p.add_argument("--poll-seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    p.add_argument(
        "--tail",
        type=int,
        default=DEFAULT_TAIL,
        help=f"log lines shown at the end ({DEFAULT_TAIL})",
    )
    p.set_defaults(handler=run_image)


def run_image(args: argparse.Namespace) -> int:
    _profile(args)
    root = args.context.resolve()
    if not (root / DOCKERFILE).is_file():
        raise UsageError(f"{DOCKERFILE} not found under {root}: run it from the repository root")
    if not TAG.fullmatch(args.tag):
        raise UsageError(f"--tag {args.tag[:130]!r}: use letters, digits, _ . - (max 128)")
    try:
        return build_image(
            root,
            stack_name=stack_name(args),
            region=args.region or _configured_region(),
            tag=args.tag,
            poll_seconds=args.poll_seconds,
            tail=max(args.tail, 0),
            out=sys.stdout,
        )
    except (ClientError, BotoCoreError) as exc:
        raise AwsProblem(f"AWS said: {exc}") from exc


def _configured_region() -> str:
    """The region the AWS CLI would use (env, then the profile), else us-east-1."""
    return boto3.session.Session().region_name or aws.current_region()


def _profile(args: argparse.Namespace) -> None:
    # --profile: the default session every client of this command is made from.
    if args.profile:
        boto3.setup_default_session(profile_name=args.profile, region_name=args.region)


def build_image(
    root: Path,
    *,
    stack_name: str,
    region: str,
    tag: str,
    poll_seconds: float,
    tail: int,
    out: TextIO,
) -> int:
    """The whole remote build: EXIT_OK when pushed; raises ImageBuildError when it failed."""
    targets = remote.build_targets(aws.client("cloudformation", region), stack_name)
    context = zip_context(root)
    print(
        f"Build context: {len(context.files)} files, {len(context.data) / 1e6:.1f} MB zipped",
        file=out,
    )
    key, version = remote.upload_context(aws.client("s3", region), targets.bucket, context)
    print(f"Uploaded s3://{targets.bucket}/{key}", file=out)
    codebuild = aws.client("codebuild", region)
    request = remote.start_build_request(targets, key, version, tag)
    build_id = str(codebuild.start_build(**request)["build"]["id"])
    print(f"Started CodeBuild build {build_id}", file=out)
    print(f"  {remote.console_url(region, targets.project, build_id)}", file=out)
    try:
        build = remote.follow_build(codebuild, build_id, out, poll_seconds=poll_seconds)
    except KeyboardInterrupt:
        print("Stopped following; the build goes on in CodeBuild (link above).", file=out)
        raise
    logs = aws.client("logs", region)
    lines = remote.log_tail(logs, build, tail, wait_seconds=min(poll_seconds, 2.0)) if tail else []
    if lines:
        print(f"--- last {len(lines)} log lines ---", file=out)
        for line in lines:
            print(f"  {line}", file=out)
        print("---", file=out)
    if build.get("buildStatus") != "SUCCEEDED":
        for line in remote.failure_summary(build):
            print(line, file=out)
        print("See README, Deploy: 'When the image build fails'.", file=out)
        raise remote.ImageBuildError(f"build {build_id} ended {build.get('buildStatus')}")
    digest = remote.image_digest(aws.client("ecr", region), targets.repository_uri, tag)
    print(f"Image:  {targets.repository_uri}:{tag}", file=out)
    print(f"Digest: {digest}", file=out)
    print(f"Pinned: {targets.repository_uri}@{digest}", file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``python -m yolo_pipeline.cli.image``: this one command, needing only boto3.

    `make image` runs it with the SAM tools' Python (which has boto3), so building the
    image needs neither Docker nor the project's full (training) virtualenv.
    """
    parser = argparse.ArgumentParser(prog="yolo-pipeline")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["image", *(sys.argv[1:] if argv is None else argv)])
    try:
        code: int = args.handler(args)
    except PipelineError as exc:  # as cli.main maps them, without importing every command
        print(f"yolo-pipeline image: {exc}", file=sys.stderr)
        return exit_code(exc)
    return code


if __name__ == "__main__":
    sys.exit(main())
