"""``yolo-pipeline local``: the whole pipeline on this machine, with the production code.

1/5 Validate       the launcher's validator (and, on errors, the rejection email it would send)
2/5 Request        the CreateTrainingJob request the launcher would send
3/5 Train          a SageMaker folder layout in the workdir and the training image's entrypoint
                   in a subprocess, its log streamed; model/ is then tarred like SageMaker does
4/5 Email          the notifier's renderer, fed records built from this run
5/5 Serve          the trained model served by the inference image's server on localhost,
                   one validation image predicted over HTTP beside its ground truth

The stages live in ``yolo_pipeline.local``. Exit code (through ``cli.main``): 0 when the model
trained, 1 when validation or training failed, 2 on a usage error, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.dataset.root import dataset_root
from yolo_pipeline.errors import EXIT_OK, JobProblem
from yolo_pipeline.local.placeholders import placeholder_dataset_uri
from yolo_pipeline.local.simulator import simulate_job
from yolo_pipeline.local.stages import (
    banner,
    check_workdir,
    email_stage,
    request_stage,
    serve_stage,
    validate_stage,
)
from yolo_pipeline.upload.overrides import (
    describe_overrides,
    merged_training_yaml,
    parse_overrides,
)


def run_local(
    path: Path,
    *,
    epochs: int | None = None,
    workdir: Path | None = None,
    prefix: str | None = None,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    model: str | None = None,
    serve: bool = True,
    overrides: dict[str, Any] | None = None,
) -> int:
    """The ``local`` command: EXIT_OK when the model trained.

    Raises LocalRunError (usage), DatasetProblem (refused), JobProblem (training failed) or
    KeyboardInterrupt (stopped with Ctrl-C), each after its stage has printed what happened.
    """
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    t0 = clock()
    prefix = prefix or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    dataset = dataset_root(path).resolve()
    placeholder_uri = placeholder_dataset_uri(dataset.name)

    overrides = dict(overrides or {})
    if epochs is not None:
        overrides["epochs"] = epochs
    training_yaml = None
    if overrides:
        local = dataset / TRAINING_YAML
        current = local.read_bytes() if local.is_file() else None
        training_yaml = merged_training_yaml(current, overrides)
        print(f"Overrides for {TRAINING_YAML}: {describe_overrides(overrides)}", file=out)

    banner(1, "Validate (the launcher's checks)", out)
    checked = validate_stage(dataset, prefix, placeholder_uri, out, training_yaml)

    banner(2, "Training-job request (what the launcher would send)", out)
    request, chosen = request_stage(
        dataset, prefix, placeholder_uri, checked, {"model": model}, out
    )

    banner(3, "Train (the training image's entrypoint in a SageMaker folder layout)", out)
    root = check_workdir(workdir or Path("runs") / "local" / request["TrainingJobName"], dataset)
    run = simulate_job(root, dataset, request, chosen, out)

    banner(4, "Email (the notifier's renderer)", out)
    email_stage(root, dataset, request, run, prefix, chosen.warning, out)
    print(f"Wall time: {clock() - t0:.0f} s. Log: {root / 'train.log'}", file=out)
    if run.status == "Stopped":
        raise KeyboardInterrupt
    if run.status != "Completed":
        raise JobProblem(f"training {run.status.lower()}: {run.failure_reason[:200]}")
    if serve:
        banner(5, "Serve (the inference image's server, over HTTP)", out)
        serve_stage(root, dataset, out)
    return EXIT_OK


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "local",
        help="the whole flow offline: validate, show the job request, train on CPU, email",
        description="Run every stage with the production code on this machine: validation, "
        "the CreateTrainingJob request (placeholder image/role/buckets), the training image's "
        "entrypoint in a SageMaker folder layout, and the notifier's email. Exit 0 when the "
        "model trained, 1 when validation or training failed, 2 on a usage error.",
    )
    p.add_argument("path", metavar="PATH", help="local dataset folder (or its data.yaml)")
    p.add_argument(
        "overrides",
        metavar="key=value",
        nargs="*",
        help="training overrides, as Ultralytics takes them (imgsz=160 batch=8)",
    )
    p.add_argument(
        "--epochs", type=int_in_range(1), help="override epochs, at least 1 (training.yaml or 100)"
    )
    p.add_argument("--workdir", help="SageMaker root for the run (default runs/local/<job>)")
    p.add_argument(
        "--model",
        help="starting model (overrides training.yaml's model:): any .pt of yours on this "
        "machine (path/to/best.pt, loaded weights-only), a .pt in $YOLO_WEIGHTS_DIR (default "
        "training_image/weights/) or a built-in architecture such as yolo11n-seg.yaml; a "
        "missing pretrained .pt falls back to its architecture, with a warning",
    )
    p.add_argument(
        "--no-serve",
        dest="serve",
        action="store_false",
        help="stop after the email (skip serving the model and predicting one image)",
    )
    p.set_defaults(handler=run_local_command, overrides_dest="overrides")


def run_local_command(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).expanduser() if args.workdir else None
    return run_local(
        Path(args.path).expanduser(),
        epochs=args.epochs,
        workdir=workdir,
        model=args.model,
        overrides=parse_overrides(args.overrides),
        serve=args.serve,
    )
