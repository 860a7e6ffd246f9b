#!/usr/bin/env python3
"""SageMaker training entrypoint: train Ultralytics YOLO on the 'dataset' channel.

    python train.py [train] [--sm-root DIR]      (SageMaker runs `<image> train`)

Contract (DESIGN.md section 3), under the SageMaker root (default /opt/ml):
  input/config/hyperparameters.json   Ultralytics train arguments, values as YAML-scalar strings
  input/data/dataset/data.yaml        the uploaded dataset (read-only in FastFile mode)
  checkpoints/run/                    the Ultralytics run folder: synced to S3, resumed after spot
  model/                              best.pt, last.pt, results.csv, args.yaml, plots, metrics.json,
                                      exports; tarred to S3 on success
  output/failure                      one paragraph on any error (SageMaker's FailureReason)

Nothing here downloads (the job may run under network isolation) and nothing from the upload is
executed: data.yaml is parsed by yolo_pipeline.dataset.data_yaml and rewritten with known keys only.
Ultralytics has no multi-node mode, so a job uses one instance (with all its GPUs via DDP).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
# In the image yolo_pipeline sits next to this file; in a checkout it lives in ../functions.
if not (HERE / "yolo_pipeline").is_dir() and (HERE.parent / "functions" / "yolo_pipeline").is_dir():
    sys.path.insert(0, str(HERE.parent / "functions"))

from yolo_pipeline.dataset.data_yaml import DataYaml, parse_data_yaml, sanitized_data_yaml  # noqa: E402
from yolo_pipeline.dataset.labels import is_image  # noqa: E402
from yolo_pipeline.training.hyperparameters import (  # noqa: E402
    CONTAINER_KEYS,
    check_hyperparameters,
    decode_hyperparameters,
    parse_export,
)
from yolo_pipeline.training.metric_line import format_metric_line, from_ultralytics  # noqa: E402

CHANNEL = "dataset"
RUN_NAME = "run"
FAILURE_MAX_CHARS = 1024
MAX_LISTED_CORRUPT = 1000  # metrics.json lists at most this many corrupt files (all are counted)

log = logging.getLogger("train")


class UserError(Exception):
    """A problem the user can fix (dataset, hyperparameters): its message is the failure reason."""


class Terminated(Exception):  # a signal rather than an error
    """SIGTERM arrived (a stop or a spot interruption)."""


@dataclass(frozen=True)
class Layout:
    """The SageMaker folders under one root."""

    root: Path

    @property
    def hyperparameters(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def channel(self) -> Path:
        return self.root / "input" / "data" / CHANNEL

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def run_dir(self) -> Path:
        return self.checkpoints / RUN_NAME

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"


@dataclass
class DatasetScan:
    """What a look at the images found before training."""

    images: dict[str, int] = field(default_factory=dict)  # split -> image count
    corrupt: list[str] = field(default_factory=list)  # "file: reason", channel-relative

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "corrupt_images": len(self.corrupt),
            "corrupt_files": self.corrupt[:MAX_LISTED_CORRUPT],
        }


# --------------------------------------------------------------------------- offline setup


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
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (fonts / name).exists():
            import matplotlib

            dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
            shutil.copyfile(dejavu, fonts / name)


def weights_dir() -> Path:
    """Where the image keeps baked weights (the default model and the AMP-check model)."""
    return Path(os.environ.get("YOLO_WEIGHTS_DIR", str(HERE / "weights")))


def point_ultralytics_at_baked_weights() -> None:
    """The CUDA AMP check loads WEIGHTS_DIR/yolo26n.pt: make that the baked copy, not a download."""
    import ultralytics.utils as uu

    baked = weights_dir()
    if baked.is_dir():
        uu.SETTINGS.update(weights_dir=str(baked), sync=False)  # DDP workers read settings.json
        uu.WEIGHTS_DIR = baked


# --------------------------------------------------------------------------- inputs


def read_hyperparameters(layout: Layout) -> dict[str, Any]:
    """Typed hyperparameters; UserError listing every problem."""
    raw: dict[str, Any] = {}
    if layout.hyperparameters.exists():
        try:
            raw = json.loads(layout.hyperparameters.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"hyperparameters.json is not valid JSON ({exc}).") from exc
        if not isinstance(raw, dict):
            raise UserError("hyperparameters.json must be a JSON object of name: value.")
    values = decode_hyperparameters({str(k): v for k, v in raw.items()})
    problems = [
        f for f in check_hyperparameters(values, file="hyperparameters") if f.severity == "error"
    ]
    for finding in check_hyperparameters(values, file="hyperparameters"):
        if finding.severity == "warning":
            log.warning("%s", finding)
    if problems:
        raise UserError("Invalid hyperparameters: " + "; ".join(str(p) for p in problems) + ".")
    return values


def read_data_yaml(layout: Layout) -> DataYaml:
    if not layout.channel.is_dir():
        raise UserError(
            f"No '{CHANNEL}' input channel: {layout.channel} does not exist. "
            f"Start the job with an InputDataConfig channel named '{CHANNEL}'."
        )
    data_yaml = layout.channel / "data.yaml"
    if not data_yaml.is_file():
        raise UserError(
            "data.yaml is missing at the dataset root: upload it next to images/ and labels/."
        )
    parsed = parse_data_yaml(data_yaml.read_bytes(), file="data.yaml")
    for finding in parsed.findings:
        if finding.severity == "warning":
            log.warning("%s", finding)
    errors = [f for f in parsed.findings if f.severity == "error"]
    if errors or parsed.config is None:
        raise UserError("Invalid dataset: " + "; ".join(str(e) for e in errors) + ".")
    return parsed.config


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def split_images(root: Path, entry: str) -> list[Path]:
    """The images of one split entry: a folder (recursive) or a .txt list of image paths."""
    target = (root / entry).resolve()
    if not _inside(target, root.resolve()):
        raise UserError(f"data.yaml: split path {entry!r} points outside the dataset folder.")
    if target.is_dir():
        # Ultralytics globs `**/*.*`, which skips hidden files and folders: so do we.
        return sorted(
            p
            for p in target.rglob("*")
            if p.is_file()
            and is_image(p.name)
            and not any(part.startswith(".") for part in p.relative_to(target).parts)
        )
    if target.is_file() and target.suffix == ".txt":
        images = []
        for line in target.read_text(encoding="utf-8").splitlines():
            if line.strip():
                image = (target.parent / line.strip()).resolve()
                if _inside(image, root.resolve()):
                    images.append(image)
        return images
    return []


def scan_dataset(root: Path, config: DataYaml) -> tuple[DatasetScan, dict[str, list[Path]]]:
    """Count each split's images and find the ones Ultralytics would silently drop."""
    scan = DatasetScan()
    found: dict[str, list[Path]] = {}
    for split, entries in config.splits.items():
        images: list[Path] = []
        for entry in entries:
            images += split_images(root, entry)
        if not images and split in ("train", "val"):
            raise UserError(
                f"The {split} split has no images: data.yaml {split}: {', '.join(entries)} "
                f"matches no image files in the dataset. Upload the {split} images there, "
                "or point data.yaml at the folder that holds them."
            )
        found[split] = images
        scan.images[split] = len(images)
    corrupt = find_corrupt(root, [p for images in found.values() for p in images], config)
    scan.corrupt = [f"{path.relative_to(root)}: {reason}" for path, reason in corrupt]
    bad = {path for path, _ in corrupt}
    if not [p for p in found["train"] if p not in bad]:
        raise UserError(
            "Every train image is corrupt or unreadable, e.g. " + "; ".join(scan.corrupt[:3])
        )
    return scan, found


def _corrupt_reason(image: Path, ultralytics_message: str) -> str:
    """Why a pair is dropped: Pillow's own error for an undecodable image (Ultralytics' message
    then names its HEIF fallback, which misleads), else Ultralytics' (label) message."""
    from PIL import Image

    try:
        with Image.open(image) as im:
            im.verify()
    except ImportError:  # Ultralytics' patched open falls back to an optional HEIF decoder
        return "unreadable image (not a format Pillow can decode, or a damaged file)"
    except Exception as exc:  # any decoder error means the image itself is unreadable
        return f"unreadable image ({type(exc).__name__}: {exc})"[:200]
    return (
        ultralytics_message.split("ignoring corrupt image/label:", 1)[-1].strip()[:200] or "corrupt"
    )


def find_corrupt(root: Path, images: Sequence[Path], config: DataYaml) -> list[tuple[Path, str]]:
    """Ultralytics' own per-file check, run up front so what it drops is named, not hidden."""
    from multiprocessing.pool import ThreadPool

    from ultralytics.data.utils import img2label_paths, verify_image_label

    labels = img2label_paths([str(p) for p in images])
    jobs = [
        (str(im), lb, "", False, len(config.names), 0, 0, False)
        for im, lb in zip(images, labels, strict=True)
    ]
    corrupt: list[tuple[Path, str]] = []
    with ThreadPool(min(8, os.cpu_count() or 1)) as pool:
        for image, result in zip(
            images, pool.imap(verify_image_label, jobs, chunksize=64), strict=True
        ):
            if result[8]:  # nc: the pair is corrupt and Ultralytics will drop it
                corrupt.append((image, _corrupt_reason(image, str(result[9]))))
    return corrupt


# --------------------------------------------------------------------------- training


def select_device(values: Mapping[str, Any]) -> Any:
    """All GPUs of the instance (DDP when several), unless the user chose."""
    if values.get("device") not in (None, ""):
        return values["device"]
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 1:
        return list(range(count))
    return 0 if count == 1 else "cpu"


def resolve_model(name: str) -> str:
    """A baked weight file, an architecture .yaml (built offline), or a clear UserError."""
    if name.endswith((".yaml", ".yml")):
        return name
    for candidate in (Path(name), weights_dir() / name, HERE / name):
        if candidate.is_file():
            return str(candidate)
    raise UserError(
        f"Model {name!r} is not in the training image and the job cannot download it. "
        f"Use the default ({CONTAINER_KEYS['model']}), an architecture such as yolo11n.yaml, "
        f"or rebuild the image with --build-arg MODEL={name}."
    )


def checkpoint_state(last: Path) -> tuple[str, int]:
    """('resumable'|'finished'|'corrupt', saved epoch index) for a last.pt."""
    import torch

    try:
        ckpt = torch.load(last, map_location="cpu", weights_only=False)
    except Exception:  # any unreadable checkpoint is treated the same way
        return "corrupt", -1
    epoch = int(ckpt.get("epoch", -1))
    epochs = int((ckpt.get("train_args") or {}).get("epochs", 0))
    if ckpt.get("optimizer") is None or epoch < 0 or epoch + 1 >= epochs:
        return "finished", epoch
    return "resumable", epoch


def _atomic_save_model(self: Any) -> Any:
    """save_model writing last.pt/best.pt to temp files then renaming: a kill never leaves half."""
    last, best = self.last, self.best
    tmp_last, tmp_best = last.with_suffix(".pt.tmp"), best.with_suffix(".pt.tmp")
    self.last, self.best = tmp_last, tmp_best
    try:
        parent: Any = type(self).__mro__[1]
        saved = parent.save_model(self)
    finally:
        self.last, self.best = last, best
    for tmp, final in ((tmp_last, last), (tmp_best, best)):
        if tmp.exists():
            tmp.replace(final)
    return saved


class StopFlag:
    """SIGTERM handling: raise at once outside training; inside, stop at the next safe point."""

    def __init__(self) -> None:
        self.requested = False
        self.in_training = False

    def handler(self, signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        log.warning("Received signal %s: stopping at the next safe point", signum)
        if not self.in_training:
            raise Terminated(f"signal {signum}")

    def check(self, _trainer: Any = None) -> None:
        if self.requested:
            raise Terminated("SIGTERM")


def metric_callbacks(stop: StopFlag) -> dict[str, Callable[[Any], None]]:
    """Ultralytics callbacks: one metric line per finished epoch, and SIGTERM safe points."""
    pending = {"epoch": False}

    def on_train_epoch_end(_trainer: Any) -> None:
        pending["epoch"] = True

    def on_fit_epoch_end(trainer: Any) -> None:
        # final_eval calls this again for best.pt without a training epoch: no line for it.
        if pending["epoch"]:
            pending["epoch"] = False
            values = {
                **trainer.label_loss_items(trainer.tloss, prefix="train"),
                **trainer.metrics,
                **trainer.lr,
            }
            print(format_metric_line(trainer.epoch + 1, from_ultralytics(values)), flush=True)
        stop.check()  # after save_model: last.pt holds this epoch

    return {
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_train_batch_end": stop.check,  # between batches: last.pt holds the previous epoch
        "on_train_epoch_start": stop.check,
    }


@dataclass
class TrainOutcome:
    resumed_from_epoch: int | None  # 1-based epoch the run continued after, or None
    final_metrics: dict[str, float]  # validation of best.pt at the end, our metric names
    already_finished: bool = False


def train(
    layout: Layout, values: Mapping[str, Any], data_yaml: Path, stop: StopFlag
) -> TrainOutcome:
    from ultralytics import YOLO

    train_args = {k: v for k, v in values.items() if k not in CONTAINER_KEYS}
    train_args.update(
        data=str(data_yaml),
        project=str(layout.checkpoints),
        name=RUN_NAME,
        exist_ok=True,
        device=select_device(values),
    )
    log.info("Devices: %s", train_args["device"])
    last = layout.run_dir / "weights" / "last.pt"
    for leftover in (layout.run_dir / "weights").glob("*.pt.tmp"):
        leftover.unlink()  # a save that a kill interrupted; the real file is intact
    resumed: int | None = None
    if last.exists():
        state, epoch = checkpoint_state(last)
        if state == "finished":
            log.info("Checkpoint %s is a finished run: packaging it instead of training", last)
            return TrainOutcome(None, {}, already_finished=True)
        if state == "corrupt":
            aside = last.with_name(f"last.corrupt-{int(time.time())}.pt")
            log.warning(
                "Checkpoint %s is unreadable; kept as %s, training from scratch", last, aside
            )
            last.rename(aside)
        else:
            resumed = epoch + 1
            log.info("Resuming from %s (epoch %d finished)", last, resumed)
            print(f"Resuming from {last} after epoch {resumed}", flush=True)

    model = YOLO(
        str(last)
        if resumed is not None
        else resolve_model(str(values.get("model") or CONTAINER_KEYS["model"]))
    )
    for event, callback in metric_callbacks(stop).items():
        model.add_callback(event, callback)
    base = model._smart_load("trainer")
    trainer_cls = type(f"Atomic{base.__name__}", (base,), {"save_model": _atomic_save_model})
    stop.in_training = True
    try:
        if resumed is not None:
            model.train(
                resume=True,
                data=str(data_yaml),
                device=train_args["device"],
                trainer=trainer_cls,
            )
        else:
            model.train(trainer=trainer_cls, **train_args)
    finally:
        stop.in_training = False
    trainer = model.trainer
    final = from_ultralytics(getattr(trainer, "metrics", None) or {})
    return TrainOutcome(resumed, final)


# --------------------------------------------------------------------------- outputs


def read_results(run_dir: Path) -> list[dict[str, float]]:
    path = run_dir / "results.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            parsed: dict[str, float] = {}
            for key, value in row.items():
                with contextlib.suppress(TypeError, ValueError):
                    parsed[key.strip()] = float(value)
            rows.append(parsed)
    return rows


def _fitness(row: Mapping[str, float]) -> float:
    # Ultralytics' detection fitness: 0.1 * mAP50 + 0.9 * mAP50-95.
    return 0.1 * row.get("metrics/mAP50(B)", 0.0) + 0.9 * row.get("metrics/mAP50-95(B)", 0.0)


def export_models(best: Path, formats: Sequence[str], imgsz: Any, out: Path) -> list[str]:
    from ultralytics import YOLO

    written = []
    for fmt in formats:
        log.info("Exporting %s to %s", best.name, fmt)
        exported = Path(str(YOLO(str(best)).export(format=fmt, imgsz=imgsz, device="cpu")))
        target = out / f"best{exported.suffix}" if exported.is_file() else out / exported.name
        if exported.is_dir():
            shutil.copytree(exported, target, dirs_exist_ok=True)
        else:
            shutil.copy2(exported, target)
        written.append(target.name)
    return written


def package(
    layout: Layout,
    values: Mapping[str, Any],
    outcome: TrainOutcome,
    config: DataYaml,
    scan: DatasetScan,
) -> dict[str, Any]:
    """Fill model/ and return the metrics.json content."""
    run_dir, out = layout.run_dir, layout.model
    out.mkdir(parents=True, exist_ok=True)
    weights = run_dir / "weights"
    best = weights / "best.pt" if (weights / "best.pt").exists() else weights / "last.pt"
    if not best.exists():
        raise RuntimeError(f"training ended without a checkpoint in {weights}")
    shutil.copy2(best, out / "best.pt")
    if (weights / "last.pt").exists():
        shutil.copy2(weights / "last.pt", out / "last.pt")  # final_eval stripped the optimizer
    for item in sorted(run_dir.iterdir()):
        if item.is_file() and item.suffix.lower() in {".csv", ".yaml", ".png", ".jpg", ".json"}:
            shutil.copy2(item, out / item.name)
    rows = read_results(run_dir)
    best_row = max(rows, key=_fitness) if rows else {}
    final = outcome.final_metrics or from_ultralytics(best_row)
    exports = export_models(best, parse_export(values.get("export")), values.get("imgsz", 640), out)
    metrics = {
        "final": final,
        "epochs_run": len(rows),
        "epochs_requested": int(values.get("epochs", 100)),
        "best_epoch": int(best_row.get("epoch", 0)) or None,
        "resumed_after_epoch": outcome.resumed_from_epoch,
        "class_names": list(config.names),
        "dataset": scan.as_dict(),
        "exports": exports,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics


def failure_paragraph(exc: BaseException) -> str:
    """One paragraph, the most useful part first, within SageMaker's 1,024 characters."""
    if isinstance(exc, UserError):
        text = str(exc)
    elif isinstance(exc, Terminated):
        text = (
            "Training was stopped (SIGTERM: a stop request or a spot interruption). "
            "The last finished epoch is kept in the checkpoints and a restart resumes from it."
        )
    else:
        text = f"Training failed: {type(exc).__name__}: {exc}. See the job's CloudWatch log."
    text = " ".join(text.split())
    return text if len(text) <= FAILURE_MAX_CHARS else text[: FAILURE_MAX_CHARS - 3] + "..."


def write_failure(layout: Layout, exc: BaseException) -> None:
    with contextlib.suppress(OSError):
        layout.failure.parent.mkdir(parents=True, exist_ok=True)
        layout.failure.write_text(failure_paragraph(exc), encoding="utf-8")


# --------------------------------------------------------------------------- main


def run(layout: Layout, stop: StopFlag) -> dict[str, Any]:
    values = read_hyperparameters(layout)
    config = read_data_yaml(layout)
    setup_offline_environment()
    point_ultralytics_at_baked_weights()
    root = layout.channel.resolve()
    scan, _ = scan_dataset(root, config)
    log.info("Dataset: %s images per split", scan.images)
    if scan.corrupt:
        log.warning(
            "%d corrupt image/label file(s) will be skipped by training: %s",
            len(scan.corrupt),
            "; ".join(scan.corrupt[:20]) + (" ..." if len(scan.corrupt) > 20 else ""),
        )
    scratch = Path(tempfile.mkdtemp(prefix="yolo-data-"))  # the channel may be read-only
    data_yaml = scratch / "data.yaml"
    import yaml

    from yolo_pipeline.container.list_files import with_resolved_lists  # wiring (issue 13)

    # wiring (issue 13): .txt split lists copied with the paths the validator resolved
    sanitized = with_resolved_lists(sanitized_data_yaml(config, str(root)), root, scratch)
    data_yaml.write_text(yaml.safe_dump(sanitized, sort_keys=False), encoding="utf-8")
    outcome = train(layout, values, data_yaml, stop)
    metrics = package(layout, values, outcome, config, scan)
    print("YOLO_FINAL " + json.dumps(metrics["final"]), flush=True)
    log.info("Done: model/ holds %s", ", ".join(sorted(p.name for p in layout.model.iterdir())))
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", nargs="?", default="train", choices=["train"])
    parser.add_argument("--sm-root", type=Path, default=Path("/opt/ml"))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s train: %(message)s"
    )
    layout = Layout(args.sm_root.resolve())
    stop = StopFlag()
    signal.signal(signal.SIGTERM, stop.handler)
    try:
        run(layout, stop)
    except BaseException as exc:  # every failure must reach output/failure
        if isinstance(exc, SystemExit | KeyboardInterrupt) and not isinstance(exc, Terminated):
            write_failure(layout, RuntimeError(f"interrupted ({type(exc).__name__})"))
        else:
            write_failure(layout, exc)
        traceback.print_exc(file=sys.stderr)
        log.error("FAILED: %s", failure_paragraph(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
