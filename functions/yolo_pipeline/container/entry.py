"""The container's main: arguments, logging, SIGTERM, and one failure path for every error.

    python training_image/train.py [train] [--sm-root DIR]      (SageMaker runs `<image> train`)

Exit 0 when model/ is complete; otherwise output/failure holds one paragraph and the exit is 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yolo_pipeline.container import (
    channel_check,
    dataset_scan,
    inputs,
    label_scan,
    offline,
    outputs,
    task_data,
)
from yolo_pipeline.container import results as results_file
from yolo_pipeline.container import weights as safe_weights
from yolo_pipeline.container.errors import Terminated
from yolo_pipeline.container.layout import Layout
from yolo_pipeline.container.trainer import StopFlag, train
from yolo_pipeline.training.metric_line import format_metric_line

EXIT_OK, EXIT_FAILED = 0, 1
DESCRIPTION = "SageMaker training entrypoint: train Ultralytics YOLO on the 'dataset' channel."
LOG_FORMAT = "%(asctime)s %(levelname)s train: %(message)s"
SAGEMAKER_CODE_DIR = Path("/opt/ml/code")  # where the image puts train.py and the weights

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("mode", nargs="?", default="train", choices=["train"])
    parser.add_argument("--sm-root", type=Path, default=Path("/opt/ml"))
    return parser.parse_args(argv)


def run(layout: Layout, stop: StopFlag) -> dict[str, Any]:
    """Inputs, dataset scan, offline setup, training, model/: the metrics.json content."""
    values = inputs.read_hyperparameters(layout)
    channel_check.verify_channel(layout.channel, os.environ)  # what was validated, or stop
    root = inputs.dataset_channel(layout).resolve()
    data_yaml, config, scan = task_data.prepare(root, values)
    channel_check.recheck_dataset(root)  # after the scan's own messages for empty splits
    # Before anything imports Ultralytics (it reads the flag once); the steps above are pure.
    safe_weights.enable_safe_load()
    offline.setup_offline_environment()
    offline.point_ultralytics_at_baked_weights(layout.code)
    dataset_scan.log_scan(scan)
    record = label_scan.ScanRecord()  # what Ultralytics' own label scan drops
    label_scan.install(record)
    outcome = train(layout, values, data_yaml, stop)
    scan.corrupt = dataset_scan.corrupt_from_scan(root, record)
    dataset_scan.log_corrupt(scan)
    metrics = outputs.package(layout, values, outcome, config, scan)
    # The LAST metric line is best.pt's final validation, so SageMaker's FinalMetricDataList
    # (the last value of each metric) reports the model the user gets.
    final_line = results_file.final_metric_values(metrics)
    print(format_metric_line(metrics["epochs_run"], final_line), flush=True)
    print(f"Best epoch: {metrics['best_epoch']} of {metrics['epochs_run']} run", flush=True)
    print("YOLO_FINAL " + json.dumps(metrics["final"]), flush=True)
    log.info("Done: model/ holds %s", ", ".join(sorted(p.name for p in layout.model.iterdir())))
    return metrics


def fail(layout: Layout, exc: BaseException) -> int:
    """output/failure, the traceback on stderr, one log line: the job fails with a reason."""
    if isinstance(exc, SystemExit | KeyboardInterrupt) and not isinstance(exc, Terminated):
        outputs.write_failure(layout, RuntimeError(f"interrupted ({type(exc).__name__})"))
    else:
        outputs.write_failure(layout, exc)
    traceback.print_exc(file=sys.stderr)
    log.error("FAILED: %s", outputs.failure_paragraph(exc))
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None, code: Path = SAGEMAKER_CODE_DIR) -> int:
    """Run one training job; ``code`` is train.py's folder (baked weights may live there)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format=LOG_FORMAT)
    layout = Layout(args.sm_root.resolve(), code.resolve())
    stop = StopFlag()
    signal.signal(signal.SIGTERM, stop.handler)
    try:
        run(layout, stop)
    except BaseException as exc:  # every failure must reach output/failure
        return fail(layout, exc)
    return EXIT_OK
