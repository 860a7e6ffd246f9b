"""SageMaker's /opt/ml contract on this machine: the folder layout, the container, the archive.

The container runs as SageMaker runs the image's entrypoint, in a subprocess with the job's
environment: ``python -m yolo_pipeline.container train --sm-root ROOT``. Ctrl-C is a
StopTrainingJob: SIGTERM, then SIGKILL after SageMaker's grace period.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.contract import CHANNEL_WEIGHTS
from yolo_pipeline.launcher.job_request import CHANNEL
from yolo_pipeline.local.model import LocalModel, local_weights_dir
from yolo_pipeline.local.placeholders import placeholder_job_arn
from yolo_pipeline.local.records import RunRecord

CONTAINER_MODULE = "yolo_pipeline.container"  # what the image's train.py runs
STOP_GRACE_SECONDS = 120  # SageMaker: SIGTERM, then SIGKILL 120 s later
STOPPED = -signal.SIGTERM
# The folders a run owns inside the workdir; nothing else there is ever removed.
_RUN_FOLDERS = ("input", "model", "output", "checkpoints")


def container_command(root: Path) -> list[str]:
    return [sys.executable, "-m", CONTAINER_MODULE, "train", "--sm-root", str(root)]


def layout_sagemaker_root(
    root: Path, dataset: Path, request: dict[str, Any], run: RunRecord
) -> None:
    """input/config/*.json and input/data/<channel>/ as SageMaker writes them."""
    for folder in _RUN_FOLDERS:
        target = root / folder
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # a previous local run: stale checkpoints would "resume"
        elif target.exists():
            target.unlink()
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps(request["HyperParameters"], indent=2), encoding="utf-8"
    )
    channel = request["InputDataConfig"][0]
    (config / "inputdataconfig.json").write_text(
        json.dumps({CHANNEL: {"TrainingInputMode": channel["InputMode"]}}), encoding="utf-8"
    )
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}), encoding="utf-8"
    )
    for folder in ("model", "output", "checkpoints"):
        (root / folder).mkdir()
    run.enter("Downloading", "Copying the dataset into input/data/ (SageMaker: from S3)")
    run.started = run.phases[-1].start
    # A copy, as in File mode: Ultralytics writes labels.cache next to the labels, and the
    # user's folder must stay untouched.
    shutil.copytree(
        dataset,
        root / "input" / "data" / CHANNEL,
        ignore=shutil.ignore_patterns(".*", "*.cache"),
    )


def place_weights(root: Path, chosen: LocalModel) -> None:
    """The job's weights channel, from the local weights folder."""
    if chosen.weights_file is not None:
        channel = root / "input" / "data" / CHANNEL_WEIGHTS
        channel.mkdir(parents=True)
        shutil.copy2(chosen.weights_file, channel / chosen.weights_file.name)


def run_container(
    root: Path, request: dict[str, Any], run: RunRecord, out: TextIO, log_path: Path
) -> int:
    """The container in a subprocess with the job's environment; streams and keeps its log."""
    run.enter("Training", "Training the model (the training image's entrypoint)")
    env = {
        # The image's baked weights: this machine's weights folder stands in for them.
        "YOLO_WEIGHTS_DIR": str(local_weights_dir()),
        **os.environ,
        **request.get("Environment", {}),
        "TRAINING_JOB_NAME": request["TrainingJobName"],
        "TRAINING_JOB_ARN": placeholder_job_arn(request["TrainingJobName"]),
    }
    command = container_command(root)
    print("$ " + " ".join(command), file=out, flush=True)
    with (
        log_path.open("w", encoding="utf-8") as log_file,
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        ) as proc,
    ):
        assert proc.stdout is not None  # PIPE above
        try:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                log_file.write(line)
                run.log.append(line.rstrip("\n"))
            return proc.wait()
        except KeyboardInterrupt:
            # Like StopTrainingJob: SIGTERM, a grace period, then SIGKILL.
            run.enter("Stopping", "Stopping the job (Ctrl-C)")
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return STOPPED


def package_model(root: Path, run: RunRecord) -> None:
    """model/ -> output/model.tar.gz, as SageMaker uploads it."""
    run.enter("Uploading", "Packaging model/ into output/model.tar.gz (SageMaker: to S3)")
    artefact = root / "output" / "model.tar.gz"
    with tarfile.open(artefact, "w:gz") as tar:
        for item in sorted((root / "model").iterdir()):
            tar.add(item, arcname=item.name)
    run.artefact = artefact


def simulate_job(
    root: Path, dataset: Path, request: dict[str, Any], chosen: LocalModel, out: TextIO
) -> RunRecord:
    """One training job from Starting to a terminal state, recorded as SageMaker would."""
    root.mkdir(parents=True, exist_ok=True)
    print(f"SageMaker root: {root}", file=out)
    run = RunRecord()
    run.enter("Starting", "Preparing the SageMaker folder layout")
    layout_sagemaker_root(root, dataset, request, run)
    place_weights(root, chosen)
    code = run_container(root, request, run, out, root / "train.log")
    failure_file = root / "output" / "failure"
    if code == 0:
        package_model(root, run)
        run.finish("Completed", "Training job completed")
    elif code == STOPPED:
        run.finish("Stopped", "Training job stopped (Ctrl-C)")
    else:
        run.failure_reason = (
            failure_file.read_text(encoding="utf-8", errors="replace")[:1024].strip()
            if failure_file.is_file()
            else f"the container exited with code {code} without writing output/failure"
        )
        run.finish("Failed", run.failure_reason[:200])
    return run
