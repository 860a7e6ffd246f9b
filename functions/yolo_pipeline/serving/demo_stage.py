"""The last stage of ``yolo-pipeline local`` (and so of ``make demo``): the model it
trained, served by the inference server as a process on localhost, one validation image
predicted over HTTP, and the objects printed beside that image's ground-truth label rows.

``python -m yolo_pipeline.serving.demo_stage RUN_DIR DATASET`` runs it on its own (RUN_DIR:
the workdir of ``yolo-pipeline local``, holding model/best.pt; DATASET: the dataset folder
it trained on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from yolo_pipeline.serving.client import ServerError, predict_file, server_process
from yolo_pipeline.serving.display import prediction_lines
from yolo_pipeline.serving.errors import ModelFileError
from yolo_pipeline.serving.model_files import find_weights
from yolo_pipeline.text import clean

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def validation_image(dataset: Path) -> Path:
    """The first validation image (images/val or valid/images, as Ultralytics lays them)."""
    for folder in (dataset / "images" / "val", dataset / "valid" / "images", dataset / "val"):
        if folder.is_dir():  # val/<class>/ for a classification tree
            images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if images:
                return images[0]
    raise ModelFileError(f"{dataset} has no validation images (looked in images/val)")


def label_rows(image: Path) -> list[list[float]]:
    """The image's YOLO label rows (``class cx cy w h``, normalised); [] when it has none."""
    parts = list(image.parts)
    if "images" not in parts:
        return []
    index = len(parts) - 1 - parts[::-1].index("images")
    label = Path(*parts[:index], "labels", *parts[index + 1 :]).with_suffix(".txt")
    if not label.is_file():
        return []
    rows = []
    for line in label.read_text(encoding="utf-8").splitlines():
        try:
            rows.append([float(v) for v in line.split()])
        except ValueError:
            continue
    return [r for r in rows if len(r) == 5]


def truth_lines(rows: list[list[float]], prediction: dict[str, Any]) -> list[str]:
    """Ground-truth rows as the same table the predictions use (pixels, class names)."""
    names = prediction.get("names") or []
    width, height = float(prediction.get("width", 1)), float(prediction.get("height", 1))
    lines = [f"ground truth: {len(rows)} object(s)", f"  {'CLASS':<20} {'':>6}  BOX px"]
    for cls, cx, cy, w, h in rows:
        name = names[int(cls)] if 0 <= int(cls) < len(names) else f"class{int(cls)}"
        box = [
            (cx - w / 2) * width,
            (cy - h / 2) * height,
            (cx + w / 2) * width,
            (cy + h / 2) * height,
        ]
        coords = ", ".join(f"{v:.1f}" for v in box)
        lines.append(f"  {clean(str(name), 20):<20} {'':>6}  [{coords}]")
    return lines


def run(run_dir: Path, dataset: Path, out: TextIO = sys.stdout) -> int:
    weights = find_weights(run_dir)  # fails early and clearly, before a process starts
    image = validation_image(dataset)
    print(f"Serving {weights} on localhost (the inference image's server)", file=out)
    with server_process(run_dir, log_file=run_dir / "serve.log") as url:
        print(f"    POST {url}/invocations  <- {image}", file=out)
        prediction = predict_file(url, image)
    print("\n".join(prediction_lines(f"served: {image.name}", prediction)), file=out)
    rows = label_rows(image)  # box rows; the other tasks' targets are not boxes
    if rows:
        print("\n".join(truth_lines(rows, prediction)), file=out)
    print(
        f"Serve it yourself: yolo-pipeline serve {run_dir} --port 8080, then "
        f"yolo-pipeline predict --local http://127.0.0.1:8080 {image}",
        file=out,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yolo_pipeline.serving.demo_stage")
    parser.add_argument("run_dir", type=Path, help="the workdir of `yolo-pipeline local`")
    parser.add_argument("dataset", type=Path, help="the dataset folder it trained on")
    args = parser.parse_args(argv)
    try:
        return run(args.run_dir, args.dataset)
    except (ModelFileError, ServerError) as exc:
        print(f"serve stage: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
