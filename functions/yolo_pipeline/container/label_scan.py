"""What Ultralytics' own label scan dropped, taken from the scan itself.

Ultralytics checks every image/label pair once when it builds a dataset
(``YOLODataset.cache_labels`` runs ``verify_image_label`` over all of them, with the task's
rules) and silently drops the corrupt ones. Recording that scan's messages names them at no
extra cost; a separate pre-scan opened every image a second time before training (minutes
of GPU-instance time on a large dataset; benchmarks/label_scan.py measures it).

The same hook keeps Ultralytics from reading a ``*.cache`` file found next to the labels:
such a file is a pickle (``np.load(allow_pickle=True)``), and in the dataset channel it would
come from the upload. Every run rescans instead, which is what a fresh job does anyway.
Both hooks live in this process: with several GPUs (DDP) the scan runs in a worker process,
where only the validator's refusal of uploaded ``.cache`` files applies, and the corrupt
list is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "ignoring corrupt image/label:"


@dataclass
class ScanRecord:
    messages: list[str] = field(default_factory=list)
    scans: int = 0


def install(record: ScanRecord) -> None:
    """Hook Ultralytics' dataset scan (call before training builds its datasets)."""
    import ultralytics.data.dataset as dataset_module  # after safe loading is on

    def no_cache(path: Path) -> dict[str, Any]:
        raise FileNotFoundError(f"{path}: label caches are never read (they are pickles)")

    original = dataset_module.YOLODataset.cache_labels

    def recording(self: Any, path: Path = Path("./labels.cache")) -> dict[str, Any]:
        x: dict[str, Any] = original(self, path)
        record.scans += 1
        prefix = str(getattr(self, "prefix", ""))
        record.messages += [str(m).removeprefix(prefix) for m in x.get("msgs", [])]
        return x

    dataset_module.load_dataset_cache_file = no_cache
    dataset_module.YOLODataset.cache_labels = recording  # type: ignore[method-assign]


def corrupt_pairs(record: ScanRecord) -> list[tuple[Path, str]]:
    """(image, Ultralytics' message) for each pair the scan dropped, first seen first."""
    seen: dict[Path, str] = {}
    for message in record.messages:
        head, sep, _ = message.partition(": " + MARKER)
        if sep:  # "<image path>: ignoring corrupt image/label: <reason>"
            seen.setdefault(Path(head), message)
    return list(seen.items())
