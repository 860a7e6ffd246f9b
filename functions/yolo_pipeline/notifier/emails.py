"""The "training finished" email: a pure renderer, no AWS calls.

``render_job_email(detail, described, region=...)`` takes the state-change event's
``detail`` and a DescribeTrainingJob-shaped dict (from boto3, or built by local mode from a
local run) and answers the reader's questions in order: did it work, how good is the
model, how long and how much, where is the model, and, if it failed, why and what to do.
Every field is optional: failed jobs lack metrics, artefacts and billable time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from yolo_pipeline.aws.email import (
    Email,
    body_text,
    subject_line,
    training_job_console_url,
    training_job_logs_url,
)
from yolo_pipeline.notifier import email_sections as sections
from yolo_pipeline.notifier.fixes import likely_fixes, weak_result_advice
from yolo_pipeline.notifier.job_facts import (
    dataset_name,
    dataset_uri,
    dig,
    final_metrics,
    merged_job,
    uses_spot,
    whole_number,
)
from yolo_pipeline.notifier.job_results import JobResults
from yolo_pipeline.notifier.registry import RegistryOutcome
from yolo_pipeline.notifier.time_and_cost import time_and_cost_lines
from yolo_pipeline.text import clean, quote
from yolo_pipeline.text import lines as text_lines
from yolo_pipeline.training.metric_line import (
    headline_label,
    headline_metric,
    quality_names,
    task_of,
)

# (label in the email, metric name from yolo_pipeline.training.metric_line.METRIC_NAMES)
METRIC_TABLE: tuple[tuple[str, str], ...] = (
    ("mAP50-95", "val:mAP50-95"),
    ("mAP50", "val:mAP50"),
    ("precision", "val:precision"),
    ("recall", "val:recall"),
)
EPOCH_METRIC = "epoch"  # 1-based, so its last value is the number of epochs run
BEST_EPOCH_METRIC = "best_epoch"  # on the last metric line only (best.pt's final validation)


@dataclass(frozen=True)
class Outcome:
    status: str  # Completed | Failed | Stopped (the filterable message attribute)
    label: str  # short, for the subject
    sentence: str  # one line for the body


def outcome(status: str, secondary_status: str) -> Outcome:
    """What happened, in words; MaxRuntimeExceeded and MaxWaitTimeExceeded are spelled out."""
    if status == "Completed":
        return Outcome(status, "Completed", "Completed: the model trained and was saved.")
    if status == "Failed":
        return Outcome(status, "Failed", "Failed: the job stopped with an error (reason below).")
    if status == "Stopped" and secondary_status == "MaxRuntimeExceeded":
        return Outcome(
            status,
            "Stopped (max runtime)",
            "Stopped: hit the maximum runtime (MaxRuntimeExceeded).",
        )
    if status == "Stopped" and secondary_status == "MaxWaitTimeExceeded":
        return Outcome(
            status,
            "Stopped (spot wait)",
            "Stopped: spot capacity did not arrive within the maximum wait time"
            " (MaxWaitTimeExceeded).",
        )
    if status == "Stopped":
        return Outcome(status, "Stopped", "Stopped: the job was stopped (StopTrainingJob).")
    return Outcome(status or "Unknown", status or "Unknown", f"Status: {status or 'unknown'}.")


def render_job_email(
    detail: Mapping[str, Any],
    described: Mapping[str, Any] | None,
    *,
    region: str,
    prefix: str = "yolo",
    results: JobResults | None = None,
    results_note: str = "",
    registry: RegistryOutcome | None = None,
    registry_note: str = "",
) -> Email:
    """The email for a finished training job (see the module docstring).

    ``results`` (metrics.json) adds the per-class table and the best epoch; ``registry``
    the package and the comparison with the dataset's previous model. Without them the
    email says why, from DescribeTrainingJob's figures alone.
    """
    job = merged_job(detail, described)
    job_name = str(job.get("TrainingJobName") or "")
    what = outcome(str(job.get("TrainingJobStatus") or ""), str(job.get("SecondaryStatus") or ""))
    uri = dataset_uri(job)
    name = dataset_name(uri, job_name, job)
    metrics = final_metrics(job)
    if results is not None and what.status == "Completed":
        metrics.update(results.final)  # best.pt's final validation, unrounded
        if results.epochs_run:
            metrics[EPOCH_METRIC] = float(results.epochs_run)
        if results.best_epoch:
            metrics[BEST_EPOCH_METRIC] = float(results.best_epoch)
    failure_reason = str(job.get("FailureReason") or "")[:4096].strip()
    instance_type = str(dig(job, "ResourceConfig", "InstanceType") or "")
    count = whole_number(dig(job, "ResourceConfig", "InstanceCount")) or 1
    spot = uses_spot(job)

    suffix = ""
    headline = headline_metric(task_of(job.get("HyperParameters")))  # the task's
    if what.status == "Completed" and headline in metrics:
        suffix = f"{headline_label(headline)} {metrics[headline]:.3f}"
    subject = subject_line(prefix, what.label, name, suffix)

    lines: list[str] = [
        f"Training job for dataset {quote(name, 100)}: {what.label}.",
        "",
        f"Dataset:  {clean(uri, 1200) if uri else '(unknown: the job has no dataset channel)'}",
        f"Job:      {clean(job_name, 100)}",
        f"Status:   {what.sentence}",
    ]
    if failure_reason:
        lines += ["", "Failure reason (verbatim from SageMaker):", *_indent(failure_reason)]
    fixes = likely_fixes(
        what.status, str(job.get("SecondaryStatus") or ""), failure_reason, instance_type, spot
    )
    fixes += weak_result_advice(
        what.status, metrics.get(headline), job.get("HyperParameters") or {}
    )
    if fixes:
        title = "What to do:" if what.status != "Completed" else "Why the score may be near zero:"
        lines += ["", title, *(f"  - {fix}" for fix in fixes)]

    lines += ["", *_metrics_section(what.status, metrics, job)]
    if what.status == "Completed":
        task = task_of(job.get("HyperParameters"))
        lines += _completed_sections(
            metrics, task, results, results_note, registry, registry_note, name
        )
    lines += ["", *time_and_cost_lines(job, instance_type, count, spot)]
    lines += ["", *_model_section(what.status, job)]
    lines += [
        "",
        "Links:",
        f"  Console: {training_job_console_url(region, job_name)}",
        f"  Logs:    {training_job_logs_url(region, job_name)}",
        "",
        f"-- {prefix} training pipeline (yolo-on-upload)",
    ]
    attributes = {"status": what.status, "dataset": name, "job": job_name}
    return Email(subject=subject, body=body_text(lines), attributes=attributes)


def _completed_sections(
    metrics: Mapping[str, float],
    task: str,
    results: JobResults | None,
    results_note: str,
    registry: RegistryOutcome | None,
    registry_note: str,
    dataset: str = "",
) -> list[str]:
    best = whole_number(metrics.get(BEST_EPOCH_METRIC))
    run = whole_number(metrics.get(EPOCH_METRIC))
    lines = sections.best_epoch_lines(results, best, run)
    compared = sections.comparison_lines(
        metrics, task, registry.previous if registry else None, registry
    )
    lines += ["", *compared] if compared else []
    lines += ["", *sections.per_class_lines(results, results_note)]
    registered = sections.registry_lines(registry, registry_note, dataset)
    lines += ["", *registered] if registered else []
    return lines


def _metrics_section(
    status: str, metrics: Mapping[str, float], job: Mapping[str, Any]
) -> list[str]:
    title = "Final metrics (validation set):" if status == "Completed" else "Last metrics:"
    epochs_run = metrics.get(EPOCH_METRIC)
    planned = whole_number(dig(job, "HyperParameters", "epochs"))
    run = whole_number(epochs_run)
    if run is not None:
        epochs = f"{run}" + (f" of {planned} planned" if planned else "")
    else:
        epochs = "not reported" + (f" ({planned} planned)" if planned else "")
    table = quality_names(task_of(job.get("HyperParameters")))  # the task's
    if not any(metric in metrics for _, metric in table):
        return [f"{title} none reported.", f"Epochs run: {epochs}"]
    width = max(10, *(len(label) for label, _ in table))
    rows = [
        f"  {label:<{width}} " + (f"{metrics[metric]:.3f}" if metric in metrics else "-")
        for label, metric in table
    ]
    return [title, *rows, f"Epochs run: {epochs}"]


def _model_section(status: str, job: Mapping[str, Any]) -> list[str]:
    artefact = dig(job, "ModelArtifacts", "S3ModelArtifacts")
    checkpoints = dig(job, "CheckpointConfig", "S3Uri")
    lines: list[str] = []
    if isinstance(artefact, str) and artefact and status != "Failed":
        note = "" if status == "Completed" else " (whatever was saved before the stop)"
        lines += [f"Model{note}:", f"  {artefact}"]
        if artefact.startswith("s3://"):
            job_name = str(job.get("TrainingJobName") or "")
            if job_name:  # fetch and unpack safely, with progress
                lines += ["  Download and unpack it:", f"    yolo-pipeline download {job_name}"]
            lines += ["  Or with the AWS CLI:", f"    aws s3 cp {artefact} ."]
            if artefact.endswith(".tar.gz"):
                lines.append(f"    tar -xzf {artefact.rsplit('/', 1)[-1]}")
        elif artefact.endswith(".tar.gz"):  # a local run (yolo-pipeline local): already here
            lines += ["  Unpack it:", f"    tar -xzf {artefact}"]
    else:
        lines.append("Model: none (the job did not produce one).")
    if status != "Completed" and isinstance(checkpoints, str) and checkpoints:
        lines.append(f"Checkpoints saved before the end (last.pt): {checkpoints}")
    return lines


def _indent(text: str) -> Iterable[str]:
    """Event text, indented under its heading: bounded, one inert line per line."""
    return (f"  {line}" for line in text_lines(text, 40, 1100) or [""])
