"""Errors the server answers with a 4xx or 5xx status instead of a crash."""

from __future__ import annotations

from yolo_pipeline.errors import PipelineError


class ServingError(PipelineError):
    """A request the server refuses; ``status`` is the HTTP status it answers with."""

    status = 400


class UnsupportedMediaType(ServingError):
    status = 415


class PayloadTooLarge(ServingError):
    status = 413


class LengthRequired(ServingError):
    status = 411


class ModelNotReady(ServingError):
    status = 503


class ModelFileError(PipelineError):
    """The model folder or archive holds no usable weights (the server cannot start)."""
