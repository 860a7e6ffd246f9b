"""Running with no network (jobs may use network isolation): Ultralytics offline, a plot font
in its config folder, and weights only from what the image bakes in."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yolo_pipeline.container import weights as safe_weights
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.layout import Layout
from yolo_pipeline.contract import CHANNEL_WEIGHTS

FONTS = ("Arial.ttf", "Arial.Unicode.ttf")


def setup_offline_environment() -> None:
    """Make Ultralytics and matplotlib work without a network; call before importing them."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "true")
    scratch = Path(tempfile.gettempdir())
    config_dir = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(scratch / "yolo-config")))
    os.environ.setdefault("MPLCONFIGDIR", str(scratch / "matplotlib"))
    Path(os.environ["MPLCONFIGDIR"]).mkdir(parents=True, exist_ok=True)
    fonts = config_dir / "Ultralytics"
    fonts.mkdir(parents=True, exist_ok=True)
    # Ultralytics downloads Arial.ttf for plots (even with plots=False); the image bakes one in,
    # and anywhere else matplotlib's own DejaVuSans stands in for it.
    for name in FONTS:
        if not (fonts / name).exists():
            import matplotlib  # Ultralytics' plotting backend, set before it loads

            dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
            shutil.copyfile(dejavu, fonts / name)


def weights_dir(code: Path) -> Path:
    """Where the image keeps baked weights (the default model and the AMP-check model)."""
    return Path(os.environ.get("YOLO_WEIGHTS_DIR", str(code / "weights")))


def point_ultralytics_at_baked_weights(code: Path) -> None:
    """The CUDA AMP check loads WEIGHTS_DIR/yolo26n.pt: make that the baked copy, not a download."""
    import ultralytics.utils as uu  # after safe loading is on (entry.run)

    baked = weights_dir(code)
    if baked.is_dir():
        uu.SETTINGS.update(weights_dir=str(baked), sync=False)  # DDP workers read settings.json
        uu.WEIGHTS_DIR = baked


def resolve_model(layout: Layout, values: Mapping[str, Any]) -> str:
    """Baked weight, built-in architecture, or the weights channel's file; never the dataset."""
    try:
        return safe_weights.start_model(
            dict(values),
            weights_dir(layout.code),
            layout.root / "input" / "data" / CHANNEL_WEIGHTS,
            Path(tempfile.mkdtemp(prefix="yolo-weights-")),
        )
    except safe_weights.WeightsError as exc:
        raise UserError(str(exc)) from exc
