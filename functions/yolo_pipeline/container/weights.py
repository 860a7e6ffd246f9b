"""The model a training job starts from, and every checkpoint it loads, made safe.

A ``.pt`` is a pickle: loading one runs whatever code it names. So the container

- starts only from a baked weight (the image's weights folder), a built-in architecture
  name, the ``weights`` channel's file of exactly the name given (``model: my.pt``), or the
  ``best.pt`` inside an earlier job's ``model.tar.gz`` (``model: job:<name>``), extracted
  by hand; never from the dataset channel, whatever ``model:``, ``pretrained:`` or
  ``distill_model:`` say (training.models);
- turns on Ultralytics' safe loading (``ULTRALYTICS_SAFE_LOAD=1``: ``weights_only=True``
  with an allow-list of Ultralytics and torch classes, and model yaml ``activation:`` parsed
  without ``eval``) before Ultralytics is imported, since the flag is read at import;
- checks its own checkpoints (a ``last.pt`` to resume, a ``best.pt`` from a restored
  checkpoint folder) with that same safe load before Ultralytics touches them: a file that
  does not load that way is set aside, never unpickled.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.training.models import read_model
from yolo_pipeline.training.tar_reader import TarReader, TarRefused
from yolo_pipeline.training.tasks import default_model, is_task

SAFE_LOAD_ENV = "ULTRALYTICS_SAFE_LOAD"
MAX_BEST_PT_BYTES = 4 * 1024**3  # a checkpoint, not an archive bomb


class WeightsError(PipelineError):
    """The starting model cannot be used; the message says what to do."""


def enable_safe_load() -> None:
    """Ultralytics reads the flag when ``ultralytics.utils`` is first imported."""
    import sys  # only to see whether Ultralytics is loaded already

    os.environ[SAFE_LOAD_ENV] = "1"
    if "ultralytics.utils" in sys.modules and not getattr(
        sys.modules["ultralytics.utils"], "SAFE_LOAD", False
    ):
        raise RuntimeError("Ultralytics was imported before safe loading was turned on")


def start_model(values: dict[str, Any], baked_dir: Path, channel: Path, scratch: Path) -> str:
    """What ``YOLO(...)`` is given: a baked file, an architecture name, or a channel file."""
    task = values.get("task")
    name = str(values.get("model") or default_model(task if is_task(task) else "detect"))
    ref = read_model(name)
    if ref.kind == "baked":
        path = baked_dir / ref.name
        if not path.is_file():
            raise WeightsError(f"Model {name} should be baked into the image; {path} is missing.")
        return str(path)
    if ref.kind == "architecture":
        return ref.name  # Ultralytics' own cfg/models yaml: built, nothing loaded
    if ref.kind == "weights":
        return str(_channel_file(channel, ref.name))
    if ref.kind == "job":
        return str(_best_from_archive(channel, ref.name, scratch))
    raise WeightsError(f"model: {ref.problem}; {ref.hint}.")


def _channel_file(channel: Path, name: str) -> Path:
    path = channel / name
    if not channel.is_dir() or path.is_symlink() or not path.is_file():
        raise WeightsError(
            f"model: {name} was expected in the 'weights' input channel ({path}), which the "
            "launcher fills from the stack's weights/ prefix. Start the job through the launcher."
        )
    return path


def _best_from_archive(channel: Path, job: str, scratch: Path) -> Path:
    """best.pt from the earlier job's model.tar.gz: one regular member, copied by hand
    through the shared tar reader (no paths, links or devices from the archive reach the
    disk, and an oversized header is refused before it is read)."""
    archive = channel / "model.tar.gz"
    if not archive.is_file() or archive.is_symlink():
        raise WeightsError(
            f"model: job:{job} needs that job's model.tar.gz in the 'weights' input channel."
        )
    target = scratch / f"{job}-best.pt"
    try:
        with archive.open("rb") as raw:
            reader = TarReader(raw)
            member = next((m for m in reader.members() if m.name == "best.pt"), None)
            if member is None or member.kind != "file" or member.size > MAX_BEST_PT_BYTES:
                raise WeightsError(f"model: job:{job}: its model.tar.gz holds no best.pt.")
            scratch.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                for piece in reader.chunks(member):
                    out.write(piece)
    except (TarRefused, OSError) as exc:
        raise WeightsError(f"model: job:{job}: model.tar.gz is unreadable ({exc}).") from exc
    return target


def safe_load(path: Path) -> dict[str, Any] | None:
    """The checkpoint loaded the safe way (Ultralytics' ``torch_safe_load(safe_only=True)``),
    or None when it does not load that way (damaged, or naming code outside the allow-list)."""
    from ultralytics.nn.tasks import torch_safe_load  # after the flag is set

    try:
        ckpt, _ = torch_safe_load(str(path), safe_only=True)
    except Exception:  # any refusal or damage: the file is not used
        return None
    return ckpt if isinstance(ckpt, dict) else None


def checkpoint_state(last: Path) -> tuple[str, int]:
    """('resumable'|'finished'|'corrupt', saved epoch index) for a last.pt, loaded safely."""
    ckpt = safe_load(last)
    if ckpt is None:
        return "corrupt", -1
    epoch = int(ckpt.get("epoch", -1))
    epochs = int((ckpt.get("train_args") or {}).get("epochs", 0))
    if ckpt.get("optimizer") is None or epoch < 0 or epoch + 1 >= epochs:
        return "finished", epoch
    return "resumable", epoch


def set_aside_unsafe(weights: Path) -> list[Path]:
    """Rename every .pt in the run's weights folder that does not load safely (a planted or
    damaged file), so no later Ultralytics step (resume, strip_optimizer) unpickles it."""
    moved = []
    for path in sorted(weights.glob("*.pt")) if weights.is_dir() else []:
        if path.is_symlink() or safe_load(path) is None:
            aside = path.with_name(f"{path.stem}.unsafe-{int(time.time())}.bin")
            path.rename(aside)
            moved.append(aside)
    return moved
