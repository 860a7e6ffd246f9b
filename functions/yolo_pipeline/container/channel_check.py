"""Before training: the channel holds exactly what the launcher validated, and passes the
dataset checks again on local disk.

The launcher puts the digest of what it validated (dataset/digest.py) in the job's
Environment; SageMaker downloads the channel when the instance starts, which with spot
capacity can be hours later (and again after an interruption). A dataset replaced or edited
in between is refused here, before a paid epoch, with a FailureReason that starts with
``contract.FAILURE_DATASET_CHANGED``: the newer upload has its own event and its own check.
A job started by hand carries no digest; then the re-run of the dataset checks below is
its only protection, and the log says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.zip_extract import channel_zip
from yolo_pipeline.contract import DATA_YAML, ENV_DATASET_DIGEST, FAILURE_DATASET_CHANGED
from yolo_pipeline.dataset.digest import DigestEntry, dataset_digest, is_hashed, zip_digest
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError, ZipArchive
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile
from yolo_pipeline.dataset.validation import validate_dataset

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
MAX_LISTED_PROBLEMS = 5


def _files(channel: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file below ``channel``: (POSIX path relative to it, path)."""
    for folder, dirs, files in os.walk(channel):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            yield path.relative_to(channel).as_posix(), path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def folder_digest(channel: Path) -> str:
    """The digest of a dataset folder as the launcher computes it from its S3 listing."""
    entries = []
    for rel, path in _files(channel):
        size = path.stat().st_size
        entries.append(DigestEntry(rel, size, _sha256(path) if is_hashed(rel) else ""))
    return dataset_digest(entries)


def channel_digest(channel: Path) -> str:
    """The digest of the channel: its one zip's central directory, or the folder's files."""
    archive = channel_zip(channel)
    if archive is None:
        return folder_digest(channel)
    source = LocalZipFile(archive)
    directory = ZipArchive(source.read_range, source.size()).directory
    return zip_digest((e.name, e.size, e.crc) for e in directory.entries)


def dataset_changed_message() -> str:
    return (
        f"{FAILURE_DATASET_CHANGED}: the data SageMaker downloaded for this job is not the "
        "upload the launcher validated (it was replaced or edited after the job was "
        "requested). Nothing was trained. The newer upload gets its own check, and its own "
        "job if it is valid; to train on what is there now, upload it again or run "
        "`yolo-pipeline retrain`."
    )


def verify_channel(channel: Path, environ: Mapping[str, str]) -> None:
    """Refuse a channel whose digest differs from the one in the job's environment."""
    expected = environ.get(ENV_DATASET_DIGEST, "").strip()
    if not channel.is_dir():
        return  # no channel at all: the input step says so
    if not expected:
        log.warning(
            "The job carries no %s (started by hand?): the channel is not compared with "
            "what the launcher validated; only the dataset re-check below protects this run",
            ENV_DATASET_DIGEST,
        )
        return
    try:
        found = channel_digest(channel)
    except (ArchiveError, OSError) as exc:
        raise UserError(f"{dataset_changed_message()} ({exc})") from exc
    if found != expected:
        log.error("Dataset digest %s differs from the validated %s", found, expected)
        raise UserError(dataset_changed_message())
    log.info("The channel holds exactly what the launcher validated (%s)", found)


def recheck_dataset(root: Path) -> None:
    """The dataset checks again on the local copy (cheap on local disk): whatever happened
    between the launcher's check and this download, nothing invalid trains."""
    report = validate_dataset(LocalStorage(root), DATA_YAML)
    # Label caches are the one finding that does not apply here: training never reads a
    # cache from the channel (label_scan), and an earlier run on this disk may have left its
    # own (a restart in File mode). An uploaded one was refused by the launcher already.
    errors = [e for e in report.errors if not e.file.endswith(".cache")]
    if errors:
        listed = "; ".join(str(e) for e in errors[:MAX_LISTED_PROBLEMS])
        more = len(errors) - MAX_LISTED_PROBLEMS
        raise UserError(
            "The dataset fails its checks on the training instance: "
            + listed
            + (f"; and {more} more" if more > 0 else "")
            + ". Fix it and upload it again (`yolo-pipeline validate` lists every problem)."
        )
    log.info("The dataset passes its checks on the training instance")
