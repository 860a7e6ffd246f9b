"""Tiny untrained YOLO26 models saved as checkpoints, for serving tests: built from the
architecture yaml Ultralytics ships (nothing downloaded, no training), with the class head's
bias raised so that a detection head finds confident objects in any image."""

from __future__ import annotations

from pathlib import Path

ARCHITECTURES = {
    "detect": "yolo26n.yaml",
    "segment": "yolo26n-seg.yaml",
    "pose": "yolo26n-pose.yaml",
    "obb": "yolo26n-obb.yaml",
    "classify": "yolo26n-cls.yaml",
    "semantic": "yolo26n-sem.yaml",
    "depth": "yolo26n-depth.yaml",
}
# Class logits of the first three classes (untrained: about -11, so nothing is ever found):
# confidences of about 0.73, 0.5 and 0.27, above the default conf of 0.25.
CLASS_LOGITS = (1.0, 0.0, -1.0)


def _boost_class_scores(model: object) -> None:
    import torch

    head = model.model.model[-1]  # type: ignore[attr-defined]
    for name in ("cv3", "one2one_cv3"):
        for branch in getattr(head, name, []):
            last = branch[-1]
            if isinstance(last, torch.nn.Conv2d) and last.bias is not None:
                with torch.no_grad():
                    last.bias[: len(CLASS_LOGITS)] = torch.tensor(CLASS_LOGITS)


# Rotated NMS over thousands of equally confident boxes runs past Ultralytics' NMS time
# limit (and then cuts the list short): OBB keeps its untrained head (ask for conf=1e-4).
BOOSTED = ("detect", "segment", "pose")
SEED = 0


def save_tiny_model(task: str, path: Path) -> Path:
    """A ``task`` model saved at ``path`` as Ultralytics saves trained weights."""
    import torch
    from ultralytics import YOLO  # the training stack, which this tier has

    torch.manual_seed(SEED)  # the same weights every run, so the same objects
    model = YOLO(ARCHITECTURES[task])
    if task in BOOSTED:
        _boost_class_scores(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(path))
    return path
