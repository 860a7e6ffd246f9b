"""The launch queue's wake-up: when a job ends, the notifier puts one small message on
LaunchQueue and the launcher starts the uploads waiting for that slot at once, instead of
at their next periodic check. Both sides use this module, so the body has one owner."""

from __future__ import annotations

import json
from typing import Any

WAKE_KEY = "yolo-pipeline"
WAKE_VALUE = "queue-wake"


def wake_body(job_name: str) -> str:
    return json.dumps({WAKE_KEY: WAKE_VALUE, "job_name": job_name})


def is_wake(event: Any) -> bool:
    return isinstance(event, dict) and event.get(WAKE_KEY) == WAKE_VALUE


def send_wake(sqs: Any, queue_url: str, job_name: str) -> None:
    """Tell the launcher a slot may be free (the job ``job_name`` ended)."""
    sqs.send_message(QueueUrl=queue_url, MessageBody=wake_body(job_name))
