"""Tolerant parsing of EventBridge "SageMaker Training Job State Change" events.

What AWS actually delivers drifts from the documentation: ``Tags`` is documented as an
object but other sources show a ``[{"Key", "Value"}]`` list, times are epoch-millisecond
strings (DescribeTrainingJob gives datetimes, local runs may give ISO strings), and
fields are missing on failed jobs. Everything here accepts all of those shapes and never
raises on odd values; only a missing job name or status makes an event unusable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.text import quote

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Training Job State Change"
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Stopped"})

# Tag keys the launcher puts on every job (coordinated with the launcher's job request).

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class MalformedEvent(PipelineError, ValueError):
    """The event is not a usable training-job state change (wrong shape or missing keys)."""


def as_datetime(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from epoch ms/s (number or string), ISO text or datetime.

    Numbers above 1e11 are milliseconds (1e11 seconds is the year 5138). Anything
    unparseable gives ``None``: a missing timestamp must not cost the user their email.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _NUMBER.match(text):
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        value = float(text)
    if isinstance(value, int | float):
        seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def normalise_tags(tags: Any) -> dict[str, str]:
    """``{"k": "v"}`` or ``[{"Key": "k", "Value": "v"}]`` (any key case) -> ``{"k": "v"}``."""
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items() if v is not None}
    out: dict[str, str] = {}
    if isinstance(tags, list | tuple):
        for item in tags:
            if not isinstance(item, Mapping):
                continue
            lowered = {str(k).lower(): v for k, v in item.items()}
            key, value = lowered.get("key"), lowered.get("value")
            if key is not None and value is not None:
                out[str(key)] = str(value)
    return out


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


class TrainingJobStateChangeEvent(EventBridgeEvent):
    """Powertools data class for the state-change event, with tolerant accessors."""

    @property
    def job_detail(self) -> Mapping[str, Any]:
        detail = self.get("detail")
        return detail if isinstance(detail, Mapping) else {}

    @property
    def training_job_name(self) -> str:
        return _text(self.job_detail.get("TrainingJobName"))

    @property
    def training_job_status(self) -> str:
        return _text(self.job_detail.get("TrainingJobStatus"))

    @property
    def secondary_status(self) -> str:
        return _text(self.job_detail.get("SecondaryStatus"))

    @property
    def tags(self) -> dict[str, str]:
        return normalise_tags(self.job_detail.get("Tags"))


@dataclass(frozen=True)
class StateChange:
    """The parts of a state change the notifier decides on."""

    job_name: str
    status: str
    secondary_status: str
    region: str
    detail: Mapping[str, Any]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def parse_state_change(event: Any) -> StateChange:
    """Parse a raw Lambda event; raises ``MalformedEvent`` saying what is wrong."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event is a {type(event).__name__}, not a JSON object")
    wrapped = TrainingJobStateChangeEvent(dict(event))
    source = _text(wrapped.get("source"))
    detail_type = _text(wrapped.get("detail-type"))
    if source != SOURCE or detail_type != DETAIL_TYPE:
        raise MalformedEvent(
            f"not a training job state change (source={quote(source)}, "
            f"detail-type={quote(detail_type)})"
        )
    if not isinstance(wrapped.get("detail"), Mapping):
        raise MalformedEvent("event has no 'detail' object")
    if not wrapped.training_job_name:
        raise MalformedEvent("detail.TrainingJobName is missing")
    if not wrapped.training_job_status:
        raise MalformedEvent("detail.TrainingJobStatus is missing")
    return StateChange(
        job_name=wrapped.training_job_name,
        status=wrapped.training_job_status,
        secondary_status=wrapped.secondary_status,
        region=_text(wrapped.get("region")),
        detail=wrapped.job_detail,
        tags=wrapped.tags,
    )


def skip_reason(change: StateChange, job_name_prefix: str) -> str | None:
    """Why this change gets no email (``None``: notify). Only our jobs, only terminal states."""
    if not change.job_name.startswith(f"{job_name_prefix}-"):
        return f"job {change.job_name} does not start with {job_name_prefix}-: not ours"
    if not change.is_terminal:
        return f"status {change.status} is not terminal"
    return None
