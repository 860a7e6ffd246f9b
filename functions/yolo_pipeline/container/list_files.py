"""Resolved copies of ``.txt`` split lists, so the container trains what was validated.

Ultralytics rewrites only ``./`` lines of a list file (relative to the list's folder); any
other relative line it resolves against the working directory, where the dataset is not.
The validator reads such a bare line as relative to the dataset root. So before training,
every list file named by a split is copied into the scratch folder with each line resolved
exactly as the validator resolved it (``dataset.data_yaml.list_line_path``), as absolute
paths, and the sanitised data.yaml points at the copies. Lines that are not images to
Ultralytics (spaces around them, other suffixes) are left out, as Ultralytics would. The
uploaded files are never changed (the channel may be read-only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yolo_pipeline.dataset.data_yaml import SPLITS, list_line_path

MAX_LIST_BYTES = 64 * 1024 * 1024


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolved_list(root: Path, entry: str) -> list[Path]:
    """The images of the list file ``entry`` (root-relative) as absolute paths under ``root``."""
    text = (root / entry).read_bytes()[: MAX_LIST_BYTES + 1].decode("utf-8-sig")
    images: list[Path] = []
    for raw in text.strip().splitlines():
        rel, problem = list_line_path(entry, raw)
        if rel is None or problem:
            continue
        image = (root / rel).resolve()
        if _inside(image, root) and image.is_file():
            images.append(image)
    return images


def with_resolved_lists(data: dict[str, Any], root: Path, scratch: Path) -> dict[str, Any]:
    """``data`` (a sanitised data.yaml) with every list-file entry replaced by a copy in
    ``scratch`` that holds absolute image paths; folders and other keys are unchanged."""
    root = root.resolve()
    out = dict(data)
    for split in SPLITS:
        if split not in data:
            continue
        entries = data[split] if isinstance(data[split], list) else [data[split]]
        rewritten: list[str] = []
        for i, entry in enumerate(entries):
            source = root / entry
            if str(entry).endswith(".txt") and source.is_file() and _inside(source.resolve(), root):
                target = scratch / f"{split}_{i}.txt"
                lines = [str(p) for p in resolved_list(root, str(entry))]
                target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
                rewritten.append(str(target))
            else:
                rewritten.append(str(entry))
        out[split] = rewritten[0] if len(rewritten) == 1 else rewritten
    return out
