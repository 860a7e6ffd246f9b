"""What the training container raises on purpose; each becomes output/failure (see outputs)."""

from __future__ import annotations

from yolo_pipeline.errors import PipelineError


class UserError(PipelineError):
    """A problem the user can fix (dataset, hyperparameters): its message is the failure reason."""


class Terminated(PipelineError):  # a signal rather than an error
    """SIGTERM arrived (a stop or a spot interruption)."""
