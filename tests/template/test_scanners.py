"""cfn-lint, `sam validate --lint` and checkov pass on template.yaml."""

from __future__ import annotations

import json
from typing import Any

from tests.template.tooling import CHECKOV_BIN, SAM_BIN, TEMPLATE, run_tool, tool

# Every suppression, each justified by a comment beside its skip in template.yaml. A new
# skip must be added here on purpose, not slip in.
EXPECTED_SKIPS = {
    ("CKV_AWS_18", "DatasetBucket"),  # access logging: optional, reason in template
    ("CKV_AWS_51", "TrainingImageRepository"),  # mutable :latest tag
    ("CKV_AWS_136", "TrainingImageRepository"),  # ECR AES-256, not a CMK
    ("CKV_AWS_51", "InferenceImageRepository"),  # the same two, for the inference image
    ("CKV_AWS_136", "InferenceImageRepository"),
    ("CKV_AWS_119", "IdempotencyTable"),  # AWS owned key
    ("CKV_AWS_119", "UploadsTable"),  # AWS owned key
    ("CKV_AWS_27", "DeadLetterQueue"),  # SSE-SQS is not recognised by the check
    ("CKV_AWS_27", "LaunchQueue"),  # the same
    *(
        (check, function)
        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173")
        for function in ("StartTrainingFunction", "NotifyStatusFunction", "DeployModelFunction")
    ),
}


def test_cfn_lint_passes() -> None:
    result = run_tool([tool(SAM_BIN, "cfn-lint"), TEMPLATE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes() -> None:
    result = run_tool(
        [tool(SAM_BIN, "sam"), "validate", "--lint", "--region", "us-east-1", "-t", TEMPLATE]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_checkov_passes_with_only_the_justified_skips() -> None:
    result = run_tool(
        [
            tool(CHECKOV_BIN, "checkov"),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
            "-f",
            TEMPLATE,
        ]
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout)
    results = report["results"]
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 20  # the scan really looked at the resources
    skipped = {(c["check_id"], c["resource"].split(".")[-1]) for c in results["skipped_checks"]}
    assert skipped == EXPECTED_SKIPS


def test_every_checkov_skip_is_justified(raw_template: dict[str, Any]) -> None:
    for name, resource in raw_template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            comment = str(skip.get("comment", ""))
            assert len(comment.split()) >= 8, f"{name}: skip {skip['id']} needs a reason"


def test_samconfig_deploys_with_the_expected_defaults() -> None:
    import tomllib

    from tests.support.helpers import ROOT

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    assert config["default"]["global"]["parameters"]["stack_name"] == "yolo-on-upload"
    assert config["default"]["global"]["parameters"]["region"]
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
