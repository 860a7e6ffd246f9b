"""What a Completed job's email adds, gathered from AWS: metrics.json from output.tar.gz,
the model's registration, and the dataset's previous model (from the registry).

Nothing here may cost the user the email: each part degrades to a note
(docs/architecture.md, "Completed email").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from yolo_pipeline.aws.observability import MetricUnit, logger, metrics
from yolo_pipeline.notifier.job_facts import dataset_name, dataset_uri, final_metrics, merged_job
from yolo_pipeline.notifier.job_results import (
    JobResults,
    fetch_job_results,
    output_archive_uri,
)
from yolo_pipeline.notifier.registry import (
    RegistryOutcome,
    create_package_request,
    group_name,
    metadata_properties,
    register_model,
)
from yolo_pipeline.notifier.sagemaker_event import as_datetime


def _trained_at(job: Mapping[str, Any]) -> str:
    ended = as_datetime(job.get("TrainingEndTime")) or as_datetime(job.get("LastModifiedTime"))
    return ended.strftime("%Y-%m-%d %H:%M UTC") if ended else ""


def _final_metrics(job: Mapping[str, Any], results: JobResults | None) -> dict[str, float]:
    figures = final_metrics(job)
    if results is not None:
        figures.update(results.final)
    return figures


def registration(
    sagemaker: Any,
    job: Mapping[str, Any],
    results: JobResults | None,
    prefix: str,
    sleep: Callable[[float], None] = time.sleep,
    inference_image: str = "",
) -> RegistryOutcome:
    """Register the job's model in ``<prefix>-<dataset slug>`` (once per job)."""
    job_name = str(job.get("TrainingJobName") or "")
    uri = dataset_uri(job)
    group = group_name(prefix, dataset_name(uri, job_name, job))
    artefacts = job.get("ModelArtifacts")
    model_uri = artefacts.get("S3ModelArtifacts") if isinstance(artefacts, Mapping) else None
    if not isinstance(model_uri, str) or not model_uri.startswith("s3://"):
        return RegistryOutcome(group, error="the job reports no model archive in S3")
    figures = _final_metrics(job, results)
    hyperparameters = job.get("HyperParameters")
    task = (results.task if results else "") or (
        str(hyperparameters.get("task") or "") if isinstance(hyperparameters, Mapping) else ""
    )
    best_epoch = results.best_epoch if results else None
    if best_epoch is None and "best_epoch" in figures:
        best_epoch = int(figures["best_epoch"])
    epochs_run = results.epochs_run if results else None
    if epochs_run is None and "epoch" in figures:
        epochs_run = int(figures["epoch"])
    algorithm = job.get("AlgorithmSpecification")
    image = algorithm.get("TrainingImage") if isinstance(algorithm, Mapping) else None
    request = create_package_request(
        group=group,
        job_name=job_name,
        model_uri=model_uri,
        image_uri=str(image or ""),
        metadata=metadata_properties(
            job_name=job_name,
            dataset_uri=uri,
            task=task,
            metrics=figures,
            best_epoch=best_epoch,
            epochs_run=epochs_run,
            trained_at=_trained_at(job),
        ),
        task=task or "detect",
        inference_image_uri=inference_image,
    )
    return register_model(
        sagemaker, group=group, job_name=job_name, request=request, dataset_uri=uri, sleep=sleep
    )


def completed_extras(
    sagemaker: Any,
    s3: Any,
    detail: Mapping[str, Any],
    described: Mapping[str, Any] | None,
    prefix: str,
    sleep: Callable[[float], None] = time.sleep,
    inference_image: str = "",
) -> dict[str, Any]:
    """Keyword arguments for ``render_job_email``: results, registry, and their notes."""
    job = merged_job(detail, described)
    results, note = fetch_job_results(s3, output_archive_uri(job))
    if results is None:
        logger.warning("No results file for the email", extra={"reason": note})
    outcome = registration(sagemaker, job, results, prefix, sleep, inference_image)
    if outcome.error:
        logger.warning(
            "The model was not registered", extra={"group": outcome.group, "error": outcome.error}
        )
        metrics.add_metric(name="RegistrationsFailed", unit=MetricUnit.Count, value=1)
    elif outcome.created_now:
        metrics.add_metric(name="ModelsRegistered", unit=MetricUnit.Count, value=1)
    return {"results": results, "results_note": note, "registry": outcome}
