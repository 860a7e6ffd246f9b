"""The "training finished" email: a pure renderer, no AWS calls.

``render_job_email(detail, described, region=...)`` takes the state-change event's
``detail`` and a DescribeTrainingJob-shaped dict (from boto3, or built by local mode from a
local run) and answers the reader's questions in order: did it work, how good is the
model, how long and how much, where is the model, and, if it failed, why and what to do.
Every field is optional: failed jobs lack metrics, artefacts and billable time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yolo_pipeline.aws.email import (
    Email,
    body_text,
    subject_line,
    training_job_console_url,
    training_job_logs_url,
)
from yolo_pipeline.contract import CHANNEL_DATASET, TAG_DATASET_NAME, TAG_DATASET_URI, ZIP_SUFFIX
from yolo_pipeline.notifier import email_sections as sections
from yolo_pipeline.notifier.job_results import JobResults
from yolo_pipeline.notifier.pricing import (
    PRICE_REGION,
    approximate_cost,
    hourly_price,
    spot_savings,
)
from yolo_pipeline.notifier.registry import RegistryOutcome
from yolo_pipeline.notifier.sagemaker_event import as_datetime, normalise_tags
from yolo_pipeline.text import clean, duration_text, finite_number, quote
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


def merged_job(detail: Mapping[str, Any], described: Mapping[str, Any] | None) -> dict[str, Any]:
    """DescribeTrainingJob values over the event's (fresher, and the only source of metrics)."""
    job: dict[str, Any] = dict(detail)
    for key, value in (described or {}).items():
        if value not in (None, "", [], {}):
            job[key] = value
    tags = normalise_tags(detail.get("Tags"))
    tags.update(normalise_tags((described or {}).get("Tags")))
    job["Tags"] = tags
    return job


def dataset_uri(job: Mapping[str, Any]) -> str:
    """The dataset's S3 URI: the job's own ``dataset`` input channel (what it really read),
    else the launcher's tag (tag values stop at 256 characters, S3 keys do not)."""
    channels = job.get("InputDataConfig")
    if isinstance(channels, list):
        named = [c for c in channels if _dig(c, "ChannelName") == CHANNEL_DATASET]
        for channel in named or channels:
            uri = _dig(channel, "DataSource", "S3DataSource", "S3Uri")
            if isinstance(uri, str) and uri:
                return uri
    return normalise_tags(job.get("Tags")).get(TAG_DATASET_URI, "")


def dataset_name(uri: str, job_name: str, job: Mapping[str, Any] | None = None) -> str:
    """The launcher's name for the dataset (its ``yolo:dataset-name`` tag: ``team/set`` for a
    nested folder), else the URI's last component, a zip's without ``.zip``
    (``s3://b/datasets/cats/`` and ``s3://b/datasets/cats.zip`` -> ``cats``)."""
    tagged = normalise_tags((job or {}).get("Tags")).get(TAG_DATASET_NAME, "")
    if tagged:
        return tagged
    path = uri.split("://", 1)[-1].rstrip("/")
    name = path.rsplit("/", 1)[-1] if "/" in path else ""
    if name.lower().endswith(ZIP_SUFFIX) and len(name) > len(ZIP_SUFFIX):
        name = name[: -len(ZIP_SUFFIX)]
    return name or job_name or "dataset"


def final_metrics(job: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    items = job.get("FinalMetricDataList")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        name, value = item.get("MetricName"), item.get("Value")
        if isinstance(name, str) and isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)  # inf and nan are kept: the table prints them as such
    return out


def phase_durations(job: Mapping[str, Any]) -> list[tuple[str, float | None]]:
    """(secondary status, seconds) per transition, in order; the open last one ends at
    TrainingEndTime. Repeats stay separate so a spot interruption is visible."""
    transitions = job.get("SecondaryStatusTransitions")
    end_of_job = as_datetime(job.get("TrainingEndTime"))
    rows: list[tuple[str, float | None]] = []
    for item in transitions if isinstance(transitions, list) else []:
        if not isinstance(item, Mapping) or not item.get("Status"):
            continue
        start = as_datetime(item.get("StartTime"))
        end = as_datetime(item.get("EndTime")) or end_of_job
        seconds = (end - start).total_seconds() if start and end and end >= start else None
        rows.append((str(item["Status"]), seconds))
    # The terminal marker (Completed/Failed/Stopped...) has no length worth showing.
    while rows and rows[-1][0] in _TERMINAL_SECONDARY and not rows[-1][1]:
        rows.pop()
    return rows


_TERMINAL_SECONDARY = frozenset(
    {"Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded"}
)


def uses_spot(job: Mapping[str, Any]) -> bool:
    """EnableManagedSpotTraining (DescribeTrainingJob); the event lacks it, but only spot
    jobs may set StoppingCondition.MaxWaitTimeInSeconds."""
    flag = job.get("EnableManagedSpotTraining")
    if isinstance(flag, bool):
        return flag
    return _dig(job, "StoppingCondition", "MaxWaitTimeInSeconds") is not None


def likely_fixes(
    status: str, secondary_status: str, failure_reason: str, instance_type: str, spot: bool
) -> list[str]:
    """Advice for the common causes, matched on the failure reason; empty when completed."""
    if status == "Completed":
        return []
    reason = failure_reason.lower()
    fixes: list[str] = []
    kind = instance_type or "the instance type"
    if "resourcelimitexceeded" in reason or "quota" in reason or "service limit" in reason:
        usage = "spot training job usage" if spot else "training job usage"
        fixes.append(
            f"Quota: your account may not run {kind} (new accounts often have a quota of 0"
            f" for GPU types). In Service Quotas > Amazon SageMaker, request an increase of"
            f" '{kind} for {usage}', or pick another allowed instance type."
        )
    if re.search(r"cuda out of memory|outofmemoryerror|cuda error: out of memory", reason):
        fixes.append(
            "GPU out of memory: lower batch (e.g. halve it) or imgsz in training.yaml,"
            " or choose an instance type with a bigger GPU."
        )
    elif re.search(r"exit code:? ?137|killed|memoryerror|oom", reason):
        fixes.append(
            "The container ran out of RAM: set cache: false and fewer workers in"
            " training.yaml, or choose an instance type with more memory."
        )
    if re.search(r"data\.yaml|dataset|no labels|images not found|label", reason):
        fixes.append(
            "Dataset problem: run `yolo-pipeline validate <dataset URI>` and fix what it"
            " reports, then upload data.yaml (or the zip) again to start a new job."
        )
    if secondary_status == "MaxRuntimeExceeded" or "maxruntimeexceeded" in reason:
        fixes.append(
            "Max runtime: raise the limit (sagemaker.max_runtime_hours in training.yaml, or"
            " the MaxRuntimeHours stack parameter) or lower epochs, then upload data.yaml"
            " (or the zip) again."
        )
    if secondary_status == "MaxWaitTimeExceeded" or "maxwaittimeexceeded" in reason:
        fixes.append(
            "Spot capacity: try again later, allow a longer wait, or turn spot off"
            " (USE_SPOT=false) for this instance type."
        )
    if re.search(r"insufficientcapacity|capacityerror|insufficient capacity", reason):
        fixes.append(f"No capacity for {kind} right now: try again later or another type.")
    if "accessdenied" in reason or "not authorized" in reason:
        fixes.append(
            "Permissions: the SageMaker execution role cannot read the dataset or write the"
            " output; redeploy the stack or check the bucket policy."
        )
    if status == "Stopped" and not secondary_status.startswith("Max"):
        fixes.append(
            "Someone stopped the job. Upload data.yaml (or the zip) again to start a new job."
        )
    fixes.append("Full details: the CloudWatch logs linked below (the end of the log).")
    return fixes


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
    instance_type = str(_dig(job, "ResourceConfig", "InstanceType") or "")
    count = _int(_dig(job, "ResourceConfig", "InstanceCount")) or 1
    spot = uses_spot(job)

    suffix = ""
    headline = headline_metric(task_of(job.get("HyperParameters")))  # the task's (issue 12)
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
    if fixes:
        lines += ["", "What to do:", *(f"  - {fix}" for fix in fixes)]

    lines += ["", *_metrics_section(what.status, metrics, job)]
    if what.status == "Completed":
        task = task_of(job.get("HyperParameters"))
        lines += _completed_sections(metrics, task, results, results_note, registry, registry_note)
    lines += ["", *_time_and_cost_section(job, instance_type, count, spot)]
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
) -> list[str]:
    best = _int(metrics.get(BEST_EPOCH_METRIC))
    run = _int(metrics.get(EPOCH_METRIC))
    lines = sections.best_epoch_lines(results, best, run)
    compared = sections.comparison_lines(
        metrics, task, registry.previous if registry else None, registry
    )
    lines += ["", *compared] if compared else []
    lines += ["", *sections.per_class_lines(results, results_note)]
    registered = sections.registry_lines(registry, registry_note)
    lines += ["", *registered] if registered else []
    return lines


def _metrics_section(
    status: str, metrics: Mapping[str, float], job: Mapping[str, Any]
) -> list[str]:
    title = "Final metrics (validation set):" if status == "Completed" else "Last metrics:"
    epochs_run = metrics.get(EPOCH_METRIC)
    planned = _int(_dig(job, "HyperParameters", "epochs"))
    run = _int(epochs_run)
    if run is not None:
        epochs = f"{run}" + (f" of {planned} planned" if planned else "")
    else:
        epochs = "not reported" + (f" ({planned} planned)" if planned else "")
    table = quality_names(task_of(job.get("HyperParameters")))  # the task's (issue 12)
    if not any(metric in metrics for _, metric in table):
        return [f"{title} none reported.", f"Epochs run: {epochs}"]
    width = max(10, *(len(label) for label, _ in table))
    rows = [
        f"  {label:<{width}} " + (f"{metrics[metric]:.3f}" if metric in metrics else "-")
        for label, metric in table
    ]
    return [title, *rows, f"Epochs run: {epochs}"]


def _time_and_cost_section(
    job: Mapping[str, Any], instance_type: str, count: int, spot: bool
) -> list[str]:
    lines = ["Time per phase:"]
    phases = phase_durations(job)
    lines += [f"  {status:<24} {duration_text(sec)}" for status, sec in phases] or [
        "  (no phase timings reported)"
    ]
    created = as_datetime(job.get("CreationTime"))
    ended = as_datetime(job.get("TrainingEndTime")) or as_datetime(job.get("LastModifiedTime"))
    if created and ended and ended >= created:
        lines.append(f"  {'Total (created to end)':<24} {duration_text(_seconds(created, ended))}")

    training = finite_number(job.get("TrainingTimeInSeconds"))
    billable = finite_number(job.get("BillableTimeInSeconds"))
    lines += ["", "Cost:"]
    where = f"{instance_type or 'unknown instance type'} x {count}"
    lines.append(f"  Instance:          {where} ({'managed spot' if spot else 'on-demand'})")
    lines.append(f"  Training time:     {_seconds_text(training)}")
    lines.append(f"  Billable time:     {_seconds_text(billable)}")
    if spot:
        saved = spot_savings(billable, training)
        lines.append(
            f"  Spot savings:      {saved:.0%} (1 - billable / training time)"
            if saved is not None
            else "  Spot savings:      not known (times not reported)"
        )
    price = hourly_price(instance_type)
    cost = approximate_cost(instance_type, billable, count) if billable is not None else None
    if cost is not None and price is not None:
        lines.append(
            f"  Approximate cost:  ${cost:.2f} = billable hours x ${price:.3f}/h x {count}"
        )
        lines.append(
            f"                     (approximate: {PRICE_REGION} on-demand list price,"
            " excluding storage and data transfer)"
        )
    elif price is None:
        lines.append(f"  Approximate cost:  unknown (no price for {where} in our table)")
    else:
        lines.append("  Approximate cost:  unknown (no billable time reported)")
    return lines


def _model_section(status: str, job: Mapping[str, Any]) -> list[str]:
    artefact = _dig(job, "ModelArtifacts", "S3ModelArtifacts")
    checkpoints = _dig(job, "CheckpointConfig", "S3Uri")
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


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _int(value: Any) -> int | None:
    number = finite_number(value)
    return int(number) if number is not None and number >= 0 else None


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def _seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "not reported"
    return f"{round(seconds):,} s ({duration_text(seconds)})"
