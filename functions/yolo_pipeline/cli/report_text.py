"""A check's findings for the terminal: grouped by rule, so 48 files with the same problem
read as one line with a count and examples (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yolo_pipeline.findings import Finding

EXAMPLES = 3
# Numbers that differ from file to file (a row, a coordinate) would split one rule into many
# groups; the class id is kept, since "class 5" and "class 7" are different fixes.
_ROW = re.compile(r"\b(row|line|rows|lines) \d+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e-?\d+)?\b")


@dataclass(frozen=True)
class Group:
    severity: str
    message: str
    field: str | None
    hint: str
    places: tuple[str, ...]


def rule_of(finding: Finding) -> str:
    """What makes two findings the same rule: their message with row numbers and decimals
    blanked out."""
    message = _NUMBER.sub("N", _ROW.sub(r"\1 N", finding.message))
    return f"{finding.severity}|{finding.field or ''}|{message}|{finding.hint}"


def group_findings(findings: Iterable[Finding]) -> list[Group]:
    """Findings grouped by rule, in the order each rule first appears."""
    order: dict[str, list[Finding]] = {}
    for finding in findings:
        order.setdefault(rule_of(finding), []).append(finding)
    groups = []
    for members in order.values():
        first = members[0]
        places = tuple(
            dict.fromkeys(f.file + (f":{f.line}" if f.line is not None else "") for f in members)
        )
        message = first.message if len(members) == 1 else rule_of(first).split("|")[2]
        groups.append(Group(first.severity, message, first.field, first.hint, places))
    return groups


def render_group(group: Group) -> str:
    what = f"{group.field}: {group.message}" if group.field else group.message
    if len(group.places) == 1:
        text = f"{group.places[0]}: {what}"
    else:
        shown = ", ".join(group.places[:EXAMPLES])
        more = ", ..." if len(group.places) > EXAMPLES else ""
        text = f"{what} in {len(group.places)} places, e.g. {shown}{more}"
    return text + (f" -> {group.hint}" if group.hint else "")


def render_findings(title: str, findings: Sequence[Finding], max_groups: int = 20) -> list[str]:
    """``Errors (48 in 2 rules):`` then one line per rule."""
    if not findings:
        return []
    groups = group_findings(findings)
    lines = [f"{title} ({len(findings)} in {len(groups)} rule{'s' if len(groups) != 1 else ''}):"]
    lines += [f"  - {render_group(g)}" for g in groups[:max_groups]]
    if len(groups) > max_groups:
        lines.append(f"  ... and {len(groups) - max_groups} more rules (--json lists them all)")
    return lines
