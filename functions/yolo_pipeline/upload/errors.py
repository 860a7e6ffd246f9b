"""The upload's errors: a wrong destination or path (usage), or a dataset that was not sent."""

from __future__ import annotations

from yolo_pipeline.errors import DatasetProblem, UsageError


class UploadError(UsageError):
    """The destination or the local path is wrong; the message says what to use instead."""


class UploadFailed(DatasetProblem):
    """The dataset was refused or not (fully) sent; the message says how to resume."""
