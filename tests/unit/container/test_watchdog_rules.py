"""The watchdog's pure parts: which losses count as sick, and the reasons it gives."""

from __future__ import annotations

import math

import pytest

from yolo_pipeline.container.watchdog import (
    NAN_BATCHES,
    TrainingSick,
    Watchdog,
    is_ultralytics_nan_stop,
    losses_finite,
    stall_reason,
)
from yolo_pipeline.contract import FAILURE_NAN_LOSS, FAILURE_STALL


def test_losses_finite_reads_numbers_sequences_and_dicts() -> None:
    assert losses_finite(None) and losses_finite(1.5) and losses_finite([1.0, 2.0])
    assert not losses_finite(math.inf) and not losses_finite({"box": 1.0, "cls": math.nan})
    assert not losses_finite((1.0, -math.inf))


def test_a_few_bad_batches_in_a_row_stop_the_run() -> None:
    class Trainer:
        tloss: object = math.nan

    dog = Watchdog(10, on_give_up=lambda reason: None)
    for _ in range(NAN_BATCHES - 1):
        dog.on_batch_end(Trainer())
    with pytest.raises(TrainingSick) as caught:
        dog.on_batch_end(Trainer())
    assert str(caught.value).startswith(FAILURE_NAN_LOSS)


def test_one_good_batch_resets_the_count() -> None:
    class Trainer:
        tloss: object = math.nan

    dog, bad, good = Watchdog(10, on_give_up=lambda reason: None), Trainer(), Trainer()
    good.tloss = 1.0
    for _ in range(5):
        dog.on_batch_end(bad)
        dog.on_batch_end(good)
    assert dog.bad_batches == 0


def test_reasons() -> None:
    assert stall_reason(30).startswith(f"{FAILURE_STALL} 30 minutes")
    assert is_ultralytics_nan_stop(RuntimeError("Training failed: NaN persisted for 4 epochs"))
    assert not is_ultralytics_nan_stop(RuntimeError("CUDA out of memory"))
