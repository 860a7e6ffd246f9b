"""What the user is told after an upload: the emails it sets off."""

from __future__ import annotations

import os

from yolo_pipeline.contract import ZIP_SUFFIX


def what_happens_next(bucket: str, prefix: str, tag: str | None = None) -> str:
    """The emails the upload sets off (subjects as the launcher and notifier write them).

    ``tag`` is the stack's JOB_NAME_PREFIX, which tags every subject (default $JOB_NAME_PREFIX
    or ``yolo``, the stack's default).
    """
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    tag = tag or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    what = "The zip" if prefix.lower().endswith(ZIP_SUFFIX) else "data.yaml"
    return (
        f"{what} is in place, complete: the launcher checks s3://{bucket}/{prefix} right "
        "away (no waiting for the upload to settle) and emails the pipeline's SNS "
        "subscribers:\n"
        f"  - '[{tag}] Dataset rejected: {name}' listing every problem and its fix "
        "(no job, no cost), or\n"
        f"  - '[{tag}] Training started: {name}' with the job name, instance and limits.\n"
        "When the job ends, a second email:\n"
        f"  - '[{tag}] Completed: {name} mAP50-95 0.xxx' with metrics, time per phase, billable "
        "time, spot savings and the model's S3 location, or\n"
        f"  - '[{tag}] Failed: {name}' / '[{tag}] Stopped: {name}' with the reason and what "
        "to do.\n"
        "Follow it meanwhile with: yolo-pipeline status"
    )
