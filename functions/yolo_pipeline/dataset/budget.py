"""What one dataset check may cost: bytes read, label rows parsed, and time.

The launcher gives every check a budget from the Lambda's remaining time, so a dataset too
costly to check is answered ("upload it as a zip", "split the label files") instead of
timing out with no answer. The CLI checks without a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Defaults sized for the launcher's memory and 900 s timeout (benchmarks/validate_scale.py).
MAX_LABEL_BYTES = 1024**3
MAX_LABEL_ROWS = 20_000_000


@dataclass(frozen=True)
class CheckBudget:
    max_label_bytes: int = MAX_LABEL_BYTES
    max_label_rows: int = MAX_LABEL_ROWS
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
        return cls(max_label_bytes, max_label_rows, time.monotonic() + max(seconds, 0.0))

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def expired(self) -> bool:
        left = self.seconds_left()
        return left is not None and left <= 0
