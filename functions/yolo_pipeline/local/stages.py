"""The stages of a local run with the production code: validate, request, (train,) email.

Validate: the launcher's validator and, on errors, the rejection email it would send.
Request: the CreateTrainingJob request the launcher would send (placeholder image, role and
buckets), built by the same function, training.yaml included. Email: the notifier's renderer,
fed records built from the run (final metrics scraped from the log with the job's own
MetricDefinitions format, measured phase timings). Training is ``simulator``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.dataset.digest import (
    DigestEntry,
    dataset_digest,
    is_hashed,
    sha256_fingerprint,
)
from yolo_pipeline.dataset.validation.report import Report
from yolo_pipeline.errors import DatasetProblem, JobProblem
from yolo_pipeline.launcher.emails import render_rejection
from yolo_pipeline.launcher.job_name import job_name
from yolo_pipeline.launcher.job_request import build_training_job_request
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.local.errors import LocalRunError
from yolo_pipeline.local.model import LocalModel, choose_local_model, local_weights_dir
from yolo_pipeline.local.placeholders import PLACEHOLDER_REGION, placeholder_settings
from yolo_pipeline.local.records import RunRecord, job_records
from yolo_pipeline.serving import demo_stage
from yolo_pipeline.serving.client import ServerError
from yolo_pipeline.serving.errors import ModelFileError
from yolo_pipeline.training.config import TrainingConfig, parse_training_config

LOCAL_REGISTRY_NOTE = (
    "none in a local run (a deployed stack registers every Completed model in the\n"
    "  dataset's SageMaker model package group, pending your approval)"
)


STAGES = 5


def banner(step: int, title: str, out: TextIO) -> None:
    line = f"== {step}/{STAGES} {title} "
    print(f"\n{line}{'=' * max(0, 78 - len(line))}", file=out, flush=True)


def check_workdir(workdir: Path, dataset: Path) -> Path:
    """The workdir must not overlap the dataset: we clear our folders in it."""
    workdir = workdir.expanduser().resolve()
    if workdir == dataset or dataset in workdir.parents or workdir in dataset.parents:
        raise LocalRunError(
            f"--workdir {workdir} overlaps the dataset folder {dataset}: choose a separate "
            "folder (the run writes and clears input/, model/, output/ and checkpoints/ there)"
        )
    return workdir


@dataclass
class Checked:
    """What validation found: the validator's report and the parsed training.yaml."""

    report: Report
    config: TrainingConfig
    settings: LauncherSettings


def validate_stage(
    dataset: Path,
    prefix: str,
    placeholder_uri: str,
    out: TextIO,
    training_yaml_text: str | None = None,
) -> Checked:
    """The launcher's checks, training.yaml included (``training_yaml_text``: the file with
    the command line's overrides on top); raises DatasetProblem after printing the rejection
    email."""
    # Imported when a run validates: the validator pulls in the image decoders.
    from yolo_pipeline.dataset.validation import validate_location

    report = validate_location(str(dataset))
    settings = placeholder_settings(prefix)
    training_yaml = dataset / TRAINING_YAML
    if training_yaml_text is None and training_yaml.is_file():
        training_yaml_text = training_yaml.read_text(encoding="utf-8", errors="replace")
    config = parse_training_config(training_yaml_text, settings.sagemaker_defaults)
    # One verdict for the dataset and training.yaml together, as the launcher gives it.
    combined = dataclasses.replace(
        report,
        valid=report.valid and not config.errors,
        errors=[*report.errors, *config.errors],
        warnings=[*report.warnings, *config.warnings],
    )
    print(combined.render_text(), file=out)
    if combined.valid:
        return Checked(report, config, settings)
    email = render_rejection(
        prefix=prefix,
        dataset_uri=placeholder_uri,
        errors=[*report.errors, *config.errors],
        warnings=[*report.warnings, *config.warnings],
    )
    print("\nThe launcher would start no job and send this email instead:\n", file=out)
    print(f"Subject: {email.subject}\n\n{email.body}", file=out)
    raise DatasetProblem("the dataset is invalid: the launcher would start no job")


def request_stage(
    dataset: Path,
    prefix: str,
    placeholder_uri: str,
    checked: Checked,
    overrides: dict[str, Any],
    out: TextIO,
) -> tuple[dict[str, Any], LocalModel]:
    """The launcher's request, with this machine's model choice (local.model)."""
    train_args = dict(checked.config.train_args)
    if overrides.get("epochs") is not None:
        train_args["epochs"] = overrides["epochs"]
    task = checked.report.stats.task or "detect"
    chosen = choose_local_model(
        overrides.get("model") or train_args.get("model"), task, local_weights_dir()
    )
    if chosen.problem:
        raise DatasetProblem(chosen.problem)
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
        dataset_digest=upload_digest(dataset),
    )
    print(
        "sagemaker.create_training_job(**request) with placeholder image, role and buckets:",
        file=out,
    )
    print(json.dumps(request, indent=2, default=str), file=out)
    return request, chosen


def local_results(root: Path) -> tuple[Any, str]:
    """metrics.json from output/data/ (what SageMaker would upload as output.tar.gz)."""
    # The notifier's modules load when a run gets this far, not with every CLI command.
    from yolo_pipeline.notifier.job_results import parse_job_results

    path = root / "output" / "data" / "metrics.json"
    try:
        results = parse_job_results(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        return None, f"{path} could not be read ({type(exc).__name__})"
    return results, "" if results else f"{path} is not a JSON object"


def email_stage(
    root: Path,
    dataset: Path,
    request: dict[str, Any],
    run: RunRecord,
    prefix: str,
    warning: str,
    out: TextIO,
) -> None:
    # The notifier's modules load when a run gets this far, not with every CLI command.
    from yolo_pipeline.notifier.emails import render_job_email

    detail, described = job_records(request, run, str(dataset))
    results, note = local_results(root)  # the notifier's extras, as far as a local run has them
    email = render_job_email(
        detail,
        described,
        region=PLACEHOLDER_REGION,
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


def serve_stage(root: Path, dataset: Path, out: TextIO) -> None:
    """The trained model behind the inference image's server, one validation image over
    HTTP, its objects beside the ground truth (serving.demo_stage)."""
    try:
        demo_stage.run(root, dataset, out)
    except ModelFileError as exc:  # nothing to serve or no image to send: say so, go on
        print(f"Not served: {exc}", file=out)
    except ServerError as exc:
        raise JobProblem(f"the trained model did not serve: {exc}") from exc


def upload_digest(dataset: Path) -> str:
    """The pin the launcher would compute for this folder once uploaded: hidden files and
    label caches are never uploaded (nor copied into the job's channel here)."""
    entries = []
    for path in sorted(p for p in dataset.rglob("*") if p.is_file()):
        rel = path.relative_to(dataset).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or rel.endswith(".cache"):
            continue
        content = sha256_fingerprint(path.read_bytes()) if is_hashed(rel) else ""
        entries.append(DigestEntry(rel, path.stat().st_size, content))
    return dataset_digest(entries)
