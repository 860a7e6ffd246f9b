"""The dataset check: validate the uploaded folder (or zip) and parse its training.yaml.

S3 failures while reading are the stack's problem, not the user's: the validator turns a
read error into a finding (right for the CLI), so the launcher wraps the storage, records
such failures and raises instead of emailing "your dataset is invalid".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.storage.base import (
    BoundedReads,
    FileInfo,
    FileTooLargeError,
    StorageError,
)
from yolo_pipeline.dataset.storage.s3 import S3Storage, S3ZipObject
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError
from yolo_pipeline.dataset.storage.zip_storage import ZipStorage
from yolo_pipeline.dataset.validation import Report, validate_dataset
from yolo_pipeline.errors import PipelineError
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.launcher.limits import folder_too_big
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.config import (
    SageMakerDefaults,
    TrainingConfig,
    parse_training_config,
)

T = TypeVar("T")


class DatasetUnreadableError(PipelineError, RuntimeError):
    """S3 failed while reading the dataset: not the user's fault, so retry the event."""


@dataclass(frozen=True)
class Checked:
    """What the check found: the validator's report, the parsed training.yaml, and the
    problems with training.yaml itself (too large to read)."""

    report: Report
    config: TrainingConfig
    training_problems: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [*self.report.errors, *self.training_problems, *self.config.errors]

    @property
    def warnings(self) -> list[Finding]:
        return [*self.report.warnings, *self.config.warnings]


class RecordingStorage(BoundedReads):
    """Wraps ``S3Storage`` or ``ZipStorage`` and remembers S3 failures in ``failures``."""

    def __init__(self, inner: S3Storage | ZipStorage) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.failures: list[str] = []
        self.archive_refused = False  # a zip refused as unsafe: reported once, never read again

    @property
    def archive_root(self) -> str:
        return getattr(self.inner, "archive_root", "")

    @property
    def refused(self) -> list[tuple[str, str]]:
        # A local folder's entries it would not list (symlinks out, FIFOs): the CLI's check.
        return list(getattr(self.inner, "refused", []))

    def list_files(self) -> list[FileInfo]:
        try:
            return self.inner.list_files()
        except ArchiveError:
            self.archive_refused = True
            raise  # a refused zip is the user's to fix
        except StorageError as exc:
            self.failures.append(str(exc))
            raise

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        try:
            return self.inner.read_bytes(path, max_bytes)
        except (FileTooLargeError, ArchiveError):
            raise  # the user's file, the user's problem
        except StorageError as exc:
            self.failures.append(str(exc))
            raise

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        # The inner storage's own bulk reads (a zip's coalesced spans), failures recorded.
        try:
            yield from self.inner.map_read(paths, fn, max_workers)
        except (FileTooLargeError, ArchiveError):
            raise
        except StorageError as exc:
            self.failures.append(str(exc))
            raise


def _folder_too_big(storage: RecordingStorage) -> Report | None:
    try:
        return folder_too_big(storage)
    except StorageError:
        return None  # recorded; validate_dataset reports it and the check raises after


def _training_yaml(storage: RecordingStorage, report: Report) -> tuple[bytes | None, list[Finding]]:
    """training.yaml's bytes (the validator's bounded read when it made one)."""
    if report.training_yaml is not None or storage.failures or storage.archive_refused:
        return report.training_yaml, []
    if not any(f.path == TRAINING_YAML for f in storage.list_files()):
        return None, []
    try:
        return storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES), []
    except FileTooLargeError:
        too_big = error(
            TRAINING_YAML,
            f"is larger than {TRAINING_YAML_MAX_BYTES // 1024} KiB",
            hint="keep only training settings in it",
        )
        return None, [too_big]
    except StorageError:
        return None, []  # recorded in storage.failures: the caller raises


def check_upload(up: Upload, s3: Any, settings: LauncherSettings) -> Checked:
    """Validate the folder (or zip) and parse its training.yaml; S3 failures raise."""
    inner = (
        ZipStorage(S3ZipObject(up.bucket, up.key, client=s3))
        if up.is_zip
        else S3Storage(up.bucket, up.folder, client=s3)
    )
    return check_storage(inner, settings.sagemaker_defaults, size_guard=not up.is_zip)


def check_storage(
    inner: Any, defaults: SageMakerDefaults, data_yaml: str = DATA_YAML, size_guard: bool = True
) -> Checked:
    """The launcher's whole check on any storage (the CLI's ``validate`` runs this too, so
    both judge alike); a read failure raises DatasetUnreadableError."""
    storage = RecordingStorage(inner)
    report = (_folder_too_big(storage) if size_guard else None) or validate_dataset(
        storage, data_yaml
    )
    training_text, training_problems = _training_yaml(storage, report)
    if storage.failures:
        raise DatasetUnreadableError("; ".join(storage.failures[:3]))
    return Checked(report, parse_training_config(training_text, defaults), training_problems)
