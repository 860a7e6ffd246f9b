"""The email's time and cost section: time per phase, billable time, spot savings and an
approximate price."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yolo_pipeline.aws.pricing import (
    PRICE_REGION,
    approximate_cost,
    hourly_price,
    spot_savings,
)
from yolo_pipeline.notifier.job_facts import phase_durations
from yolo_pipeline.notifier.sagemaker_event import as_datetime
from yolo_pipeline.text import duration_text, finite_number


def time_and_cost_lines(
    job: Mapping[str, Any], instance_type: str, count: int, spot: bool
) -> list[str]:
    lines = ["Time per phase:"]
    phases = phase_durations(job)
    lines += [f"  {status:<24} {duration_text(sec)}" for status, sec in phases] or [
        "  (no phase timings reported)"
    ]
    created = as_datetime(job.get("CreationTime"))
    ended = as_datetime(job.get("TrainingEndTime")) or as_datetime(job.get("LastModifiedTime"))
    if created and ended and ended >= created:
        lines.append(f"  {'Total (created to end)':<24} {duration_text(_seconds(created, ended))}")

    training = finite_number(job.get("TrainingTimeInSeconds"))
    billable = finite_number(job.get("BillableTimeInSeconds"))
    lines += ["", "Cost:"]
    where = f"{instance_type or 'unknown instance type'} x {count}"
    lines.append(f"  Instance:          {where} ({'managed spot' if spot else 'on-demand'})")
    lines.append(f"  Training time:     {_seconds_text(training)}")
    lines.append(f"  Billable time:     {_seconds_text(billable)}")
    if spot:
        saved = spot_savings(billable, training)
        lines.append(
            f"  Spot savings:      {saved:.0%} (1 - billable / training time)"
            if saved is not None
            else "  Spot savings:      not known (times not reported)"
        )
    price = hourly_price(instance_type)
    cost = approximate_cost(instance_type, billable, count) if billable is not None else None
    if cost is not None and price is not None:
        lines.append(
            f"  Approximate cost:  ${cost:.2f} = billable hours x ${price:.3f}/h x {count}"
        )
        lines.append(
            f"                     (approximate: {PRICE_REGION} on-demand list price,"
            " excluding storage and data transfer)"
        )
    elif price is None:
        lines.append(f"  Approximate cost:  unknown (no price for {where} in our table)")
    else:
        lines.append("  Approximate cost:  unknown (no billable time reported)")
    return lines


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def _seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "not reported"
    return f"{round(seconds):,} s ({duration_text(seconds)})"
