"""A ``dataset`` channel holding one zip: unpack it to local disk under the launcher's rules.

The launcher hands SageMaker the zip object itself (S3Prefix with the exact key), so the
channel holds ``<name>.zip``. It is read with ranged ``pread`` calls, which a FastFile
(streamed, read-only) channel serves as well as a File one, and unpacked with the same
reader and limits that validated it (``dataset.zip_reader``): names cannot escape the
target, nothing is overwritten or followed (``O_EXCL``), each entry inflates to exactly
its declared size and CRC, and the whole must fit on the volume.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from yolo_pipeline.contract import DATA_YAML, ZIP_SUFFIX
from yolo_pipeline.dataset.storage.class_folders import classify_root
from yolo_pipeline.dataset.storage.zip_reader import (
    DEFAULT_LIMITS,
    ArchiveError,
    ZipArchive,
    ZipLimits,
    find_dataset_root,
    stream_entry,
)
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile

DISK_MARGIN = 1024 * 1024 * 1024  # room left for checkpoints, the model and Ultralytics' cache
_MACOS_FORK = "__MACOSX/"


def channel_zip(channel: Path) -> Path | None:
    """The one zip in a channel that has no data.yaml; ``None`` for a dataset folder."""
    if not channel.is_dir() or (channel / DATA_YAML).is_file():
        return None
    zips = sorted(p for p in channel.iterdir() if p.suffix.lower() == ZIP_SUFFIX and p.is_file())
    if len(zips) > 1:
        names = ", ".join(p.name for p in zips[:5])
        raise ArchiveError(f"the dataset channel holds {len(zips)} zips ({names}); expected one")
    return zips[0] if zips else None


def extract_dataset(archive: Path, dest: Path, limits: ZipLimits = DEFAULT_LIMITS) -> Path:
    """Unpack ``archive`` into ``dest`` (new or empty); returns the folder holding data.yaml."""
    source = LocalZipFile(archive)
    zf = ZipArchive(source.read_range, source.size(), limits)
    entries = [e for e in zf.directory.entries if not e.name.startswith(_MACOS_FORK)]
    root = find_dataset_root([e.name for e in entries], DATA_YAML)
    root = root if root is not None else classify_root(e.name for e in entries)
    if root is None:
        raise ArchiveError(
            f"{archive.name} has no {DATA_YAML} at its root or in its single top-level folder",
            hint="zip the dataset folder itself, with data.yaml inside it",
        )
    dest.mkdir(parents=True, exist_ok=True)
    need = sum(e.size for e in entries)
    free = shutil.disk_usage(dest).free
    if need + DISK_MARGIN > free:
        raise ArchiveError(
            f"{archive.name} unpacks to {need:,} bytes; the volume has {free:,} free",
            hint="raise sagemaker: volume_size_gb in training.yaml",
        )
    base = dest.resolve()
    for entry in entries:
        target = (base / entry.name).resolve()
        if base not in target.parents and target != base:  # the reader refused these already
            raise ArchiveError(f"entry {entry.name!r} escapes the target folder", entry.name)
        try:
            if entry.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as out:
                for piece in stream_entry(source.read_range, entry):
                    out.write(piece)
        except OSError as exc:
            raise ArchiveError(f"cannot unpack {entry.name!r}: {exc.strerror}", entry.name) from exc
    return base / root if root else base


def dataset_folder(channel: Path, scratch: Path) -> Path:
    """The channel itself, or, when it holds one zip, the zip unpacked under ``scratch``."""
    archive = channel_zip(channel)
    if archive is None:
        return channel
    return extract_dataset(archive, scratch)
