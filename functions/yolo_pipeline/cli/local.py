"""``yolo-pipeline local``: the whole pipeline on this machine, with the production code.

1/4 Validate       the launcher's validator (and, on errors, the rejection email it would send)
2/4 Request        the CreateTrainingJob request the launcher would send (placeholder image,
                   role and buckets), built by the same function, training.yaml included
3/4 Train          a SageMaker folder layout in the workdir and ``training_image/train.py`` in a
                   subprocess, its log streamed; model/ is then tarred like SageMaker does
4/4 Email          the notifier's renderer, fed a state-change event and a DescribeTrainingJob-
                   shaped record built from this run (final metrics scraped from the log with
                   the job's own MetricDefinitions format, measured phase timings)

Exit code: 0 when the model trained, 1 when validation or training failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.cli.local_model import LocalModel, choose_local_model, local_weights_dir
from yolo_pipeline.contract import CHANNEL_WEIGHTS, TAG_DATASET_URI, TRAINING_YAML
from yolo_pipeline.dataset.root import DatasetRootError, dataset_root
from yolo_pipeline.errors import EXIT_USAGE
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.job_request import (
    CHANNEL,
    PLACEHOLDER_CHECKPOINT_S3_URI,
    PLACEHOLDER_IMAGE_URI,
    PLACEHOLDER_OUTPUT_S3_URI,
    PLACEHOLDER_ROLE_ARN,
    build_training_job_request,
)
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.training.config import parse_training_config
from yolo_pipeline.training.metric_line import parse_metric_lines

REPO_ROOT = Path(__file__).resolve().parents[3]  # cli -> yolo_pipeline -> functions -> the checkout
TRAIN_SCRIPT = REPO_ROOT / "training_image" / "train.py"
PLACEHOLDER_BUCKET = "your-dataset-bucket"
PLACEHOLDER_ACCOUNT = "123456789012"
STOP_GRACE_SECONDS = 120  # SageMaker: SIGTERM, then SIGKILL 120 s later
# The folders this command owns inside the workdir; nothing else there is ever removed.
_RUN_FOLDERS = ("input", "model", "output", "checkpoints")


class LocalRunError(Exception):
    """A usage problem (paths); the message says what to do."""


@dataclass
class Phase:
    status: str
    message: str
    start: datetime
    end: datetime | None = None


@dataclass
class RunRecord:
    """What happened in stage 3, in the terms DescribeTrainingJob uses."""

    status: str = "InProgress"
    secondary: str = "Starting"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: datetime | None = None
    ended: datetime | None = None
    phases: list[Phase] = field(default_factory=list)
    failure_reason: str = ""
    log: list[str] = field(default_factory=list)
    artefact: Path | None = None

    def enter(self, status: str, message: str) -> None:
        now = datetime.now(UTC)
        if self.phases and self.phases[-1].end is None:
            self.phases[-1].end = now
        self.phases.append(Phase(status, message, now))
        self.secondary = status


SAMPLE_MARKER = "# written by yolo-pipeline sample-dataset"
SAMPLE_EPOCHS = 30  # mAP50 ~0.99 on the shapes sample; 15 epochs stop just after the jump


def sample_training_yaml() -> str:
    """The sample's training.yaml: settings that learn on 2 CPU cores in about a minute
    (``sample_data.CPU_TRAIN_ARGS``); on SageMaker the same settings train on a GPU."""
    import yaml

    from yolo_pipeline.dataset.sample import CPU_TRAIN_ARGS  # numpy/Pillow: only when asked

    train_args = yaml.safe_dump({**CPU_TRAIN_ARGS, "epochs": SAMPLE_EPOCHS}, sort_keys=False)
    return (
        f"{SAMPLE_MARKER}\n"
        "# Ultralytics train arguments (any key of ultralytics/cfg/default.yaml); see README.\n"
        f"{train_args}"
        "# Where and how SageMaker runs it (the stack's defaults apply to anything left out).\n"
        "sagemaker:\n"
        "  instance_type: ml.g4dn.xlarge\n"
        "  spot: true\n"
        "  max_runtime_hours: 1\n"
    )


def write_sample_dataset(root: Path, n_train: int, n_val: int, imgsz: int, seed: int) -> Path:
    """The synthetic shapes dataset plus a CPU-friendly training.yaml; returns the folder.

    Refuses a non-empty folder that this command did not write (never overwrite user data).
    """
    from yolo_pipeline.dataset.sample import make_shapes_dataset

    marker = root / TRAINING_YAML
    ours = marker.is_file() and marker.read_text(encoding="utf-8").startswith(SAMPLE_MARKER)
    if root.exists() and (not root.is_dir() or (any(root.iterdir()) and not ours)):
        raise LocalRunError(f"{root} exists and is not an earlier sample: choose a new folder")
    if ours:  # regenerate from scratch so different --train/--val leave no stale images
        for folder in ("images", "labels"):
            shutil.rmtree(root / folder, ignore_errors=True)
    make_shapes_dataset(root, n_train=n_train, n_val=n_val, imgsz=imgsz, seed=seed)
    marker.write_text(sample_training_yaml(), encoding="utf-8")
    return root


def banner(step: int, title: str, out: TextIO) -> None:
    line = f"== {step}/4 {title} "
    print(f"\n{line}{'=' * max(0, 78 - len(line))}", file=out, flush=True)


def placeholder_settings(prefix: str) -> LauncherSettings:
    return LauncherSettings(
        training_image_uri=PLACEHOLDER_IMAGE_URI,
        sagemaker_role_arn=PLACEHOLDER_ROLE_ARN,
        notification_topic_arn=f"arn:aws:sns:us-east-1:{PLACEHOLDER_ACCOUNT}:yolo-notifications",
        idempotency_table="yolo-idempotency",
        job_name_prefix=prefix,
        output_s3_uri=PLACEHOLDER_OUTPUT_S3_URI,
        checkpoint_s3_uri=PLACEHOLDER_CHECKPOINT_S3_URI,
    )


def check_workdir(workdir: Path, dataset: Path) -> Path:
    """The workdir must not overlap the dataset: we clear our folders in it."""
    workdir = workdir.expanduser().resolve()
    if workdir == dataset or dataset in workdir.parents or workdir in dataset.parents:
        raise LocalRunError(
            f"--workdir {workdir} overlaps the dataset folder {dataset}: choose a separate "
            "folder (the run writes and clears input/, model/, output/ and checkpoints/ there)"
        )
    return workdir


def final_metric_list(log_text: str, when: datetime) -> list[dict[str, Any]]:
    """FinalMetricDataList as SageMaker builds it: the last logged value of each metric."""
    last: dict[str, float] = {}
    for row in parse_metric_lines(log_text):
        last.update(row)
    return [{"MetricName": k, "Value": v, "Timestamp": when} for k, v in last.items()]


def _ms(value: datetime | None) -> str | None:
    return None if value is None else str(int(value.timestamp() * 1000))


def _s3_source(channel: dict[str, Any]) -> dict[str, Any]:
    return dict(channel.get("DataSource", {}).get("S3DataSource", {}))


def job_records(
    request: dict[str, Any], run: RunRecord, dataset_label: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(EventBridge ``detail``, DescribeTrainingJob-shaped dict) for the finished local run."""
    name = request["TrainingJobName"]
    arn = f"arn:aws:sagemaker:us-east-1:{PLACEHOLDER_ACCOUNT}:training-job/{name}"
    ended = run.ended or datetime.now(UTC)
    training_seconds = round((ended - (run.started or run.created)).total_seconds())
    artefacts = {"S3ModelArtifacts": str(run.artefact)} if run.artefact else {}
    tags = [t for t in request.get("Tags", []) if t["Key"] != TAG_DATASET_URI]
    tags.append({"Key": TAG_DATASET_URI, "Value": dataset_label})  # where it really came from
    detail: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": arn,
        "TrainingJobStatus": run.status,
        "SecondaryStatus": run.secondary,
        "CreationTime": _ms(run.created),
        "TrainingStartTime": _ms(run.started),
        "TrainingEndTime": _ms(ended),
        "LastModifiedTime": _ms(ended),
        "HyperParameters": request["HyperParameters"],
        "ResourceConfig": request["ResourceConfig"],
        "ModelArtifacts": artefacts,
        "Tags": {t["Key"]: t["Value"] for t in tags},
    }
    if run.failure_reason:
        detail["FailureReason"] = run.failure_reason
    described: dict[str, Any] = {
        **{k: v for k, v in request.items() if k not in {"Tags", "Environment"}},
        # The notifier names the dataset from the input channel: the local folder here.
        "InputDataConfig": [
            {**c, "DataSource": {"S3DataSource": {**_s3_source(c), "S3Uri": dataset_label}}}
            for c in request["InputDataConfig"]
        ],
        "TrainingJobArn": arn,
        "TrainingJobStatus": run.status,
        "SecondaryStatus": run.secondary,
        "CreationTime": run.created,
        "TrainingStartTime": run.started,
        "TrainingEndTime": ended,
        "LastModifiedTime": ended,
        "SecondaryStatusTransitions": [
            {
                "Status": p.status,
                "StartTime": p.start,
                **({"EndTime": p.end} if p.end else {}),
                "StatusMessage": p.message,
            }
            for p in run.phases
        ],
        "FinalMetricDataList": final_metric_list("\n".join(run.log), ended),
        "TrainingTimeInSeconds": training_seconds,
        # This machine is neither spot nor billed: billable = training time, no savings.
        "BillableTimeInSeconds": training_seconds,
        "EnableManagedSpotTraining": False,
        "ModelArtifacts": artefacts,
        "Tags": tags,
    }
    if run.failure_reason:
        described["FailureReason"] = run.failure_reason
    return detail, described


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


def run_training(
    root: Path, request: dict[str, Any], run: RunRecord, out: TextIO, log_path: Path
) -> int:
    """train.py in a subprocess with the job's environment; streams and keeps its log."""
    run.enter("Training", "Training the model (training_image/train.py)")
    env = {
        **os.environ,
        **request.get("Environment", {}),
        "TRAINING_JOB_NAME": request["TrainingJobName"],
        "TRAINING_JOB_ARN": (
            f"arn:aws:sagemaker:us-east-1:{PLACEHOLDER_ACCOUNT}:training-job/"
            f"{request['TrainingJobName']}"
        ),
    }
    command = [sys.executable, str(TRAIN_SCRIPT), "train", "--sm-root", str(root)]
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
            return -signal.SIGTERM


def package_model(root: Path, run: RunRecord) -> None:
    """model/ -> output/model.tar.gz, as SageMaker uploads it."""
    run.enter("Uploading", "Packaging model/ into output/model.tar.gz (SageMaker: to S3)")
    artefact = root / "output" / "model.tar.gz"
    with tarfile.open(artefact, "w:gz") as tar:
        for item in sorted((root / "model").iterdir()):
            tar.add(item, arcname=item.name)
    run.artefact = artefact


LOCAL_REGISTRY_NOTE = (
    "none in a local run (a deployed stack registers every Completed model in the\n"
    "  dataset's SageMaker model package group, pending your approval)"
)


def local_results(root: Path) -> tuple[Any, str]:
    """metrics.json from output/data/ (what SageMaker would upload as output.tar.gz)."""
    from yolo_pipeline.notifier.job_results import parse_job_results

    path = root / "output" / "data" / "metrics.json"
    try:
        results = parse_job_results(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        return None, f"{path} could not be read ({type(exc).__name__})"
    return results, "" if results else f"{path} is not a JSON object"


def _finish(run: RunRecord, status: str, secondary: str, message: str) -> None:
    run.enter(secondary, message)
    run.phases[-1].end = run.phases[-1].start
    run.status, run.secondary = status, secondary
    run.ended = run.phases[-1].start


@dataclass
class _Checked:
    """What stage 1 found: the validator's report and the parsed training.yaml."""

    report: Any
    config: Any
    settings: LauncherSettings


def _validate_stage(
    dataset: Path, prefix: str, placeholder_uri: str, out: TextIO
) -> _Checked | None:
    from yolo_pipeline.dataset.validation import validate_location
    from yolo_pipeline.launcher.emails import render_rejection

    report = validate_location(str(dataset))
    print(report.render_text(), file=out)
    settings = placeholder_settings(prefix)
    training_yaml = dataset / TRAINING_YAML
    config = parse_training_config(
        training_yaml.read_bytes() if training_yaml.is_file() else None, settings.sagemaker_defaults
    )
    for finding in [*config.errors, *config.warnings]:
        print(f"  {finding.severity}: {finding}", file=out)
    if report.valid and not config.errors:
        return _Checked(report, config, settings)
    email = render_rejection(
        prefix=prefix,
        dataset_uri=placeholder_uri,
        errors=[*report.errors, *config.errors],
        warnings=[*report.warnings, *config.warnings],
    )
    print("\nThe launcher would start no job and send this email instead:\n", file=out)
    print(f"Subject: {email.subject}\n\n{email.body}", file=out)
    return None


def _request_stage(
    dataset: Path,
    prefix: str,
    placeholder_uri: str,
    checked: _Checked,
    overrides: dict[str, Any],
    out: TextIO,
) -> tuple[dict[str, Any], LocalModel] | None:
    """The launcher's request, with this machine's model choice (cli/local_model.py)."""
    train_args = dict(checked.config.train_args)
    if overrides.get("epochs") is not None:
        train_args["epochs"] = overrides["epochs"]
    task = checked.report.stats.task
    chosen = choose_local_model(
        overrides.get("model") or train_args.get("model"), task, local_weights_dir()
    )
    if chosen.problem:
        print(f"error: {chosen.problem}", file=out)
        return None
    if chosen.warning:
        print(chosen.warning, file=out)
    train_args.update(model=chosen.model, task=task)  # as the launcher sends them
    md5 = hashlib.md5((dataset / "data.yaml").read_bytes(), usedforsecurity=False).hexdigest()
    settings = checked.settings
    request = build_training_job_request(
        job_name=job_name(prefix, dataset.name, hashlib.sha256(md5.encode()).hexdigest()),
        dataset_uri=placeholder_uri,
        image_uri=settings.training_image_uri,
        role_arn=settings.sagemaker_role_arn,
        output_s3_uri=settings.output_s3_uri,
        checkpoint_s3_uri=settings.checkpoint_s3_uri,
        options=checked.config.sagemaker,
        train_args=train_args,
        data_yaml_etag=md5,
        pipeline_name=settings.pipeline_name,
    )
    print(
        "sagemaker.create_training_job(**request) with placeholder image, role and buckets:",
        file=out,
    )
    print(json.dumps(request, indent=2, default=str), file=out)
    return request, chosen


def _train_stage(
    root: Path, dataset: Path, request: dict[str, Any], chosen: LocalModel, out: TextIO
) -> RunRecord:
    root.mkdir(parents=True, exist_ok=True)
    print(f"SageMaker root: {root}", file=out)
    run = RunRecord()
    run.enter("Starting", "Preparing the SageMaker folder layout")
    layout_sagemaker_root(root, dataset, request, run)
    if chosen.weights_file is not None:  # the job's weights channel, from the local folder
        channel = root / "input" / "data" / CHANNEL_WEIGHTS
        channel.mkdir(parents=True)
        shutil.copy2(chosen.weights_file, channel / chosen.weights_file.name)
    code = run_training(root, request, run, out, root / "train.log")
    failure_file = root / "output" / "failure"
    if code == 0:
        package_model(root, run)
        _finish(run, "Completed", "Completed", "Training job completed")
    elif code == -signal.SIGTERM:
        _finish(run, "Stopped", "Stopped", "Training job stopped (Ctrl-C)")
    else:
        run.failure_reason = (
            failure_file.read_text(encoding="utf-8", errors="replace")[:1024].strip()
            if failure_file.is_file()
            else f"train.py exited with code {code} without writing output/failure"
        )
        _finish(run, "Failed", "Failed", run.failure_reason[:200])
    return run


def _email_stage(
    root: Path,
    dataset: Path,
    request: dict[str, Any],
    run: RunRecord,
    prefix: str,
    warning: str,
    out: TextIO,
) -> None:
    from yolo_pipeline.notifier.emails import render_job_email

    detail, described = job_records(request, run, str(dataset))
    results, note = local_results(root)  # the notifier's extras, as far as a local run has them
    email = render_job_email(
        detail,
        described,
        region="us-east-1",
        prefix=prefix,
        results=results,
        results_note=note,
        registry_note=LOCAL_REGISTRY_NOTE,
    )
    body = f"{warning}\n\n{email.body}" if warning else email.body
    (root / "email.txt").write_text(f"Subject: {email.subject}\n\n{body}", encoding="utf-8")
    print(f"Subject: {email.subject}\n", file=out)
    print(body, file=out)
    print(
        "(A local run: the console and log links point at where the real job would be; the "
        "model is the local file above.)",
        file=out,
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
) -> int:
    """The ``local`` command; returns the exit code."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    t0 = clock()
    prefix = prefix or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    try:
        dataset = dataset_root(path).resolve()
    except (LocalRunError, DatasetRootError) as exc:
        print(f"error: {exc}", file=out)
        return EXIT_USAGE
    placeholder_uri = f"s3://{PLACEHOLDER_BUCKET}/datasets/{dataset.name}/"

    banner(1, "Validate (the launcher's checks)", out)
    checked = _validate_stage(dataset, prefix, placeholder_uri, out)
    if checked is None:
        return 1

    banner(2, "Training-job request (what the launcher would send)", out)
    staged = _request_stage(
        dataset, prefix, placeholder_uri, checked, {"epochs": epochs, "model": model}, out
    )
    if staged is None:
        return 1
    request, chosen = staged

    banner(3, "Train (training_image/train.py in a SageMaker folder layout)", out)
    try:
        root = check_workdir(
            workdir or Path("runs") / "local" / request["TrainingJobName"], dataset
        )
    except LocalRunError as exc:
        print(f"error: {exc}", file=out)
        return EXIT_USAGE
    if not TRAIN_SCRIPT.is_file():
        print(f"error: {TRAIN_SCRIPT} not found: run from a full checkout", file=out)
        return EXIT_USAGE
    run = _train_stage(root, dataset, request, chosen, out)

    banner(4, "Email (the notifier's renderer)", out)
    _email_stage(root, dataset, request, run, prefix, chosen.warning, out)
    print(f"Wall time: {clock() - t0:.0f} s. Log: {root / 'train.log'}", file=out)
    if run.status == "Completed":
        return 0
    return 130 if run.status == "Stopped" else 1


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "local",
        help="the whole flow offline: validate, show the job request, train on CPU, email",
        description="Run every stage with the production code on this machine: validation, "
        "the CreateTrainingJob request (placeholder image/role/buckets), training_image/"
        "train.py in a SageMaker folder layout, and the notifier's email. Exit 0 when the "
        "model trained, 1 when validation or training failed, 2 on a usage error.",
    )
    p.add_argument("path", metavar="PATH", help="local dataset folder (or its data.yaml)")
    p.add_argument("--epochs", type=int, help="override epochs (training.yaml or 100)")
    p.add_argument("--workdir", help="SageMaker root for the run (default runs/local/<job>)")
    p.add_argument(
        "--model",
        help="starting model (overrides training.yaml's model:): a .pt in $YOLO_WEIGHTS_DIR "
        "(default training_image/weights/) or a built-in architecture such as yolo11n-seg.yaml;"
        " a missing pretrained .pt falls back to its architecture, with a warning",
    )
    p.set_defaults(handler=run_local_command)


def run_local_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.epochs is not None and args.epochs < 1:
        print("yolo-pipeline local: --epochs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    workdir = Path(args.workdir).expanduser() if args.workdir else None
    return run_local(
        Path(args.path).expanduser(), epochs=args.epochs, workdir=workdir, model=args.model
    )
