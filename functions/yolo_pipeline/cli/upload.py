"""``yolo-pipeline upload``: send a local dataset to ``s3://bucket/datasets/<name>/`` safely.

The launcher fires on ``datasets/*/data.yaml``, so ``data.yaml`` goes up last, only after
every other file has been stored: training can never start on a half-uploaded dataset.

Resume: a file is skipped when an object with the same size and checksum is already there.
The checksum is the S3 ETag we expect for the file: the MD5 for a single PUT, and for a
multipart upload the MD5 of the parts' MD5s plus ``-<parts>``, computed with the same part
size the transfer manager uses. One ListObjectsV2 call per 1,000 keys then decides for the
whole dataset. With SSE-KMS the ETag is not an MD5, so every upload also stores the file's
MD5 in the object metadata (``x-amz-meta-md5``) and a size match with a different ETag is
settled by one HeadObject. Nothing is ever deleted; objects under the prefix that are not
in the local folder are reported, since the launcher will train on them too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.subscribers import BaseSubscriber
from s3transfer.utils import ChunksizeAdjuster

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_summary
from yolo_pipeline.contract import DATA_YAML, UPLOAD_COMPLETE_METADATA, ZIP_SUFFIX
from yolo_pipeline.dataset.root import DatasetRootError, dataset_root
from yolo_pipeline.dataset.storage.local import walk_local
from yolo_pipeline.errors import EXIT_USAGE
from yolo_pipeline.text import quote

MD5_METADATA_KEY = "md5"  # stored as x-amz-meta-md5
COMPLETE_METADATA = dict([UPLOAD_COMPLETE_METADATA])  # x-amz-meta-yolo-upload: complete
DEFAULT_CONCURRENCY = 8
_HASH_BLOCK = 1024 * 1024
_DEST_PATTERN = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>.*)$")
_DATASET_PREFIX = re.compile(r"^datasets/[^/]+/$")
_ZIP_KEY = re.compile(r"^datasets/[^/]+\.zip$")


class UploadError(Exception):
    """A problem the user can fix; the message says what to do."""


def transfer_config(concurrency: int = DEFAULT_CONCURRENCY) -> TransferConfig:
    # "classic" pins the pure-Python transfer manager: the CRT one ignores botocore event
    # hooks and computes parts differently, which would break the ETag comparison.
    return TransferConfig(
        max_concurrency=concurrency,
        multipart_threshold=8 * 1024 * 1024,
        multipart_chunksize=8 * 1024 * 1024,
        preferred_transfer_client="classic",
    )


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int
    md5: str = ""  # hex digest of the whole file
    etag: str = ""  # the ETag S3 will report for it under our transfer config


@dataclass(frozen=True)
class RemoteObject:
    size: int
    etag: str  # without the surrounding quotes


@dataclass
class UploadPlan:
    bucket: str
    prefix: str
    data_yaml: LocalFile
    to_upload: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)
    data_yaml_unchanged: bool = False
    extra_remote: list[str] = field(default_factory=list)  # under the prefix, not local

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.to_upload)


def parse_destination(uri: str) -> tuple[str, str]:
    """``s3://bucket/datasets/<name>/`` -> (bucket, ``datasets/<name>/``); raises UploadError."""
    match = _DEST_PATTERN.match(uri.strip())
    if not match:
        raise UploadError(
            f"destination {quote(uri)} is not an S3 URI: use s3://<DatasetBucket>/datasets/<name>/"
        )
    key = match["key"].lstrip("/")
    if key and not key.endswith("/"):
        key += "/"
    if key.count("/") < 2:
        raise UploadError(
            f"destination {quote(uri)} names no dataset folder: the launcher fires on "
            f"<DatasetPrefix><name>/data.yaml, so use s3://{match['bucket']}/datasets/<name>/"
        )
    return match["bucket"], key


def prefix_note(prefix: str) -> str:
    """A warning when the folder is outside the stack's default DatasetPrefix."""
    if _DATASET_PREFIX.match(prefix):
        return ""
    return (
        f"note: {prefix} is not datasets/<name>/; the launcher only sees it if the stack's "
        "DatasetPrefix parameter covers it (default datasets/)."
    )


def _skipped_name(relative: Path) -> bool:
    # Hidden files (.DS_Store, .git) and Ultralytics' labels.cache are not dataset content.
    return any(part.startswith(".") for part in relative.parts) or relative.suffix == ".cache"


def collect_files(root: Path, prefix: str) -> list[LocalFile]:
    """Every dataset file under ``root`` with its destination key, sorted, sizes only.

    The same walk as ``validate`` (storage.walk_local): only regular files inside the
    folder. A symlink that resolves outside it, a FIFO or a device is never uploaded, not
    even with --force (validation reported it).
    """
    root = root.resolve()
    found, _refused = walk_local(root)
    files = []
    for path, size in sorted(found):
        relative = path.relative_to(root)
        if not _skipped_name(relative):
            files.append(LocalFile(path, prefix + relative.as_posix(), size))
    return files


def expected_etag(md5_parts: list[bytes], whole_md5: str) -> str:
    """The ETag S3 reports: the MD5 for one PUT, md5(part md5s)-N for a multipart upload."""
    if not md5_parts:
        return whole_md5
    return f"{hashlib.md5(b''.join(md5_parts), usedforsecurity=False).hexdigest()}-{len(md5_parts)}"


def hash_file(local: LocalFile, config: TransferConfig) -> LocalFile:
    """Fill in ``md5`` and ``etag`` with one read of the file."""
    multipart = local.size >= config.multipart_threshold
    part_size = ChunksizeAdjuster().adjust_chunksize(config.multipart_chunksize, local.size)
    whole = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    with local.path.open("rb") as handle:
        while block := handle.read(min(_HASH_BLOCK, part_size - in_part)):
            whole.update(block)
            part.update(block)
            in_part += len(block)
            if in_part == part_size:
                parts.append(part.digest())
                part, in_part = hashlib.md5(usedforsecurity=False), 0
    if in_part:
        parts.append(part.digest())
    etag = expected_etag(parts if multipart else [], whole.hexdigest())
    return LocalFile(local.path, local.key, local.size, whole.hexdigest(), etag)


def is_unchanged(local: LocalFile, remote: RemoteObject | None, remote_md5: str | None) -> bool:
    """Same size and (same ETag, or same MD5 in metadata when the ETag is not an MD5)."""
    if remote is None or remote.size != local.size:
        return False
    return remote.etag == local.etag or (remote_md5 is not None and remote_md5 == local.md5)


def list_remote(s3: Any, bucket: str, prefix: str) -> dict[str, RemoteObject]:
    remote: dict[str, RemoteObject] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            remote[obj["Key"]] = RemoteObject(int(obj["Size"]), str(obj["ETag"]).strip('"'))
    return remote


def _remote_md5(s3: Any, bucket: str, key: str) -> str | None:
    metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    value = metadata.get(MD5_METADATA_KEY)
    return str(value) if value else None


def plan_upload(
    s3: Any, root: Path, bucket: str, prefix: str, config: TransferConfig
) -> UploadPlan:
    """Hash the local files and compare them with what is already under the prefix."""
    files = collect_files(root, prefix)
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashlib releases the GIL
        hashed = list(pool.map(lambda f: hash_file(f, config), files))
    remote = list_remote(s3, bucket, prefix)
    data_key = prefix + DATA_YAML
    data_yaml = next((f for f in hashed if f.key == data_key), None)
    if data_yaml is None:  # e.g. a symlink out of the folder: refused by collect_files
        raise UploadError(f"{root / DATA_YAML} is not a regular file inside {root}")
    plan = UploadPlan(bucket, prefix, data_yaml)
    for local in hashed:
        current = remote.get(local.key)
        md5 = None
        if current and current.size == local.size and current.etag != local.etag:
            md5 = _remote_md5(s3, bucket, local.key)
        unchanged = is_unchanged(local, current, md5)
        if local.key == data_key:
            plan.data_yaml_unchanged = unchanged
        else:
            (plan.unchanged if unchanged else plan.to_upload).append(local)
    local_keys = {f.key for f in hashed}
    plan.extra_remote = sorted(k for k in remote if k not in local_keys)
    return plan


class _Progress(BaseSubscriber):
    """Feeds the two progress bars; s3transfer calls it from its worker threads."""

    def __init__(self, files_bar: Any, bytes_bar: Any, lock: threading.Lock) -> None:
        self._files, self._bytes, self._lock = files_bar, bytes_bar, lock

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        with self._lock:  # negative on a retried part: the bar goes back, as it should
            self._bytes.update(bytes_transferred)

    def on_done(self, future: Any, **kwargs: Any) -> None:
        with self._lock:
            self._files.update(1)


def transfer(
    s3: Any,
    bucket: str,
    files: Iterable[LocalFile],
    config: TransferConfig,
    *,
    progress: bool = True,
    label: str = "files",
    metadata: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Upload ``files`` concurrently (bounded by ``config.max_concurrency``); wait for all.

    Returns (uploaded keys, {failed key: reason}). One failure does not stop the others,
    so a rerun has less left to do. ``metadata`` is added to every object's user metadata.
    """
    from tqdm import tqdm  # type: ignore[import-untyped]  # CLI only; Lambdas never import it

    files = list(files)
    lock = threading.Lock()
    uploaded: list[str] = []
    failed: dict[str, str] = {}
    total = sum(f.size for f in files)
    with (
        tqdm(total=len(files), desc=label, unit="file", disable=not progress) as files_bar,
        tqdm(total=total, desc="bytes", unit="B", unit_scale=True, disable=not progress) as b_bar,
        create_transfer_manager(s3, config) as manager,
    ):
        subscriber = _Progress(files_bar, b_bar, lock)
        futures = [
            (
                local,
                manager.upload(
                    str(local.path),
                    bucket,
                    local.key,
                    extra_args={"Metadata": {MD5_METADATA_KEY: local.md5, **(metadata or {})}},
                    subscribers=[subscriber],
                ),
            )
            for local in files
        ]
        for local, future in futures:
            try:
                future.result()
                uploaded.append(local.key)
            except (ClientError, BotoCoreError, OSError) as exc:
                failed[local.key] = error_summary(exc)
    return uploaded, failed


def what_happens_next(bucket: str, prefix: str, tag: str | None = None) -> str:
    """The emails the upload sets off (subjects as the launcher and notifier write them).

    ``tag`` is the stack's JOB_NAME_PREFIX, which tags every subject (default $JOB_NAME_PREFIX
    or ``yolo``, the stack's default).
    """
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    tag = tag or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    what = "The zip" if prefix.lower().endswith(ZIP_SUFFIX) else "data.yaml"
    return (
        f"{what} is in place, complete: the launcher checks s3://{bucket}/{prefix} right "
        "away (no waiting for the upload to settle) and emails the pipeline's SNS "
        "subscribers:\n"
        f"  - '[{tag}] Dataset rejected: {name}' listing every problem and its fix "
        "(no job, no cost), or\n"
        f"  - '[{tag}] Training started: {name}' with the job name, instance and limits.\n"
        "When the job ends, a second email:\n"
        f"  - '[{tag}] Completed: {name} mAP50-95 0.xxx' with metrics, time per phase, billable "
        "time, spot savings and the model's S3 location, or\n"
        f"  - '[{tag}] Failed: {name}' / '[{tag}] Stopped: {name}' with the reason and what "
        "to do.\n"
        "Follow it meanwhile with: yolo-pipeline status"
    )


Validator = Callable[[Path], Any]


def _default_validator(root: Path) -> Any:
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
    """The ``upload`` command. Returns the exit code: 0 done, 1 refused or failed, 2 usage."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    config = config or transfer_config(concurrency)
    if path.suffix.lower() == ZIP_SUFFIX:
        return upload_zip(
            path,
            destination,
            force=force,
            retrain=retrain,
            config=config,
            progress=progress,
            out=out,
            validator=validator,
        )
    try:
        bucket, prefix = parse_destination(destination)
        root = dataset_root(path)
    except (UploadError, DatasetRootError) as exc:
        print(f"error: {exc}", file=out)
        return EXIT_USAGE
    if note := prefix_note(prefix):
        print(note, file=out)
    if not validated_first(root, validator, force, out):
        return 1

    s3 = aws.client("s3")
    try:
        plan = plan_upload(s3, root, bucket, prefix, config)
    except (ClientError, BotoCoreError) as exc:
        print(f"error: cannot read s3://{bucket}/{prefix}: {error_summary(exc)}", file=out)
        print("Check the bucket name, your AWS credentials and region.", file=out)
        return 1
    except (OSError, UploadError) as exc:  # unreadable file, data.yaml no file: one line
        reason = (
            str(exc)
            if isinstance(exc, UploadError)
            else f"cannot read {exc.filename or root}: {exc.strerror or exc}"
        )
        print(f"error: {reason}", file=out)
        return 1
    _print_plan(plan, root, out)
    uploaded = _upload_files(s3, plan, config, progress, out)
    if uploaded is None:
        return 1
    return _upload_data_yaml(s3, plan, uploaded, config, retrain, out)


def validated_first(target: Path, validator: Validator, force: bool, out: TextIO) -> bool:
    """Validate ``target`` and print the report; whether the upload may go ahead."""
    print(f"Validating {target} ...", file=out)
    report = validator(target)
    print(report.render_text(), file=out)
    if report.valid:
        return True
    if not force:
        print(
            "Refusing to upload: fix the errors above and run this again "
            "(or pass --force to upload anyway; the launcher would reject it and email "
            "you the same errors).",
            file=out,
        )
        return False
    print("--force: uploading a dataset that failed validation.", file=out)
    return True


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


def _upload_files(
    s3: Any, plan: UploadPlan, config: TransferConfig, progress: bool, out: TextIO
) -> list[str] | None:
    """Every file but data.yaml; the keys uploaded, or ``None`` when any failed."""
    try:
        uploaded, failed = transfer(s3, plan.bucket, plan.to_upload, config, progress=progress)
    except (ClientError, BotoCoreError) as exc:
        uploaded, failed = [], {"*": error_summary(exc)}
    if not failed:
        return uploaded
    for key, reason in sorted(failed.items()):
        print(f"failed: {key}: {reason}", file=out)
    print(
        f"{len(uploaded)} of {len(plan.to_upload)} files uploaded, {len(failed)} failed. "
        "data.yaml was NOT uploaded, so no training started. Run the same command again "
        "to resume: files already uploaded are skipped.",
        file=out,
    )
    return None


def _upload_data_yaml(
    s3: Any,
    plan: UploadPlan,
    uploaded: list[str],
    config: TransferConfig,
    retrain: bool,
    out: TextIO,
) -> int:
    bucket, prefix = plan.bucket, plan.prefix
    if plan.data_yaml_unchanged and not uploaded and not retrain:
        print(
            "Nothing changed since the last upload, so data.yaml was not uploaded again and no "
            "new training job starts. Pass --retrain to upload data.yaml anyway and train again.",
            file=out,
        )
        return 0

    # Last, and only now that every other file is stored: this is the training trigger, and
    # its metadata tells the launcher not to wait for the upload to settle.
    try:
        done, failed = transfer(
            s3, bucket, [plan.data_yaml], config, progress=False, metadata=COMPLETE_METADATA
        )
    except (ClientError, BotoCoreError) as exc:
        done, failed = [], {plan.data_yaml.key: error_summary(exc)}
    if failed:
        print(
            f"failed: {plan.data_yaml.key}: {failed[plan.data_yaml.key]}. Every other file is "
            "uploaded; run the same command again to upload data.yaml and start training.",
            file=out,
        )
        return 1
    print(f"Uploaded {len(uploaded) + len(done)} files to s3://{bucket}/{prefix}.", file=out)
    print(what_happens_next(bucket, prefix), file=out)
    return 0


# A dataset zip (issue 15): one object, so one (multipart) transfer and no ordering.


def parse_zip_destination(uri: str) -> tuple[str, str]:
    """``s3://bucket/datasets/<name>.zip`` -> (bucket, key); raises UploadError."""
    match = _DEST_PATTERN.match(uri.strip())
    key = match["key"].lstrip("/") if match else ""
    if not match or not key.lower().endswith(ZIP_SUFFIX) or "/" not in key.rstrip("/"):
        raise UploadError(
            f"destination {uri!r} is not a zip key: use s3://<DatasetBucket>/datasets/<name>.zip"
        )
    if len(key.rsplit("/", 1)[-1]) <= len(ZIP_SUFFIX):
        raise UploadError(f"destination {uri!r} names no dataset: use .../datasets/<name>.zip")
    if not key.endswith(ZIP_SUFFIX):  # S3 events match a case-sensitive *.zip
        raise UploadError(
            f"destination {uri!r} ends in {key[-4:]!r}: name it with a lower-case .zip, "
            "the only ending that starts a check"
        )
    return match["bucket"], key


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
    try:
        bucket, key = parse_zip_destination(destination)
        if not path.is_file():
            raise UploadError(f"{path}: no such file")
    except UploadError as exc:
        print(f"error: {exc}", file=out)
        return EXIT_USAGE
    if not _ZIP_KEY.match(key):
        note = (
            "the launcher only sees it if the stack's DatasetPrefix covers it (default datasets/)"
        )
        print(f"note: {key} is not datasets/<name>.zip; {note}.", file=out)
    if not validated_first(path, validator, force, out):
        return 1
    s3 = aws.client("s3")
    local = hash_file(LocalFile(path, key, path.stat().st_size), config)
    try:
        current = list_remote(s3, bucket, key).get(key)
        md5 = _remote_md5(s3, bucket, key) if current and current.etag != local.etag else None
    except (ClientError, BotoCoreError) as exc:
        print(f"error: cannot read s3://{bucket}/{key}: {error_summary(exc)}", file=out)
        return 1
    if is_unchanged(local, current, md5) and not retrain:
        again = "Pass --retrain to upload it again and train again."
        print(f"s3://{bucket}/{key} already holds this zip; no new job starts. {again}", file=out)
        return 0
    print(f"Uploading {path.name} ({local.size:,} bytes) ...", file=out)
    try:
        _, failed = transfer(s3, bucket, [local], config, progress=progress, label="zip")
    except (ClientError, BotoCoreError) as exc:
        failed = {key: error_summary(exc)}
    if failed:
        print(f"failed: {key}: {failed[key]}. Run the same command again.", file=out)
        return 1
    print(f"Uploaded {path.name} to s3://{bucket}/{key}.", file=out)
    print(what_happens_next(bucket, key), file=out)
    return 0


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
    p.add_argument("--concurrency", type=int, default=8, help="parallel transfers (default 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run_upload)


def run_upload(args: argparse.Namespace) -> int:
    from pathlib import Path

    if not 1 <= args.concurrency <= 64:
        print("yolo-pipeline upload: --concurrency must be between 1 and 64", file=sys.stderr)
        return EXIT_USAGE
    return upload_dataset(
        Path(args.path).expanduser(),
        args.destination,
        force=args.force,
        retrain=args.retrain,
        concurrency=args.concurrency,
        progress=not args.no_progress,
    )
