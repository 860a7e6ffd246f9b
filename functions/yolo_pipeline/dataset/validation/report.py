"""What a validation returns: the verdict, every finding, and the dataset's figures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.findings import Finding
from yolo_pipeline.training.tasks import Task

MAX_LABEL_PROBLEMS = 20  # label problems listed in a report; the rest are counted
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class SplitStats:
    """One split's row: images, how many have labels, background images, objects."""

    images: int
    labelled: int
    background: int
    instances: int


@dataclass(frozen=True)
class DatasetStats:
    """The figures a validation found, filled in as it goes.

    A scalar is ``None`` where validation stopped before counting it. ``names`` comes with
    ``classes`` (data.yaml parsed); ``splits`` and ``instances_per_class`` with
    ``crlf_label_files`` (the label pass done).
    """

    files: int | None = None
    bytes: int | None = None
    task: Task | None = None
    classes: int | None = None
    names: tuple[str, ...] = ()
    label_files_read: int | None = None
    splits: Mapping[str, SplitStats] = field(default_factory=dict)
    crlf_label_files: int | None = None
    instances_per_class: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: only the figures that were counted, splits as objects."""
        counted = {
            "files": self.files is not None,
            "bytes": self.bytes is not None,
            "task": self.task is not None,
            "classes": self.classes is not None,
            "names": self.classes is not None,
            "label_files_read": self.label_files_read is not None,
            "splits": self.crlf_label_files is not None,
            "crlf_label_files": self.crlf_label_files is not None,
            "instances_per_class": self.crlf_label_files is not None,
        }
        values: dict[str, Any] = {
            **vars(self),
            "names": list(self.names),
            "splits": {name: vars(row).copy() for name, row in self.splits.items()},
            "instances_per_class": dict(self.instances_per_class),
        }
        return {key: values[key] for key, shown in counted.items() if shown}


@dataclass
class Report:
    location: str
    valid: bool
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    stats: DatasetStats = field(default_factory=DatasetStats)
    config: DataYaml | None = None
    # training.yaml's bytes as read for the task (bounded), so the launcher need not read it again.
    training_yaml: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": self.stats.to_dict(),
        }

    def add(self, findings: list[Finding]) -> None:
        """Each finding to the errors or the warnings, by its severity."""
        for f in findings:
            (self.errors if f.severity == "error" else self.warnings).append(f)

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


def _render_stats(stats: DatasetStats) -> list[str]:
    if not stats.splits:
        return []
    lines = [f"Task: {stats.task}, classes: {stats.classes}"]
    for split, s in stats.splits.items():
        lines.append(
            f"  {split:5} {s.images:>7} images  {s.labelled:>7} labelled  "
            f"{s.background:>6} background  {s.instances:>8} instances"
        )
    per_class = stats.instances_per_class or {}
    if per_class:
        top = sorted(per_class.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k}: {v}" for k, v in top[:10])
        more = f", ... ({len(top) - 10} more classes)" if len(top) > 10 else ""
        lines.append(f"Instances per class: {shown}{more}")
    return lines


# The CLI lists every problem (it groups them by rule); emails keep the cap.
_LIST_ALL: ContextVar[bool] = ContextVar("list_all_findings", default=False)


@contextmanager
def listing_every_finding() -> Iterator[None]:
    """Within the block, ``capped`` keeps every finding."""
    token = _LIST_ALL.set(True)
    try:
        yield
    finally:
        _LIST_ALL.reset(token)


def capped(findings: list[Finding], cap: int, what: str, file: str) -> list[Finding]:
    """The first ``cap`` findings, then one that counts the rest."""
    if len(findings) <= cap or _LIST_ALL.get():
        return findings
    extra = len(findings) - cap
    return [
        *findings[:cap],
        findings[0].__class__(findings[0].severity, file, f"... and {extra} more {what}"),
    ]
