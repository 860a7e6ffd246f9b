"""Build YOLO datasets for tests: good ones and the broken ones real users upload.

A dataset is a plain ``dict[str, bytes]`` of root-relative paths to contents, so a test
can tweak it (``with_changes``) and put the same dataset on disk (``write_local``) or in
(moto) S3 (``put_s3``). Images are tiny placeholder bytes: the validator never decodes
images; use ``tests`` of the training tier for real pixels.

    files = detect_dataset(n_train=4, n_val=2)
    root = write_local(tmp_path, files)
    uri = put_s3(files, "bucket", "datasets/shapes/")
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Files = dict[str, bytes]
CLASSES = ("circle", "square", "triangle")
# A JPEG start-of-image marker and padding: enough to be "a .jpg file" in a listing.
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def _b(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def data_yaml(**keys: Any) -> bytes:
    """A data.yaml from keyword arguments (``None`` values are left out)."""
    return yaml.safe_dump(
        {k: v for k, v in keys.items() if v is not None}, sort_keys=False
    ).encode()


def box_row(cls: int, i: int = 0) -> str:
    """A valid, deterministic normalised box row."""
    cx = 0.2 + (i % 5) * 0.1
    return f"{cls} {cx:.3f} 0.500 0.100 0.200"


def polygon_row(cls: int, i: int = 0) -> str:
    x = 0.1 + (i % 5) * 0.1
    return f"{cls} {x:.3f} 0.1 {x + 0.1:.3f} 0.1 {x + 0.05:.3f} 0.3"


def detect_dataset(
    n_train: int = 4,
    n_val: int = 2,
    n_test: int = 0,
    classes: tuple[str, ...] = CLASSES,
    *,
    segment: bool = False,
    layout: str = "standard",
    suffix: str = ".jpg",
    background: int = 0,
) -> Files:
    """A valid dataset.

    ``layout``: ``standard`` (images/train, labels/train, data.yaml at the root) or
    ``roboflow`` (train/images, train/labels, ``train: ../train/images`` as Roboflow
    exports it). ``background``: that many extra train images without a label file.
    """
    files: Files = {}
    row = polygon_row if segment else box_row
    counts = {"train": n_train, "val": n_val, "test": n_test}
    split_paths: dict[str, str] = {}
    for split, n in counts.items():
        if n == 0:
            continue
        if layout == "roboflow":
            img_dir = f"{split if split != 'val' else 'valid'}/images"
            split_paths[split] = f"../{img_dir}"
        else:
            img_dir = f"images/{split}"
            split_paths[split] = img_dir
        lbl_dir = "labels".join(img_dir.rsplit("images", 1))
        for i in range(n):
            stem = f"{split}_{i:05d}"
            files[f"{img_dir}/{stem}{suffix}"] = FAKE_JPEG
            rows = [row(c % len(classes), i + c) for c in range(i % len(classes) + 1)]
            files[f"{lbl_dir}/{stem}.txt"] = ("\n".join(rows) + "\n").encode()
        if split == "train":
            for j in range(background):
                files[f"{img_dir}/bg_{j:05d}{suffix}"] = FAKE_JPEG
    extra: dict[str, Any] = {}
    if layout == "roboflow":
        extra["roboflow"] = {"workspace": "demo", "project": "shapes", "version": 1}
    files["data.yaml"] = data_yaml(
        train=split_paths.get("train"),
        val=split_paths.get("val"),
        test=split_paths.get("test"),
        nc=len(classes),
        names=list(classes),
        **extra,
    )
    return files


def pose_row(cls: int, i: int = 0, kpt_shape: tuple[int, int] = (3, 3)) -> str:
    """A box and its ``k`` keypoints (``x y`` or ``x y visible``), all inside the box."""
    k, d = kpt_shape
    cx = 0.2 + (i % 5) * 0.1
    points = []
    for j in range(k):
        xy = f"{cx - 0.04 + 0.04 * (j % 3):.3f} {0.45 + 0.05 * (j % 2):.3f}"
        points.append(xy + (" 2" if d == 3 else ""))
    return f"{cls} {cx:.3f} 0.500 0.100 0.200 " + " ".join(points)


def obb_row(cls: int, i: int = 0) -> str:
    """Four corners of a (rotated) box."""
    x = 0.2 + (i % 5) * 0.1
    return f"{cls} {x:.3f} 0.3 {x + 0.1:.3f} 0.35 {x + 0.05:.3f} 0.5 {x - 0.05:.3f} 0.45"


def task_dataset(
    task: str, n_train: int = 4, n_val: int = 2, kpt_shape: tuple[int, int] = (3, 3)
) -> Files:
    """A valid dataset for ``task`` (detect, segment, pose, obb); pose sets get kpt_shape
    and flip_idx in data.yaml. OBB needs ``task: obb`` (or an OBB model) to be told apart
    from segment: this adds a training.yaml saying so."""
    files = detect_dataset(n_train, n_val, segment=task == "segment")
    rows = {
        "pose": lambda c, i: pose_row(c, i, kpt_shape),
        "obb": obb_row,
    }.get(task)
    if rows is not None:
        for path in [p for p in files if p.startswith("labels/")]:
            i = int(path.rsplit("_", 1)[1].split(".")[0])
            text = "\n".join(rows(c % 3, i + c) for c in range(i % 3 + 1)) + "\n"
            files[path] = text.encode()
    if task == "pose":
        config = yaml.safe_load(files["data.yaml"])
        k = kpt_shape[0]
        files["data.yaml"] = data_yaml(**config, kpt_shape=list(kpt_shape), flip_idx=list(range(k)))
    if task == "obb":
        files["training.yaml"] = b"task: obb\n"
    return files


def with_changes(files: Mapping[str, bytes], **changes: bytes | str | None) -> Files:
    """A copy with paths replaced or added; ``None`` removes. Paths hold ``/``, so pass
    them unpacked: ``with_changes(files, **{"labels/train/a.txt": "0 0.5 0.5 0.1 0.1"})``."""
    out = dict(files)
    for path, content in changes.items():
        if content is None:
            out.pop(path, None)
        else:
            out[path] = _b(content)
    return out


def without(files: Mapping[str, bytes], prefix: str) -> Files:
    """A copy without every path under ``prefix`` (a half-finished upload)."""
    return {p: c for p, c in files.items() if not p.startswith(prefix)}


def write_local(root: Path, files: Mapping[str, bytes | str]) -> Path:
    """Write ``files`` under ``root`` (created) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_b(content))
    return root


def put_s3(
    files: Mapping[str, bytes | str],
    bucket: str,
    prefix: str = "datasets/demo/",
    client: Any | None = None,
    create_bucket: bool = True,
) -> str:
    """Upload ``files`` under ``s3://bucket/prefix`` (moto or real) and return that URI.

    data.yaml is uploaded last, as the real upload does.
    """
    if client is None:
        from yolo_pipeline.aws import clients as aws

        client = aws.client("s3")
    if create_bucket:
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    for rel in sorted(files, key=lambda p: p.endswith("data.yaml")):
        client.put_object(Bucket=bucket, Key=prefix + rel, Body=_b(files[rel]))
    return f"s3://{bucket}/{prefix}"


@dataclass(frozen=True)
class Case:
    """One corpus entry: a dataset, whether it is valid, and text the report must contain."""

    name: str
    files: Files
    valid: bool
    expect: str  # substring of some finding (errors if invalid, else warnings); "" = none


def _labels_replaced(files: Files, path: str, text: str | bytes) -> Files:
    return with_changes(files, **{path: text})


def corpus() -> list[Case]:
    """Good and broken datasets, each with the finding a user must see."""
    good = detect_dataset()
    lbl = "labels/train/train_00000.txt"
    yml = {"train": "images/train", "val": "images/val", "names": list(CLASSES)}
    cases = [
        Case("good-detect", good, True, ""),
        Case("good-segment", detect_dataset(segment=True), True, ""),
        Case("good-roboflow", detect_dataset(layout="roboflow"), True, "roboflow"),
        Case("good-uppercase-suffix", detect_dataset(suffix=".JPG"), True, ""),
        Case("good-background", detect_dataset(background=2), True, "background"),
        Case(
            "good-crlf-bom",
            _labels_replaced(good, lbl, "\ufeff0 0.5 0.5 0.1 0.1\r\n1 0.4 0.4 0.2 0.2\r\n"),
            True,
            "",
        ),
        Case(
            "pixel-coordinates",
            _labels_replaced(good, lbl, "0 320 240 50 80\n"),
            False,
            "pixel coordinates",
        ),
        Case(
            "class-out-of-range",
            _labels_replaced(good, lbl, "7 0.5 0.5 0.1 0.1\n"),
            False,
            "class 7 is out of range",
        ),
        Case(
            "class-name-not-id",
            _labels_replaced(good, lbl, "square 0.5 0.5 0.1 0.1\n"),
            False,
            "use the class id",
        ),
        Case(
            "comma-separated", _labels_replaced(good, lbl, "0,0.5,0.5,0.1,0.1\n"), False, "commas"
        ),
        Case(
            "confidence-column",
            _labels_replaced(good, lbl, "0 0.5 0.5 0.1 0.1 0.93\n"),
            False,
            "confidence",
        ),
        Case(
            "nan-coordinate",
            _labels_replaced(good, lbl, "0 nan 0.5 0.1 0.1\n"),
            False,
            "not a finite number",
        ),
        Case(
            "odd-polygon",
            _labels_replaced(good, lbl, "0 0.1 0.1 0.2 0.2 0.3 0.3 0.4\n"),
            False,
            "odd number",
        ),
        Case(
            "mixed-rows",
            _labels_replaced(good, lbl, "0 0.5 0.5 0.1 0.1\n1 0.1 0.1 0.2 0.1 0.2 0.2\n"),
            False,
            "mixes",
        ),
        Case(
            "binary-label", _labels_replaced(good, lbl, b"\xff\xfe\x00garbage"), False, "not UTF-8"
        ),
        Case("no-labels-folder", without(good, "labels/"), False, "upload the labels"),
        Case("no-val-labels", without(good, "labels/val/"), False, "val has 2 images"),
        Case(
            "missing-val",
            with_changes(
                good, **{"data.yaml": data_yaml(train="images/train", names=list(CLASSES))}
            ),
            False,
            "val: is required",
        ),
        Case("missing-data-yaml", without(good, "data.yaml"), False, "upload data.yaml last"),
        Case("empty-dataset", {}, False, "is empty"),
        Case(
            "nested-upload",
            {f"shapes/{p}": c for p, c in good.items()},
            False,
            "one folder too deep",
        ),
        Case(
            "windows-path",
            with_changes(good, **{"data.yaml": data_yaml(**{**yml, "train": "images\\train"})}),
            False,
            "backslashes",
        ),
        Case(
            "absolute-path",
            with_changes(
                good, **{"data.yaml": data_yaml(**{**yml, "train": "/home/me/ds/images/train"})}
            ),
            False,
            "absolute path",
        ),
        Case(
            "escape-root",
            with_changes(good, **{"data.yaml": data_yaml(**{**yml, "train": ["../../etc"]})}),
            False,
            "outside the dataset",
        ),
        Case(
            "url-split",
            with_changes(
                good, **{"data.yaml": data_yaml(**{**yml, "val": "s3://other-bucket/images"})}
            ),
            False,
            "is a URL",
        ),
        Case(
            "download-key",
            with_changes(
                good,
                **{
                    "data.yaml": data_yaml(
                        **yml, download="import os; os.system('touch /tmp/pwned')"
                    )
                },
            ),
            False,
            "would execute it",
        ),
        Case(
            "names-dict-gap",
            with_changes(
                good,
                **{
                    "data.yaml": data_yaml(
                        **{**yml, "names": {0: "circle", 1: "square", 3: "triangle"}}
                    )
                },
            ),
            False,
            "missing id(s) 2",
        ),
        Case(
            "nc-mismatch",
            with_changes(good, **{"data.yaml": data_yaml(**yml, nc=5)}),
            False,
            "nc: 3",
        ),
        Case(
            "wrong-case-folder",
            with_changes(good, **{"data.yaml": data_yaml(**{**yml, "train": "Images/Train"})}),
            False,
            "case-sensitive",
        ),
        Case(
            "only-txt-in-split",
            with_changes(good, **{"data.yaml": data_yaml(**{**yml, "train": "labels/train"})}),
            False,
            "point train: at the images",
        ),
        Case(
            "alias-bomb",
            with_changes(
                good,
                **{
                    "data.yaml": (b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n" + data_yaml(**yml))
                },
            ),
            False,
            "anchor",
        ),
        Case(
            "not-a-mapping",
            with_changes(good, **{"data.yaml": b"- train\n- val\n"}),
            False,
            "must be a mapping",
        ),
        Case(
            "all-empty-labels",
            {p: (b"" if p.startswith("labels/") else c) for p, c in good.items()},
            False,
            "are empty",
        ),
    ]
    return cases
