"""The Ultralytics training call: device choice, resume from checkpoints/, atomic checkpoint
saves, one metric line per epoch, and SIGTERM stopping at a safe point."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from yolo_pipeline.container import gpu
from yolo_pipeline.container import results as results_file
from yolo_pipeline.container import weights as safe_weights
from yolo_pipeline.container.errors import Terminated
from yolo_pipeline.container.layout import RUN_NAME, Layout
from yolo_pipeline.container.offline import resolve_model, weights_dir
from yolo_pipeline.container.watchdog import (
    NAN_REASON,
    TrainingSick,
    is_ultralytics_nan_stop,
    watchdog_for,
)
from yolo_pipeline.training.hyperparameters import CONTAINER_KEYS
from yolo_pipeline.training.metric_line import format_metric_line, from_ultralytics

log = logging.getLogger(__name__)


def select_device(values: Mapping[str, Any]) -> Any:
    """All GPUs of the instance (DDP when several), unless the user chose."""
    if values.get("device") not in (None, ""):
        return values["device"]
    import torch  # heavy: only where the device is chosen

    available = torch.cuda.is_available()
    gpu.require_usable_gpus(available, torch.version.cuda, gpu.host_has_nvidia_driver())
    count = torch.cuda.device_count() if available else 0
    if count > 1:
        return list(range(count))
    return 0 if count == 1 else "cpu"


def checkpoint_state(last: Path) -> tuple[str, int]:
    """('resumable'|'finished'|'corrupt', saved epoch index) for a last.pt (weights-only load)."""
    return safe_weights.checkpoint_state(last)


def _atomic_save_model(self: Any) -> Any:
    """save_model writing last.pt/best.pt to temp files then renaming: a kill never leaves half."""
    last, best = self.last, self.best
    tmp_last, tmp_best = last.with_suffix(".pt.tmp"), best.with_suffix(".pt.tmp")
    self.last, self.best = tmp_last, tmp_best
    try:
        parent: Any = type(self).__mro__[1]
        saved = parent.save_model(self)
    finally:
        self.last, self.best = last, best
    for tmp, final in ((tmp_last, last), (tmp_best, best)):
        if tmp.exists():
            tmp.replace(final)
    return saved


class StopFlag:
    """SIGTERM handling: raise at once outside training; inside, stop at the next safe point."""

    def __init__(self) -> None:
        self.requested = False
        self.in_training = False

    def handler(self, signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        log.warning("Received signal %s: stopping at the next safe point", signum)
        if not self.in_training:
            raise Terminated(f"signal {signum}")

    def check(self, _trainer: Any = None) -> None:
        if self.requested:
            raise Terminated("SIGTERM")


def metric_callbacks(
    stop: StopFlag, captured: dict[str, Any] | None = None, task: str = "detect"
) -> dict[str, Callable[[Any], None]]:
    """Ultralytics callbacks: one metric line per finished epoch, SIGTERM safe points, and
    (into ``captured``) the final validation of best.pt that final_eval runs at the end."""
    pending = {"epoch": False}

    def on_train_epoch_end(_trainer: Any) -> None:
        pending["epoch"] = True

    def on_fit_epoch_end(trainer: Any) -> None:
        # final_eval calls this again for best.pt without a training epoch: no line for it.
        if pending["epoch"]:
            pending["epoch"] = False
            values = {
                **trainer.label_loss_items(trainer.tloss, prefix="train"),
                **trainer.metrics,
                **trainer.lr,
            }
            print(format_metric_line(trainer.epoch + 1, from_ultralytics(values)), flush=True)
        elif captured is not None:  # final_eval just validated best.pt
            captured["final"] = results_file.capture_final_validation(trainer, task)
        stop.check()  # after save_model: last.pt holds this epoch

    return {
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_train_batch_end": stop.check,  # between batches: last.pt holds the previous epoch
        "on_train_epoch_start": stop.check,
    }


@dataclass
class TrainOutcome:
    resumed_from_epoch: int | None  # 1-based epoch the run continued after, or None
    final_metrics: dict[str, float]  # validation of best.pt at the end, our metric names
    already_finished: bool = False
    final_validation: dict[str, Any] | None = None  # results.capture_final_validation


FINISHED = -1  # prepare_resume's answer for a run that needs packaging, not training


def prepare_resume(layout: Layout) -> int | None:
    """What checkpoints/ holds: the 1-based epoch to resume after, None to train from scratch
    (a corrupt last.pt is kept aside), or FINISHED."""
    last = layout.run_dir / "weights" / "last.pt"
    for leftover in (layout.run_dir / "weights").glob("*.pt.tmp"):
        leftover.unlink()  # a save that a kill interrupted; the real file is intact
    # Ultralytics' strip_optimizer later loads best.pt/last.pt unsafely: nothing planted stays.
    for aside in safe_weights.set_aside_unsafe(layout.run_dir / "weights"):
        log.warning("Checkpoint %s does not load safely (weights_only): set aside", aside)
    if not last.exists():
        return None
    state, epoch = checkpoint_state(last)
    if state == "finished":
        log.info("Checkpoint %s is a finished run: packaging it instead of training", last)
        return FINISHED
    if state == "corrupt":
        aside = last.with_name(f"last.corrupt-{int(time.time())}.pt")
        log.warning("Checkpoint %s is unreadable; kept as %s, training from scratch", last, aside)
        last.rename(aside)
        return None
    log.info("Resuming from %s (epoch %d finished)", last, epoch + 1)
    print(f"Resuming from {last} after epoch {epoch + 1}", flush=True)
    return epoch + 1


def train(
    layout: Layout, values: Mapping[str, Any], data_yaml: Path, stop: StopFlag
) -> TrainOutcome:
    """Train (or resume) into checkpoints/run; SIGTERM raises Terminated at a safe point."""
    from ultralytics import YOLO  # after safe loading is on (entry.run)

    train_args = {k: v for k, v in values.items() if k not in CONTAINER_KEYS}
    if train_args.get("distill_model"):  # a baked teacher only (the launcher checked it)
        train_args["distill_model"] = str(
            weights_dir(layout.code) / str(train_args["distill_model"])
        )
    train_args.update(
        data=str(data_yaml),
        project=str(layout.checkpoints),
        name=RUN_NAME,
        exist_ok=True,
        device=select_device(values),
    )
    log.info("Devices: %s", train_args["device"])
    resumed = prepare_resume(layout)
    if resumed == FINISHED:
        return TrainOutcome(None, {}, already_finished=True)
    last = layout.run_dir / "weights" / "last.pt"
    model = YOLO(str(last) if resumed is not None else resolve_model(layout, values))
    captured: dict[str, Any] = {}
    task = str(values.get("task") or "detect")
    for event, callback in metric_callbacks(stop, captured, task).items():
        model.add_callback(event, callback)
    base = model._smart_load("trainer")
    trainer_cls = type(f"Atomic{base.__name__}", (base,), {"save_model": _atomic_save_model})
    watchdog = watchdog_for(values, layout.failure)  # NaN losses and stalls stop the run
    for event, callback in watchdog.callbacks().items():
        model.add_callback(event, callback)
    stop.in_training = True
    watchdog.start()
    try:
        if resumed is not None:
            model.train(
                resume=True, data=str(data_yaml), device=train_args["device"], trainer=trainer_cls
            )
        else:
            model.train(trainer=trainer_cls, **train_args)
    except RuntimeError as exc:
        if is_ultralytics_nan_stop(exc):
            raise TrainingSick(NAN_REASON) from exc
        raise
    finally:
        watchdog.stop()
        stop.in_training = False
    final = from_ultralytics(getattr(model.trainer, "metrics", None) or {})
    return TrainOutcome(resumed, final, final_validation=captured.get("final"))
