"""(c) A SIGKILL mid-run (a lost spot instance) and a rerun on the same checkpoints/ resumes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.support.training_run import (
    FAST_ARGS,
    child_env,
    run_train,
    sagemaker_layout,
    train_command,
)
from yolo_pipeline.training.metric_line import parse_metric_lines

EPOCHS = 5


def test_c_resumes_after_sigkill(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": EPOCHS})
    log_file = tmp_path / "first.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            train_command(run), env=child_env(run), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 300
            # Wait until epoch 2 has been checkpointed (its metric line follows the save).
            while time.monotonic() < deadline and proc.poll() is None:
                rows = parse_metric_lines(log_file.read_text())
                if rows and rows[-1]["epoch"] >= 2:
                    break
                time.sleep(0.2)
            assert proc.poll() is None, "training ended before it could be killed"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
    first = parse_metric_lines(log_file.read_text())
    killed_after = int(first[-1]["epoch"])
    assert 2 <= killed_after < EPOCHS
    assert (run.checkpoints / "run" / "weights" / "last.pt").exists()
    assert not run.model.exists() or not any(run.model.iterdir())

    run_train(run)
    assert run.returncode == 0, run.log[-4000:]
    assert re.search(r"Resuming from \S+last\.pt", run.log)
    # the last line is best.pt's final validation (it carries best_epoch), not an epoch
    epochs = [int(r["epoch"]) for r in parse_metric_lines(run.log) if "best_epoch" not in r]
    # continues after the last checkpointed epoch instead of starting over
    assert epochs == list(range(epochs[0], EPOCHS + 1))
    assert killed_after <= epochs[0] <= killed_after + 1
    metrics = json.loads((run.model / "metrics.json").read_text())
    assert metrics["epochs_run"] == EPOCHS
    assert metrics["resumed_after_epoch"] == epochs[0] - 1


def test_sigterm_stops_promptly_and_keeps_a_resumable_checkpoint(tmp_path: Path) -> None:
    import torch

    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 20})
    log_file = tmp_path / "run.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            train_command(run), env=child_env(run), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                if parse_metric_lines(log_file.read_text()):
                    break
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            returncode = proc.wait(timeout=60)
            stopped_in = time.monotonic() - sent
        finally:
            proc.kill()
            proc.wait()
    assert returncode == 1
    assert stopped_in < 30  # SageMaker sends SIGKILL 120 s after SIGTERM
    assert "SIGTERM" in run.failure.read_text()
    last = torch.load(
        run.checkpoints / "run" / "weights" / "last.pt", map_location="cpu", weights_only=False
    )
    assert last["optimizer"] is not None and last["epoch"] >= 0  # resumable, not stripped
    assert not list((run.checkpoints / "run" / "weights").glob("*.tmp"))
