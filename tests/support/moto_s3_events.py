"""moto's S3 -> EventBridge events with the ``detail.reason`` AWS sends.

moto 5.2 writes ``reason: ObjectCreated`` for every write; AWS writes what made the object
(``PutObject``, ``CopyObject``, ``CompleteMultipartUpload``, ``PostObject``), and the
launcher's settle rule reads it (a copy never counts as a finished upload). This patch
rewrites the reason from the notification's event name, for an in-process moto (the
decorator or ThreadedMotoServer).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "s3:ObjectCreated:Post": "PostObject",
}


def with_aws_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.events.models
    import moto.s3.notifications as notifications

    current = threading.local()
    send = notifications._send_event_bridge_message
    deliver = moto.events.models.Rule.send_to_targets

    def send_with_name(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        current.name = event_name
        try:
            send(account_id, bucket, event_name, key)
        finally:
            current.name = None

    def deliver_with_reason(self: Any, event: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(current, "name", None)
        if name in REASONS and event.get("source") == "aws.s3":
            event["detail"]["reason"] = REASONS[name]
        return deliver(self, event, *args, **kwargs)

    monkeypatch.setattr(notifications, "_send_event_bridge_message", send_with_name)
    monkeypatch.setattr(moto.events.models.Rule, "send_to_targets", deliver_with_reason)
