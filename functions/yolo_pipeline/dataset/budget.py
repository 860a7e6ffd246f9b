"""What one dataset check may cost: bytes read, label rows parsed, and time.

The launcher gives every check a budget from the Lambda's remaining time, so a dataset too
costly to check is answered ("upload it as a zip", "split the label files") instead of
timing out with no answer. The CLI checks without a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from yolo_pipeline.findings import Finding, error

# Defaults sized for the launcher's memory and 900 s timeout (benchmarks/validate_scale.py).
MAX_LABEL_BYTES = 1024**3
MAX_LABEL_ROWS = 20_000_000
# Images resolved over all splits, repeats included (Ultralytics trains a listed image once
# per listing): bounds a list or overlapping folders that name the same images many times.
MAX_SPLIT_IMAGES = 5_000_000


@dataclass(frozen=True)
class CheckBudget:
    max_label_bytes: int = MAX_LABEL_BYTES
    max_label_rows: int = MAX_LABEL_ROWS
    max_split_images: int = MAX_SPLIT_IMAGES
    deadline: float | None = None  # a time.monotonic() value; None: no time limit
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def within(
        cls,
        seconds: float,
        max_label_bytes: int = MAX_LABEL_BYTES,
        max_label_rows: int = MAX_LABEL_ROWS,
    ) -> CheckBudget:
        """A budget that ends ``seconds`` from now."""
        return cls(max_label_bytes, max_label_rows, deadline=time.monotonic() + max(seconds, 0.0))

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def expired(self) -> bool:
        left = self.seconds_left()
        return left is not None and left <= 0


def too_costly(what: str, in_zip: bool, deadline: bool = False) -> Finding:
    """The one finding for a dataset the budget stopped: what ran out, and what to do.

    Out of time, a folder is best re-sent as a zip (its labels are then read in a few large
    ranges, not one request each); a zip, or a dataset over the byte or row bounds, is too
    large for one check and is split. A local check (``yolo-pipeline validate``) has no budget.
    """
    if deadline and not in_zip:
        hint = "upload the dataset as one .zip: its label files are then read in a few large reads"
    else:
        hint = (
            "split the label files across smaller datasets (or remove repeated rows); "
            "`yolo-pipeline validate` checks it locally without this bound"
        )
    return error(
        "labels",
        f"the dataset is too costly to check in the launcher: {what}",
        hint=hint,
    )


def too_many_images(limit: int, file: str = "data.yaml") -> Finding:
    """Split lists and folders that resolve to more images than one check may pair."""
    return error(
        file,
        f"the splits name more than {limit:,} images, repeats included: the dataset is too "
        "costly to check in the launcher",
        hint="use fewer list entries: name each image or folder once (a folder and its "
        "subfolders count its images once per entry)",
    )
