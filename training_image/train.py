#!/usr/bin/env python3
"""SageMaker training entrypoint: train Ultralytics YOLO on the 'dataset' channel.

    python train.py [train] [--sm-root DIR]      (SageMaker runs `<image> train`)

Contract (docs/architecture.md, "Contracts"), under the SageMaker root (default /opt/ml):
  input/config/hyperparameters.json   Ultralytics train arguments, values as YAML-scalar strings
  input/data/dataset/data.yaml        the uploaded dataset (read-only in FastFile mode)
  checkpoints/run/                    the Ultralytics run folder: synced to S3, resumed after spot
  model/                              best.pt, last.pt, results.csv, args.yaml, plots, metrics.json,
                                      exports; tarred to S3 on success
  output/failure                      one paragraph on any error (SageMaker's FailureReason)

Nothing here downloads (the job may run under network isolation) and nothing from the upload is
executed: data.yaml is parsed by yolo_pipeline.dataset.data_yaml and rewritten with known keys only.
Ultralytics has no multi-node mode, so a job uses one instance (with all its GPUs via DDP).

The logic lives in the installed package yolo_pipeline.container (the image pip-installs it; a
checkout has it through `make setup`'s editable install): entry, layout, inputs, dataset_scan,
offline, trainer, outputs, errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

from yolo_pipeline.container.entry import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], code=Path(__file__).resolve().parent))
