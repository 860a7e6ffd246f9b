"""The dataset digest: what pins a training job to the content the launcher validated.

The launcher computes it while it validates and passes it to the job (environment variable
``contract.ENV_DATASET_DIGEST``); the container computes it again on what SageMaker
downloaded and refuses to train when the two differ. Both sides feed it the same entries:

- a folder: every file below the dataset root, by its path relative to the root and its size;
  the files whose content decides what trains (data.yaml, training.yaml, label rows, split
  lists, semantic masks and depth targets: ``is_hashed``) also by the SHA-256 of their bytes;
- a zip: every entry of the central directory by name, size and CRC-32 (which covers every
  byte of every member, images included).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = "v1"
HASHED_SUFFIXES = (".txt", ".yaml", ".yml", ".npy")
# Semantic masks and depth maps are PNGs in these folders (Ultralytics' default masks_dir and
# depth folder): their pixels are the labels. Images are pinned by path and size only.
TARGET_FOLDERS = frozenset({"masks", "depth"})


@dataclass(frozen=True, order=True)
class DigestEntry:
    path: str  # relative to the dataset root (a folder) or the archive's name (a zip)
    size: int
    fingerprint: str = ""  # "sha256:<hex>", "crc32:<8 hex>", or "" (size only)


def is_hashed(path: str) -> bool:
    """Whether a folder's file enters the digest by its content."""
    lower = path.lower()
    if lower.endswith(HASHED_SUFFIXES):
        return True
    return lower.endswith(".png") and not TARGET_FOLDERS.isdisjoint(lower.split("/")[:-1])


def sha256_fingerprint(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def crc32_fingerprint(crc: int) -> str:
    return f"crc32:{crc & 0xFFFFFFFF:08x}"


def dataset_digest(entries: Iterable[DigestEntry]) -> str:
    """``v1:<sha256 hex>`` over the entries in path order (the order they came in is moot)."""
    h = hashlib.sha256(VERSION.encode())
    for entry in sorted(set(entries)):
        h.update(f"\0{entry.path}\0{entry.size}\0{entry.fingerprint}".encode("utf-8", "replace"))
    return f"{VERSION}:{h.hexdigest()}"


def zip_digest(entries: Iterable[tuple[str, int, int]]) -> str:
    """The digest of an archive from its central directory: (name, size, CRC-32) of every
    entry, folders included, as the shared zip reader parses them on both sides."""
    return dataset_digest(DigestEntry(n, s, crc32_fingerprint(c)) for n, s, c in entries)
