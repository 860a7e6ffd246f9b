"""``yolo-pipeline upload``: validate a local dataset, then send it with ``yolo_pipeline.upload``.

This module is the dialogue: what is printed before, during and after. Resume (files already
in S3 with the same size and checksum are skipped), the order (data.yaml last) and the
transfer itself live in the library. Refusals and failures raise; ``cli.main`` maps them to
exit codes (1 refused or failed, 2 usage).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from boto3.s3.transfer import TransferConfig

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.contract import ZIP_SUFFIX
from yolo_pipeline.dataset.root import dataset_root
from yolo_pipeline.errors import EXIT_OK
from yolo_pipeline.upload.destination import (
    parse_destination,
    parse_zip_destination,
    prefix_note,
    zip_key_note,
)
from yolo_pipeline.upload.errors import UploadError, UploadFailed
from yolo_pipeline.upload.etag import DEFAULT_CONCURRENCY, LocalFile, hash_file, transfer_config
from yolo_pipeline.upload.messages import what_happens_next
from yolo_pipeline.upload.plan import UploadPlan, plan_upload
from yolo_pipeline.upload.send import send_data_yaml, send_files, send_zip, zip_unchanged

MAX_CONCURRENCY = 64
Validator = Callable[[Path], Any]


def _default_validator(root: Path) -> Any:
    # Imported when a command validates: the validator pulls in the image decoders.
    from yolo_pipeline.dataset.validation import validate_location

    return validate_location(str(root))


def upload_dataset(
    path: Path,
    destination: str,
    *,
    force: bool = False,
    retrain: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    config: TransferConfig | None = None,
    progress: bool = True,
    out: TextIO | None = None,
    validator: Validator = _default_validator,
) -> int:
    """The ``upload`` command: EXIT_OK when done; raises UploadError or UploadFailed."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    config = config or transfer_config(concurrency)
    if path.suffix.lower() == ZIP_SUFFIX:
        return upload_zip(
            path, destination, force=force, retrain=retrain, config=config,
            progress=progress, out=out, validator=validator,
        )  # fmt: skip
    bucket, prefix = parse_destination(destination)
    root = dataset_root(path)
    if note := prefix_note(prefix):
        print(note, file=out)
    validated_first(root, validator, force, out)
    s3 = aws.client("s3")
    plan = plan_upload(s3, root, bucket, prefix, config)
    _print_plan(plan, root, out)
    uploaded = send_files(s3, plan, config, progress)
    if plan.data_yaml_unchanged and not uploaded and not retrain:
        print(
            "Nothing changed since the last upload, so data.yaml was not uploaded again and no "
            "new training job starts. Pass --retrain to upload data.yaml anyway and train again.",
            file=out,
        )
        return EXIT_OK
    send_data_yaml(s3, plan, config)
    print(f"Uploaded {len(uploaded) + 1} files to s3://{bucket}/{prefix}.", file=out)
    print(what_happens_next(bucket, prefix), file=out)
    return EXIT_OK


def validated_first(target: Path, validator: Validator, force: bool, out: TextIO) -> None:
    """Validate ``target`` and print the report; raises UploadFailed unless it may go ahead."""
    print(f"Validating {target} ...", file=out)
    report = validator(target)
    print(report.render_text(), file=out)
    if report.valid:
        return
    if not force:
        raise UploadFailed(
            "Refusing to upload: fix the errors above and run this again "
            "(or pass --force to upload anyway; the launcher would reject it and email "
            "you the same errors)."
        )
    print("--force: uploading a dataset that failed validation.", file=out)


def _print_plan(plan: UploadPlan, root: Path, out: TextIO) -> None:
    bucket, prefix = plan.bucket, plan.prefix
    total = len(plan.to_upload) + len(plan.unchanged) + 1
    print(
        f"{total} files: {len(plan.to_upload)} to upload ({plan.upload_bytes:,} bytes), "
        f"{len(plan.unchanged)} already there and unchanged (skipped).",
        file=out,
    )
    if plan.extra_remote:
        shown = ", ".join(plan.extra_remote[:5]) + (" ..." if len(plan.extra_remote) > 5 else "")
        print(
            f"note: {len(plan.extra_remote)} object(s) under s3://{bucket}/{prefix} are not in "
            f"{root} and will be part of the dataset: {shown}. This tool never deletes; remove "
            f"them with `aws s3 rm` if they do not belong.",
            file=out,
        )


def upload_zip(
    path: Path,
    destination: str,
    *,
    force: bool,
    retrain: bool,
    config: TransferConfig,
    progress: bool,
    out: TextIO,
    validator: Validator,
) -> int:
    """Upload one dataset zip (multipart above 8 MiB, with progress); skip it if unchanged."""
    bucket, key = parse_zip_destination(destination)
    if not path.is_file():
        raise UploadError(f"{path}: no such file")
    if note := zip_key_note(key):
        print(note, file=out)
    validated_first(path, validator, force, out)
    s3 = aws.client("s3")
    local = hash_file(LocalFile(path, key, path.stat().st_size), config)
    if zip_unchanged(s3, bucket, local) and not retrain:
        again = "Pass --retrain to upload it again and train again."
        print(f"s3://{bucket}/{key} already holds this zip; no new job starts. {again}", file=out)
        return EXIT_OK
    print(f"Uploading {path.name} ({local.size:,} bytes) ...", file=out)
    send_zip(s3, bucket, local, config, progress)
    print(f"Uploaded {path.name} to s3://{bucket}/{key}.", file=out)
    print(what_happens_next(bucket, key), file=out)
    return EXIT_OK


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "upload",
        help="validate a local dataset and upload it to s3://bucket/datasets/<name>/",
        description="Validate PATH, then upload it in parallel with data.yaml last (data.yaml "
        "starts training). Files already in S3 with the same size and checksum are skipped, so "
        "an interrupted upload resumes. Exit 0 done, 1 refused or failed, 2 usage error.",
    )
    p.add_argument(
        "path", metavar="PATH", help="local dataset folder (or its data.yaml), or a dataset .zip"
    )
    p.add_argument(
        "destination",
        metavar="S3_URI",
        help="s3://<DatasetBucket>/datasets/<name>/ (a zip: s3://<DatasetBucket>/datasets/<name>.zip)",
    )
    p.add_argument("--force", action="store_true", help="upload even if validation fails")
    p.add_argument(
        "--retrain",
        action="store_true",
        help="upload data.yaml (and so start a new job) even when nothing changed",
    )
    p.add_argument(
        "--concurrency",
        type=int_in_range(1, MAX_CONCURRENCY),
        default=DEFAULT_CONCURRENCY,
        help=f"parallel transfers, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run_upload)


def run_upload(args: argparse.Namespace) -> int:
    return upload_dataset(
        Path(args.path).expanduser(),
        args.destination,
        force=args.force,
        retrain=args.retrain,
        concurrency=args.concurrency,
        progress=not args.no_progress,
    )
