"""Approximate SageMaker training prices: what a job cost (the Completed email, the budget)
and what it may cost (the start email's ceiling).

On-demand list prices in US dollars per instance-hour for SageMaker *training* in
us-east-1 (N. Virginia), as published on https://aws.amazon.com/sagemaker/pricing/ in 2025.
Other regions cost up to ~30% more, and prices change: every figure derived from this
table is labelled "approximate". Storage, data transfer and S3 are not included.

With managed spot training SageMaker bills ``BillableTimeInSeconds`` (the spot discount
shows up as fewer billable seconds), so cost = billable hours x on-demand rate x count
and spot savings = 1 - billable / training time.
"""

from __future__ import annotations

PRICE_REGION = "us-east-1"

# The default ALLOWED_INSTANCE_TYPES (settings.py) plus a few close neighbours.
ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.736,
    "ml.g4dn.2xlarge": 0.94,
    "ml.g4dn.4xlarge": 1.505,
    "ml.g5.xlarge": 1.408,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.4xlarge": 2.03,
    "ml.g6.xlarge": 1.006,
    "ml.g6.2xlarge": 1.222,
    "ml.p3.2xlarge": 3.825,
}


def hourly_price(instance_type: str) -> float | None:
    """On-demand $/hour for one instance, or ``None`` when the type is not in the table."""
    return ON_DEMAND_USD_PER_HOUR.get(instance_type)


def approximate_cost(
    instance_type: str, billable_seconds: float, instance_count: int = 1
) -> float | None:
    """Approximate job cost in USD (``None`` when the price is unknown or input is invalid)."""
    price = hourly_price(instance_type)
    if price is None or billable_seconds < 0 or instance_count < 1:
        return None
    return price * billable_seconds / 3600.0 * instance_count


def spot_savings(billable_seconds: float | None, training_seconds: float | None) -> float | None:
    """Fraction saved by managed spot: ``1 - billable / training``, clamped to [0, 1].

    ``None`` when either figure is missing or training time is zero (nothing to compare).
    """
    if billable_seconds is None or training_seconds is None or training_seconds <= 0:
        return None
    if billable_seconds < 0:
        return None
    return min(max(1.0 - billable_seconds / training_seconds, 0.0), 1.0)
