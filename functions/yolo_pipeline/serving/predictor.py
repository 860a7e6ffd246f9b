"""Load the weights with Ultralytics' safe loading and run Ultralytics' own predict.

``ULTRALYTICS_SAFE_LOAD=1`` makes Ultralytics load checkpoints with ``torch.load(weights_only=
True)`` and an allow-list of its own classes, so a crafted best.pt cannot run code. Ultralytics
reads the variable once, when it is first imported: ``load`` sets it and then imports
Ultralytics, and refuses to go on if Ultralytics was imported earlier without it.

Images are decoded with OpenCV exactly as Ultralytics decodes a file (``cv2.imdecode`` of the
bytes, BGR), so a served prediction equals ``YOLO(weights).predict(path)`` on the same image.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yolo_pipeline.serving.errors import ModelFileError, ServingError
from yolo_pipeline.serving.request import Picture, PredictRequest
from yolo_pipeline.serving.responses import image_answer

log = logging.getLogger(__name__)

SAFE_LOAD_ENV = "ULTRALYTICS_SAFE_LOAD"


def enable_safe_loading() -> None:
    """Set the safe-loading flag; fails if Ultralytics was imported before without it."""
    os.environ[SAFE_LOAD_ENV] = "1"
    os.environ.setdefault("YOLO_OFFLINE", "1")  # nothing is downloaded while serving
    utils = sys.modules.get("ultralytics.utils")
    if utils is not None and not getattr(utils, "SAFE_LOAD", False):
        raise ModelFileError(
            "Ultralytics was imported before safe loading was enabled; start the server "
            f"in a fresh process (or with {SAFE_LOAD_ENV}=1 set)"
        )


def decode(picture: Picture) -> np.ndarray:
    """The image as Ultralytics reads a file: a BGR array, or a ServingError."""
    import cv2  # the training stack: absent from a CLI-only or Lambda install

    image = cv2.imdecode(np.frombuffer(picture.data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[:2] != (picture.height, picture.width):
        raise ServingError("the image data is damaged (it cannot be decoded)")
    return image


@dataclass
class Predictor:
    """One loaded model; ``predict`` is serialised (an Ultralytics model is not thread-safe)."""

    model: Any
    task: str
    weights: Path
    lock: threading.Lock

    @classmethod
    def load(cls, weights: Path, warm_up: bool = True) -> Predictor:
        enable_safe_loading()
        # Imported here, after the flag is set: Ultralytics reads it at import time.
        from ultralytics import YOLO

        try:
            model = YOLO(str(weights), task=None)
        except Exception as exc:  # any unreadable or refused checkpoint: say which and why
            raise ModelFileError(f"{weights.name} cannot be loaded safely: {exc}") from exc
        predictor = cls(model, str(model.task), weights, threading.Lock())
        if warm_up:  # the first real request should not pay for lazy setup
            predictor.run(np.zeros((64, 64, 3), np.uint8), {})
        log.info("serving %s (%s)", weights, predictor.task)
        return predictor

    def run(self, image: np.ndarray, options: dict[str, float | int]) -> Any:
        """Ultralytics' predict on one image; options left out keep Ultralytics' defaults
        (conf 0.25, the imgsz the model was trained at), as a plain ``predict`` would."""
        with self.lock:
            return self.model.predict(image, verbose=False, **options)[0]

    def predict(self, request: PredictRequest) -> list[dict[str, Any]]:
        """The JSON answer of every image of the request, in order (one at a time, so each
        equals a single-image predict: a batch letterboxes to a shared shape)."""
        images = [decode(p) for p in request.images]
        return [image_answer(self.run(image, request.options), self.task) for image in images]
