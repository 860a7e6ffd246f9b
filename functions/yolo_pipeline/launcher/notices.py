"""Notice markers: one email (or one deferred check) per upload, however often SQS
delivers the message, and a send that crashed is tried again.

A marker is a conditional PutItem (``claim``) before the send and a DeleteItem of our own
claim (``release``) when the send failed, so the retry claims and sends again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.aws.observability import logger

# S3 -> EventBridge -> SQS deliver at least once, and SQS retries and DLQ redrives can
# come hours or days later: remember a finished upload for a week.
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
# A quota failure raises, so Powertools drops its record and SQS redelivers the message
# (maxReceiveCount 3, 1.5 h apart, in template.yaml): without a marker one upload would
# send 3 identical quota emails. One email per upload per window; a
# redrive after the window that fails again emails again.
QUOTA_NOTICE_WINDOW_SECONDS = 6 * 3600
QUOTA_NOTICE_PREFIX = "quota#"
# The start email has the same hazard the other way round: an attempt that created the
# job but failed before its email went out (SNS error, timeout) is retried, gets
# ResourceInUse, and must still send it; one that did send it leaves this marker. A job
# name is unique forever, so the marker has no TTL: a replay months later (after the
# idempotency record expired) meets ResourceInUse and the marker, and sends nothing.
STARTED_NOTICE_PREFIX = "started#"
STARTED_NOTICE_WINDOW: int | None = None
# One deferred check per upload and attempt, however often SQS delivers the message.
SETTLE_MARKER_PREFIX = "settle#"


class Notices:
    """Markers in a DynamoDB table with partition key ``id`` and TTL ``expiration``."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def claim(
        self,
        marker_id: str,
        now: float,
        window_seconds: int | None,
        status: str = "EMAIL_SENT",
    ) -> int | None:
        """Claim the right to send one email (``marker_id``, e.g. ``quota#<upload hash>``)
        or one deferred check (``settle#<upload hash>#<attempt>``).

        Returns the claim's token (for :meth:`release`), or ``None`` when a live claim
        exists. With a window, the TTL attribute ``expiration`` cleans the marker up, and
        the condition also accepts an expired item because DynamoDB's TTL deletes lazily
        (up to days later); with ``window_seconds=None`` the marker has no TTL and lasts
        as long as the job name does (forever). If DynamoDB itself fails, the claim is
        granted: a duplicate email beats a silent one.
        """
        token = int(now * 1000)
        item = {"id": {"S": marker_id}, "status": {"S": status}, "claim": {"N": str(token)}}
        if window_seconds is not None:
            item["expiration"] = {"N": str(int(now) + window_seconds)}
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            logger.warning(
                "Email marker not written; sending anyway",
                extra={"marker": marker_id, "error": str(exc)},
            )
        return token

    def release(self, marker_id: str, token: int) -> None:
        """Undo our claim (the email did not go out), so the next retry tries again."""
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"id": {"S": marker_id}},
                # Only our own claim: never a newer one from a concurrent delivery.
                ConditionExpression="claim = :claim",
                ExpressionAttributeValues={":claim": {"N": str(token)}},
            )
        except ClientError as exc:
            # The caller re-raises the send's error; a stuck claim only costs one email.
            logger.warning(
                "Email marker not released", extra={"marker": marker_id, "error": str(exc)}
            )

    def once(
        self,
        marker_id: str,
        now: float,
        window_seconds: int | None,
        send: Callable[[], object],
        status: str = "EMAIL_SENT",
    ) -> bool:
        """Run ``send`` unless ``marker_id`` says it ran within the window; ``True`` if it
        ran. A failed ``send`` releases the claim and raises."""
        token = self.claim(marker_id, now, window_seconds, status)
        if token is None:
            return False
        try:
            send()
        except Exception:
            self.release(marker_id, token)
            raise
        return True
