"""The order of an upload: every file, then data.yaml with the completion marker; or one zip.

The launcher fires on ``datasets/*/data.yaml``, so ``data.yaml`` goes up last, only after
every other file has been stored: training can never start on a half-uploaded dataset. Its
user metadata tells the launcher the upload is complete, so it need not wait for it to settle.
Each step raises ``UploadFailed`` with what to do, and a rerun resumes where it stopped.
"""

from __future__ import annotations

from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.contract import UPLOAD_COMPLETE_METADATA
from yolo_pipeline.text import clean, quote
from yolo_pipeline.upload.errors import UploadFailed
from yolo_pipeline.upload.etag import LocalFile, is_unchanged
from yolo_pipeline.upload.plan import UploadPlan, cannot_read, list_remote, remote_md5
from yolo_pipeline.upload.transfer import transfer

COMPLETE_METADATA = dict([UPLOAD_COMPLETE_METADATA])  # x-amz-meta-yolo-upload: complete


def send_files(s3: Any, plan: UploadPlan, config: TransferConfig, progress: bool) -> list[str]:
    """Every file but data.yaml; the keys uploaded. Raises UploadFailed when any failed."""
    uploaded, failed = transfer(s3, plan.bucket, plan.to_upload, config, progress=progress)
    if not failed:
        return uploaded
    lines = [f"failed: {key}: {reason}" for key, reason in sorted(failed.items())]
    lines.append(
        f"{len(uploaded)} of {len(plan.to_upload)} files uploaded, {len(failed)} failed. "
        "data.yaml was NOT uploaded, so no training started. Run the same command again "
        "to resume: files already uploaded are skipped."
    )
    raise UploadFailed("\n".join(lines))


def send_data_yaml(s3: Any, plan: UploadPlan, config: TransferConfig) -> None:
    """data.yaml, last, with the completion marker: the training trigger."""
    _, failed = transfer(
        s3, plan.bucket, [plan.data_yaml], config, progress=False, metadata=COMPLETE_METADATA
    )
    if failed:
        raise UploadFailed(
            f"failed: {plan.data_yaml.key}: {failed[plan.data_yaml.key]}. Every other file is "
            "uploaded; run the same command again to upload data.yaml and start training."
        )


def zip_unchanged(s3: Any, bucket: str, local: LocalFile) -> bool:
    """Whether ``bucket`` already holds this zip under its key (same size and checksum)."""
    try:
        current = list_remote(s3, bucket, local.key).get(local.key)
        md5 = None
        if current and current.etag != local.etag:
            md5 = remote_md5(s3, bucket, local.key)
    except (ClientError, BotoCoreError) as exc:
        raise cannot_read(bucket, local.key, exc) from exc
    return is_unchanged(local, current, md5)


def send_zip(
    s3: Any, bucket: str, local: LocalFile, config: TransferConfig, progress: bool
) -> None:
    """One (multipart above 8 MiB) transfer: a zip is complete by nature."""
    _, failed = transfer(s3, bucket, [local], config, progress=progress, label="zip")
    if failed:
        raise UploadFailed(f"failed: {local.key}: {failed[local.key]}. Run the same command again.")


def delete_extra(s3: Any, plan: UploadPlan) -> int:
    """Delete what is under the prefix but not in the local folder (``upload --delete``),
    before data.yaml goes up; returns how many. Raises UploadFailed on a refused key."""
    keys = plan.extra_remote
    for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys a call
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        answer = s3.delete_objects(Bucket=plan.bucket, Delete={"Objects": batch})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise UploadFailed(
                f"could not delete {quote(str(first.get('Key', '')))}: "
                f"{clean(str(first.get('Message', '')), 200)}; data.yaml was not uploaded"
            )
    return len(keys)
