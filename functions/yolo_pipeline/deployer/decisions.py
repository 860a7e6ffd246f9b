"""The deployer's decision table, as a pure function of the event and what the endpoint runs.

| event                                      | endpoint                         | action  |
|--------------------------------------------|----------------------------------|---------|
| a group of another stack                   | any                              | none    |
| Rejected / PendingManualApproval           | any (never touched)              | none    |
| Approved, deploy on approval off           | any                              | none    |
| Approved, a newer version is also approved | any (an older approval racing)   | none    |
| Approved                                   | none yet                         | create  |
| Approved                                   | runs or deploys this version     | none    |
| Approved                                   | Creating/Updating/... (busy)     | wait    |
| Approved                                   | Failed                           | replace |
| Approved                                   | InService on another version     | update  |

``wait`` raises so that Lambda retries the event later; ``replace`` deletes the failed endpoint
and raises likewise, so the retry creates it afresh (a Failed endpoint cannot be updated).
"""

from __future__ import annotations

from dataclasses import dataclass

from yolo_pipeline.deployer.events import PackageChange

APPROVED = "Approved"
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


@dataclass(frozen=True)
class Serving:
    """What the dataset's endpoint runs: its status and the version its config names."""

    status: str
    version: int | None


@dataclass(frozen=True)
class Decision:
    action: str  # none | create | update | wait | replace
    reason: str


def _label(change: PackageChange) -> str:
    return f"version {change.version}" if change.version is not None else "this version"


def skip_reason(
    change: PackageChange, *, ours: bool, deploy_on_approval: bool, newest_approved: int | None
) -> str:
    """Why this event deploys nothing whatever the endpoint runs ("" when it may deploy)."""
    if not ours:
        return f"group {change.group} does not belong to this stack"
    if change.approval != APPROVED:
        return f"{_label(change)} is {change.approval}: no endpoint is touched"
    if not deploy_on_approval:
        return "deploy on approval is off (DeployOnApproval=false)"
    if (
        newest_approved is not None
        and change.version is not None
        and newest_approved > change.version
    ):
        return f"version {newest_approved} is approved too and newer"
    return ""


def decide(
    change: PackageChange,
    *,
    ours: bool,
    deploy_on_approval: bool,
    endpoint: Serving | None,
    newest_approved: int | None,
) -> Decision:
    """The row of the table above that applies."""
    reason = skip_reason(
        change, ours=ours, deploy_on_approval=deploy_on_approval, newest_approved=newest_approved
    )
    if reason:
        return Decision("none", reason)
    version = _label(change)
    if endpoint is None:
        return Decision("create", f"the first approved model: {version}")
    if endpoint.version == change.version and endpoint.status != "Failed":
        return Decision("none", f"the endpoint already runs {version} ({endpoint.status})")
    if endpoint.status in BUSY:
        return Decision("wait", f"the endpoint is {endpoint.status}; {version} follows")
    if endpoint.status == "Failed":
        return Decision("replace", f"the endpoint failed; it is recreated with {version}")
    return Decision("update", f"{version} replaces version {endpoint.version}")
