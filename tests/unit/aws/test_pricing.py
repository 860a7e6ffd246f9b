"""The approximate price table and the spot arithmetic."""

from __future__ import annotations

import pytest

from yolo_pipeline.aws.pricing import (
    ON_DEMAND_USD_PER_HOUR,
    approximate_cost,
    hourly_price,
    spot_savings,
)
from yolo_pipeline.launcher.settings import DEFAULT_ALLOWED_INSTANCE_TYPES


def test_every_default_allowed_type_has_a_price() -> None:
    missing = [t for t in DEFAULT_ALLOWED_INSTANCE_TYPES if hourly_price(t) is None]
    assert missing == []


def test_prices_are_plausible_hourly_rates() -> None:
    assert all(0.05 < price < 40 for price in ON_DEMAND_USD_PER_HOUR.values())
    assert hourly_price("ml.g4dn.xlarge") == pytest.approx(0.736)


def test_cost_is_billable_hours_times_rate_times_count() -> None:
    assert approximate_cost("ml.g4dn.xlarge", 3600) == pytest.approx(0.736)
    assert approximate_cost("ml.g4dn.xlarge", 1800, instance_count=2) == pytest.approx(0.736)
    assert approximate_cost("ml.g4dn.xlarge", 0) == 0


@pytest.mark.parametrize(
    ("instance_type", "seconds", "count"),
    [("ml.unknown.xlarge", 60, 1), ("ml.g4dn.xlarge", -1, 1), ("ml.g4dn.xlarge", 60, 0)],
)
def test_cost_is_none_when_it_cannot_be_known(instance_type: str, seconds: int, count: int) -> None:
    assert approximate_cost(instance_type, seconds, count) is None


@pytest.mark.parametrize(
    ("billable", "training", "expected"),
    [
        (1172, 3907, 0.7000),
        (3907, 3907, 0.0),
        (0, 100, 1.0),
        (120, 100, 0.0),  # billable above training never shows as negative savings
        (None, 100, None),
        (100, None, None),
        (100, 0, None),
        (-5, 100, None),
    ],
)
def test_spot_savings(
    billable: float | None, training: float | None, expected: float | None
) -> None:
    result = spot_savings(billable, training)
    assert result == (pytest.approx(expected, abs=1e-3) if expected is not None else None)
