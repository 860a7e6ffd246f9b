"""moto 5.2 stores a bucket's EventBridgeConfiguration but leaves it out of
GetBucketNotificationConfiguration, so `upload`'s check (refuse a bucket that sends no events)
would refuse every moto bucket. This patch adds the key back, exactly when the bucket has it:
the check itself stays as strict as against AWS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult
from moto.s3.responses import S3Response

_original = S3Response.get_bucket_notification


def _with_eventbridge(self: Any) -> TYPE_RESPONSE:
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if config is None or getattr(config, "event_bridge", None) is None:
        return _original(self)
    self.data["Action"] = "GetBucketNotificationConfiguration"
    return self.serialized(ActionResult({"EventBridgeConfiguration": {}}))


@contextmanager
def eventbridge_reported() -> Iterator[None]:
    """Within the block, moto reports a bucket's EventBridgeConfiguration."""
    S3Response.get_bucket_notification = _with_eventbridge  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Response.get_bucket_notification = _original  # type: ignore[method-assign]


def enable_eventbridge(s3: Any, bucket: str) -> None:
    """What the stack's template sets on its DatasetBucket."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
