"""Whether a bucket tells EventBridge about new objects: without that, an upload starts
nothing, so the upload is refused before a byte is sent."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.upload.errors import UploadFailed


def eventbridge_enabled(s3: Any, bucket: str) -> bool | None:
    """True or False from the bucket's notification configuration; None when this caller
    may not read it (the upload then goes ahead: the stack's own bucket always has it)."""
    try:
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in {"AccessDenied", "AllAccessDisabled"}:
            return None
        raise
    except BotoCoreError:
        return None
    return "EventBridgeConfiguration" in config


def refuse_without_notifications(s3: Any, bucket: str, stack_bucket: str = "") -> None:
    """Raise UploadFailed, with the fix, when ``bucket`` sends no events to EventBridge."""
    if eventbridge_enabled(s3, bucket) is not False:
        return
    if stack_bucket and stack_bucket != bucket:
        fix = (
            f"upload to the stack's bucket instead: s3://{stack_bucket}/datasets/<name>/ "
            "(or leave the URI out)"
        )
    else:
        fix = (
            "upload to the stack's DatasetBucket (leave the URI out and the CLI finds it), or "
            "turn the events on:\n"
            f"$ aws s3api put-bucket-notification-configuration --bucket {bucket} "
            "--notification-configuration '{\"EventBridgeConfiguration\": {}}'"
        )
    raise UploadFailed(
        f"s3://{bucket} sends no events to EventBridge, so no training would start and no "
        f"email would come. Nothing was uploaded. Fix: {fix}"
    )
