"""A sick training stops early and says why: NaN/infinite losses (an overflowing loss gain)
and a data loader that hangs (stall_minutes made small)."""

from __future__ import annotations

import subprocess
import textwrap
import time
from pathlib import Path

from tests.support.training_run import (
    FAST_ARGS,
    SageMakerRun,
    child_env,
    run_train,
    sagemaker_layout,
    train_command,
)
from yolo_pipeline.contract import FAILURE_NAN_LOSS, FAILURE_STALL
from yolo_pipeline.notifier.fixes import likely_fixes

# Imported in the child through PYTHONPATH: once Ultralytics' dataset module is loaded,
# every image load after the first HANG_AFTER sleeps (a hung loader or file system).
HANG = textwrap.dedent(
    """
    import os, sys, threading, time

    def _patch():
        after = int(os.environ["HANG_AFTER"])
        while "ultralytics.data.base" not in sys.modules:
            time.sleep(0.01)
        base = sys.modules["ultralytics.data.base"]
        while not hasattr(base, "BaseDataset"):
            time.sleep(0.01)
        original, seen = base.BaseDataset.load_image, [0]

        def load_image(self, i, *args, **kwargs):
            seen[0] += 1
            if seen[0] > after:
                time.sleep(3600)
            return original(self, i, *args, **kwargs)

        base.BaseDataset.load_image = load_image

    threading.Thread(target=_patch, daemon=True).start()
    """
)


def _reason(run: SageMakerRun) -> str:
    assert run.returncode == 1, run.log[-3000:]
    reason = run.failure.read_text(encoding="utf-8")
    assert 0 < len(reason) <= 1024 and "\n" not in reason
    return reason


def test_losses_that_overflow_stop_the_run_in_the_first_epoch(tmp_path: Path) -> None:
    # A huge lr0 does not do it (Ultralytics caps it and clips gradients); a box loss gain
    # past float32's range makes every loss infinite from the first batch.
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 5, "box": 1e39})
    run_train(run, timeout=300)
    reason = _reason(run)
    assert reason.startswith(FAILURE_NAN_LOSS)
    assert "lr0" in reason and "amp: false" in reason and "batch" in reason
    assert "best.pt and last.pt" in reason
    assert "Epoch 2/" not in run.log and "2/5" not in run.log.split("Traceback")[0][-2000:]
    fixes = likely_fixes("Failed", "", reason, "ml.g4dn.xlarge", True)
    assert any("checkpoints/" in fix for fix in fixes)


def test_a_hung_data_loader_stops_at_the_stall_limit(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 5, "stall_minutes": 0.5})
    hook = tmp_path / "hang"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HANG, encoding="utf-8")
    env = child_env(run)
    env["PYTHONPATH"] = str(hook) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["HANG_AFTER"] = "90"  # epoch 1 (64 train + 16 val images) finishes, then it hangs
    started = time.monotonic()
    proc = subprocess.run(
        train_command(run), env=env, capture_output=True, text=True, timeout=300, check=False
    )
    elapsed = time.monotonic() - started
    run.returncode, run.log = proc.returncode, proc.stdout + proc.stderr
    reason = _reason(run)
    assert reason.startswith(f"{FAILURE_STALL} 0.5 minutes")
    assert "workers: 0" in reason and "stall_minutes" in reason
    assert elapsed < 240  # not the hour the loader sleeps
    assert (run.checkpoints / "run" / "weights" / "last.pt").exists()  # kept
