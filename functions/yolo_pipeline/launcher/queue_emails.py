"""The queue's and the budget's emails: Queued (place, what runs, how to change the cap or
the quota), Queue wait expired, Budget warning, Budget reached; and the start email's cost
lines (the ceiling, and an estimate from the dataset's previous job)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yolo_pipeline.aws.email import Email, body_text, subject_line
from yolo_pipeline.aws.pricing import PRICE_REGION, hourly_price
from yolo_pipeline.launcher.emails import quota_name, service_quotas_url
from yolo_pipeline.launcher.queue_rules import Spend
from yolo_pipeline.names import dataset_name
from yolo_pipeline.text import duration_text, quote

MAX_JOBS_LISTED = 20
# What managed spot usually saves on SageMaker training (AWS quotes "up to 90%").
TYPICAL_SPOT_SAVING = 0.7


@dataclass(frozen=True)
class QueuedFacts:
    """What the Queued email states about one waiting upload."""

    dataset_uri: str
    job_name: str
    place: int  # 1 = next to start
    running: Sequence[str]
    cap: int
    region: str
    instance_type: str
    spot: bool
    quota_message: str = ""  # SageMaker's ResourceLimitExceeded text, when that is why
    max_queue_hours: int = 72
    replaced: int = 0  # queued uploads of the same dataset this one replaced


def _heading(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def _subject(prefix: str, status: str, dataset_uri: str, dataset_prefix: str) -> str:
    return subject_line(prefix, status, dataset_name(dataset_uri, dataset_prefix))


def render_queued(facts: QueuedFacts, *, prefix: str, dataset_prefix: str) -> Email:
    """The upload is valid and waits for a slot; sent once per upload."""
    why = (
        "an AWS account quota for SageMaker allows no more jobs of this type now"
        if facts.quota_message
        else f"this stack runs at most {facts.cap} training job(s) at a time"
    )
    lines = [
        "Your dataset passed validation. Its training job waits in the queue: " + why + ".",
        "It starts by itself when a job ahead of it ends; you will get the usual",
        '"Training started" email then.',
        "",
        f"Dataset:   {quote(facts.dataset_uri)}",
        f"Job:       {facts.job_name} (not created yet)",
        f"Place:     {facts.place} in the queue (first validated, first started)",
    ]
    if facts.replaced:
        lines.append(f"Replaces:  {facts.replaced} earlier queued upload(s) of this dataset")
    lines += _heading("Running now")
    lines += [f"  {name}" for name in facts.running[:MAX_JOBS_LISTED]] or ["  (none listed)"]
    if len(facts.running) > MAX_JOBS_LISTED:
        lines.append(f"  ... and {len(facts.running) - MAX_JOBS_LISTED} more")
    if facts.quota_message:
        lines += ["", "SageMaker said:", f"  {facts.quota_message}"]
    lines += _heading("To start sooner")
    lines += [
        "- Raise the stack's cap (0 = no cap):",
        "    sam deploy --parameter-overrides MaxConcurrentJobs=<n>",
        f'- Or raise the quota "{quota_name(facts.instance_type, facts.spot)}" in {facts.region}:',
        f"    {service_quotas_url(facts.region)}",
        f"A wait longer than {facts.max_queue_hours} h ends the upload with one email and no"
        " job (stack parameter MaxQueueHours).",
    ]
    return Email(
        subject=_subject(prefix, "Queued", facts.dataset_uri, dataset_prefix),
        body=body_text(lines),
        attributes={"kind": "Queued", "dataset": facts.dataset_uri, "job_name": facts.job_name},
    )


def render_queue_expired(
    *, dataset_uri: str, job_name: str, hours: int, prefix: str, dataset_prefix: str
) -> Email:
    lines = [
        f"Your dataset waited more than {hours} h for a training slot, so its job was not",
        "started and the upload left the queue.",
        "",
        f"Dataset:   {quote(dataset_uri)}",
        f"Job:       {job_name} (not created)",
        *_heading("What to do"),
        "- Upload the dataset again when fewer jobs run, or",
        "- raise the cap or the wait: sam deploy --parameter-overrides",
        "    MaxConcurrentJobs=<n> MaxQueueHours=<hours>",
    ]
    return Email(
        subject=_subject(prefix, "Queue wait expired", dataset_uri, dataset_prefix),
        body=body_text(lines),
        attributes={"kind": "QueueExpired", "dataset": dataset_uri, "job_name": job_name},
    )


def _spend_lines(spend: Spend, budget: float) -> list[str]:
    lines = [
        f"Month:     {spend.month} (UTC)",
        f"Spent:     ${spend.total:,.2f} of ${budget:,.2f}"
        f" ({spend.total / budget:.0%}; approximate {PRICE_REGION} list prices)",
        "",
        "By job (running jobs: their cost so far):",
    ]
    jobs = spend.by_job()
    for name, usd in jobs[:MAX_JOBS_LISTED]:
        running = " (running)" if name in spend.running else ""
        lines.append(f"  ${usd:>9,.2f}  {name}{running}")
    if len(jobs) > MAX_JOBS_LISTED:
        lines.append(f"  ... and {len(jobs) - MAX_JOBS_LISTED} more jobs")
    if not jobs:
        lines.append("  (none)")
    return lines


_RAISE_BUDGET = [
    "- Raise the budget (0 turns it off):",
    "    sam deploy --parameter-overrides MonthlyBudgetUSD=<dollars>",
]


def render_budget_warning(spend: Spend, budget: float, *, prefix: str) -> Email:
    """80% of the month's budget is spent; sent once a month."""
    lines = [
        "This stack's training jobs have spent 80% of the monthly budget. New uploads",
        "wait once it is spent, until the next month or a higher budget.",
        "",
        *_spend_lines(spend, budget),
        *_heading("To change it"),
        *_RAISE_BUDGET,
    ]
    return Email(
        subject=subject_line(prefix, "Budget 80% spent", spend.month),
        body=body_text(lines),
        attributes={"kind": "BudgetWarning", "month": spend.month},
    )


def render_budget_hold(
    spend: Spend, budget: float, *, dataset_uri: str, job_name: str, prefix: str,
    dataset_prefix: str,
) -> Email:  # fmt: skip
    """The month's budget is spent: this upload waits; sent once per upload."""
    lines = [
        "Your dataset passed validation, but this stack's monthly training budget is",
        "spent, so its job waits. It starts by itself in the next month (UTC) or as soon",
        'as the budget is raised; you will get the usual "Training started" email then.',
        "",
        f"Dataset:   {quote(dataset_uri)}",
        f"Job:       {job_name} (not created yet)",
        *_spend_lines(spend, budget),
        *_heading("To start it now"),
        *_RAISE_BUDGET,
    ]
    return Email(
        subject=_subject(prefix, "Held by budget", dataset_uri, dataset_prefix),
        body=body_text(lines),
        attributes={"kind": "BudgetHold", "dataset": dataset_uri, "job_name": job_name},
    )


def cost_lines(
    instance_type: str,
    count: int,
    max_runtime_seconds: int,
    spot: bool,
    previous: tuple[str, float] | None = None,
) -> list[str]:
    """The start email's cost: the ceiling (MaxRuntime x price x count), and an estimate
    from ``previous`` = (job name, its billable seconds) where there is one."""
    price = hourly_price(instance_type)
    lines = ["", "Cost", "----"]
    if price is None:
        return [*lines, f"Ceiling:      unknown (no price for {instance_type} in our table)"]
    ceiling = price * max_runtime_seconds / 3600.0 * count
    lines.append(
        f"Ceiling:      ${ceiling:,.2f} on-demand = {duration_text(max_runtime_seconds)}"
        f" max runtime x ${price:.3f}/h x {count}"
    )
    if spot:
        lines.append(
            f"              spot bills at most that; typically about"
            f" ${ceiling * (1 - TYPICAL_SPOT_SAVING):,.2f} for the full runtime"
        )
    if previous is not None:
        name, seconds = previous
        lines.append(
            f"Estimate:     ${price * seconds / 3600.0 * count:,.2f}, from the dataset's previous"
            f" job {name} ({duration_text(seconds)} billable)"
        )
    lines.append(f"              (approximate {PRICE_REGION} list prices)")
    return lines


def with_cost_lines(email: Email, lines: Sequence[str]) -> Email:
    """The start email with its cost lines after the job's facts."""
    marker = "\nConsole:\n"
    body = email.body
    at = body.find(marker)
    block = body_text(lines).rstrip("\n")
    body = body[:at] + "\n" + block + body[at:] if at >= 0 else body + block + "\n"
    return Email(email.subject, body, dict(email.attributes))
