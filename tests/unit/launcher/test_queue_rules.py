"""The launch queue's pure rules and emails: who starts, who waits, the budget, the cost lines."""

from __future__ import annotations

import pytest

from yolo_pipeline.aws.env import SettingsError
from yolo_pipeline.launcher.queue_emails import (
    QueuedFacts,
    cost_lines,
    render_budget_hold,
    render_queued,
)
from yolo_pipeline.launcher.queue_rules import (
    QueueSettings,
    Spend,
    budget_warning_due,
    decide,
    expired,
    free_slots,
    month_of,
    over_budget,
    queued_epoch,
)


def test_settings_defaults_and_bounds() -> None:
    settings = QueueSettings.from_env({"UPLOADS_TABLE": "t"})
    assert (settings.max_concurrent_jobs, settings.max_queue_hours) == (2, 72)
    assert settings.monthly_budget_usd == 0 and settings.enabled
    assert not QueueSettings.from_env({}).enabled
    assert QueueSettings.from_env({"MONTHLY_BUDGET_USD": "12.5"}).monthly_budget_usd == 12.5
    with pytest.raises(SettingsError):
        QueueSettings.from_env({"MONTHLY_BUDGET_USD": "lots"})
    with pytest.raises(SettingsError):
        QueueSettings.from_env({"MAX_CONCURRENT_JOBS": "-1"})


@pytest.mark.parametrize(
    ("place", "free", "held", "outcome"),
    [
        (0, 1, False, "start"),
        (1, 1, False, "wait"),  # someone accepted earlier goes first
        (5, None, False, "start"),  # no cap
        (0, 2, True, "hold"),  # the budget wins over a free slot
        (0, 0, False, "wait"),
    ],
)
def test_decide(place: int, free: int | None, held: bool, outcome: str) -> None:
    assert decide(place, free, held) == outcome


def test_free_slots() -> None:
    assert free_slots(1, 2) == 1 and free_slots(3, 2) == 0 and free_slots(9, 0) is None


def test_budget_thresholds() -> None:
    spend = Spend("2026-12", {"a": 0.5}, {"b": 0.3})
    assert spend.total == pytest.approx(0.8)
    assert budget_warning_due(spend, 1.0) and not over_budget(spend, 1.0)
    assert over_budget(Spend("2026-12", {"a": 1.0}, {}), 1.0)
    assert not over_budget(spend, 0) and not budget_warning_due(spend, 0)  # off
    assert spend.by_job() == [("a", 0.5), ("b", 0.3)]


def test_expiry_and_queue_stamps() -> None:
    assert expired(0, 72 * 3600 + 1, 72) and not expired(0, 72 * 3600, 72)
    assert queued_epoch("2026-12-02T10:00:00.000000Z#abc") == pytest.approx(1796205600.0)
    assert queued_epoch("garbage") is None
    assert month_of(1796205600.0) == "2026-12"


def test_queued_email_says_place_running_and_how_to_change_it() -> None:
    facts = QueuedFacts(
        dataset_uri="s3://b/datasets/cats/",
        job_name="yolo-cats-1",
        place=3,
        running=["yolo-a-1", "yolo-b-2"],
        cap=2,
        region="us-east-1",
        instance_type="ml.g4dn.xlarge",
        spot=True,
    )
    email = render_queued(facts, prefix="yolo", dataset_prefix="datasets/")
    assert email.subject == "[yolo] Queued: cats"
    assert "Place:     3 in the queue" in email.body and "yolo-b-2" in email.body
    assert "MaxConcurrentJobs" in email.body and "servicequotas" in email.body


def test_budget_hold_names_the_jobs_and_the_parameter() -> None:
    spend = Spend("2026-12", {"yolo-a-1": 0.75}, {"yolo-b-2": 0.5})
    email = render_budget_hold(
        spend, 1.0, dataset_uri="s3://b/datasets/x/", job_name="yolo-x-1", prefix="yolo",
        dataset_prefix="datasets/",
    )  # fmt: skip
    assert "$1.25 of $1.00" in email.body
    assert "yolo-a-1" in email.body and "yolo-b-2 (running)" in email.body
    assert "MonthlyBudgetUSD" in email.body


def test_cost_lines_give_the_ceiling_and_an_estimate() -> None:
    lines = "\n".join(cost_lines("ml.g4dn.xlarge", 1, 24 * 3600, True, ("yolo-x-0", 1800)))
    assert "Ceiling:      $17.66 on-demand" in lines
    assert "spot bills at most that" in lines
    assert "Estimate:     $0.37" in lines and "yolo-x-0" in lines
    assert "unknown" in "\n".join(cost_lines("ml.unknown", 1, 3600, False))
