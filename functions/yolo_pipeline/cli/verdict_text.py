"""The launcher's verdict on an upload, in words for the terminal and as JSON (pure).

Everything here came from the uploads table, which holds user text (file names, problems):
each value goes out through ``text.clean``.
"""

from __future__ import annotations

from typing import Any

from yolo_pipeline.aws.uploads import Verdict
from yolo_pipeline.text import clean

# What each state means to the person who uploaded, and what to do next.
STATE_WORDS = {
    "settling": "upload still arriving: the launcher checks it once nothing changed for a while",
    "queued": "valid; waiting for a free training slot (the stack's MAX_CONCURRENT_JOBS)",
    "budget_hold": "valid; waiting: this month's spend reached the stack's budget",
    "started": "valid; training job started",
    "rejected": "rejected: nothing trains until the problems below are fixed",
    "image_missing": "valid, but the stack has no training image yet: run `make image`",
    "expired": "waited too long for a slot and was dropped: upload again",
    "superseded": "replaced by a newer upload before it was checked",
}
FINAL_FAILURES = frozenset({"rejected", "image_missing", "expired"})


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, clean(state, 40) or "unknown")


def verdict_lines(verdict: Verdict, max_problems: int = 50) -> list[str]:
    """The verdict as indented lines: state, job, detail, then each problem."""
    lines = [f"  {clean(verdict.state, 40).upper()}: {state_words(verdict.state)}"]
    if verdict.job_name:
        lines.append(f"  job:     {clean(verdict.job_name, 80)}")
    if verdict.uri:
        lines.append(f"  upload:  {clean(verdict.uri, 300)}")
    if verdict.detail:
        lines.append(f"  detail:  {clean(verdict.detail, 500)}")
    for problem in verdict.problems[:max_problems]:
        lines.append(f"  - {clean(problem, 500)}")
    if len(verdict.problems) > max_problems:
        lines.append(f"  ... and {len(verdict.problems) - max_problems} more (--json lists all)")
    if verdict.job_name:
        lines.append(f"  follow:  yolo-pipeline logs {clean(verdict.job_name, 80)} --follow")
    return lines


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    return {
        "dataset": verdict.dataset,
        "state": verdict.state,
        "meaning": state_words(verdict.state),
        "job_name": verdict.job_name or None,
        "uri": verdict.uri,
        "detail": verdict.detail,
        "problems": list(verdict.problems),
        "first_seen": verdict.first_seen,
        "updated_at": verdict.updated_at,
    }
