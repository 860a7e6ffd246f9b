"""Judge a YOLO dataset exactly as training will see it, on a local folder or S3 prefix.

Order of work: list the storage once, parse data.yaml (size-checked from the listing),
resolve each split to image paths from the listing alone (images are never downloaded),
pair images with labels by Ultralytics' rule, then read only the label files, with
bounded concurrency, keeping a small summary per file. Every problem is a ``Finding``.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from yolo_pipeline.dataset.data_yaml import (
    MAX_DATA_YAML_BYTES,
    SPLITS,
    DataYaml,
    normalize_entry,
    parse_data_yaml,
)
from yolo_pipeline.dataset.findings import Finding, error, warning
from yolo_pipeline.dataset.labels import (
    MAX_LABEL_BYTES,
    LabelFileResult,
    check_label_file,
    is_image,
    label_path,
    summarize_notes,
)
from yolo_pipeline.dataset.storage import FileInfo, Storage, StorageError, open_location
from yolo_pipeline.text import quote

MAX_LABEL_PROBLEMS = 20  # label problems listed in a report; the rest are counted
MAX_EXAMPLES = 3


@dataclass
class Report:
    location: str
    valid: bool
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    config: DataYaml | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": self.stats,
        }

    def render_text(self, max_items: int = 20) -> str:
        head = "VALID" if self.valid else "INVALID"
        lines = [f"{head}: {self.location}"]
        for title, items in (("Errors", self.errors), ("Warnings", self.warnings)):
            if not items:
                continue
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  - {f}" for f in items[:max_items]]
            if len(items) > max_items:
                lines.append(f"  ... and {len(items) - max_items} more")
        lines += _render_stats(self.stats)
        return "\n".join(lines)


def _render_stats(stats: dict[str, Any]) -> list[str]:
    if not stats.get("splits"):
        return []
    lines = [f"Task: {stats.get('task')}, classes: {stats.get('classes')}"]
    for split, s in stats["splits"].items():
        lines.append(
            f"  {split:5} {s['images']:>7} images  {s['labelled']:>7} labelled  "
            f"{s['background']:>6} background  {s['instances']:>8} instances"
        )
    per_class = stats.get("instances_per_class") or {}
    if per_class:
        top = sorted(per_class.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k}: {v}" for k, v in top[:10])
        more = f", ... ({len(top) - 10} more classes)" if len(top) > 10 else ""
        lines.append(f"Instances per class: {shown}{more}")
    return lines


@dataclass
class _Split:
    name: str
    images: list[str]
    findings: list[Finding]


class _Index:
    """The listing, with the lookups the checks need."""

    def __init__(self, files: list[FileInfo]) -> None:
        self.files = files
        self.by_path = {f.path: f for f in files}
        self.lower = {f.path.lower(): f.path for f in files}

    def under(self, folder: str) -> list[str]:
        if folder in {"", "."}:
            return [f.path for f in self.files]
        prefix = folder.rstrip("/") + "/"
        return [f.path for f in self.files if f.path.startswith(prefix)]

    def has_folder(self, folder: str) -> bool:
        prefix = folder.rstrip("/") + "/"
        return any(f.path.startswith(prefix) for f in self.files)

    def top_level(self) -> list[str]:
        return sorted(
            {f.path.split("/", 1)[0] + ("/" if "/" in f.path else "") for f in self.files}
        )


def _capped(findings: list[Finding], cap: int, what: str, file: str) -> list[Finding]:
    if len(findings) <= cap:
        return findings
    extra = len(findings) - cap
    return [
        *findings[:cap],
        findings[0].__class__(findings[0].severity, file, f"... and {extra} more {what}"),
    ]


def _missing_entry(entry: str, split: str, index: _Index, file: str) -> Finding:
    hint = "upload that folder, or fix the path in data.yaml (paths are relative to data.yaml)"
    if entry.lower() in index.lower or any(p.startswith(entry.lower() + "/") for p in index.lower):
        hint = "S3 keys and Linux paths are case-sensitive; match the folder's exact spelling"
    elif any("\\" in f.path for f in index.files[:1000]):
        hint = (
            "file names contain backslashes (uploaded from Windows?); re-upload with "
            "forward slashes so folders exist"
        )
    else:
        tops = index.top_level()
        if tops:
            hint += f"; found at the top level: {', '.join(tops[:8])}"
    return error(file, f"{quote(entry)} does not exist in the dataset", field=split, hint=hint)


def _resolve_split(
    split: str, entries: list[str], index: _Index, storage: Storage, file: str
) -> _Split:
    images: list[str] = []
    findings: list[Finding] = []
    for entry in entries:
        if entry in index.by_path:
            if is_image(entry):
                findings.append(
                    error(
                        file,
                        f"{quote(entry)} is a single image",
                        field=split,
                        hint="point to a folder of images or a .txt list",
                    )
                )
                continue
            images += _read_list_file(split, entry, index, storage, findings)
        elif entry in {"", "."} or index.has_folder(entry):
            base = "" if entry in {"", "."} else entry.rstrip("/") + "/"
            for path in index.under(entry):
                rel = path[len(base) :]
                # glob('**/*.*') skips hidden files and folders (e.g. macOS ._x.jpg).
                if is_image(path) and not any(p.startswith(".") for p in rel.split("/")):
                    images.append(path)
        else:
            findings.append(_missing_entry(entry, split, index, file))
    return _Split(split, sorted(set(images)), findings)


def _read_list_file(
    split: str, entry: str, index: _Index, storage: Storage, findings: list[Finding]
) -> list[str]:
    info = index.by_path[entry]
    if info.size > 64 * 1024 * 1024:
        findings.append(error(entry, f"is {info.size:,} bytes, too large for an image list"))
        return []
    try:
        text = storage.read_bytes(entry).decode("utf-8-sig")
    except (StorageError, UnicodeDecodeError) as exc:
        findings.append(error(entry, f"cannot be read as a UTF-8 image list: {exc}", field=split))
        return []
    parent = posixpath.dirname(entry)
    out: list[str] = []
    problems: list[Finding] = []
    bare = 0
    skipped = 0
    for lineno, raw in enumerate(text.strip().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("./"):  # Ultralytics: relative to the list file's folder
            candidate = posixpath.join(parent, line[2:])
        else:
            candidate = line
            if not line.startswith("/") and "://" not in line and "\\" not in line:
                bare += 1
        path, problem = normalize_entry(candidate, fallback=False)
        if problem or path is None:
            message, _, hint = (problem or "").partition(" -> ")
            problems.append(error(entry, message, line=lineno, hint=hint))
            continue
        if not is_image(path):
            skipped += 1
            continue
        if path not in index.by_path:
            problems.append(
                error(
                    entry,
                    f"lists {quote(path)}, which does not exist",
                    line=lineno,
                    hint="upload the image or remove the line",
                )
            )
            continue
        out.append(path)
    findings += _capped(problems, MAX_LABEL_PROBLEMS, "problems in this list", entry)
    if bare:
        findings.append(
            warning(
                entry,
                f"{bare} line(s) do not start with ./; they are taken "
                "relative to the dataset folder",
                field=split,
                hint="prefix lines with ./ (relative to this list file)",
            )
        )
    if skipped:
        findings.append(
            warning(entry, f"{skipped} line(s) are not images and are ignored", field=split)
        )
    return out


def validate_dataset(storage: Storage, data_yaml: str = "data.yaml") -> Report:
    """Validate the dataset in ``storage`` whose config is ``data_yaml``; never raises."""
    report = Report(location=storage.uri, valid=False)
    try:
        _validate(storage, data_yaml, report)
    except StorageError as exc:
        report.errors.append(error(data_yaml, str(exc), hint="check the location and access"))
    except Exception as exc:  # a report is always better than a traceback
        report.errors.append(
            error(
                data_yaml,
                f"internal error while validating: {type(exc).__name__}: {exc}",
                hint="please report this with the dataset layout",
            )
        )
    report.valid = not report.errors
    return report


def _validate(storage: Storage, data_yaml: str, report: Report) -> None:  # noqa: C901, PLR0912, PLR0915 (to split, issue 10)
    files = storage.list_files()
    index = _Index(files)
    report.stats["files"] = len(files)
    report.stats["bytes"] = sum(f.size for f in files)
    info = index.by_path.get(data_yaml)
    if info is None:
        report.errors.append(_no_data_yaml(data_yaml, index, storage.uri))
        return
    if info.size > MAX_DATA_YAML_BYTES:  # before reading a byte of it
        report.errors.append(
            error(
                data_yaml,
                f"is {info.size:,} bytes; the limit is {MAX_DATA_YAML_BYTES:,}",
                hint="a data.yaml only needs paths and class names",
            )
        )
        return
    parsed = parse_data_yaml(storage.read_bytes(data_yaml, MAX_DATA_YAML_BYTES), data_yaml)
    _add(report, parsed.findings)
    config = parsed.config
    report.config = config
    if config is None:
        return
    report.stats.update(task="detect", classes=config.nc, names=list(config.names))

    splits = {
        name: _resolve_split(name, entries, index, storage, data_yaml)
        for name, entries in config.splits.items()
    }
    for s in splits.values():
        _add(report, s.findings)
    if any(f.severity == "error" for s in splits.values() for f in s.findings):
        return
    for s in splits.values():
        if not s.images:
            report.errors.append(_no_images(s, config, index, data_yaml))
    if report.errors:
        return
    _check_overlap(splits, report, data_yaml)

    kpt = config.extras.get("kpt_shape")
    kpt_shape = (
        (int(kpt[0]), int(kpt[1]))
        if isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(x, int) for x in kpt)
        else None
    )
    pairs = {s.name: [(img, label_path(img)) for img in s.images] for s in splits.values()}
    wanted = sorted({lbl for ps in pairs.values() for _, lbl in ps if lbl in index.by_path})
    too_big = [p for p in wanted if index.by_path[p].size > MAX_LABEL_BYTES]
    to_read = [p for p in wanted if index.by_path[p].size <= MAX_LABEL_BYTES]
    problems: list[Finding] = [
        error(
            p,
            f"is {index.by_path[p].size:,} bytes; a label file is a few lines",
            hint="check it is really a YOLO label file",
        )
        for p in too_big
    ]
    results: dict[str, LabelFileResult] = {}
    empty = LabelFileResult("")
    for path, result in storage.map_read(
        (p for p in to_read if index.by_path[p].size > 0),
        lambda p, b: check_label_file(p, b, config.names, kpt_shape),
    ):
        results[path] = result
    for p in to_read:
        if index.by_path[p].size == 0:
            results[p] = LabelFileResult(p)
    report.stats["label_files_read"] = len(results)

    per_class: Counter[int] = Counter()
    split_stats: dict[str, dict[str, int]] = {}
    seg_files = box_files = 0
    notes: Counter[str] = Counter()
    for s in splits.values():
        ps = pairs[s.name]
        found = [results.get(lbl) for _, lbl in ps if lbl in index.by_path]
        present = [r for r in found if r is not None]
        labelled = [r for r in present if not r.empty]
        counts: Counter[int] = Counter()
        split_notes: Counter[str] = Counter()
        for r in labelled:
            counts.update(r.instances)
            split_notes.update(r.notes)
        per_class.update(counts)
        notes.update(split_notes)
        background = len(ps) - len(labelled)
        split_stats[s.name] = {
            "images": len(ps),
            "labelled": len(labelled),
            "background": background,
            "instances": sum(counts.values()),
        }
        report.warnings += summarize_notes(split_notes, s.name)
        if not present and not too_big:
            report.errors.append(_no_labels(s, ps, index, data_yaml))
            continue
        if not labelled and s.name in {"train", "val"}:
            report.errors.append(
                error(
                    data_yaml,
                    f"all {len(present)} label files of {s.name} are empty: nothing to learn from",
                    field=s.name,
                    hint="label the objects, or check the export",
                )
            )
            continue
        if background:
            example = next(
                (
                    img
                    for img, lbl in ps
                    if lbl not in index.by_path or results.get(lbl, empty).empty
                ),
                "",
            )
            report.warnings.append(
                warning(
                    data_yaml,
                    f"{background} of {len(ps)} {s.name} images have no label file or an "
                    f"empty one and train as background (e.g. {example} -> {label_path(example)})",
                    field=s.name,
                    hint="fine for negative examples; otherwise upload their labels",
                )
            )
    for r in sorted(results.values(), key=lambda r: r.path):
        seg_files += bool(r.segment_rows)
        box_files += bool(r.box_rows)
        problems += r.problems
        if r.problem_count > len(r.problems):
            problems.append(
                error(
                    r.path,
                    f"... and {r.problem_count - len(r.problems)} more problems in this file",
                )
            )
    bad_files = sum(1 for r in results.values() if not r.ok) + len(too_big)
    if problems:
        report.errors += _capped(problems, MAX_LABEL_PROBLEMS, "label problems", "labels")
        report.errors.append(
            error(
                "labels",
                f"{bad_files} label file(s) have problems; "
                "Ultralytics would silently drop those images",
                hint="fix the lines listed above",
            )
        )
    if seg_files and box_files:
        report.warnings.append(
            warning(
                "labels",
                f"{seg_files} label files hold polygons and "
                f"{box_files} hold boxes; training uses boxes only",
                hint="use one format throughout",
            )
        )
    report.stats["task"] = "segment" if seg_files and not box_files else "detect"
    report.stats["splits"] = split_stats
    report.stats["instances_per_class"] = {
        name: per_class.get(i, 0) for i, name in enumerate(config.names)
    }
    report.stats["crlf_label_files"] = notes.get("crlf", 0)
    _check_class_coverage(config, split_stats, pairs, results, report, data_yaml)
    _check_orphans(pairs, index, report)


def _add(report: Report, findings: list[Finding]) -> None:
    for f in findings:
        (report.errors if f.severity == "error" else report.warnings).append(f)


def _no_data_yaml(name: str, index: _Index, uri: str) -> Finding:
    if not index.files:
        return error(
            name,
            f"not found: {uri} is empty",
            hint="upload images/, labels/ and then data.yaml to this location",
        )
    deeper = [f.path for f in index.files if f.path.rsplit("/", 1)[-1] in {"data.yaml", "data.yml"}]
    hint = "upload data.yaml last, after images and labels"
    if deeper:
        hint = (
            f"found {deeper[0]}: point at that folder instead (the dataset was uploaded one "
            "folder too deep?)"
        )
    others = [
        f.path for f in index.files if "/" not in f.path and f.path.endswith((".yaml", ".yml"))
    ]
    if others and not deeper:
        hint = f"found {others[0]}: rename it to {name}"
    return error(name, f"not found in {uri}", hint=hint)


def _no_images(s: _Split, config: DataYaml, index: _Index, file: str) -> Finding:
    where = ", ".join(config.splits[s.name])
    inside = [p for e in config.splits[s.name] for p in index.under(e)]
    hint = "upload images with a supported suffix (jpg, jpeg, png, bmp, tif, webp, ...)"
    if inside and all(p.endswith(".txt") for p in inside):
        hint = f"{where} holds only .txt files: point {s.name}: at the images folder instead"
    elif (
        not inside
        and config.splits[s.name]
        and all(e in index.by_path for e in config.splits[s.name])
    ):
        hint = "the list file names no existing images"
    return error(file, f"{s.name} has no images in {where}", field=s.name, hint=hint)


def _no_labels(s: _Split, ps: list[tuple[str, str]], index: _Index, file: str) -> Finding:
    image, expected = ps[0]
    expected_dir = posixpath.dirname(expected)
    if "/images/" not in "/" + image:
        hint = (
            "put images under an images/ folder and labels in the matching labels/ folder "
            "(images/train/a.jpg -> labels/train/a.txt), or the .txt next to each image"
        )
    elif not index.has_folder(expected_dir):
        hint = (
            f"folder {expected_dir}/ is missing: upload the labels before data.yaml (was the "
            "upload interrupted?)"
        )
    else:
        hint = f"{expected_dir}/ exists but no file matches an image name; names must match"
    return error(
        file,
        f"{s.name} has {len(ps)} images but no label files (expected e.g. {expected} for {image})",
        field=s.name,
        hint=hint,
    )


def _check_overlap(splits: dict[str, _Split], report: Report, file: str) -> None:
    train = set(splits["train"].images) if "train" in splits else set()
    for name in ("val", "test"):
        if name in splits and train:
            shared = train.intersection(splits[name].images)
            if shared:
                report.warnings.append(
                    warning(
                        file,
                        f"{len(shared)} of {len(splits[name].images)} {name} images are also in "
                        "train, so the metrics will be optimistic",
                        field=name,
                        hint=f"keep {name} images separate from train",
                    )
                )


def _check_class_coverage(
    config: DataYaml,
    split_stats: dict[str, dict[str, int]],
    pairs: dict[str, list[tuple[str, str]]],
    results: dict[str, LabelFileResult],
    report: Report,
    file: str,
) -> None:
    if "train" not in pairs or not split_stats.get("train", {}).get("instances"):
        return
    seen: set[int] = set()
    for _, lbl in pairs["train"]:
        r = results.get(lbl)
        if r is not None:
            seen.update(r.instances)
    unused = [config.names[i] for i in range(config.nc) if i not in seen]
    if unused and len(unused) < config.nc:
        shown = ", ".join(unused[:10]) + (" ..." if len(unused) > 10 else "")
        report.warnings.append(
            warning(
                file,
                f"{len(unused)} class(es) have no instances in train: {shown}",
                field="names",
                hint="the model cannot learn them; add examples or remove the classes",
            )
        )


def _check_orphans(pairs: dict[str, list[tuple[str, str]]], index: _Index, report: Report) -> None:
    expected = {lbl for ps in pairs.values() for _, lbl in ps}
    dirs = {posixpath.dirname(lbl) for lbl in expected}
    orphans = [
        f.path
        for f in index.files
        if f.path.endswith(".txt") and f.path not in expected and posixpath.dirname(f.path) in dirs
    ]
    if orphans:
        report.warnings.append(
            warning(
                orphans[0],
                f"{len(orphans)} label file(s) have no matching image and are unused",
                hint="upload the missing images or delete the stray labels",
            )
        )


def validate_location(location: str) -> Report:
    """Validate a folder, its data.yaml, or ``s3://bucket/prefix/``; never raises."""
    try:
        storage, name = open_location(location)
    except (FileNotFoundError, ValueError) as exc:
        return Report(
            location=location,
            valid=False,
            errors=[error(location, str(exc), hint="check the path")],
        )
    return validate_dataset(storage, name)


__all__ = ["SPLITS", "Report", "validate_dataset", "validate_location"]
