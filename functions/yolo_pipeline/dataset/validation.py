"""Judge a YOLO dataset exactly as training will see it, on a local folder or S3 prefix.

Order of work: list the storage once, parse data.yaml (size-checked from the listing),
resolve each split to image paths from the listing alone (images are never downloaded),
pair images with labels by Ultralytics' rule, then read only the label files, with
bounded concurrency, keeping a small summary per file. Every problem is a ``Finding``.
"""

from __future__ import annotations

import bisect
import dataclasses
import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.dataset.data_yaml import (
    MAX_DATA_YAML_BYTES,
    SPLITS,
    DataYaml,
    list_line_path,
    parse_data_yaml,
)
from yolo_pipeline.dataset.keypoints import kpt_shape_of
from yolo_pipeline.dataset.labels import (
    MAX_LABEL_BYTES,
    LabelFileResult,
    check_label_file,
    is_image,
    label_path,
    summarize_notes,
)
from yolo_pipeline.dataset.storage.base import FileInfo, Storage, StorageError
from yolo_pipeline.dataset.storage.opener import open_location
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.text import quote
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.tasks import TASKS, Task, requested_in_training_yaml, task_from_model

MAX_LABEL_PROBLEMS = 20  # label problems listed in a report; the rest are counted
MAX_EXAMPLES = 3
MAX_LIST_BYTES = 64 * 1024 * 1024  # a .txt split list


@dataclass
class Report:
    location: str
    valid: bool
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    config: DataYaml | None = None
    # training.yaml's bytes as read for the task (bounded), so the launcher need not read it again.
    training_yaml: bytes | None = None

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
    """The listing, with the lookups the checks need, each O(1) or O(log n + answer):
    split resolution stays linear in entries + files however many entries are missing."""

    def __init__(self, files: list[FileInfo]) -> None:
        self.files = sorted(files, key=lambda f: f.path)
        self.paths = [f.path for f in self.files]
        self.by_path = {f.path: f for f in self.files}
        self.lower = {p.lower(): p for p in self.paths}
        self.folders: set[str] = set()
        for path in self.paths:
            parent = posixpath.dirname(path)
            while parent and parent not in self.folders:
                self.folders.add(parent)
                parent = posixpath.dirname(parent)
        self.lower_folders = {f.lower() for f in self.folders}
        self.backslashes = any("\\" in p for p in self.paths[:1000])
        self._top_level: list[str] | None = None

    def under(self, folder: str) -> list[str]:
        if folder in {"", "."}:
            return list(self.paths)
        prefix = folder.rstrip("/") + "/"
        start = bisect.bisect_left(self.paths, prefix)
        end = bisect.bisect_left(self.paths, prefix[:-1] + chr(ord("/") + 1), lo=start)
        return self.paths[start:end]

    def has_folder(self, folder: str) -> bool:
        return folder.rstrip("/") in self.folders

    def top_level(self) -> list[str]:
        if self._top_level is None:
            self._top_level = sorted(
                {p.split("/", 1)[0] + ("/" if "/" in p else "") for p in self.paths}
            )
        return self._top_level


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
    if entry.lower() in index.lower or entry.lower().rstrip("/") in index.lower_folders:
        hint = "S3 keys and Linux paths are case-sensitive; match the folder's exact spelling"
    elif index.backslashes:
        hint = (
            "file names contain backslashes (uploaded from Windows?); re-upload with "
            "forward slashes so folders exist"
        )
    else:
        tops = index.top_level()
        if tops:
            hint += f"; found at the top level: {', '.join(quote(t, 40) for t in tops[:8])}"
    if split == "test":  # training never reads test: Ultralytics only checks val exists
        return warning(
            file,
            f"{quote(entry)} does not exist; the test split is skipped",
            field=split,
            hint=hint,
        )
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
    if info.size > MAX_LIST_BYTES:
        findings.append(error(entry, f"is {info.size:,} bytes, too large for an image list"))
        return []
    try:
        text = storage.read_bytes(entry).decode("utf-8-sig")
    except (StorageError, UnicodeDecodeError) as exc:
        reason = quote(str(exc), 200)[1:-1]
        findings.append(
            error(entry, f"cannot be read as a UTF-8 image list: {reason}", field=split)
        )
        return []
    out: list[str] = []
    problems: list[Finding] = []
    counts: Counter[str] = Counter()
    for lineno, raw in enumerate(text.strip().splitlines(), start=1):
        path, problem = list_line_path(entry, raw)
        if problem:
            message, _, hint = problem.partition(" -> ")
            problems.append(error(entry, message, line=lineno, hint=hint))
        elif path is None:
            counts["spaces" if raw.strip() and raw != raw.strip() else "skipped"] += bool(raw)
        elif path not in index.by_path:
            problems.append(
                error(
                    entry,
                    f"lists {quote(path)}, which does not exist",
                    line=lineno,
                    hint="upload the image or remove the line",
                )
            )
        else:
            counts["bare"] += not raw.startswith("./")
            out.append(path)
    findings += _capped(problems, MAX_LABEL_PROBLEMS, "problems in this list", entry)
    findings += _list_notes(entry, split, counts)
    return out


def _list_notes(entry: str, split: str, counts: Counter[str]) -> list[Finding]:
    notes: list[Finding] = []
    if counts["bare"]:
        notes.append(
            warning(
                entry,
                f"{counts['bare']} line(s) do not start with ./; they are taken "
                "relative to the dataset folder",
                field=split,
                hint="prefix lines with ./ (relative to this list file)",
            )
        )
    if counts["spaces"]:
        notes.append(
            warning(
                entry,
                f"{counts['spaces']} line(s) start or end with spaces and are not images "
                "to Ultralytics, so they are not trained on",
                field=split,
                hint="remove the spaces around the paths",
            )
        )
    if counts["skipped"]:
        notes.append(
            warning(
                entry,
                f"{counts['skipped']} line(s) are not images and are ignored",
                field=split,
            )
        )
    return notes


def validate_dataset(storage: Storage, data_yaml: str = "data.yaml") -> Report:
    """Validate the dataset in ``storage`` whose config is ``data_yaml``; never raises."""
    report = Report(location=storage.uri, valid=False)
    refused: Finding | None = None
    try:
        _validate(storage, data_yaml, report)
    except ArchiveError as exc:  # a refused zip: named by its entry, never retried
        archive = storage.uri.rstrip("/").rsplit("/", 1)[-1]
        refused = error(exc.path or archive, str(exc), hint=exc.hint)
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
    _name_in_archive(report, storage)
    if refused is not None:
        report.errors.append(refused)
    report.valid = not report.errors
    return report


def _name_in_archive(report: Report, storage: Storage) -> None:
    """In a zip whose dataset sits in a top folder, name files as the archive does."""
    root = str(getattr(storage, "archive_root", ""))
    if root:
        for items in (report.errors, report.warnings):
            items[:] = [dataclasses.replace(f, file=root + f.file) for f in items]


def _validate(storage: Storage, data_yaml: str, report: Report) -> None:
    files = storage.list_files()
    index = _Index(files)
    report.stats["files"] = len(files)
    report.stats["bytes"] = sum(f.size for f in files)
    refused = _refused_entries(storage, report)
    config = _read_config(storage, data_yaml, index, report, refused)
    if config is None:
        return
    report.stats.update(task="detect", classes=config.nc, names=list(config.names))
    splits = _resolve_splits(config, index, storage, report, data_yaml)
    if splits is None:
        return
    _check_overlap(splits, report, data_yaml)
    _check_empty_images(splits, index, report)
    report.errors += _label_caches(index)
    kpt_shape = kpt_shape_of(config.extras)
    task = _known_task(storage, index, kpt_shape is not None, report)
    if task == "pose" and kpt_shape is None:
        report.errors.append(_no_kpt_shape(data_yaml))
        return
    pairs = {s.name: [(img, label_path(img)) for img in s.images] for s in splits.values()}
    labels = _read_labels(storage, index, pairs, config, kpt_shape, task)
    report.stats["label_files_read"] = len(labels.results)
    _judge_splits(splits, pairs, index, labels, report, data_yaml)
    _judge_label_files(labels, report, task)
    report.stats["instances_per_class"] = {
        name: labels.per_class.get(i, 0) for i, name in enumerate(config.names)
    }
    _check_class_coverage(config, report.stats["splits"], pairs, labels.results, report, data_yaml)
    _check_orphans(pairs, index, report)


def _refused_entries(storage: Storage, report: Report) -> set[str]:
    """Local entries the storage would not list (symlinks out, FIFOs...): one error each."""
    refused: list[tuple[str, str]] = list(getattr(storage, "refused", []))
    for path, why in refused[:MAX_LABEL_PROBLEMS]:
        report.errors.append(
            error(
                path,
                why,
                hint="only regular files inside the dataset folder are part of a dataset; "
                "copy the file in (or remove it)",
            )
        )
    if len(refused) > MAX_LABEL_PROBLEMS:
        report.errors.append(
            error(".", f"... and {len(refused) - MAX_LABEL_PROBLEMS} more files refused")
        )
    return {path for path, _ in refused}


def _read_config(
    storage: Storage, data_yaml: str, index: _Index, report: Report, refused: set[str]
) -> DataYaml | None:
    info = index.by_path.get(data_yaml)
    if info is None:
        if data_yaml not in refused:
            report.errors.append(_no_data_yaml(data_yaml, index, storage.uri))
        return None
    if info.size > MAX_DATA_YAML_BYTES:  # before reading a byte of it
        report.errors.append(
            error(
                data_yaml,
                f"is {info.size:,} bytes; the limit is {MAX_DATA_YAML_BYTES:,}",
                hint="a data.yaml only needs paths and class names",
            )
        )
        return None
    parsed = parse_data_yaml(storage.read_bytes(data_yaml, MAX_DATA_YAML_BYTES), data_yaml)
    _add(report, parsed.findings)
    report.config = parsed.config
    return parsed.config


def _resolve_splits(
    config: DataYaml, index: _Index, storage: Storage, report: Report, file: str
) -> dict[str, _Split] | None:
    splits = {
        name: _resolve_split(name, entries, index, storage, file)
        for name, entries in config.splits.items()
    }
    for s in splits.values():
        _add(report, s.findings)
    if any(f.severity == "error" for s in splits.values() for f in s.findings):
        return None
    if "test" in splits and not splits["test"].images:
        del splits["test"]  # missing test folders were warned about; training never reads it
    for s in splits.values():
        if not s.images:
            report.errors.append(_no_images(s, config, index, file))
    return None if report.errors else splits


def _check_empty_images(splits: dict[str, _Split], index: _Index, report: Report) -> None:
    """0-byte images, visible in the listing: Ultralytics cannot open them and drops them."""
    empty = sorted({p for s in splits.values() for p in s.images if index.by_path[p].size == 0})
    findings = [
        error(p, "is an empty (0-byte) file, not an image", hint="upload the image again")
        for p in empty
    ]
    report.errors += _capped(findings, MAX_LABEL_PROBLEMS, "empty images", "images")


@dataclass
class _Labels:
    """What the label files said: per-file results and the counts across them."""

    results: dict[str, LabelFileResult]
    too_big: list[Finding]  # label files over MAX_LABEL_BYTES, never read
    per_class: Counter[int] = field(default_factory=Counter)


def _read_labels(
    storage: Storage,
    index: _Index,
    pairs: dict[str, list[tuple[str, str]]],
    config: DataYaml,
    kpt_shape: tuple[int, int] | None,
    task: Task | None,
) -> _Labels:
    wanted = sorted({lbl for ps in pairs.values() for _, lbl in ps if lbl in index.by_path})
    too_big = [
        error(
            p,
            f"is {index.by_path[p].size:,} bytes; a label file is a few lines",
            hint="check it is really a YOLO label file",
        )
        for p in wanted
        if index.by_path[p].size > MAX_LABEL_BYTES
    ]
    to_read = [p for p in wanted if index.by_path[p].size <= MAX_LABEL_BYTES]
    results: dict[str, LabelFileResult] = {}
    for path, result in storage.map_read(
        (p for p in to_read if index.by_path[p].size > 0),
        lambda p, b: check_label_file(p, b, config.names, kpt_shape, task),
    ):
        results[path] = result
    for p in to_read:
        if index.by_path[p].size == 0:
            results[p] = LabelFileResult(p)
    return _Labels(results, too_big)


def _judge_splits(
    splits: dict[str, _Split],
    pairs: dict[str, list[tuple[str, str]]],
    index: _Index,
    labels: _Labels,
    report: Report,
    file: str,
) -> None:
    """Per split: the stats row, and the two rejection policies (see README)."""
    split_stats: dict[str, dict[str, int]] = {}
    notes: Counter[str] = Counter()
    for s in splits.values():
        ps = pairs[s.name]
        present = [r for r in (labels.results.get(lbl) for _, lbl in ps) if r is not None]
        labelled = [r for r in present if not r.empty]
        counts: Counter[int] = Counter()
        split_notes: Counter[str] = Counter()
        for r in labelled:
            counts.update(r.instances)
            split_notes.update(r.notes)
        labels.per_class.update(counts)
        notes.update(split_notes)
        background = len(ps) - len(labelled)
        split_stats[s.name] = {
            "images": len(ps),
            "labelled": len(labelled),
            "background": background,
            "instances": sum(counts.values()),
        }
        report.warnings += summarize_notes(split_notes, s.name)
        if not present and not labels.too_big:
            report.errors.append(_no_labels(s, ps, index, file))
        elif not labelled and s.name in {"train", "val"}:
            report.errors.append(
                error(
                    file,
                    f"all {len(present)} label files of {s.name} are empty: nothing to learn from",
                    field=s.name,
                    hint="label the objects, or check the export",
                )
            )
        elif background:
            report.warnings.append(_background_warning(s.name, ps, index, labels, file))
    report.stats["splits"] = split_stats
    report.stats["crlf_label_files"] = notes.get("crlf", 0)


def _background_warning(
    split: str, ps: list[tuple[str, str]], index: _Index, labels: _Labels, file: str
) -> Finding:
    empty = LabelFileResult("")
    example = next(
        (
            img
            for img, lbl in ps
            if lbl not in index.by_path or labels.results.get(lbl, empty).empty
        ),
        "",
    )
    background = sum(
        1 for _, lbl in ps if lbl not in index.by_path or labels.results.get(lbl, empty).empty
    )
    return warning(
        file,
        f"{background} of {len(ps)} {split} images have no label file or an "
        f"empty one and train as background (e.g. {example} -> {label_path(example)})",
        field=split,
        hint="fine for negative examples; otherwise upload their labels",
    )


def _judge_label_files(labels: _Labels, report: Report, task: Task | None) -> None:
    problems: list[Finding] = list(labels.too_big)
    seg_files = box_files = 0
    for r in sorted(labels.results.values(), key=lambda r: r.path):
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
    bad_files = sum(1 for r in labels.results.values() if not r.ok) + len(labels.too_big)
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
    report.stats["task"] = task or ("segment" if seg_files and not box_files else "detect")


def _known_task(
    storage: Storage, index: _Index, has_kpt_shape: bool, report: Report
) -> Task | None:
    """The task before the rows are read: training.yaml's ``task:``, else its model's, else
    pose when data.yaml has ``kpt_shape``; None when the rows decide (training.tasks)."""
    explicit, model = None, None
    info = index.by_path.get(TRAINING_YAML)
    if info is not None and info.size <= TRAINING_YAML_MAX_BYTES:
        report.training_yaml = storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES)
        explicit, model = requested_in_training_yaml(report.training_yaml)
    if explicit in TASKS:
        return explicit
    named = task_from_model(model) if model else None
    return named or ("pose" if has_kpt_shape else None)


def _label_caches(index: _Index) -> list[Finding]:
    """An uploaded ``*.cache`` is a pickle that Ultralytics loads from next to the labels."""
    caches = [f.path for f in index.files if f.path.endswith(".cache")]
    return [
        error(
            path,
            "is an Ultralytics label cache: a pickle, which training would load (run code from)",
            hint="delete the .cache files from the upload; training rebuilds them",
        )
        for path in caches[:MAX_EXAMPLES]
    ]


def _no_kpt_shape(file: str) -> Finding:
    return error(
        file,
        "kpt_shape: is required to train a pose model",
        field="kpt_shape",
        hint="add kpt_shape: [keypoints, dims] (e.g. [17, 3]), or train another task",
    )


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
