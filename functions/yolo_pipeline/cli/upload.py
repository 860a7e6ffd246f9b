"""``yolo-pipeline upload``: validate a local dataset, then send it with ``yolo_pipeline.upload``.

This module is the dialogue: what is printed before, during and after. Resume (files already
in S3 with the same size and checksum are skipped), the order (data.yaml last) and the
transfer itself live in the library. The check is the launcher's own (``cli.validate``), with
the stack's settings; ``key=value`` overrides are written into the uploaded training.yaml.
The bucket comes from the stack's outputs when no URI is given, and a bucket that sends no
events to EventBridge is refused before a byte is sent. Refusals and failures raise;
``cli.main`` maps them to exit codes (1 refused or failed, 2 usage or access).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.cli.stack import (
    Stack,
    access_problem,
    add_aws_options,
    try_stack,
    use_aws,
)
from yolo_pipeline.cli.validate import Settings, checked_text, run_check
from yolo_pipeline.cli.wait import show_verdict
from yolo_pipeline.contract import OUTPUT_BUCKET, TRAINING_YAML, ZIP_SUFFIX
from yolo_pipeline.dataset.root import dataset_root
from yolo_pipeline.errors import EXIT_OK, UsageError
from yolo_pipeline.text import clean, quote
from yolo_pipeline.training.config import SageMakerDefaults, parse_training_config
from yolo_pipeline.upload.destination import (
    parse_destination,
    parse_zip_destination,
    prefix_note,
    zip_key_note,
)
from yolo_pipeline.upload.errors import UploadError, UploadFailed
from yolo_pipeline.upload.etag import DEFAULT_CONCURRENCY, LocalFile, hash_file, transfer_config
from yolo_pipeline.upload.messages import what_happens_next
from yolo_pipeline.upload.notifications import refuse_without_notifications
from yolo_pipeline.upload.overrides import (
    describe_overrides,
    is_override,
    merged_training_yaml,
    parse_overrides,
)
from yolo_pipeline.upload.plan import UploadPlan, plan_upload
from yolo_pipeline.upload.send import (
    delete_extra,
    send_data_yaml,
    send_files,
    send_zip,
    zip_unchanged,
)

MAX_CONCURRENCY = 64
DEFAULT_WAIT_S = 900
Validator = Callable[[Path], Any]


@dataclasses.dataclass(frozen=True)
class CheckedView:
    """The launcher's check as ``upload`` shows it: valid, and the grouped text."""

    valid: bool
    text: str

    def render_text(self) -> str:
        return self.text


def launcher_validator(
    defaults: SageMakerDefaults | None = None, training_yaml: str | None = None
) -> Validator:
    """The launcher's check with the stack's settings; ``training_yaml`` (the text with the
    overrides on top) replaces the local file's in the training.yaml check."""
    source = "the stack's settings" if defaults else "the template's defaults"
    settings = Settings(defaults or SageMakerDefaults(), source)

    def validate(root: Path) -> CheckedView:
        checked = run_check(str(root), settings.defaults)
        if training_yaml is not None:
            config = parse_training_config(training_yaml, settings.defaults)
            checked = dataclasses.replace(checked, config=config)
        return CheckedView(not checked.errors, checked_text(checked, settings))

    return validate


@dataclasses.dataclass(frozen=True)
class UploadOptions:
    """What the command line adds to a plain upload."""

    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    dry_run: bool = False
    delete: bool = False
    stack_bucket: str = ""  # the stack's DatasetBucket, for the refusal's fix
    check_notifications: bool = True
    defaults: SageMakerDefaults | None = None  # the stack's settings for training.yaml
    after_send: Callable[[str], int] | None = None  # --wait, given the URI just sent


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
    validator: Validator | None = None,
    options: UploadOptions | None = None,
) -> int:
    """The ``upload`` command: EXIT_OK when done; raises UploadError or UploadFailed."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    options = options or UploadOptions(check_notifications=False)
    config = config or transfer_config(concurrency)
    if path.suffix.lower() == ZIP_SUFFIX:
        if options.overrides or options.delete:
            raise UploadError(
                "key=value overrides and --delete need a dataset folder: a zip is one object; "
                f"put the settings in the zip's {TRAINING_YAML}"
            )
        return upload_zip(
            path, destination, force=force, retrain=retrain, config=config,
            progress=progress, out=out,
            validator=validator or launcher_validator(options.defaults), options=options,
        )  # fmt: skip
    bucket, prefix = parse_destination(destination)
    root = dataset_root(path)
    if note := prefix_note(prefix):
        print(note, file=out)
    with tempfile.TemporaryDirectory(prefix="yolo-upload-") as scratch:
        merged = _merged_training_yaml(root, options, Path(scratch), out)
        text = merged.read_text(encoding="utf-8") if merged else None
        validated_first(root, validator or launcher_validator(options.defaults, text), force, out)
        s3 = aws.client("s3")
        if options.check_notifications:
            refuse_without_notifications(s3, bucket, options.stack_bucket)
        plan = plan_upload(s3, root, bucket, prefix, config)
        if merged is not None:
            sent = LocalFile(merged, prefix + TRAINING_YAML, merged.stat().st_size)
            _use_training_yaml(plan, hash_file(sent, config))
        _print_plan(plan, root, options, out)
        if options.dry_run:
            print("--dry-run: nothing was uploaded or deleted.", file=out)
            return EXIT_OK
        uploaded = send_files(s3, plan, config, progress)
        if options.delete and plan.extra_remote:
            try:
                deleted = delete_extra(s3, plan)
            except (ClientError, BotoCoreError) as exc:
                raise access_problem(f"delete old objects in s3://{bucket}/", exc) from exc
            print(f"Deleted {deleted} object(s) that are no longer in the folder.", file=out)
        if plan.data_yaml_unchanged and not uploaded and not retrain and not options.delete:
            print(
                "Nothing changed since the last upload, so data.yaml was not uploaded again "
                "and no new training job starts. Pass --retrain to upload data.yaml anyway "
                "and train again.",
                file=out,
            )
            return EXIT_OK
        send_data_yaml(s3, plan, config)
    print(f"Uploaded {len(uploaded) + 1} files to s3://{bucket}/{clean(prefix, 300)}.", file=out)
    return _after_send(f"s3://{bucket}/{prefix}", options, out)


def _after_send(uri: str, options: UploadOptions, out: TextIO) -> int:
    if options.after_send is not None:
        out.flush()
        return options.after_send(uri)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    print(what_happens_next(bucket, key), file=out)
    return EXIT_OK


def _merged_training_yaml(
    root: Path, options: UploadOptions, scratch: Path, out: TextIO
) -> Path | None:
    """The training.yaml to upload when there are overrides (written under ``scratch``)."""
    if not options.overrides:
        return None
    local = root / TRAINING_YAML
    current = local.read_bytes() if local.is_file() else None
    merged = scratch / TRAINING_YAML
    merged.write_text(merged_training_yaml(current, options.overrides), encoding="utf-8")
    print(f"Overrides for {TRAINING_YAML}: {describe_overrides(options.overrides)}", file=out)
    return merged


def _use_training_yaml(plan: UploadPlan, merged: LocalFile) -> None:
    """Send the merged training.yaml instead of the local one (always: it steers the job)."""
    plan.to_upload = [f for f in plan.to_upload if f.key != merged.key] + [merged]
    plan.unchanged = [f for f in plan.unchanged if f.key != merged.key]
    plan.extra_remote = [k for k in plan.extra_remote if k != merged.key]


def validated_first(target: Path, validator: Validator, force: bool, out: TextIO) -> None:
    """Validate ``target`` and print the report; raises UploadFailed unless it may go ahead."""
    print(f"Validating {quote(str(target), 300)} ...", file=out)
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


def _print_plan(plan: UploadPlan, root: Path, options: UploadOptions, out: TextIO) -> None:
    bucket, prefix = plan.bucket, clean(plan.prefix, 300)
    total = len(plan.to_upload) + len(plan.unchanged) + 1
    print(
        f"{total} files to s3://{bucket}/{prefix}: {len(plan.to_upload)} to upload "
        f"({plan.upload_bytes:,} bytes), {len(plan.unchanged)} already there and unchanged "
        "(skipped), data.yaml last.",
        file=out,
    )
    if options.overrides:
        print(f"training.yaml with {describe_overrides(options.overrides)}", file=out)
    if plan.extra_remote:
        # Keys from the bucket are someone's text: shown inert, never raw.
        shown = ", ".join(quote(k, 120) for k in plan.extra_remote[:5])
        more = " ..." if len(plan.extra_remote) > 5 else ""
        if options.delete:
            print(f"--delete: {len(plan.extra_remote)} object(s) not in the folder will be "
                  f"deleted: {shown}{more}", file=out)  # fmt: skip
        else:
            print(
                f"note: {len(plan.extra_remote)} object(s) under s3://{bucket}/{prefix} are "
                f"not in {quote(str(root), 200)} and will be part of the dataset: {shown}{more}."
                " Pass --delete to remove them.",
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
    options: UploadOptions,
) -> int:
    """Upload one dataset zip (multipart above 8 MiB, with progress); skip it if unchanged."""
    bucket, key = parse_zip_destination(destination)
    if not path.is_file():
        raise UploadError(f"{quote(str(path), 300)}: no such file")
    if note := zip_key_note(key):
        print(note, file=out)
    validated_first(path, validator, force, out)
    s3 = aws.client("s3")
    if options.check_notifications:
        refuse_without_notifications(s3, bucket, options.stack_bucket)
    local = hash_file(LocalFile(path, key, path.stat().st_size), config)
    if zip_unchanged(s3, bucket, local) and not retrain:
        again = "Pass --retrain to upload it again and train again."
        print(f"s3://{bucket}/{key} already holds this zip; no new job starts. {again}", file=out)
        return EXIT_OK
    if options.dry_run:
        print(f"--dry-run: would upload {local.size:,} bytes to s3://{bucket}/{key}.", file=out)
        return EXIT_OK
    print(f"Uploading {clean(path.name, 200)} ({local.size:,} bytes) ...", file=out)
    send_zip(s3, bucket, local, config, progress)
    print(f"Uploaded {clean(path.name, 200)} to s3://{bucket}/{key}.", file=out)
    return _after_send(f"s3://{bucket}/{key}", options, out)


# The command line: arguments, then the calls above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "upload",
        help="validate a local dataset and upload it to the stack's bucket",
        description="Validate PATH as the launcher will, then upload it in parallel with "
        "data.yaml last (data.yaml starts training). Files already in S3 with the same size "
        "and checksum are skipped, so an interrupted upload resumes. Without S3_URI the "
        "dataset goes to the stack's bucket under datasets/<folder name>/. key=value "
        "arguments (epochs=50 imgsz=640 sagemaker.instance_type=ml.g5.xlarge) are written "
        "into the uploaded training.yaml. Exit 0 done, 1 refused or failed, 2 usage or access.",
    )
    p.add_argument(
        "path", metavar="PATH", help="local dataset folder (or its data.yaml), or a dataset .zip"
    )
    p.add_argument(
        "rest",
        metavar="[S3_URI] [key=value ...]",
        nargs="*",
        help="s3://bucket/datasets/<name>/ (a zip: .../<name>.zip), then training overrides",
    )
    p.add_argument("--force", action="store_true", help="upload even if validation fails")
    p.add_argument(
        "--retrain",
        action="store_true",
        help="upload data.yaml (and so start a new job) even when nothing changed",
    )
    p.add_argument("--dry-run", action="store_true", help="check and show the plan; send nothing")
    p.add_argument(
        "--delete",
        action="store_true",
        help="delete objects under the S3 folder that are not in the local folder",
    )
    p.add_argument("--wait", action="store_true", help="wait for the launcher's verdict")
    p.add_argument(
        "--wait-timeout",
        type=int_in_range(1, 24 * 3600),
        default=DEFAULT_WAIT_S,
        help=f"seconds --wait waits (default {DEFAULT_WAIT_S})",
    )
    p.add_argument(
        "--concurrency",
        type=int_in_range(1, MAX_CONCURRENCY),
        default=DEFAULT_CONCURRENCY,
        help=f"parallel transfers, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_aws_options(p)
    p.set_defaults(handler=run_upload, overrides_dest="rest")


def split_rest(rest: list[str]) -> tuple[str | None, list[str]]:
    """The optional S3 URI and the key=value overrides, in any order (pure)."""
    uris = [r for r in rest if not is_override(r)]
    if len(uris) > 1 or (uris and not uris[0].startswith("s3://")):
        raise UsageError(f"{quote(uris[-1])} is neither s3://... nor key=value (e.g. epochs=50)")
    return (uris[0] if uris else None), [r for r in rest if is_override(r)]


def default_destination(path: Path, stack: Stack) -> str:
    """``s3://<stack bucket>/<DatasetPrefix><name>/`` (a zip: ``.../<name>.zip``)."""
    bucket = stack.require(OUTPUT_BUCKET, "an s3://bucket/datasets/<name>/ URI")
    if path.suffix.lower() == ZIP_SUFFIX:
        return f"s3://{bucket}/{stack.dataset_prefix}{path.stem}{ZIP_SUFFIX}"
    name = dataset_root(path).resolve().name
    return f"s3://{bucket}/{stack.dataset_prefix}{name}/"


def run_upload(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser()
    uri, items = split_rest(args.rest)
    overrides = parse_overrides(items)
    stack = try_stack(args)  # an explicit URI does without it: the defaults then apply
    use_aws(args)
    destination = uri or default_destination(path, stack)
    if not stack.found:
        print(f"note: stack {quote(stack.name)}: {clean(stack.why_not, 200)}; training.yaml is "
              "checked against the template's defaults.")  # fmt: skip
    since = datetime.now(UTC)

    def wait(sent: str) -> int:
        return show_verdict(stack, sent, since, args.wait_timeout, sys.stdout)

    options = UploadOptions(
        overrides=overrides,
        dry_run=args.dry_run,
        delete=args.delete,
        stack_bucket=stack.bucket,
        defaults=stack.sagemaker_defaults if stack.found else None,
        after_send=wait if args.wait else None,
    )
    return upload_dataset(
        path,
        destination,
        force=args.force,
        retrain=args.retrain,
        concurrency=args.concurrency,
        progress=not args.no_progress,
        options=options,
    )
