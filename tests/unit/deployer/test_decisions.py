"""The deployer's decision table, row by row."""

from __future__ import annotations

from dataclasses import replace

import pytest

from yolo_pipeline.deployer.decisions import Serving, decide
from yolo_pipeline.deployer.events import PackageChange

pytestmark = pytest.mark.unit

APPROVED = PackageChange("yolo-pets", "arn:x/yolo-pets/3", 3, "Approved", "t", "us-east-1")


def action(
    change: PackageChange = APPROVED,
    *,
    ours: bool = True,
    on: bool = True,
    endpoint: Serving | None = None,
    newest: int | None = 3,
) -> str:
    return decide(
        change, ours=ours, deploy_on_approval=on, endpoint=endpoint, newest_approved=newest
    ).action


def test_the_first_approval_creates_the_endpoint() -> None:
    assert action() == "create"


def test_a_later_approval_updates_the_endpoint_in_place() -> None:
    assert action(endpoint=Serving("InService", 2)) == "update"


@pytest.mark.parametrize("approval", ["Rejected", "PendingManualApproval"])
@pytest.mark.parametrize("endpoint", [None, Serving("InService", 2), Serving("Failed", 3)])
def test_rejected_or_pending_never_touches_an_endpoint(
    approval: str, endpoint: Serving | None
) -> None:
    decision = decide(
        replace(APPROVED, approval=approval),
        ours=True,
        deploy_on_approval=True,
        endpoint=endpoint,
        newest_approved=2,
    )
    assert decision.action == "none"
    assert approval in decision.reason


def test_an_older_approval_racing_a_newer_one_deploys_nothing() -> None:
    older = replace(APPROVED, version=2, arn="arn:x/yolo-pets/2")
    assert action(older, newest=3, endpoint=None) == "none"
    assert action(older, newest=3, endpoint=Serving("Updating", 3)) == "none"
    assert action(APPROVED, newest=3, endpoint=Serving("InService", 2)) == "update"


def test_an_older_version_approved_again_after_the_newer_was_rejected_rolls_back() -> None:
    older = replace(APPROVED, version=2)
    assert action(older, newest=2, endpoint=Serving("InService", 3)) == "update"


def test_a_duplicate_of_the_approval_being_deployed_does_nothing() -> None:
    assert action(endpoint=Serving("Creating", 3)) == "none"
    assert action(endpoint=Serving("InService", 3)) == "none"


@pytest.mark.parametrize("status", ["Creating", "Updating", "SystemUpdating", "RollingBack"])
def test_a_busy_endpoint_makes_the_approval_wait(status: str) -> None:
    assert action(endpoint=Serving(status, 2)) == "wait"


def test_a_failed_endpoint_is_replaced_even_for_the_same_version() -> None:
    assert action(endpoint=Serving("Failed", 3)) == "replace"
    assert action(endpoint=Serving("Failed", 1)) == "replace"


def test_other_stacks_groups_and_the_switch_off_deploy_nothing() -> None:
    assert action(ours=False) == "none"
    decision = decide(
        APPROVED, ours=True, deploy_on_approval=False, endpoint=None, newest_approved=3
    )
    assert decision.action == "none" and "DeployOnApproval" in decision.reason
