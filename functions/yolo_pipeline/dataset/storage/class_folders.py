"""Where a classification archive's dataset starts: it has class folders and no data.yaml."""

from __future__ import annotations

from collections.abc import Iterable

from yolo_pipeline.dataset.labels import is_image

_MACOS_FORK = "__MACOSX/"


def classify_root(names: Iterable[str]) -> str | None:
    """``""`` when ``train/`` (with images) is at the top, ``"top/"`` when it sits in the one
    top-level folder; None when the names are not class folders."""
    names = [n for n in names if not n.startswith(_MACOS_FORK)]
    if any(n.startswith("train/") and is_image(n) for n in names):
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if any(n.startswith(top + "train/") and is_image(n) for n in names):
            return top
    return None
