#!/usr/bin/env python3
"""Overhead of train.py over plain `yolo detect train` on the same tiny dataset and arguments.

    .venv/bin/python benchmarks/train_overhead.py [--epochs 5] [--repeats 2]   (after `make setup`)

Both runs train the shapes dataset with the CPU settings of yolo_pipeline.dataset.sample and
no export; each pair alternates the order and the best (minimum) wall time of each side is compared.
Target: ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from yolo_pipeline.dataset.sample import CPU_TRAIN_ARGS, make_shapes_dataset
from yolo_pipeline.training.hyperparameters import encode_hyperparameters

ROOT = Path(__file__).resolve().parents[1]

ARGS = {**CPU_TRAIN_ARGS, "workers": 0}


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ, YOLO_OFFLINE="1", PYTHONUNBUFFERED="1")
    env["YOLO_CONFIG_DIR"] = str(work / "yolo-config")
    env["MPLCONFIGDIR"] = str(work / "mpl")
    return env


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[:3]} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed


def via_train_py(work: Path, dataset: Path, epochs: int) -> float:
    sm = work / f"sm-{time.monotonic_ns()}"
    (sm / "input" / "config").mkdir(parents=True)
    (sm / "input" / "data").mkdir(parents=True)
    (sm / "input" / "data" / "dataset").symlink_to(dataset)
    hyper = encode_hyperparameters({**ARGS, "epochs": epochs})
    (sm / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyper))
    cmd = [sys.executable, str(ROOT / "training_image" / "train.py"), "train", "--sm-root", str(sm)]
    return _timed(cmd, _env(work), work)


def via_plain_yolo(work: Path, dataset: Path, epochs: int) -> float:
    yolo = Path(sys.executable).with_name("yolo")
    project = work / f"plain-{time.monotonic_ns()}"
    args = [f"{k}={v}" for k, v in {**ARGS, "epochs": epochs}.items()]
    cmd = [str(yolo), "detect", "train", f"data={dataset / 'data.yaml'}", f"project={project}"]
    return _timed(cmd + args, _env(work), work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="train-overhead-") as tmp:
        work = Path(tmp)
        dataset = work / "shapes"
        make_shapes_dataset(dataset)
        ours: list[float] = []
        plain: list[float] = []
        for i in range(opts.repeats):
            order = [(ours, via_train_py), (plain, via_plain_yolo)]
            for times, fn in order if i % 2 == 0 else order[::-1]:
                times.append(fn(work, dataset, opts.epochs))
        print(f"epochs={opts.epochs} repeats={opts.repeats}")
        print("train.py     : " + ", ".join(f"{t:.1f}s" for t in ours))
        print("yolo train   : " + ", ".join(f"{t:.1f}s" for t in plain))
        ratio = min(ours) / min(plain)
        print(f"ratio (best train.py / best yolo train) = {ratio:.3f}  (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
