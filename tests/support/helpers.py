"""Helpers shared by every test tier."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    """Load ``events/<name>`` (the same files `sam local invoke -e` uses)."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class FakeLambdaContext:
    """Enough of ``LambdaContext`` for Powertools (logger, idempotency timeouts)."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/27/[$LATEST]0000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000
