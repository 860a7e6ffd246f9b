"""The dataset check: validate the uploaded folder (or zip) and parse its training.yaml.

S3 failures while reading are the stack's problem, not the user's: the validator turns a
read error into a finding (right for the CLI), so the launcher wraps the storage, records
such failures and raises instead of emailing "your dataset is invalid".

The check reads the object the event named (launcher/pinning.py), stays within its
``CheckBudget`` (a check that would outlast the Lambda is answered "too costly to check",
never timed out), and returns the digest of what it validated for the job to carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.budget import CheckBudget
from yolo_pipeline.dataset.digest import zip_digest
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
from yolo_pipeline.launcher.limits import folder_too_big, over_budget
from yolo_pipeline.launcher.pinning import (
    DigestRecorder,
    PinnedClient,
    UploadSuperseded,
    hash_object,
)
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


class CheckOverBudget(StorageError):
    """The check ran out of its time budget: raised by a read, turned into a rejection."""


@dataclass(frozen=True)
class Checked:
    """What the check found: the validator's report, the parsed training.yaml, and the
    problems with training.yaml itself (too large to read)."""

    report: Report
    config: TrainingConfig
    training_problems: list[Finding]
    digest: str = ""  # of what was validated (dataset/digest.py); "" when invalid

    @property
    def errors(self) -> list[Finding]:
        return [*self.report.errors, *self.training_problems, *self.config.errors]

    @property
    def warnings(self) -> list[Finding]:
        return [*self.report.warnings, *self.config.warnings]


class RecordingStorage(BoundedReads):
    """Wraps ``S3Storage`` or ``ZipStorage`` and remembers S3 failures in ``failures``."""

    def __init__(self, inner: S3Storage | ZipStorage, budget: CheckBudget | None = None) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.budget = budget or CheckBudget()
        self.failures: list[str] = []
        self.archive_refused = False  # a zip refused as unsafe: reported once, never read again
        self.superseded = ""  # why the event's object is no longer there, when it is not
        self.out_of_time = False
        self.seen = DigestRecorder()

    def _spend(self) -> None:
        # Every read first asks the clock, so the check stops within one read of its end.
        if self.budget.expired():
            self.out_of_time = True
            raise CheckOverBudget("the check ran out of time")

    def _note(self, exc: StorageError) -> None:
        if isinstance(exc, UploadSuperseded):
            self.superseded = str(exc)
        elif not isinstance(exc, CheckOverBudget):
            self.failures.append(str(exc))

    @property
    def archive_root(self) -> str:
        return getattr(self.inner, "archive_root", "")

    @property
    def refused(self) -> list[tuple[str, str]]:
        # A local folder's entries it would not list (symlinks out, FIFOs): the CLI's check.
        return list(getattr(self.inner, "refused", []))

    def list_files(self) -> list[FileInfo]:
        try:
            self._spend()
            return self.inner.list_files()
        except ArchiveError:
            self.archive_refused = True
            raise  # a refused zip is the user's to fix
        except StorageError as exc:
            self._note(exc)
            raise

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        try:
            self._spend()
            data = self.inner.read_bytes(path, max_bytes)
        except (FileTooLargeError, ArchiveError):
            raise  # the user's file, the user's problem
        except StorageError as exc:
            self._note(exc)
            raise
        self.seen.saw(path, data)
        return data

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        # The inner storage's own bulk reads (a zip's coalesced spans), failures recorded.
        def seen(path: str, data: bytes) -> T:
            self._spend()
            self.seen.saw(path, data)
            return fn(path, data)

        try:
            yield from self.inner.map_read(paths, seen, max_workers)
        except (FileTooLargeError, ArchiveError):
            raise
        except StorageError as exc:
            self._note(exc)
            raise

    def digest(self) -> str:
        """The digest of what was read: the archive's directory, or the folder's files."""
        if isinstance(self.inner, ZipStorage):
            entries = self.inner.archive.directory.entries
            return zip_digest((e.name, e.size, e.crc) for e in entries)
        files = self.list_files()
        for info in self.seen.missing(files):  # hashed files the validator did not read
            try:
                self._spend()
                size, fingerprint = hash_object(
                    self.inner.client, self.inner.bucket, self.inner.prefix + info.path
                )
            except StorageError as exc:
                self._note(exc)
                raise
            self.seen.fingerprints[info.path] = (size, fingerprint)
        return self.seen.folder_digest(files)


def _folder_too_big(storage: RecordingStorage) -> Report | None:
    try:
        return folder_too_big(storage)
    except StorageError:
        return None  # recorded; validate_dataset reports it and the check raises after


def _training_yaml(storage: RecordingStorage, report: Report) -> tuple[bytes | None, list[Finding]]:
    """training.yaml's bytes (the validator's bounded read when it made one)."""
    stopped = storage.failures or storage.superseded or storage.out_of_time
    if report.training_yaml is not None or stopped or storage.archive_refused:
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


def _digest(storage: RecordingStorage, checked: Checked) -> Checked:
    if checked.errors:
        return checked
    try:
        digest = storage.digest()
    except StorageError:
        return checked  # superseded, out of time or a failure: recorded, the caller decides
    return Checked(checked.report, checked.config, checked.training_problems, digest)


def check_upload(
    up: Upload, s3: Any, settings: LauncherSettings, budget: CheckBudget | None = None
) -> Checked:
    """Validate the folder (or zip) the event named and parse its training.yaml, within
    ``budget``. S3 failures raise ``DatasetUnreadableError``; a replaced object raises
    ``UploadSuperseded``; a check out of time comes back as one rejection."""
    client = PinnedClient(s3, up.bucket, up.key, up.etag, up.version_id)
    inner = (
        ZipStorage(S3ZipObject(up.bucket, up.key, client=client))
        if up.is_zip
        else S3Storage(up.bucket, up.folder, client=client)
    )
    return check_storage(
        inner, settings.sagemaker_defaults, size_guard=not up.is_zip, budget=budget, pin=True
    )


def check_storage(
    inner: Any,
    defaults: SageMakerDefaults,
    data_yaml: str = DATA_YAML,
    size_guard: bool = True,
    budget: CheckBudget | None = None,
    pin: bool = False,
) -> Checked:
    """The launcher's whole check on any storage (the CLI's ``validate`` runs this too, with
    no budget, so both judge alike). ``pin``: also compute the digest the job is pinned to.
    A read failure raises DatasetUnreadableError; a replaced object UploadSuperseded."""
    storage = RecordingStorage(inner, budget)
    is_zip = isinstance(inner, ZipStorage)
    report = (_folder_too_big(storage) if size_guard else None) or validate_dataset(
        storage, data_yaml, budget
    )
    if storage.budget.expired() and not (storage.superseded or storage.failures):
        # Out of time: the validator's own "too costly" finding (or ours) is the answer;
        # nothing more is read.
        storage.out_of_time = storage.out_of_time or report.valid
        answer = over_budget(storage.uri, is_zip) if storage.out_of_time else report
        return Checked(answer, parse_training_config(None, defaults), [])
    training_text, training_problems = _training_yaml(storage, report)
    config = parse_training_config(training_text, defaults)
    checked = Checked(report, config, training_problems)
    checked = _digest(storage, checked) if pin else checked
    if storage.superseded:
        raise UploadSuperseded(storage.superseded)
    if storage.failures:
        raise DatasetUnreadableError("; ".join(storage.failures[:3]))
    if storage.out_of_time:
        return Checked(over_budget(storage.uri, is_zip), config, [])
    return checked
