"""``yolo-pipeline download JOB [DIR]``: fetch a job's model.tar.gz and unpack it safely.

The archive's location comes from DescribeTrainingJob (ModelArtifacts). It is downloaded
with a progress bar next to the target folder, then unpacked by hand (training/tar_reader.py,
not tarfile, whose ``data`` filter is bypassable on the Pythons this project allows):
folders and regular files only, every name checked, no links, nothing outside the folder.
The folder must be new or empty, so nothing of the user's is overwritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.jobs import checked_name, describe_job
from yolo_pipeline.cli.stack import add_aws_options, use_aws
from yolo_pipeline.contract import MODEL_ARCHIVE
from yolo_pipeline.errors import EXIT_OK, AwsProblem, JobProblem, UsageError
from yolo_pipeline.text import quote
from yolo_pipeline.training.tar_reader import TarRefused, unpack


def model_uri(sagemaker: Any, job_name: str) -> str:
    described = describe_job(sagemaker, job_name)
    status = str(described.get("TrainingJobStatus") or "")
    uri = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise UsageError(f"job {job_name} ({status or 'unknown status'}) has no model archive")
    if status not in ("Completed", "Stopped"):
        raise UsageError(f"job {job_name} is {status}: there is no finished model to download")
    return uri


def target_folder(job_name: str, folder: str | None) -> Path:
    target = Path(folder).expanduser() if folder else Path(job_name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not empty: choose a new folder")
    return target


def download_model(
    job_name: str,
    folder: str | None = None,
    *,
    progress: bool = True,
    out: TextIO | None = None,
) -> int:
    """The ``download`` command; returns the exit code."""
    from tqdm import tqdm  # type: ignore[import-untyped]  # CLI only: imported when it shows progress

    out = out or sys.stdout
    checked_name(job_name)
    target = target_folder(job_name, folder)
    uri = model_uri(aws.client("sagemaker"), job_name)
    try:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        s3 = aws.client("s3")
        size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        archive = target.parent / f".{target.name}.{MODEL_ARCHIVE}.part"
        print(f"Downloading {uri} ({size:,} bytes)", file=out)
        with tqdm(total=size, unit="B", unit_scale=True, desc="model", disable=not progress) as bar:
            s3.download_file(bucket, key, str(archive), Callback=bar.update)
    except (ClientError, BotoCoreError) as exc:
        raise AwsProblem(f"cannot download the model of {job_name}: {exc}") from exc
    try:
        names = unpack(archive, target)
    except (TarRefused, OSError) as exc:
        raise JobProblem(f"{quote(uri)} could not be unpacked safely: {quote(str(exc))}") from exc
    finally:
        archive.unlink(missing_ok=True)
    print(f"Unpacked {len(names)} file(s) into {target}/", file=out)
    if (target / "best.pt").is_file():
        print(f"  best model: {target / 'best.pt'}", file=out)
    return EXIT_OK


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "download",
        help="fetch a training job's model and unpack it",
        description="Download the model.tar.gz of a finished training job (from "
        "DescribeTrainingJob's ModelArtifacts) and unpack it safely into DIR "
        "(default ./JOB; it must be new or empty).",
    )
    p.add_argument("job", metavar="JOB", help="training job name, e.g. yolo-pets-3f9a1c2e4b")
    p.add_argument("dir", metavar="DIR", nargs="?", help="folder to unpack into (default ./JOB)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_aws_options(p)
    p.set_defaults(handler=run_download)


def run_download(args: argparse.Namespace) -> int:
    use_aws(args)
    return download_model(args.job, args.dir, progress=not args.no_progress)
