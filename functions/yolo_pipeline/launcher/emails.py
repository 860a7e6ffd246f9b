"""The launcher's emails, as pure renderers: rejection, training started, quota reached,
training image missing.

Plain text for a mail client: short lines, a heading per block, and always what to do
next. Subjects go through :func:`yolo_pipeline.aws.email.subject_line` (ASCII, < 100 chars).
"""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Mapping, Sequence

from yolo_pipeline.aws.email import (
    BODY_MAX_BYTES,
    Email,
    body_text,
    subject_line,
    training_job_console_url,
    training_job_logs_url,
)
from yolo_pipeline.contract import DATASET_PREFIX, ZIP_SUFFIX
from yolo_pipeline.dataset.validation.report import DatasetStats
from yolo_pipeline.findings import Finding
from yolo_pipeline.launcher.limits import FOLDER_MAX_LABEL_FILES
from yolo_pipeline.names import dataset_name
from yolo_pipeline.text import clean

SUBJECT_PREFIX = "yolo"  # default tag; callers pass JOB_NAME_PREFIX, as the notifier does
MAX_LISTED = 100  # findings per list; SNS bodies stop at 256 KB and inboxes much earlier
# Bytes all listed findings of one email may take; the rest are counted ("and N more").
FINDINGS_BUDGET = BODY_MAX_BYTES // 2
WIDTH = 78


def _heading(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    ) or [indent.rstrip()]


def format_finding(index: int, finding: Finding) -> list[str]:
    """``3. labels/train/a.txt, line 4, field class`` then the message and the fix."""
    where = finding.file + (f", line {finding.line}" if finding.line is not None else "")
    if finding.field:
        where += f", {finding.field}"
    number = f"{index:>2}. "
    lines = _wrap(where, " " * len(number))
    lines[0] = number + lines[0].lstrip()
    lines += _wrap(finding.message, " " * len(number))
    if finding.hint:
        # A line of the hint starting with "$ " is a command: kept whole, to copy and paste.
        text, *commands = finding.hint.split("\n")
        lines += _wrap(f"Fix: {text}", " " * len(number))
        lines += [" " * len(number) + "  " + c for c in commands if c.startswith("$ ")]
    return lines


def _findings_block(
    title: str, findings: Sequence[Finding], budget: int = FINDINGS_BUDGET
) -> list[str]:
    """Up to ``MAX_LISTED`` findings in at most ``budget`` bytes, then "and N more"."""
    if not findings:
        return []
    lines = _heading(f"{title} ({len(findings)})")
    shown = 0
    for i, finding in enumerate(findings[:MAX_LISTED], start=1):
        entry = format_finding(i, finding)
        budget -= sum(len(line.encode("utf-8")) + 1 for line in entry)
        if budget < 0:
            break
        lines += entry
        shown = i
    if len(findings) > shown:
        what = "problems" if title.startswith("Problems") else "warnings"
        lines.append(
            f"... and {len(findings) - shown} more {what}: run `yolo-pipeline validate` to see all."
        )
    return lines


def _hours(seconds: int) -> str:
    hours = seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{seconds // 60} min"


# Findings that mean "not there (yet)": a split folder or list that does not exist, a
# split without images. After the wait for the upload to settle, these usually mean the
# upload stopped half way rather than a wrong data.yaml.
_MISSING_MARKERS = ("does not exist", "has no images in", "not found")


def looks_incomplete(errors: Sequence[Finding]) -> bool:
    """Whether the problems read like files still missing (an interrupted upload)."""
    return any(marker in f.message for f in errors for marker in _MISSING_MARKERS)


def with_still_changing_note(email: Email, max_settle_seconds: int) -> Email:
    """``email`` opening with a note: the launcher stopped waiting for the upload to
    settle after ``max_settle_seconds`` and checked the folder as it stood."""
    note = (
        f"Note: the folder was still changing after {_hours(max_settle_seconds)} of\n"
        "waiting for the upload to finish, so it was checked as it stood.\n\n"
    )
    return Email(subject=email.subject, body=note + email.body, attributes=email.attributes)


MAX_STALE_LISTED = 10


def with_stale_uploads_note(email: Email, bucket: str, stale: Sequence[tuple[str, str]]) -> Email:
    """``email`` closing with the abandoned multipart uploads under the folder, (key, upload
    id) each, and the command that aborts each: they were not waited for."""
    if not stale:
        return email
    lines = [
        "",
        f"{len(stale)} multipart upload(s) under this folder started more than a day ago and",
        "never finished (what a killed `aws s3 cp` leaves). They were not waited for, and S3",
        "keeps billing their parts until they are aborted:",
    ]
    for key, upload_id in stale[:MAX_STALE_LISTED]:
        command = (
            f"aws s3api abort-multipart-upload --bucket {shlex.quote(bucket)} "
            f"--key {shlex.quote(key)} --upload-id {shlex.quote(upload_id)}"
        )
        lines += [f"  {clean(key, 300)}", f"    {clean(command, 1500)}"]
    if len(stale) > MAX_STALE_LISTED:
        lines.append(
            f"  ... and {len(stale) - MAX_STALE_LISTED} more (aws s3api list-multipart-uploads)"
        )
    body = email.body + body_text(lines)
    return Email(subject=email.subject, body=body, attributes=email.attributes)


def _uri(dataset_uri: str) -> str:
    """The dataset URI for a body line: its key is the user's folder name, so inert."""
    return clean(dataset_uri, 1200)


def render_rejection(
    *,
    dataset_uri: str,
    errors: Sequence[Finding],
    warnings: Sequence[Finding] = (),
    refused_by_sagemaker: bool = False,
    prefix: str = SUBJECT_PREFIX,
    dataset_prefix: str = DATASET_PREFIX,
) -> Email:
    """The dataset (or its training request) cannot train: every problem and the fix."""
    if refused_by_sagemaker:
        intro = "SageMaker refused the training job for this dataset, so nothing is running."
    else:
        intro = "This dataset has problems that would stop training, so no job was started."
    lines = [intro, "", f"Dataset: {_uri(dataset_uri)}"]
    lines += _findings_block("Problems to fix", errors)
    lines += _findings_block("Warnings", warnings, FINDINGS_BUDGET // 4)
    lines += _heading("What to do next")
    lines += _next_steps(
        _uri(dataset_uri), incomplete=not refused_by_sagemaker and looks_incomplete(errors)
    )
    status = "Training request refused" if refused_by_sagemaker else "Dataset rejected"
    return Email(
        subject=subject_line(prefix, status, dataset_name(dataset_uri, dataset_prefix)),
        body=body_text(lines),
        attributes={"kind": "DatasetRejected", "dataset": dataset_uri},
    )


def _size_note(stats: DatasetStats, dataset_uri: str) -> list[str]:
    """For a large folder: how close it is to what one check can read, and the way past."""
    read = stats.label_files_read
    if dataset_uri.lower().endswith(ZIP_SUFFIX) or not isinstance(read, int):
        return []
    if read < FOLDER_MAX_LABEL_FILES // 10:
        return []
    text = (
        f"Size:     {read:,} label files checked; one check of a folder reads up to "
        f"{FOLDER_MAX_LABEL_FILES:,}. Larger datasets: upload them as one .zip (only its "
        "labels are read, whatever its size)."
    )
    return textwrap.wrap(text, WIDTH, subsequent_indent=" " * 10, break_on_hyphens=False)


def _next_steps(dataset_uri: str, incomplete: bool = False) -> list[str]:
    if incomplete and not dataset_uri.lower().endswith(ZIP_SUFFIX):
        return [
            "The folder looks incomplete: the upload may have stopped half way.",
            "1. Upload what is missing (sync only sends what is not there yet):",
            f"     aws s3 sync ./your-dataset {shlex.quote(dataset_uri)}",
            "2. Then upload data.yaml again: its upload starts a new check.",
            f"     aws s3 cp ./your-dataset/data.yaml {shlex.quote(dataset_uri + 'data.yaml')}",
            "   or both steps in one, data.yaml last:",
            f"     yolo-pipeline upload ./your-dataset {shlex.quote(dataset_uri)}",
            "",
            "Nothing you uploaded was changed or deleted.",
        ]
    if dataset_uri.lower().endswith(ZIP_SUFFIX):  # one object: replacing it starts a check
        local, what = "./your-dataset.zip", "Upload the fixed zip (its upload starts a new check):"
    else:
        local, what = (
            "./your-dataset",
            "Upload the fixed files, data.yaml last (its upload starts a new check):",
        )
    return [
        "1. Fix the problems above in your copy of the dataset, and check it:",
        f"     yolo-pipeline validate {local}",
        f"2. {what}",
        f"     yolo-pipeline upload {local} {shlex.quote(dataset_uri)}",
        "",
        "Nothing you uploaded was changed or deleted.",
    ]


def _split_table(stats: DatasetStats) -> list[str]:
    splits = stats.splits
    if not splits:
        return []
    columns = ("images", "labelled", "background", "instances")
    rows: list[tuple[str, ...]] = [("split", *columns)]
    for name, values in splits.items():
        rows.append((str(name), *(str(getattr(values, c)) for c in columns)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns) + 1)]
    return [
        "  "
        + "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]


def _class_line(stats: DatasetStats) -> str:
    names = stats.names
    count = stats.classes if stats.classes is not None else len(names) if names else "?"
    if names:
        shown = ", ".join(clean(str(n), 40) for n in list(names)[:12])
        more = f", ... ({len(names) - 12} more)" if len(names) > 12 else ""
        return f"{count} ({shown}{more})"
    return str(count)


def render_started(  # noqa: PLR0913 (keyword-only: one per fact the email states)
    *,
    dataset_uri: str,
    job_name: str,
    region: str,
    instance_type: str,
    spot: bool,
    max_runtime_seconds: int,
    input_mode: str = "File",
    max_wait_seconds: int | None = None,
    stats: DatasetStats | None = None,
    warnings: Sequence[Finding] = (),
    train_args: Mapping[str, str] | None = None,
    prefix: str = SUBJECT_PREFIX,
    dataset_prefix: str = DATASET_PREFIX,
) -> Email:
    """Training started: the job, where it runs, the dataset summary and the links."""
    stats = stats or DatasetStats()
    spot_text = "on" if spot else "off"
    if spot and max_wait_seconds:
        spot_text += f" (waits up to {_hours(max_wait_seconds)} in all for spot capacity)"
    lines = [
        "Your dataset passed validation and a SageMaker training job has started.",
        "",
        f"Dataset:      {_uri(dataset_uri)}",
    ]
    lines += _heading("Training job")
    lines += [
        f"Name:         {job_name}",
        f"Instance:     {instance_type}, 1 instance",
        f"Spot:         {spot_text}",
        f"Max runtime:  {_hours(max_runtime_seconds)}",
        f"Input mode:   {input_mode}",
    ]
    if train_args:
        settings = ", ".join(f"{clean(k, 40)}={clean(v, 80)}" for k, v in train_args.items())
        lines.append("Settings:     " + settings)
    else:
        lines.append("Settings:     defaults (no training.yaml)")
    lines += ["", "Console:", f"  {training_job_console_url(region, job_name)}"]
    lines += ["Logs:", f"  {training_job_logs_url(region, job_name)}"]
    table = _split_table(stats)
    if table or stats != DatasetStats():
        lines += _heading("Dataset summary")
        if stats.task:
            lines.append(f"Task:     {stats.task}")
        lines.append(f"Classes:  {_class_line(stats)}")
        lines += _size_note(stats, dataset_uri)
        if table:
            lines += ["", *table]
    lines += _findings_block("Warnings", warnings)
    lines += _heading("What happens next")
    lines += _wrap(
        "You will get one more email when the job completes, fails or is stopped, "
        "with its metrics, duration, billable time and where the model was saved.",
        "",
    )
    return Email(
        subject=subject_line(prefix, "Training started", dataset_name(dataset_uri, dataset_prefix)),
        body=body_text(lines),
        attributes={"kind": "JobStarted", "dataset": dataset_uri, "job_name": job_name},
    )


def quota_name(instance_type: str, spot: bool) -> str:
    """The Service Quotas name SageMaker enforces for one training instance type."""
    return f"{instance_type} for {'spot ' if spot else ''}training job usage"


def service_quotas_url(region: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/servicequotas/home/services/"
        f"sagemaker/quotas?region={region}"
    )


def render_quota(
    *,
    dataset_uri: str,
    job_name: str,
    region: str,
    instance_type: str,
    spot: bool,
    message: str,
    allowed_instance_types: Sequence[str] = (),
    prefix: str = SUBJECT_PREFIX,
    dataset_prefix: str = DATASET_PREFIX,
) -> Email:
    """CreateTrainingJob hit an account quota (often 0 for GPUs on new accounts)."""
    quota = quota_name(instance_type, spot)
    others = [t for t in allowed_instance_types if t != instance_type]
    lines = [
        "The dataset is valid, but the training job could not start: an AWS account",
        "quota for SageMaker is too low.",
        "",
        f"Dataset:   {_uri(dataset_uri)}",
        f"Job:       {job_name} (not created)",
        f'Quota:     "{quota}" in {region}',
        "",
        "SageMaker said:",
        *_wrap(message, "  "),
    ]
    lines += _heading("How to fix it")
    lines += [
        "1. Open Service Quotas for SageMaker:",
        f"     {service_quotas_url(region)}",
        f'   search for "{quota}"',
        "   and request a value of at least 1.",
        "   (New accounts often have 0 for GPU types; approval can take a day.)",
        "2. Or train on a type you have quota for, in training.yaml beside data.yaml:",
        "     sagemaker:",
        f"       instance_type: {others[0] if others else instance_type}",
        f"       spot: {'false' if spot else 'true'}",
    ]
    if others:
        lines += _wrap("Allowed types: " + ", ".join(others), "   ")
    lines += [
        "3. Then re-drive the event from the stack's dead-letter queue (the stack",
        "   output DeadLetterQueueUrl) to LaunchQueue, or "
        + (
            "upload the zip again."
            if dataset_uri.endswith(ZIP_SUFFIX)
            else "upload data.yaml again."
        ),
    ]
    return Email(
        subject=subject_line(prefix, "Quota reached", dataset_name(dataset_uri, dataset_prefix)),
        body=body_text(lines),
        attributes={"kind": "QuotaExceeded", "dataset": dataset_uri, "job_name": job_name},
    )


def _upload_again(dataset_uri: str) -> list[str]:
    """Step 2 of the image-missing email: the upload that starts a new check."""
    if dataset_uri.endswith(ZIP_SUFFIX):  # one object: uploading it again is the trigger
        return [
            "2. Then upload the zip again; its upload starts a new check:",
            f"     aws s3 cp ./your-dataset.zip {shlex.quote(dataset_uri)}",
        ]
    data_yaml_uri = dataset_uri.rstrip("/") + "/data.yaml"
    return [
        "2. Then upload data.yaml again; its upload starts a new check:",
        f"     aws s3 cp ./your-dataset/data.yaml {shlex.quote(data_yaml_uri)}",
    ]


def render_no_image(
    *,
    dataset_uri: str,
    job_name: str,
    image_uri: str,
    region: str,
    prefix: str = SUBJECT_PREFIX,
    dataset_prefix: str = DATASET_PREFIX,
) -> Email:
    """The training image is not in the stack's ECR repository yet: how to build it."""
    lines = [
        "The dataset is valid, but no training job was started: the training image",
        "is not in the stack's ECR repository yet.",
        "",
        f"Dataset:   {dataset_uri}",
        f"Job:       {job_name} (not created)",
        f"Image:     {image_uri}",
        f"Region:    {region}",
    ]
    lines += _heading("How to fix it")
    lines += [
        "1. Build and push the image, from a clone of the project (no Docker needed:",
        "   it builds in AWS CodeBuild, about 10-20 minutes):",
        f"     make image AWS_REGION={region}",
        "   (add STACK_NAME=<your stack> if it is not the default yolo-on-upload)",
        *_upload_again(dataset_uri),
        "",
        "If a build failed, `make image` printed the end of its log; the README's",
        '"Deploy" section lists the usual causes.',
        "",
        "Nothing you uploaded was changed or deleted.",
    ]
    return Email(
        subject=subject_line(
            prefix, "Training image missing", dataset_name(dataset_uri, dataset_prefix)
        ),
        body=body_text(lines),
        attributes={"kind": "ImageMissing", "dataset": dataset_uri, "job_name": job_name},
    )
