"""The dataset before training: its data.yaml, each split's images, the files Ultralytics
would silently drop, and the sanitised data.yaml copy that training reads instead."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yolo_pipeline.container import image_check, label_scan
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.list_files import with_resolved_lists
from yolo_pipeline.contract import DATA_YAML
from yolo_pipeline.dataset.data_yaml import DataYaml, parse_data_yaml, sanitized_data_yaml
from yolo_pipeline.dataset.labels import is_image

log = logging.getLogger(__name__)

MAX_LISTED_CORRUPT = 1000  # metrics.json lists at most this many corrupt files (all are counted)
MAX_LOGGED_CORRUPT = 20


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


def read_data_yaml(channel: Path) -> DataYaml:
    """The channel's data.yaml, parsed safely; warnings logged, errors as one UserError."""
    data_yaml = channel / DATA_YAML
    if not data_yaml.is_file():
        raise UserError(
            "data.yaml is missing at the dataset root: upload it next to images/ and labels/."
        )
    parsed = parse_data_yaml(data_yaml.read_bytes(), file=DATA_YAML)
    for finding in parsed.findings:
        if finding.severity == "warning":
            log.warning("%s", finding)
    errors = [f for f in parsed.findings if f.severity == "error"]
    if errors or parsed.config is None:
        raise UserError("Invalid dataset: " + "; ".join(str(e) for e in errors) + ".")
    return parsed.config


def write_sanitized_copy(config: DataYaml, root: Path) -> Path:
    """data.yaml with known keys only (never ``download``), in scratch: the channel may be
    read-only, and nothing uploaded is altered. ``.txt`` split lists are copied there with
    each line resolved as the validator resolved it, so training reads what was validated
    (Ultralytics would resolve bare relative lines against the working directory)."""
    import yaml  # the writer only; reading goes through safe_yaml

    scratch = Path(tempfile.mkdtemp(prefix="yolo-data-"))
    data_yaml = scratch / DATA_YAML
    sanitized = with_resolved_lists(sanitized_data_yaml(config, str(root)), root, scratch)
    data_yaml.write_text(yaml.safe_dump(sanitized, sort_keys=False), encoding="utf-8")
    return data_yaml


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
    # Corrupt pairs come from Ultralytics' own label scan during training (label_scan.py);
    # what that scan passes but training cannot decode is refused here, by name.
    image_check.refuse_undecodable(root, found, config.extras.get("channels", 3))
    return scan, found


def log_scan(scan: DatasetScan) -> None:
    """The split counts."""
    log.info("Dataset: %s images per split", scan.images)


def log_corrupt(scan: DatasetScan) -> None:
    """The corrupt files by name (Ultralytics skips them with one line each, easy to miss)."""
    if scan.corrupt:
        more = " ..." if len(scan.corrupt) > MAX_LOGGED_CORRUPT else ""
        log.warning(
            "%d corrupt image/label file(s) were skipped by training: %s",
            len(scan.corrupt),
            "; ".join(scan.corrupt[:MAX_LOGGED_CORRUPT]) + more,
        )


def _corrupt_reason(image: Path, ultralytics_message: str) -> str:
    """Why a pair is dropped: Pillow's own error for an undecodable image (Ultralytics' message
    then names its HEIF fallback, which misleads), else Ultralytics' (label) message."""
    from PIL import Image  # a decoder, only for the images it checks

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


def corrupt_from_scan(root: Path, record: label_scan.ScanRecord) -> list[str]:
    """'file: reason' for each pair Ultralytics' scan dropped, channel-relative."""
    out = []
    for image, message in label_scan.corrupt_pairs(record):
        name = image.relative_to(root) if _inside(image, root) else image
        out.append(f"{name}: {_corrupt_reason(image, message)}")
    return out
