"""Likely fixes for a job that did not complete, matched on SageMaker's failure reason."""

from __future__ import annotations

import re

from yolo_pipeline.contract import FAILURE_DATASET_CHANGED, FAILURE_NAN_LOSS, FAILURE_STALL


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
    if FAILURE_NAN_LOSS.lower() in reason or FAILURE_STALL.lower() in reason:
        # First: the watchdog's own reason says "check the labels", which is no dataset error.
        fixes.append(
            "The training container stopped a sick run early: see the reason above for what"
            " to try. best.pt and last.pt of the last finished epoch are kept under"
            " checkpoints/<job name>/run/weights/ in the dataset bucket."
        )
    elif FAILURE_DATASET_CHANGED.lower() in reason:
        fixes.append(
            "The dataset was replaced or edited after this job was requested, so the job"
            " stopped before training. The newer upload gets its own check (and its own job"
            " when valid): watch for its email. Keep a dataset unchanged while its job waits"
            " to start, or upload the new version under a new name."
        )
    elif re.search(r"data\.yaml|dataset|no labels|images not found|label", reason):
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


# A Completed job whose headline is below this learned next to nothing: say why that may be.
WEAK_HEADLINE = 0.05


def weak_result_advice(
    status: str, headline: float | None, hyperparameters: dict[str, str]
) -> list[str]:
    """What to try when a Completed model scored about zero (empty otherwise)."""
    if status != "Completed" or headline is None or headline >= WEAK_HEADLINE:
        return []
    epochs = str(hyperparameters.get("epochs") or "").strip('"')
    model = str(hyperparameters.get("model") or "").strip('"')
    advice = [
        f"Train longer: {epochs or 'few'} epoch(s) is often too few to learn anything; "
        "try epochs: 100 or more in training.yaml (or `yolo-pipeline retrain DATASET epochs=100`)."
    ]
    if model.endswith((".yaml", ".yml")):
        advice.append(
            f"Start from pretrained weights: {model[:80]} trains from scratch, which needs "
            "far more data and epochs; use model: yolo26n.pt (or another .pt)."
        )
    advice.append(
        "Check the labels: classes that match names:, boxes on the objects (look at a few "
        "with the Ultralytics viewer), and enough labelled images per class in val."
    )
    return advice
