"""Each split of data.yaml resolved to image paths from the listing alone, as Ultralytics
resolves them: folders, ``.txt`` image lists and their lines. Images are never downloaded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from yolo_pipeline.dataset.budget import too_many_images
from yolo_pipeline.dataset.data_yaml import DataYaml, list_line_path
from yolo_pipeline.dataset.labels import is_image
from yolo_pipeline.dataset.storage.base import Storage, StorageError
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import MAX_LABEL_PROBLEMS, Report, capped
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.text import quote

MAX_LIST_BYTES = 64 * 1024 * 1024  # a .txt split list
Pairs = dict[str, list[tuple[str, str]]]  # split -> (image, its label path)


@dataclass
class ResolvedSplit:
    """One split as training will see it: its image paths, and what was wrong on the way."""

    name: str
    images: list[str]
    findings: list[Finding]


def resolve_splits(
    config: DataYaml,
    index: ListingIndex,
    storage: Storage,
    report: Report,
    file: str,
    max_images: int | None = None,
) -> dict[str, ResolvedSplit] | None:
    """Each split's images, repeats kept: Ultralytics trains an image once per listing (a
    repeated list line, a folder and its subfolder). ``max_images`` bounds the total."""
    splits: dict[str, ResolvedSplit] = {}
    left = max_images
    for name, entries in config.splits.items():
        splits[name] = _resolve_split(name, entries, index, storage, file, left)
        if left is not None:
            left -= len(splits[name].images)
            if left < 0:
                report.errors.append(too_many_images(max_images or 0, file))
                return None
    for s in splits.values():
        report.add(s.findings)
    if any(f.severity == "error" for s in splits.values() for f in s.findings):
        return None
    if "test" in splits and not splits["test"].images:
        del splits["test"]  # missing test folders were warned about; training never reads it
    for s in splits.values():
        if not s.images:
            report.errors.append(_no_images(s, config, index, file))
    return None if report.errors else splits


def _resolve_split(
    split: str,
    entries: list[str],
    index: ListingIndex,
    storage: Storage,
    file: str,
    max_images: int | None = None,
) -> ResolvedSplit:
    images: list[str] = []
    findings: list[Finding] = []
    for entry in entries:
        if max_images is not None and len(images) > max_images:
            break  # the caller refuses the total; resolving the rest only costs time
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
            cut = 0 if entry in {"", "."} else len(entry.rstrip("/")) + 1
            # glob('**/*.*') skips hidden files and folders below the entry (e.g. macOS
            # ._x.jpg): the index knows where each path's last hidden part starts.
            hidden_at = index.images
            images += [
                path
                for path in index.under(entry)
                if hidden_at.get(path, cut) < cut and not path.startswith(".", cut)
            ]
        else:
            findings.append(_missing_entry(entry, split, index, file))
    return ResolvedSplit(split, sorted(images), findings)


def _read_list_file(
    split: str, entry: str, index: ListingIndex, storage: Storage, findings: list[Finding]
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
    findings += capped(problems, MAX_LABEL_PROBLEMS, "problems in this list", entry)
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


def _missing_entry(entry: str, split: str, index: ListingIndex, file: str) -> Finding:
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


def _no_images(s: ResolvedSplit, config: DataYaml, index: ListingIndex, file: str) -> Finding:
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
