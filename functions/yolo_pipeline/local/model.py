"""Which model ``yolo-pipeline local`` trains, offline.

The job's rule (training.tasks, training.models) with this machine's weights folder standing
in for the image's: ``$YOLO_WEIGHTS_DIR``, else ``training_image/weights/`` in the checkout.
The training subprocess is given the same folder, so both read the weights from one place.
When a pretrained weight is not there, local mode trains the matching architecture from
scratch (``yolo11n-seg.pt`` -> ``yolo11n-seg.yaml``) and says so, instead of failing
offline after validation. A ``.pt`` of the user's own is read from that folder too (the
job's ``weights`` channel); ``job:<name>`` needs AWS and is refused here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from yolo_pipeline.training.models import read_model
from yolo_pipeline.training.tasks import Task, architecture_for, default_model

# The editable install of a checkout: local -> yolo_pipeline -> functions -> the checkout.
# An installed CLI without a checkout sets YOLO_WEIGHTS_DIR instead.
CHECKOUT_WEIGHTS = Path(__file__).resolve().parents[3] / "training_image" / "weights"


def local_weights_dir() -> Path:
    """Where local mode (and the container outside the image) looks for weights."""
    return Path(os.environ.get("YOLO_WEIGHTS_DIR") or CHECKOUT_WEIGHTS)


@dataclass(frozen=True)
class LocalModel:
    model: str  # the ``model`` hyperparameter
    weights_file: Path | None = None  # a user .pt to place in the weights channel
    warning: str = ""
    problem: str = ""


def own_weights(requested: str) -> LocalModel | None:
    """``--model path/to/best.pt``: a ``.pt`` of the user's on this machine, given to the
    run as the job's ``weights`` channel, where the training image loads it safely
    (weights only); None when ``requested`` is not such a path."""
    if not requested.endswith(".pt") or ("/" not in requested and not requested.startswith("~")):
        return None
    path = Path(requested).expanduser()
    if not path.is_file():
        return LocalModel(requested, problem=f"model: {requested} is not a file on this machine")
    ref = read_model(path.name)
    if ref.kind != "weights":  # a baked name would train the image's file, not this one
        return LocalModel(
            requested,
            problem=f"model: the file name {path.name[:80]!r} is not one a job can use; "
            "rename it to letters, digits, '-', '_' and '.pt'",
        )
    return LocalModel(path.name, path)


def choose_local_model(requested: str | None, task: Task, weights_dir: Path) -> LocalModel:
    own = own_weights((requested or "").strip())
    if own is not None:
        return own
    name = (requested or "").strip() or default_model(task)
    ref = read_model(name)
    if ref.problem:
        return LocalModel(name, problem=f"model: {ref.problem}; {ref.hint}")
    if ref.kind == "architecture":
        return LocalModel(name)
    if ref.kind == "job":
        return LocalModel(
            name, problem=f"model: {name} fine-tunes from a SageMaker job; local mode is offline"
        )
    path = weights_dir / ref.name
    if path.is_file():
        return LocalModel(name, None if ref.kind == "baked" else path)
    if ref.kind == "weights":
        return LocalModel(name, problem=f"model: {name} is not in {weights_dir}: put it there")
    arch = architecture_for(name)
    return LocalModel(
        arch,
        warning=f"WARNING: pretrained weights {name} are not in {weights_dir} (offline: nothing "
        f"is downloaded), so this run trains {arch} from scratch: expect much lower metrics "
        f"than a job on the image, which bakes {name}. Put {name} in that folder (or set "
        "YOLO_WEIGHTS_DIR) to start from it.",
    )
