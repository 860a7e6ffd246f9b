"""Notice markers: one email (or one deferred check) per upload and kind, however often
SQS delivers the message; a send that crashed is tried again.

Powertools' own idempotency does the bookkeeping: one persistence layer per marker kind,
each with its own TTL and key prefix (``quota#...``, ``started#...``, ``settle#...``). A
send that raises deletes its record, so the retry sends; one that returned is remembered
for the kind's window, and a replay within it sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from yolo_pipeline.aws.observability import logger

# S3 -> EventBridge -> SQS deliver at least once, and SQS retries and DLQ redrives can
# come hours or days later: remember a finished upload for a week.
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
# A quota failure raises, so Powertools drops the launch's record and SQS redelivers the
# message (maxReceiveCount 3, 1.5 h apart, in template.yaml): without a marker one upload
# would send 3 identical quota emails. One email per upload per window; a redrive after
# the window that fails again emails again.
QUOTA_NOTICE_WINDOW_SECONDS = 6 * 3600
# The start email has the same hazard the other way round: an attempt that created the
# job but failed before its email went out (SNS error, timeout) is retried, gets
# ResourceInUse, and must still send it; one that did send it leaves this marker. A job
# name is unique forever, so the marker outlives any replay (after the launch's own record
# expired, a replay meets ResourceInUse and the marker, and sends nothing).
STARTED_NOTICE_WINDOW_SECONDS = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class NoticeKind:
    """A kind of marker: its key prefix and how long a sent notice is remembered."""

    name: str
    window_seconds: int


QUOTA = NoticeKind("quota", QUOTA_NOTICE_WINDOW_SECONDS)
STARTED = NoticeKind("started", STARTED_NOTICE_WINDOW_SECONDS)
# One deferred check per upload and attempt; remembered past the longest settle wait.
SETTLE = NoticeKind("settle", IDEMPOTENCY_TTL_SECONDS)


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Idempotency response hook: a replayed result says the send did not run now."""
    return {**response, "replayed": True} if isinstance(response, Mapping) else response


def _run(marker: dict[str, str], send: Callable[[], object]) -> dict[str, bool]:
    send()
    return {"sent": True}


class Notices:
    """``once(kind, marker, send)`` per kind, in the idempotency table (Powertools' schema)."""

    def __init__(self, dynamodb: Any, table: str, kinds: tuple[NoticeKind, ...]) -> None:
        self.configs: dict[str, IdempotencyConfig] = {}
        self._once: dict[str, Callable[..., dict[str, Any]]] = {}
        for kind in kinds:
            config = IdempotencyConfig(
                expires_after_seconds=kind.window_seconds, response_hook=_replayed
            )
            layer = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
            self.configs[kind.name] = config
            self._once[kind.name] = idempotent_function(
                _run,
                data_keyword_argument="marker",
                persistence_store=layer,
                config=config,
                key_prefix=kind.name,
            )

    def register_lambda_context(self, context: Any) -> None:
        """A send cut off by the Lambda timeout leaves its record in progress only until
        the invocation's deadline, so the retry can send."""
        for config in self.configs.values():
            config.register_lambda_context(context)

    def once(self, kind: NoticeKind, marker: dict[str, str], send: Callable[[], object]) -> bool:
        """Run ``send`` unless this ``marker`` of ``kind`` ran within the kind's window;
        ``True`` if it ran now. A failed ``send`` leaves no marker and raises.

        If DynamoDB itself fails before the send, the send runs anyway: a duplicate email
        beats a silent one.
        """
        steps: list[str] = []

        def tracked() -> object:
            steps.append("attempted")
            result = send()
            steps.append("sent")
            return result

        try:
            result = self._once[kind.name](marker=marker, send=tracked)
        except IdempotencyPersistenceLayerError as exc:
            if "sent" in steps:  # out, but not remembered: a replay may send it again
                logger.warning("Notice sent but not recorded", extra={"kind": kind.name})
                return True
            if steps:
                raise  # the send failed and its record could not be deleted: retry
            logger.warning(
                "Notice marker not written; sending anyway",
                extra={"kind": kind.name, "error": str(exc)},
            )
            send()
            return True
        return not result.get("replayed", False)
