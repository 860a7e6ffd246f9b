"""A sick training stops early and says why: losses that are NaN or infinite, or no epoch
finished within ``stall_minutes`` (training.yaml; a hung data loader or file system).

NaN: Ultralytics itself ends a run whose losses stay NaN for several epochs ("NaN
persisted"); the batch callback here stops at the first batches whose running loss is not
finite, and the same reason is given for Ultralytics' own stop. Stall: a daemon timer,
reset at every finished epoch, sends this process SIGUSR1 at the limit; the handler raises
in the main thread, which interrupts a blocking wait (a hung loader's sleep, lock or
queue). If nothing returns within a grace period (a hang inside C code), the timer writes
the failure itself and ends the process. best.pt and last.pt stay in checkpoints/ (the
last finished epoch), which SageMaker keeps in S3.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from yolo_pipeline.container.errors import UserError
from yolo_pipeline.contract import FAILURE_NAN_LOSS, FAILURE_STALL
from yolo_pipeline.training.hyperparameters import CONTAINER_KEYS

DEFAULT_STALL_MINUTES = CONTAINER_KEYS["stall_minutes"]
NAN_BATCHES = 3  # consecutive batches with a non-finite running loss before we stop
GRACE_SECONDS = 60.0  # after the signal, before the process is ended without Python's help
KEPT = (
    "best.pt and last.pt of the last finished epoch are kept in the job's checkpoints"
    " (checkpoints/<job>/run/weights/ in the bucket)."
)
NAN_REASON = (
    f"{FAILURE_NAN_LOSS}. Try a lower lr0, check the labels (boxes and classes), amp: false,"
    f" or a smaller batch in training.yaml. {KEPT}"
)


class TrainingSick(UserError):
    """The watchdog stopped the run; the message is the FailureReason."""


def stall_reason(minutes: float) -> str:
    return (
        f"{FAILURE_STALL} {minutes:g} minutes (stall_minutes): the data loader or the file"
        " system may hang. Try workers: 0, cache: false, input mode File instead of"
        f" FastFile, or raise stall_minutes in training.yaml for very large epochs. {KEPT}"
    )


def losses_finite(loss: Any) -> bool:
    """Whether a running loss (a tensor, a number, or a dict or sequence of them: the
    trainer's ``tloss`` is either, depending on the task) is all finite."""
    if loss is None:
        return True
    if isinstance(loss, Mapping):
        return all(losses_finite(v) for v in loss.values())
    if isinstance(loss, list | tuple):
        return all(losses_finite(v) for v in loss)
    if hasattr(loss, "detach"):  # a torch tensor (the training image has torch)
        return bool(loss.detach().isfinite().all())
    try:
        return math.isfinite(float(loss))
    except (TypeError, ValueError):
        return True  # not a number we can judge: Ultralytics' own check still applies


def is_ultralytics_nan_stop(exc: BaseException) -> bool:
    """Ultralytics' own end of a run whose losses stayed NaN."""
    return "nan persisted" in str(exc).lower()


class Watchdog:
    """Ultralytics callbacks plus the stall timer; ``start`` before training, ``stop`` after."""

    def __init__(
        self,
        stall_minutes: float,
        *,
        on_give_up: Callable[[str], None],
        grace_seconds: float = GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stall_seconds = stall_minutes * 60.0
        self.stall_minutes = stall_minutes
        self.on_give_up = on_give_up  # writes output/failure and ends the process
        self.grace_seconds = grace_seconds
        self.clock = clock
        self.last_progress = clock()
        self.bad_batches = 0
        self.stalled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: Any = None

    def callbacks(self) -> dict[str, Callable[[Any], None]]:
        return {
            "on_train_batch_end": self.on_batch_end,
            "on_train_epoch_end": self.on_epoch_end,
        }

    def on_batch_end(self, trainer: Any) -> None:
        if losses_finite(getattr(trainer, "tloss", None)):
            self.bad_batches = 0
            return
        self.bad_batches += 1
        if self.bad_batches >= NAN_BATCHES:
            raise TrainingSick(NAN_REASON)

    def on_epoch_end(self, _trainer: Any) -> None:
        self.last_progress = self.clock()

    def start(self) -> None:
        if self.stall_seconds <= 0:
            return
        self.last_progress = self.clock()
        self._previous = signal.signal(signal.SIGUSR1, self._on_signal)
        self._thread = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            signal.signal(signal.SIGUSR1, self._previous or signal.SIG_DFL)
            self._thread = None

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        raise TrainingSick(stall_reason(self.stall_minutes))

    def _watch(self) -> None:
        poll = min(5.0, max(self.stall_seconds / 10, 0.05))
        while not self._stop.wait(poll):
            if self.clock() - self.last_progress < self.stall_seconds:
                continue
            self.stalled = True
            os.kill(os.getpid(), signal.SIGUSR1)
            if not self._stop.wait(self.grace_seconds):
                self.on_give_up(stall_reason(self.stall_minutes))
            return


def give_up_writing(failure: Path) -> Callable[[str], None]:
    """The last resort of a stall that Python cannot interrupt: the reason, then exit 1."""

    def give_up(reason: str) -> None:
        try:
            failure.parent.mkdir(parents=True, exist_ok=True)
            failure.write_text(reason, encoding="utf-8")
        finally:
            os._exit(1)

    return give_up


def watchdog_for(values: Mapping[str, Any], failure: Path) -> Watchdog:
    raw = values.get("stall_minutes", DEFAULT_STALL_MINUTES)
    minutes = float(raw) if isinstance(raw, int | float) and raw > 0 else DEFAULT_STALL_MINUTES
    return Watchdog(minutes, on_give_up=give_up_writing(failure))
