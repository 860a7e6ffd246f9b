"""Errors of a local run."""

from __future__ import annotations

from yolo_pipeline.errors import UsageError


class LocalRunError(UsageError):
    """A usage problem (paths); the message says what to do."""
