"""A finding: one thing wrong (error) or worth knowing (warning) about user input.

Every rejection the user sees is built from these, so each names the file, the line or
field where it can, what is wrong, and what to do about it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from yolo_pipeline.text import clean

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    file: str  # path relative to the dataset root (or an s3:// URI when outside it)
    message: str  # what is wrong, in one sentence
    line: int | None = None  # 1-based line in ``file`` when known
    field: str | None = None  # YAML key or label column when relevant
    hint: str = ""  # what to do about it

    def __post_init__(self) -> None:
        # Defence in depth: user text should arrive through text.quote already; whatever
        # slipped through is bounded and made inert here, once, for every consumer.
        object.__setattr__(self, "file", clean(self.file, 300))
        object.__setattr__(self, "message", clean(self.message, 1000))
        # A hint may hold command lines after its text ("\n$ aws s3 cp ..."): each line is
        # cleaned on its own, so the break survives and nothing else does.
        hint = "\n".join(clean(part, 500) for part in self.hint.split("\n")[:4])
        object.__setattr__(self, "hint", hint[:1200])
        if self.field is not None:
            object.__setattr__(self, "field", clean(self.field, 100))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}" + (f" -> {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def error(file: str, message: str, **kw: Any) -> Finding:
    return Finding("error", file, message, **kw)


def warning(file: str, message: str, **kw: Any) -> Finding:
    return Finding("warning", file, message, **kw)
